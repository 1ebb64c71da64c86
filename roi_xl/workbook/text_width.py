"""How wide a text shows in Calibri (and in Carlito, which has its metrics), so columns are
sized from the texts they hold instead of by hand.

The estimate adds up Excel's own per-character widths for Calibri 11 (the table XlsxWriter
ships for its autofit), scaled to the font size, a little wider in bold. Characters the
table lacks (accented letters, narrow no-break spaces) count as 8 px, on the wide side.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.sharedstrings import SharedStringTable
from xlsxwriter.utility import xl_pixel_width
from xlsxwriter.worksheet import (
    CellBlankTuple,
    CellFormulaTuple,
    CellStringTuple,
    Worksheet,
)

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


Step = tuple[
    Any, ...
]  # what fitting did to a sheet: ("widen", col, px, cap), ("wrap", row, col)...
KEPT_FITS = 256  # sheet shapes whose fitting a process remembers


class ColumnFits:
    """The fitting of each sheet shape met, as the steps it took: a batch's sheets of one
    shape hold the same texts in the same cells, so their columns are fitted the same way.
    What the fitting reads (texts, their formats, which cells are filled, merges, the
    widths before) is the shape; a process keeps at most ``KEPT_FITS`` of them."""

    def __init__(self) -> None:
        self.steps: dict[tuple[Any, ...], list[Step]] = {}
        self.replayed = 0
        self.fitted = 0


def fit_columns(
    ws: Worksheet,
    wrap: Callable[[Format], Format],
    cap_px: float,
    fits: ColumnFits | None = None,
) -> None:
    """Widen each column of ``ws`` until every text it holds shows whole, after the sheet is
    written: a text may run on into empty cells to its right, as Excel and LibreOffice show
    it. A column is never widened past ``cap_px`` (or its own width when wider) except to
    hold a single word: a text that still does not fit wraps there, its row made tall
    enough for its lines. With ``fits``, a sheet of a shape fitted before takes the same
    steps without measuring its texts again."""
    strings = _strings(ws.str_table)
    texts = [
        (row, col, entry, text)
        for row, cells in sorted(ws.table.items())
        for col, entry, text in _texts(cells, strings)
    ]
    if fits is None:
        _fit(ws, wrap, cap_px, texts, None)
        return
    shape = _shape(ws, cap_px, texts)
    steps = fits.steps.get(shape)
    if steps is not None:
        fits.replayed += 1
        for step in steps:
            _take(ws, wrap, step)
        return
    steps = []
    _fit(ws, wrap, cap_px, texts, steps)
    if len(fits.steps) >= KEPT_FITS:
        fits.steps.clear()
    fits.steps[shape] = steps
    fits.fitted += 1


def _shape(ws: Worksheet, cap_px: float, texts: list[tuple[int, int, Any, str]]) -> tuple[Any, ...]:
    """Everything the fitting of ``ws`` reads: its texts with their formats' sizes, weights,
    wrapping and alignment and the empty cells they may run on into, merges and the widths
    before. How far each text may run on is found here, in one pass: a sheet holds hundreds
    of texts, and a few formats whose looks are read once."""
    covered = _covered(ws)
    table, last = ws.table, ws.dim_colmax
    looks: dict[int, tuple[Any, ...] | None] = {}  # by format: a sheet uses a few
    found = []
    for row, col, entry, text in texts:
        fmt = entry.format
        look = looks.get(id(fmt), _UNSEEN)
        if look is _UNSEEN:
            look = looks[id(fmt)] = _looks(fmt)
        cells = table[row]
        right = col + 1
        while right <= last:
            right_entry = cells.get(right)
            if right_entry is not None and type(right_entry) is not CellBlankTuple:
                break
            if covered and (row, right) in covered:
                break
            right += 1
        found.append((row, col, text, look, right))
    return (
        cap_px,
        last,
        tuple(map(tuple, ws.merge)),
        tuple((col, info.width, info.hidden) for col, info in sorted(ws.col_info.items())),
        tuple(found),
    )


_UNSEEN = ()  # looks of a format not met yet


def _covered(ws: Worksheet) -> set[tuple[int, int]]:
    """The cells of the merged ranges."""
    return {
        (r, c) for r1, c1, r2, c2 in ws.merge for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
    }


def _looks(fmt: Format | None) -> tuple[Any, ...] | None:
    if fmt is None:
        return None
    return (fmt.font_size, fmt.bold, fmt.text_wrap, fmt.text_h_align)


def _fit(
    ws: Worksheet,
    wrap: Callable[[Format], Format],
    cap_px: float,
    texts: list[tuple[int, int, Any, str]],
    steps: list[Step] | None,
) -> None:
    """The fitting itself; each change it makes is also added to ``steps``."""

    def take(step: Step) -> None:
        if step[0] == "widen" and _px(ws, step[1]) >= step[2]:
            return  # the column is wide enough already: nothing to do, now or on a replay
        if steps is not None:
            steps.append(step)
        _take(ws, wrap, step)

    merged = {(r1, c1): (c1, c2) for r1, c1, _r2, c2 in ws.merge}
    covered = _covered(ws)
    for row, col, entry, text in texts:
        cells = ws.table[row]
        fmt = entry.format
        if not text or ((row, col) in covered and (row, col) not in merged):
            continue
        size = float(fmt.font_size) if fmt is not None else BASE_SIZE
        bold = bool(fmt.bold) if fmt is not None else False
        if fmt is not None and fmt.text_wrap:
            needed = max(text_px(word, size, bold) for word in text.split())
            take(("widen", col, needed, needed))  # a word is never cut
            continue
        first, last = merged.get((row, col), (col, col))
        needed = text_px(text, size, bold)
        room = sum(_px(ws, c) for c in range(first, last + 1))
        if (row, col) not in merged and (fmt is None or fmt.text_h_align in (0, 1)):
            right = col + 1
            while (
                right <= ws.dim_colmax and _empty(cells.get(right)) and (row, right) not in covered
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
            take(("widen", target, grown, grown))
        elif fmt is not None:
            if (row, col) not in merged:
                take(("widen", col, cap_px, cap_px))
                longest = max(text_px(word, size, bold) for word in text.split())
                take(("widen", col, longest, longest))  # a word is never cut
                room = _px(ws, col)
            take(("wrap", row, col))
            take(("lines", row, -(-needed // max(room, 1.0))))


def _take(ws: Worksheet, wrap: Callable[[Format], Format], step: Step) -> None:
    """Make one change to ``ws``: widen a column, wrap a cell's text, or make a row tall
    enough for the lines its text wraps into."""
    kind, first, second = step[0], step[1], step[2]
    if kind == "widen":
        _widen(ws, first, second, step[3])
    elif kind == "wrap":
        entry = ws.table[first][second]
        ws.table[first][second] = entry._replace(format=wrap(entry.format))
    else:
        height = ws.row_sizes.get(first, [20])[0] or 20  # pixels
        ws.set_row(first, max(height * 0.75, 13.5 * second))


def _strings(table: SharedStringTable) -> list[str]:
    """The workbook's shared strings by index (the order they were added in), listed once
    for all its sheets while the table does not grow."""
    kept = _STRINGS.get("table")
    if kept is None or kept[0] is not table or kept[1] != table.unique_count:
        kept = _STRINGS["table"] = (table, table.unique_count, list(table.string_table))
    return kept[2]


_STRINGS: dict[str, tuple[SharedStringTable, int, list[str]]] = {}  # the last workbook's


def _texts(
    cells: dict[int, Any], strings: list[str]
) -> list[tuple[int, CellStringTuple | CellFormulaTuple, str]]:
    """A row's cells holding a text, by column, with their texts: most cells are numbers and
    formulas with numbers, so they are passed over in one comprehension."""
    found = [
        (col, entry)
        for col, entry in cells.items()
        if (kind := type(entry)) is CellStringTuple
        or (kind is CellFormulaTuple and isinstance(entry.value, str))
    ]
    found.sort(key=_first)
    return [
        (col, entry, strings[entry.string] if type(entry) is CellStringTuple else entry.value)
        for col, entry in found
    ]


def _first(pair: tuple[int, object]) -> int:
    return pair[0]


def _empty(entry: object) -> bool:
    return entry is None or type(entry) is CellBlankTuple


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
