"""The reader's reference is exactly the workbook the writer writes, however it is built.

``build_reference`` lays out and computes the workbook the generator would write for the
inputs read, without writing a file, and takes shortcuts to do it fast (the column widths
are not fitted to the texts, the template is parsed once, the three scenarios' timelines
are computed together). Here every cell it gives (formula, cached value and its type,
number format) and every defined name is compared with the workbook as ``write_workbook``
assembles it through XlsxWriter, on every template and locale, with default inputs and
with random inputs, actuals, heatmaps, another scenario, start and length.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import math
import random
from typing import Any

import pytest
import xlsxwriter
from test_formula_book import _random_inputs

from roi_xl.demo import missed_call_grid, sample_actuals
from roi_xl.locale import LOCALES
from roi_xl.model import template as templates
from roi_xl.model.excel_errors import ERROR_TEXTS, ExcelError, from_text
from roi_xl.model.template import Template
from roi_xl.workbook import ReferenceCell, WorkbookOptions, build_reference, writer

START = dt.date(2026, 1, 1)


def written_cells(
    model: Template, options: WorkbookOptions
) -> tuple[dict[str, dict[tuple[int, int], ReferenceCell]], dict[str, str]]:
    """Each cell and workbook-level name as ``write_workbook`` puts them in the file: the
    sheets written through XlsxWriter with every step (widths fitted to the texts too), then
    read from XlsxWriter's own tables."""
    plan = writer._plan(model, options)
    workbook = xlsxwriter.Workbook(io.BytesIO(), writer._XLSXWRITER_OPTIONS)
    writer._write_sheets(workbook, model, options, plan)
    cells: dict[str, dict[tuple[int, int], ReferenceCell]] = {}
    for worksheet in workbook.worksheets():
        sheet_cells = {}
        for row, columns in worksheet.table.items():
            for col, entry in columns.items():
                formula = getattr(entry, "formula", None)
                value = entry.value if formula is not None else getattr(entry, "number", None)
                if isinstance(value, str) and value in ERROR_TEXTS:
                    value = from_text(value)
                style = getattr(entry, "format", None)
                number_format = getattr(style, "num_format", 0) if style is not None else 0
                sheet_cells[(row, col)] = ReferenceCell(formula, value, number_format or "General")
        cells[worksheet.get_name()] = sheet_cells
    names = {name: target for name, scope, target, _ in workbook.defined_names if scope == -1}
    return cells, names


def _typed(value: Any) -> Any:
    """A value comparable with ==, its type included (5 is not 5.0), NaN equal to itself."""
    if isinstance(value, ExcelError):
        return ("error", value.text)
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def assert_same_reference(model: Template, options: WorkbookOptions) -> None:
    reference = build_reference(model, options)
    cells, names = written_cells(model, options)
    assert list(reference.cells) == list(cells)
    for sheet, expected in cells.items():
        built = reference.cells[sheet]
        assert list(built) == list(expected), sheet
        differ = [
            (key, built[key], cell)
            for key, cell in expected.items()
            if (built[key].formula, _typed(built[key].value), built[key].number_format)
            != (cell.formula, _typed(cell.value), cell.number_format)
        ]
        assert not differ, f"{sheet}: {differ[:3]}"
    assert reference.names == names


def _options(model: Template, locale: str, seed: str) -> list[WorkbookOptions]:
    plain = WorkbookOptions(locale=locale, start=START, months=3)
    rng = random.Random(seed)
    actuals = sample_actuals(model.key)[:4]
    varied = dataclasses.replace(
        plain,
        overrides=_random_inputs(model, rng),
        start=dt.date(2027, 5, 1),
        months=6,
        actuals=actuals,
        heatmaps=[missed_call_grid(30)] * len(actuals) if model.monthly.heatmap else (),
        scenario=rng.choice(["prudent", "realistic", "optimistic"]),
    )
    return [plain, varied]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", templates.builtin_names())
def test_reference_is_the_written_workbook(name: str, locale: str) -> None:
    model = templates.load(name)
    for options in _options(model, locale, f"{name}-{locale}-reference"):
        assert_same_reference(model, options)


@pytest.mark.parametrize("name", templates.builtin_names())
def test_reference_is_the_written_workbook_on_random_inputs(name: str) -> None:
    """More random draws, each with its own inputs of the three scenarios and 12 months."""
    model = templates.load(name)
    rng = random.Random(f"{name}-draws")
    for _ in range(3):
        inputs = {
            scenario: {
                key: float(f"{value:.16G}") for key, value in _random_inputs(model, rng).items()
            }
            for scenario in ("prudent", "realistic", "optimistic")
        }
        options = WorkbookOptions(
            locale=rng.choice(LOCALES),
            start=START,
            months=12,
            inputs=inputs,
            scenario=rng.choice(["prudent", "realistic", "optimistic"]),
            actuals=sample_actuals(name)[: rng.randint(0, 12)],
        )
        assert_same_reference(model, options)
