"""Every text of every sheet fits its column: nothing cut, nothing running into a neighbour.

For each template x locale the generated workbook (with the demo's actuals) is read back,
and each text cell's width, estimated from Calibri's character widths at the cell's font
size and weight, is compared with the room it has: its column, or its merged range, plus
the empty cells to its right a left-aligned text may run into. Wrapped cells wrap instead;
their longest word must still fit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from roi_xl.demo import missed_call_grid, sample_actuals
from roi_xl.locale import LOCALES
from roi_xl.model import template
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.text_width import column_px, text_px

TEMPLATES = tuple(template.builtin_names())
DEFAULT_WIDTH = 8.43  # Excel's column width when none is set (Calibri 11)


@dataclass(frozen=True)
class Cut:
    sheet: str
    cell: str
    text: str
    needed_px: float
    room_px: float

    def __str__(self) -> str:
        return (
            f"{self.sheet}!{self.cell} {self.text[:60]!r}: needs {self.needed_px:.0f} px, "
            f"has {self.room_px:.0f} px"
        )


def widths(ws: Worksheet, last_col: int) -> list[float]:
    """Each column's width in pixels, 1-based (index 0 unused); hidden columns are 0."""
    found = [DEFAULT_WIDTH] * (last_col + 2)
    for dim in ws.column_dimensions.values():
        if dim.min is None:
            continue
        for col in range(dim.min, min(dim.max, last_col + 1) + 1):
            found[col] = 0.0 if dim.hidden else (dim.width or DEFAULT_WIDTH)
    return [column_px(w) for w in found]


def shown_text(cell: Cell, cached: Cell) -> str | None:
    """The text a cell shows: its string, or the text its formula's cached value holds."""
    value = cell.value
    if isinstance(value, str) and not value.startswith("="):
        return value
    if isinstance(value, str) and isinstance(cached.value, str):
        return cached.value
    return None


def cuts(ws: Worksheet, cached_ws: Worksheet) -> list[Cut]:
    last_col = ws.max_column
    col_px = widths(ws, last_col)
    merged = {}
    covered = set()
    for rng in ws.merged_cells.ranges:
        merged[(rng.min_row, rng.min_col)] = sum(
            col_px[c] for c in range(rng.min_col, rng.max_col + 1)
        )
        for row in range(rng.min_row, rng.max_row + 1):
            for col in range(rng.min_col, rng.max_col + 1):
                covered.add((row, col))
    found = []
    for row in ws.iter_rows():
        for cell in row:
            text = shown_text(cell, cached_ws[cell.coordinate])
            if not text:
                continue
            size = float(cell.font.sz or 11)
            bold = bool(cell.font.b)
            r, c = cell.row, cell.column
            room = merged.get((r, c), col_px[c])
            if cell.alignment.wrap_text:
                needed = max(text_px(word, size, bold) for word in text.split())
            else:
                needed = text_px(text, size, bold)
                if (r, c) not in merged and cell.alignment.horizontal in (None, "general", "left"):
                    for right in range(c + 1, last_col + 1):  # runs into empty neighbours
                        if ws.cell(r, right).value is not None or (r, right) in covered:
                            break
                        room += col_px[right]
                    else:
                        room = float("inf")
            if needed > room:
                found.append(Cut(ws.title, cell.coordinate, text, needed, room))
    return found


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    folder = tmp_path_factory.mktemp("widths")
    paths = {}
    for key in TEMPLATES:
        model = template.load(key)
        actuals = sample_actuals(key)
        grids = (
            [missed_call_grid(int(m["calls_missed"])) for m in actuals]
            if model.monthly.heatmap
            else []
        )
        for locale in LOCALES:
            options = WorkbookOptions(
                locale=locale,
                start=dt.date(2026, 11, 1),  # "novembre 2026", "décembre", the widest months
                actuals=actuals,
                heatmaps=grids,
            )
            paths[key, locale] = write_workbook(model, folder / f"{key}-{locale}.xlsx", options)
    return paths


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("key", TEMPLATES)
def test_every_text_fits_its_column(
    workbooks: dict[tuple[str, str], Path], key: str, locale: str
) -> None:
    path = workbooks[key, locale]
    book, cached = load_workbook(path), load_workbook(path, data_only=True)
    found = [cut for ws in book.worksheets for cut in cuts(ws, cached[ws.title])]
    assert not found, f"{len(found)} texts cut:\n" + "\n".join(map(str, found))


def test_the_check_finds_a_text_cut_by_its_neighbour() -> None:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws["A1"] = "A label far too long for a column nine characters wide"
    ws["B1"] = 12
    ws["A2"] = "Runs into empty cells, so it shows whole"
    ws.column_dimensions[get_column_letter(1)].width = 9
    found = cuts(ws, ws)
    assert [cut.cell for cut in found] == ["A1"]
