"""The cell audit's short cuts find every kind of difference a plain comparison finds.

``audit._check_sheet`` takes two short cuts on the cells that match (a number format is
not judged against itself, a cached number exactly equal to the engine's is not handed
to ``math.isclose``). Here a generated workbook's XML is edited as a hostile sender
would, one kind of difference per cell (a changed formula, a changed format, a stale
value, a value typed over a formula, and a value off by far less than the audit's
tolerance), and the findings must be exactly those of a plain cell-by-cell comparison
written out below, which takes no short cut.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from test_audit_tampering import Edit, cell_element, chain, rewrite, sheet_parts

from roi_xl.inspect import audit, integrity
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
    compare_values: bool,
    redirected: bool,
    stale: list[Finding],
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
        if redirected or not compare_values or expected.value in (None, ""):
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


def test_findings_are_those_of_a_plain_comparison(
    edited: tuple[Path, dict[str, tuple[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = edited
    fast = read_workbook(path).to_dict()
    monkeypatch.setattr(audit, "_check_sheet", plain_check_sheet)
    assert read_workbook(path).to_dict() == fast
