"""The cell audit's short cuts find every kind of difference a plain comparison finds.

``audit._check_sheet`` takes two short cuts on the cells that match (a number format is
not judged against itself, a cached number exactly equal to the engine's is not handed
to ``math.isclose``), and a sheet read from a remembered shape replays what the audit
found on the last sheet of that shape (``roi_xl.inspect.checked_sheets``), comparing its
cached values at once. Here a generated workbook's XML is edited as a hostile sender
would, one kind of difference per cell (a changed formula, a changed format, a stale
value, a value typed over a formula, and a value off by far less than the audit's
tolerance), on the Calculations sheet and on the Timeline, and an input is changed; each
file is read after its look-alikes, and the findings must be exactly those of a plain
cell-by-cell comparison written out below, which takes no short cut.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.formula import Tokenizer
from test_audit_tampering import Edit, cell_element, chain, rewrite, sheet_parts

from roi_xl.inspect import audit, checked_sheets, integrity, sheet_shapes
from roi_xl.inspect.findings import Finding
from roi_xl.inspect.formula_book import GENERAL, FormulaSheet
from roi_xl.inspect.loaded import LoadedWorkbook
from roi_xl.inspect.reader import read_workbook
from roi_xl.locale import load_locale
from roi_xl.model import template
from roi_xl.workbook import ReferenceCell, WorkbookOptions, write_workbook
from roi_xl.workbook.layout import SCENARIO_COLS, build_layout, cell

TEMPLATE = "crm"
START = dt.date(2026, 1, 1)


def plain_check_sheet(
    loaded: LoadedWorkbook,
    sheet: str,
    actual: str,
    worksheet: FormulaSheet,
    expected_cells: dict[tuple[int, int], ReferenceCell],
    format_ok: dict[tuple[Any, str | int], bool],
    values_wanted: bool,
    stale: list[Finding],
    checked: list[tuple[int, int]] | None = None,
) -> int:
    """Every expected cell judged in full, with no short cut (the audit's oracle here)."""
    grid = loaded.values.get(actual) or []
    compared = 0
    for (row, col), expected in expected_cells.items():
        found, found_format = worksheet.cells.get((row, col), (None, GENERAL))
        if not integrity.displays_as(loaded, found_format, expected.number_format):
            integrity.check_number_format(
                loaded, actual, cell(row, col), found_format, expected.number_format
            )
        if expected.formula is None:
            if isinstance(found, str) and found.startswith("="):
                integrity.check_value_cell(loaded, actual, cell(row, col), found)
            continue
        if isinstance(found, str) and found == "=" + expected.formula:
            audit._hard_coded(loaded, actual, cell(row, col), found)
        elif audit._formula(loaded, actual, cell(row, col), found, "=" + expected.formula):
            continue
        if not values_wanted or expected.value in (None, ""):
            continue
        compared += 1
        value = expected.value
        shown = grid[row][col] if row < len(grid) and col < len(grid[row]) else None
        if (
            type(value) is float
            and type(shown) in (float, int)
            and math.isclose(shown, value, rel_tol=1e-9, abs_tol=1e-9)
        ):
            continue
        finding = audit._value(loaded, sheet, actual, row, col, value)
        if finding:
            stale.append(finding)
    return compared


def cached(xml: str, ref: str) -> float:
    body = cell_element(xml, ref).group("body") or ""
    found = re.search(r"<v>([^<]*)</v>", body)
    assert found, f"{ref} holds no cached value"
    return float(found.group(1))


def replace_in_cell(ref: str, change: Any) -> Edit:
    """Rewrite the whole ``<c>`` element of ``ref`` with ``change(element, xml)``."""

    def edit(xml: str) -> str:
        match = cell_element(xml, ref)
        new = change(match.group(0), xml)
        assert new != match.group(0), f"the edit of {ref} changed nothing"
        return xml[: match.start()] + new + xml[match.end() :]

    return edit


def with_value(ref: str, scale: float) -> Edit:
    """The cell's cached number multiplied by ``scale``."""

    def change(element: str, xml: str) -> str:
        number = cached(xml, ref) * scale
        return re.sub(r"<v>[^<]*</v>", f"<v>{number!r}</v>", element)

    return replace_in_cell(ref, change)


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[str, str]]]:
    """A workbook with one difference of each kind on the Calculations sheet; returns it and
    (rule, sheet) -> cell for each reported difference."""
    folder = tmp_path_factory.mktemp("cell-checks")
    model = template.load(TEMPLATE)
    clean = write_workbook(
        model, folder / "clean.xlsx", WorkbookOptions(start=START, months=3, force=True)
    )
    read = read_workbook(clean)
    assert read.findings == []
    layout = build_layout(model, load_locale("en-US"), START, 3)
    col = SCENARIO_COLS["realistic"]
    part = sheet_parts(clean)[layout.calculations]
    with_numbers = []
    with zipfile.ZipFile(clean) as package:
        xml = package.read(part).decode()
    for key in model.metric_keys:
        ref = cell(layout.metric_rows[key], col)
        element = cell_element(xml, ref)
        body = element.group("body") or ""
        number = re.search(r"<v>([^<]*)</v>", body)
        numeric = " t=" not in element.group("attrs")  # a number, not a text result
        if "<f>" in body and number and numeric and abs(float(number.group(1))) > 1:
            with_numbers.append(ref)
    formula, fmt, stale, typed, near = with_numbers[:5]

    def changed_formula(element: str, _: str) -> str:
        return re.sub(r"<f>([^<]*)</f>", r"<f>(\1)*2</f>", element)

    def typed_over(element: str, _: str) -> str:
        return re.sub(r"<f>[^<]*</f>", "", element)

    def general(element: str, _: str) -> str:
        return re.sub(r' s="\d+"', "", element)

    target = rewrite(
        clean,
        folder / "edited.xlsx",
        {
            part: chain(
                replace_in_cell(formula, changed_formula),
                replace_in_cell(fmt, general),
                with_value(stale, 3.0),
                replace_in_cell(typed, typed_over),
                with_value(near, 1.0 + 1e-12),
            )
        },
    )
    sheet = layout.calculations
    expected = {
        "formula_changed": (sheet, formula),
        "number_format_changed": (sheet, fmt),
        "stale_value": (sheet, stale),
        "formula_overwritten": (sheet, typed),
    }
    return target, expected


def test_each_kind_of_difference_is_found_on_its_cell(
    edited: tuple[Path, dict[str, tuple[str, str]]],
) -> None:
    path, expected = edited
    found = {(f.rule, f.sheet, f.cell) for f in read_workbook(path).findings}
    assert found == {(rule, sheet, ref) for rule, (sheet, ref) in expected.items()}


def plain_read(path: Path) -> dict[str, Any]:
    """The read with every sheet read in full and every cell judged by the oracle."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(audit, "_check_sheet", plain_check_sheet)
        patch.setattr(checked_sheets, "recall", lambda *_: None)
        patch.setattr(checked_sheets, "keep", lambda *_: None)
        patch.setattr(sheet_shapes, "recall", lambda *_: None)
        return read_workbook(path).to_dict()


def test_findings_are_those_of_a_plain_comparison(
    edited: tuple[Path, dict[str, tuple[str, str]]],
) -> None:
    path, _ = edited
    for _ in range(3):  # in full, then from its shape, then with the audit's plan
        assert read_workbook(path).to_dict() == plain_read(path)


def test_each_edit_read_after_its_look_alikes_is_found_as_a_plain_comparison_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clean workbook read until its sheets come from shapes and its audit from plans,
    then copies edited in the Timeline (a stale value, a value typed over a formula, a
    changed formula, a changed format), on the Calculations sheet (a stale value) and in
    the Inputs (a value edit): each read as often, each read as the oracle reads it, and
    the plans are used."""
    model = template.load(TEMPLATE)
    clean = write_workbook(
        model, tmp_path / "clean.xlsx", WorkbookOptions(start=START, months=6, force=True)
    )
    layout = build_layout(model, load_locale("en-US"), START, 6)
    parts = sheet_parts(clean)
    assert layout.timeline_sheet is not None
    with zipfile.ZipFile(clean) as package:
        timeline = package.read(parts[layout.timeline_sheet]).decode()
        inputs = package.read(parts[layout.inputs]).decode()
    results = re.findall(r'<c r="([A-Z]+\d+)" s="\d+"><f>[^<]*</f><v>-?[1-9][^<]*</v>', timeline)
    first, second, third, fourth = results[len(results) // 5 :: len(results) // 5][:4]
    entered = re.findall(r'<c r="([C-E]\d+)" s="\d+"><v>[1-9][0-9]*</v>', inputs)[0]
    metric = cell(layout.metric_rows[model.metric_keys[0]], SCENARIO_COLS["realistic"])

    def changed_formula(element: str, _: str) -> str:
        return re.sub(r"<f>([^<]*)</f>", r"<f>(\1)*2</f>", element)

    def typed_over(element: str, _: str) -> str:
        return re.sub(r"<f>[^<]*</f>", "", element)

    def general(element: str, _: str) -> str:
        return re.sub(r' s="\d+"', "", element)

    edits = {
        "timeline-stale": (layout.timeline_sheet, with_value(first, 3.0)),
        "timeline-near": (layout.timeline_sheet, with_value(second, 1.0 + 1e-12)),
        "timeline-typed": (layout.timeline_sheet, replace_in_cell(second, typed_over)),
        "timeline-formula": (layout.timeline_sheet, replace_in_cell(third, changed_formula)),
        "timeline-format": (layout.timeline_sheet, replace_in_cell(fourth, general)),
        "calculations-stale": (layout.calculations, with_value(metric, 0.5)),
        "input": (layout.inputs, with_value(entered, 1.25)),
        "text-stale": (  # a text result, not a number: compared one by one
            layout.sheet_order[0],
            lambda xml: re.sub(r'(t="str"><f>[^<]*</f><v>)[^<]+(</v>)', r"\1Tampered\2", xml),
        ),
    }
    planned = []
    recall = checked_sheets.recall

    def counted(*args: Any) -> Any:
        kept = recall(*args)
        planned.append(kept is not None)
        return kept

    monkeypatch.setattr(checked_sheets, "recall", counted)
    paths = [clean] + [
        rewrite(clean, tmp_path / f"{label}.xlsx", {parts[sheet]: edit})
        for label, (sheet, edit) in edits.items()
    ]
    rules = set()
    for path in paths:
        for _ in range(3):
            read = read_workbook(path).to_dict()
            assert read == plain_read(path), path.name
            rules.update(f["rule"] for f in read["findings"])
    assert {"stale_value", "formula_overwritten", "formula_changed"} <= rules
    assert rules == {
        "formula_changed",
        "formula_overwritten",
        "number_format_changed",
        "stale_value",
    }
    assert sum(planned) > 50  # most sheets of most reads were checked by a plan


def tokenized_numbers(formula: str) -> tuple[float, ...]:
    """``audit.hard_coded_numbers`` without its short cut: every formula tokenised."""
    try:
        tokens = Tokenizer(formula).items
    except Exception:
        return ()
    numbers, calls = [], []
    for token in tokens:
        if token.type == "FUNC" and token.subtype == "OPEN":
            calls.append([token.value.upper(), 0])
        elif token.type == "FUNC" and token.subtype == "CLOSE" and calls:
            calls.pop()
        elif token.type == "SEP" and token.subtype == "ARG" and calls:
            calls[-1][1] += 1
        elif token.type == "OPERAND" and token.subtype == "NUMBER":
            value = float(token.value)
            guess = bool(calls) and calls[-1][0] == "IRR(" and calls[-1][1] == 1
            if value not in audit.ALLOWED_NUMBERS and not guess:
                numbers.append(value)
    return tuple(numbers)


def test_formulas_left_untokenised_hold_no_hard_coded_number(tmp_path: Path) -> None:
    """The formulas whose numbers all stand plainly and are allowed are not tokenised: on
    every formula of a workbook and on random tricky ones, the same numbers as tokenising."""
    path = write_workbook(
        template.load(TEMPLATE), tmp_path / "w.xlsx", WorkbookOptions(start=START, force=True)
    )
    book = openpyxl.load_workbook(path)
    formulas = {
        c.value for ws in book for row in ws.iter_rows() for c in row if isinstance(c.value, str)
    }
    pieces = ["1", "2", "12", "100", "0", "7", ".", "5", "E", "e", "+", "-", "*", "/", "(", ")"]
    pieces += [",", ";", " ", "A", "$", "B1", "IRR(", "SUM(", "'S'!", "!", ":", '"x1"', "inf"]
    pieces += ["NaN", "_", "1_0", "%", "{", "}", "^", "&", "<", ">", "\u0661", "\uff11", "#N/A"]
    pieces += ["[", "]", "'", '"', "1E+3", "1e-2", "1:1", "@", "TRUE", "\t", "\n", "?", "1."]
    rng = random.Random(16)
    formulas |= {"=" + "".join(rng.choices(pieces, k=rng.randint(1, 12))) for _ in range(60000)}
    untokenised = 0
    for formula in formulas:
        expected = tokenized_numbers(formula)
        assert repr(audit.hard_coded_numbers.__wrapped__(formula)) == repr(expected), formula
        untokenised += not audit._UNPLAIN.search(formula) and not expected
    assert untokenised > 1000
