"""How wide a text shows in Calibri (and in Carlito, which has its metrics), so columns are
sized from the texts they hold instead of by hand.

The estimate adds up Excel's own per-character widths for Calibri 11 (the table XlsxWriter
ships for its autofit), scaled to the font size, a little wider in bold. Characters the
table lacks (accented letters, narrow no-break spaces) count as 8 px, on the wide side.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_pixel_width
from xlsxwriter.worksheet import CellFormulaTuple, CellStringTuple, Worksheet

BASE_SIZE = 11.0  # the table's font size
BOLD = 1.07  # Calibri Bold is about 7 % wider
PADDING_PX = 7  # Excel's margin inside a cell
DIGIT_PX = 7  # the workbook's default font (Calibri 11): a column of width w is 7 w + 5 px
COLUMN_PADDING_PX = 5
WIDEST_PX = 0  # columns keep the width their sheet prints at: a longer label wraps
DEFAULT_PX = 64  # a column never sized: 8.43 characters


@functools.lru_cache(maxsize=65_536)  # a sheet's texts come back in every workbook
def text_px(text: str, size: float = 10, bold: bool = False) -> float:
    """The width of ``text`` in pixels (96 dpi), with the cell's inner margin."""
    widest = max((xl_pixel_width(line) for line in text.split("\n")), default=0)
    return widest * size / BASE_SIZE * (BOLD if bold else 1.0) + PADDING_PX


def column_px(width: float) -> float:
    """The pixels a column of ``width`` (Excel's character units) shows."""
    return width * DIGIT_PX + COLUMN_PADDING_PX if width > 0 else 0.0


def width_for(texts: Iterable[str], size: float = 10, bold: bool = False) -> float:
    """The column width (character units) that shows the widest of ``texts`` whole."""
    needed = max((text_px(t, size, bold) for t in texts), default=0.0)
    return round((needed - COLUMN_PADDING_PX) / DIGIT_PX + 0.5, 1)


def fitted(
    texts: Iterable[str], minimum: float, maximum: float, size: float = 10, bold: bool = False
) -> float:
    """A column width from the widest text, kept between ``minimum`` and ``maximum``: texts
    wider than ``maximum`` wrap there (their cells need a wrapping format)."""
    return min(max(width_for(texts, size, bold), minimum), maximum)


def fit_columns(ws: Worksheet, wrap: Callable[[Format], Format], cap_px: float) -> None:
    """Widen each column of ``ws`` until every text it holds shows whole, after the sheet is
    written: a text may run on into empty cells to its right, as Excel and LibreOffice show
    it. A column is never widened past ``cap_px`` (or its own width when wider) except to
    hold a single word: a text that still does not fit wraps there, its row made tall
    enough for its lines."""
    strings = sorted(ws.str_table.string_table, key=ws.str_table.string_table.__getitem__)
    merged = {(r1, c1): (c1, c2) for r1, c1, _r2, c2 in ws.merge}
    covered = {
        (r, c) for r1, c1, r2, c2 in ws.merge for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
    }
    for row, cells in sorted(ws.table.items()):
        for col, entry in sorted(cells.items()):
            kind = type(entry)  # most cells are numbers and formulas with numbers: no text
            if kind is CellStringTuple:
                text = strings[entry.string]
            elif kind is CellFormulaTuple and isinstance(entry.value, str):
                text = entry.value
            else:
                continue
            fmt = entry.format
            if not text or ((row, col) in covered and (row, col) not in merged):
                continue
            size = float(fmt.font_size) if fmt is not None else BASE_SIZE
            bold = bool(fmt.bold) if fmt is not None else False
            if fmt is not None and fmt.text_wrap:
                needed = max(text_px(word, size, bold) for word in text.split())
                _widen(ws, col, needed, needed)  # a word is never cut
                continue
            first, last = merged.get((row, col), (col, col))
            needed = text_px(text, size, bold)
            room = sum(_px(ws, c) for c in range(first, last + 1))
            if (row, col) not in merged and (fmt is None or fmt.text_h_align in (0, 1)):
                right = col + 1
                while (
                    right <= ws.dim_colmax
                    and _empty(cells.get(right))
                    and (row, right) not in covered
                ):
                    room += _px(ws, right)
                    right += 1
                if right > ws.dim_colmax:
                    continue  # runs on into the empty columns after the last
            if needed <= room:
                continue
            target = last  # the column that grows: the text's own, or its range's last
            grown = _px(ws, target) + needed - room
            if grown <= max(cap_px, _px(ws, target)):
                _widen(ws, target, grown, grown)
            elif fmt is not None:
                if (row, col) not in merged:
                    _widen(ws, col, cap_px, cap_px)
                    longest = max(text_px(word, size, bold) for word in text.split())
                    _widen(ws, col, longest, longest)  # a word is never cut
                    room = _px(ws, col)
                ws.table[row][col] = entry._replace(format=wrap(fmt))
                lines = -(-needed // max(room, 1.0))
                height = ws.row_sizes.get(row, [20])[0] or 20  # pixels
                ws.set_row(row, max(height * 0.75, 13.5 * lines))


def _empty(entry: object) -> bool:
    return entry is None or entry.__class__.__name__ == "Blank"


def _px(ws: Worksheet, col: int) -> float:
    info = ws.col_info.get(col)
    if info is None or info.width is None:
        return DEFAULT_PX
    return 0.0 if info.hidden else float(info.width)


def _widen(ws: Worksheet, col: int, needed: float, cap_px: float) -> None:
    """Set column ``col`` to ``needed`` px (at most ``cap_px``) if it is narrower."""
    if _px(ws, col) >= needed:
        return
    info = ws.col_info.get(col)
    width = min(needed, max(cap_px, _px(ws, col)))
    if info is None:
        ws.set_column_pixels(col, col, width)
    else:
        info.width = int(width + 0.999)
