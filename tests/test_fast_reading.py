"""The fast roll-up reading gives what reading every sheet gives.

The roll-up's fast read asks python-calamine for the sheets it uses only, and
the package guard reads small parts whole and skips its error pattern when no
cell carries an error; here both are compared with the plain way on clean,
edited, damaged and renamed workbooks of every template and locale.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from roi_xl.demo import sample_actuals
from roi_xl.inspect import guard, loaded
from roi_xl.locale import LOCALES, load_locale
from roi_xl.model import template as templates
from roi_xl.rollup.summary import FULL, FileSummary, summarise
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.layout import SCENARIO_COLS, build_layout, cell

START = dt.date(2026, 1, 1)


def _variants(name: str, locale: str, folder: Path) -> list[Path]:
    model = templates.load(name)
    options = WorkbookOptions(locale=locale, start=START, months=4, force=True)
    clean = write_workbook(model, folder / "clean.xlsx", options)
    zero = dataclasses.replace(options, actuals=sample_actuals(name)[:2])
    first = model.inputs[0].key
    errors = write_workbook(
        model, folder / "errors.xlsx", dataclasses.replace(zero, overrides={first: 0.0})
    )
    layout = build_layout(model, load_locale(locale), START, 4)
    book = openpyxl.load_workbook(clean)
    metric = next(iter(layout.metric_rows))
    book[layout.calculations][cell(layout.metric_rows[metric], SCENARIO_COLS["realistic"])] = 7
    book[layout.checks].title = "Renamed"
    book.save(folder / "tampered.xlsx")
    return [clean, errors, folder / "tampered.xlsx"]


_plain_load_values = loaded.load_values


def _all_sheets(path: Path, sheets: object = None) -> dict:
    """Values of every sheet, whatever the caller asks for."""
    return _plain_load_values(path)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", templates.builtin_names())
def test_fast_read_of_the_sheets_needed_matches_reading_them_all(
    name: str, locale: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path in _variants(name, locale, tmp_path):
        fast = summarise(str(path))
        with monkeypatch.context() as patch:
            patch.setattr("roi_xl.inspect.reader.load_values", _all_sheets)
            every = summarise(str(path))
        assert fast == every, path.name
        full = summarise(str(path), FULL)
        assert isinstance(fast, FileSummary) and isinstance(full, FileSummary)
        assert (fast.inputs, fast.outputs) == (full.inputs, full.outputs), path.name


def _scan_in_chunks(path: Path) -> guard.PackageScan:
    """The guard's scan with every part streamed in small chunks, as large parts are."""
    original = guard.CHUNK
    guard.CHUNK = 4096
    try:
        return guard.scan(path)
    finally:
        guard.CHUNK = original


@pytest.mark.parametrize("name", templates.builtin_names())
def test_scanning_parts_whole_finds_what_streaming_finds(name: str, tmp_path: Path) -> None:
    for path in _variants(name, "en-US", tmp_path):
        whole, streamed = guard.scan(path), _scan_in_chunks(path)
        assert whole == streamed
        assert any(sheet.error_cells for sheet in whole.sheets) == (path.name == "errors.xlsx")
