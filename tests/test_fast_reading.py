"""The fast roll-up reading gives what reading every sheet gives.

The roll-up's fast read asks python-calamine for the sheets it uses only, and
the package guard reads small parts whole and skips its error pattern when no
cell carries an error; here both are compared with the plain way on clean,
edited, damaged and renamed workbooks of every template and locale.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import zipfile
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


def _all_sheets(path: Path, sheets: object = None, formulas: object = None) -> dict:
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


def test_range_attributes_are_found_as_the_pattern_finds_them(tmp_path: Path) -> None:
    """The guard tries its range pattern only where ``ref`` occurs: the same ranges as the
    pattern's findall on every part of a workbook and on random tricky bytes."""
    path = _variants("crm", "fr-FR", tmp_path)[2]
    with zipfile.ZipFile(path) as package:
        parts = [package.read(name) for name in package.namelist()]
    assert any(guard._RANGE_ATTRIBUTE.findall(part) for part in parts)
    rng = random.Random(16)
    pieces = [b"ref", b"sq", b"x", b" ", b"=", b'"', b"'", b"A1", b":", b"\t", b"_", b">"]
    tricky = [b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(5000)]
    for text in [*parts, *tricky]:
        assert guard.range_attributes(text) == guard._RANGE_ATTRIBUTE.findall(text), text[:80]
