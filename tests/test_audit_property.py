"""Random edits of a generated workbook: the audit catches each, or the Dashboard is unchanged.

Hypothesis draws edits a hostile or careless user could make through a spreadsheet
library: a formula overwritten or changed, a defined name redirected, a misleading
number format, a formula typed into an input, a label reworded, a note written beside
the model. Each edited copy is recalculated by LibreOffice (one batch per example, with
an unedited copy saved the same way as the control) and audited. The property: either
the audit reports an error, or every value the Dashboard shows (and its number format)
is the control's.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from roi_xl.inspect.integrity import canonical_format
from roi_xl.inspect.reader import read_workbook
from roi_xl.inspect.recalc import recalculate
from roi_xl.locale import load_locale
from roi_xl.model import template
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.layout import SCENARIO_COLS, build_layout, cell

TEMPLATE = "phone-system"
START = dt.date(2026, 1, 1)
MONTHS = 2
BATCH = 5  # edited copies per LibreOffice run
MISLEADING_FORMATS = ['"964.7 %"', ";;;", '0.0"%"', '"OK"', "0", '#,##0,"k"', '0.0%;0.0%;"-"']
LETTERS = st.characters(codec="utf-8", categories=["L", "N", "Zs", "P"])
Shown = dict[str, tuple[Any, str]]  # Dashboard cell -> (value, canonical number format)


@dataclass(frozen=True, repr=False)
class Base:
    """The generated workbook and the places an edit can reach."""

    path: Path
    model_sheets: list[str]
    formulas: list[tuple[str, str, str]]  # sheet, cell, formula
    texts: list[tuple[str, str]]  # sheet, cell of a text the generator wrote
    inputs: list[str]  # Inputs cells of the three scenario columns
    names: list[str]
    dashboard: str
    inputs_sheet: str


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    model = template.load(TEMPLATE)
    path = tmp_path_factory.mktemp("base") / "base.xlsx"
    write_workbook(model, path, WorkbookOptions(start=START, months=MONTHS, force=True))
    layout = build_layout(model, load_locale("en-US"), START, MONTHS)
    book = openpyxl.load_workbook(path)
    formulas, texts = [], []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for item in row:
                if isinstance(item.value, str) and item.value.startswith("="):
                    formulas.append((sheet.title, item.coordinate, item.value))
                elif isinstance(item.value, str) and item.value:
                    texts.append((sheet.title, item.coordinate))
    inputs = [
        cell(row, col) for row in layout.input_rows.values() for col in SCENARIO_COLS.values()
    ]
    return Base(
        path=path,
        model_sheets=list(book.sheetnames),
        formulas=formulas,
        texts=texts,
        inputs=inputs,
        names=sorted(book.defined_names),
        dashboard=layout.dashboard,
        inputs_sheet=layout.inputs,
    )


def edits(base: Base) -> st.SearchStrategy[tuple]:
    """One edit, as data (so a failing example prints what was done)."""
    formula = st.sampled_from(base.formulas)
    any_cell = st.one_of(
        formula.map(lambda f: (f[0], f[1])),
        st.sampled_from(base.texts),
        st.sampled_from(base.inputs).map(lambda ref: (base.inputs_sheet, ref)),
    )
    target = st.tuples(
        st.sampled_from(base.model_sheets), st.integers(1, 60), st.integers(1, 20)
    ).map(lambda t: f"'{t[0]}'!${get_column_letter(t[2])}${t[1]}")
    return st.one_of(
        st.tuples(st.just("overwrite"), formula, st.floats(-1e6, 1e6, allow_nan=False)),
        st.tuples(st.just("formula"), formula, formula),
        st.tuples(st.just("name"), st.sampled_from(base.names), target),
        st.tuples(st.just("format"), any_cell, st.sampled_from(MISLEADING_FORMATS)),
        st.tuples(
            st.just("input_formula"), st.sampled_from(base.inputs), st.sampled_from(base.inputs)
        ),
        st.tuples(
            st.just("label"), st.sampled_from(base.texts), st.text(LETTERS, min_size=1, max_size=20)
        ),
        st.tuples(st.just("beside"), st.sampled_from(base.model_sheets), st.integers(1, 40)),
    )


def apply(book: openpyxl.Workbook, base: Base, edit: tuple) -> None:
    kind = edit[0]
    if kind == "overwrite":
        (sheet, ref, _), number = edit[1], edit[2]
        book[sheet][ref].value = number
    elif kind == "formula":
        (sheet, ref, _), (_, _, other) = edit[1], edit[2]
        book[sheet][ref].value = other
    elif kind == "name":
        book.defined_names[edit[1]].attr_text = edit[2]
    elif kind == "format":
        (sheet, ref), code = edit[1], edit[2]
        book[sheet][ref].number_format = code
    elif kind == "input_formula":
        book[base.inputs_sheet][edit[1]].value = f"={edit[2]}"
    elif kind == "label":
        (sheet, ref), text = edit[1], edit[2]
        book[sheet][ref].value = text.lstrip("=") or "x"
    else:  # a note beside the model, far to the right
        book[edit[1]].cell(row=edit[2], column=40).value = "a note"


def edited_copy(base: Base, target: Path, changes: list[tuple]) -> Path:
    book = openpyxl.load_workbook(base.path)
    for change in changes:
        apply(book, base, change)
    book.save(target)
    return target


def shown(path: Path, base: Base) -> Shown:
    """What the Dashboard's formula cells show: value and number format."""
    values = openpyxl.load_workbook(path, data_only=True)[base.dashboard]
    refs = [ref for sheet, ref, _ in base.formulas if sheet == base.dashboard]
    return {ref: (values[ref].value, canonical_format(values[ref].number_format)) for ref in refs}


@settings(
    max_examples=3,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # each example costs a LibreOffice run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_edits_are_caught_or_change_nothing_shown(
    soffice: str, base: Base, data: st.DataObject
) -> None:
    batch = [
        data.draw(st.lists(edits(base), min_size=1, max_size=3), label=f"edits {index}")
        for index in range(BATCH)
    ]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        control = edited_copy(base, folder / "control.xlsx", [])
        sources = [control] + [
            edited_copy(base, folder / f"edited-{index}.xlsx", changes)
            for index, changes in enumerate(batch)
        ]
        outputs = recalculate(sources, folder / "recalculated")
        control_read = read_workbook(outputs[0])
        assert control_read.findings == [], "the unedited control must audit clean"
        expected = shown(outputs[0], base)
        assert any(isinstance(v, float) for v, _ in expected.values())
        for changes, output in zip(batch, outputs[1:], strict=True):
            read = read_workbook(output)
            if read.has_errors:
                continue
            assert shown(output, base) == expected, (
                f"not caught by the audit, yet the Dashboard changed: {changes}\n"
                + "\n".join(f"{f.severity} {f.rule} {f.sheet}!{f.cell}" for f in read.findings)
            )
