"""What the sheet writers make once and reuse gives the very files made without it.

Each writer keeps what every workbook of a template, locale and layout holds alike
(texts, formulas, trees, validations, rules, defined names) and what the monthly tabs
of one workbook share; a batch's later workbooks, and a workbook's later tabs, take
them again. Here the same rows are written with all of it and with none of it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from test_batch_fast_path import _parts
from xlsxwriter import Workbook

from roi_xl.model import template as templates
from roi_xl.model.template import SCENARIOS
from roi_xl.workbook import (
    WorkbookOptions,
    break_even_block,
    calculations_sheet,
    context,
    inputs_sheet,
    monthly_sheets,
    per_layout,
    sensitivity_cells,
    write_workbook,
)
from roi_xl.workbook.sensitivity_layout import SOLVER_STEPS, sensitivity_layout
from roi_xl.workbook.skeleton import SplicingWorksheet
from roi_xl.workbook.values import compute_values
from roi_xl.workbook.writer import Reuse, stored_inputs


class _NeverKept(dict):  # type: ignore[type-arg]
    """A cache that keeps nothing: every look-up misses."""

    def __setitem__(self, key: object, value: object) -> None:
        pass


class _NeverKeptSet(set):  # type: ignore[type-arg]
    def add(self, item: object) -> None:
        pass


class _CellByCell(SplicingWorksheet):
    """A worksheet storing its strings its own way (as XlsxWriter does): no tab takes the
    cells another tab stored."""

    def _write_string(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return super()._write_string(*args, **kwargs)


def _rows(model: templates.Template) -> list[dict[str, float]]:
    """The defaults, then a currency input below and above 100: its format differs (finer
    below 100), so the Sensitivity and Dashboard cells showing it change format."""
    key = next(
        item.key
        for item in model.inputs
        if item.kind == "currency" and item.minimum < 100 < item.maximum
    )
    return [{}, {key: 50.0}, {key: 500.0}, {key: 51.5}]


def _batch(model: templates.Template, folder: Path, locale: str, worksheet_class) -> list[Path]:  # type: ignore[no-untyped-def]
    reuse = Reuse()
    folder.mkdir()
    paths = []
    for number, row in enumerate(_rows(model)):
        options = WorkbookOptions(
            locale=locale, overrides=row, start=dt.date(2026, 3, 1), months=12
        )
        path = folder / f"{number}.xlsx"
        write_workbook(model, path, options, worksheet_class=worksheet_class, reuse=reuse)
        paths.append(path)
    return paths


@pytest.mark.parametrize(("name", "locale"), [("phoning-b2b", "fr-FR"), ("crm", "en-US")])
def test_reuse_gives_the_files_written_without_it(
    name: str, locale: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = templates.load(name)
    made: dict[str, int] = {}
    for module, function in (
        (inputs_sheet, "_input_line"),
        (calculations_sheet, "_metric_line"),
        (sensitivity_cells, "_names"),
        (break_even_block, "_candidate"),
        (monthly_sheets, "_text_ops"),
    ):
        original = getattr(module, function)

        def counting(*args, original=original, function=function):  # type: ignore[no-untyped-def]
            made[function] = made.get(function, 0) + 1
            return original(*args)

        monkeypatch.setattr(module, function, counting)
    monkeypatch.setattr(per_layout, "_LAYOUT_TEXTS", {})
    kept = _batch(model, tmp_path / "kept", locale, SplicingWorksheet)
    # Made for the first workbook only (the monthly tabs' texts once per workbook).
    assert made["_input_line"] == len(model.inputs)
    assert made["_metric_line"] == len(model.metrics)
    assert made["_names"] == 1
    drivers = len(sensitivity_layout(model).break_evens)
    assert made["_candidate"] == drivers * (SOLVER_STEPS + 1)
    assert made["_text_ops"] == len(_rows(model))

    for module, cache in (
        (per_layout, "_LAYOUT_TEXTS"),
        (per_layout, "_VALIDATIONS"),
        (per_layout, "_RULES"),
        (per_layout, "_RULE_SETS"),
    ):
        monkeypatch.setattr(module, cache, _NeverKept())
    monkeypatch.setattr(context, "_GLOBAL_NAMES", _NeverKeptSet())
    made.clear()
    plain = _batch(model, tmp_path / "plain", locale, _CellByCell)
    assert made["_input_line"] == len(model.inputs) * len(_rows(model))  # nothing kept
    assert made["_text_ops"] == 12 * len(_rows(model))  # every tab its own texts
    styles = set()
    for number, (one, other) in enumerate(zip(kept, plain, strict=True)):
        one_parts, other_parts = _parts(one), _parts(other)
        assert list(one_parts) == list(other_parts)
        for part, content in other_parts.items():
            assert one_parts[part] == content, f"row {number}: {part} differs"
        styles.add(
            tuple(
                tuple(re.findall(rb' s="(\d+)"', content))
                for part, content in one_parts.items()
                if part.startswith("xl/worksheets/")
            )
        )
    assert len(styles) > 1  # the cells' formats followed the values along the way


def test_blank_months_share_their_values_and_typed_months_have_their_own() -> None:
    model = templates.load("phoning-b2b")
    options = WorkbookOptions(overrides={})
    inputs = stored_inputs(model, options)
    figures = {item.key: 10.0 for item in model.monthly.fields}
    typed = compute_values(model, inputs, "realistic", 4, [{}, figures])
    alone = compute_values(model, inputs, "realistic", 1)
    assert typed.months[0] is typed.months[2] is typed.months[3]  # blank: one computation
    assert typed.months[1] is not typed.months[0]
    assert typed.months[1].fields == {key: 10.0 for key in figures}
    assert typed.months[0] == alone.months[0]  # what a blank month computed alone gives
    assert set(SCENARIOS) == set(typed.outputs)


def test_a_name_is_stored_as_xlsxwriter_stores_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A workbook-level name XlsxWriter took once is stored again without its checks; a
    name it refuses, or a sheet's own name, always goes through them."""
    monkeypatch.setattr(context, "_GLOBAL_NAMES", set())
    fast, plain = (Workbook(io.BytesIO(), {"in_memory": True}) for _ in range(2))
    for book in (fast, plain):
        book.add_worksheet("Inputs")
    ctx = context.Context(fast, None, None, None, None, None, "")  # type: ignore[arg-type]
    names = [
        ("in_calls", "='Inputs'!$E$5"),
        ("in_calls", "=Inputs!$E$6"),
        ("A1", "=Inputs!$E$7"),  # looks like a cell: refused
        ("Inputs!local", "=Inputs!$E$8"),
        ("Inputs!local", "=Inputs!$E$9"),
    ]
    with pytest.warns(UserWarning):
        for name, target in names:
            ctx.define_name(name, target)
    with pytest.warns(UserWarning):
        for name, target in names:
            plain.define_name(name, target)
    assert fast.defined_names == plain.defined_names
    assert {"in_calls"} == context._GLOBAL_NAMES
