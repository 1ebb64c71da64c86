"""How wide a text shows in Calibri (and in Carlito, which has its metrics), so columns are
sized from the texts they hold instead of by hand.

The estimate adds up Excel's own per-character widths for Calibri 11 (the table XlsxWriter
ships for its autofit), scaled to the font size, a little wider in bold. Characters the
table lacks (accented letters, narrow no-break spaces) count as 8 px, on the wide side.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable
from operator import attrgetter, is_
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

from roi_xl.workbook.worksheet import TEXT_FIELDS, TextCell

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
]  # what fitting did to a sheet: ("widen", col, px, cap), ("wrap", row, col, text)...
KEPT_FITS = 256  # sheet shapes whose fitting a process remembers


class ColumnFits:
    """The fitting of each sheet shape met, as the steps it took: a batch's sheets of one
    shape hold the same texts in the same cells, so their columns are fitted the same way.

    A shape is found in two steps. Its texts (each one's cell, and its format's looks),
    merges, widths before and last column give a plan, which names the texts that may run
    on into empty cells to their right (those wider than their own column); how far each
    of them can run on completes the shape. The texts are the ones the sheet kept as it
    stored them (``FastWorksheet.text_cells``), checked against all its cells whenever a
    shape is new: once a sheet holds a text it did not keep, every sheet after it is
    fitted in full. A sheet is first compared with the plan its name had last (most often
    its own: no hashing of its texts), then looked up. A process keeps at most
    ``KEPT_FITS`` shapes."""

    def __init__(self) -> None:
        self.plans: dict[tuple[Any, ...], _Plan] = {}
        self.last: dict[str, _Plan] = {}  # by sheet name
        self.steps: dict[tuple[int, tuple[int, ...]], list[Step]] = {}
        self.replayed = 0
        self.fitted = 0
        self.texts_kept = True  # no sheet held a text but those it kept


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
    kept = getattr(ws, "text_cells", None)
    if fits is None or kept is None or not fits.texts_kept or ws.constant_memory:
        if fits is not None:
            fits.fitted += 1
        _fit(ws, wrap, cap_px, _all_texts(ws), None)
        return
    kept, texts_kept = _kept_texts(ws, kept, cap_px)
    plan = fits.last.get(ws.name)
    if plan is None or plan.texts != texts_kept:
        plan = fits.plans.get(_hashable(texts_kept))
    reach = plan.reach(ws.table) if plan is not None else ()
    steps = fits.steps.get((plan.number, reach)) if plan is not None else None
    if steps is not None:
        fits.replayed += 1
        fits.last[ws.name] = plan
        for step in steps:
            _take(ws, wrap, step)
        return
    fits.fitted += 1
    texts = _all_texts(ws)
    width = TEXT_FIELDS
    current = zip(kept[0::width], kept[1::width], kept[2::width], kept[3::width], strict=True)
    if sorted(current, key=_place) != texts:
        fits.texts_kept = False  # a text stored past the sheet's own writers
        _fit(ws, wrap, cap_px, texts, None)
        return
    if plan is None:
        plan = _Plan(ws, texts, texts_kept)
        reach = plan.reach(ws.table)
    steps = []
    _fit(ws, wrap, cap_px, texts, steps)
    if len(fits.steps) >= KEPT_FITS:
        fits.steps.clear()
        fits.plans.clear()
        fits.last.clear()
    fits.plans[_hashable(texts_kept)] = fits.last[ws.name] = plan
    fits.steps[plan.number, reach] = steps


Kept = tuple[tuple[Any, ...], list[int], list[int], list[str], list[int]]


def _kept_texts(ws: Worksheet, kept: list[Any], cap_px: float) -> tuple[list[Any], Kept]:
    """The texts ``ws`` kept that its cells still hold (as kept), and what finds its plan:
    the cap, last column, merges and widths before, then the texts' rows, columns, texts
    and looks. A sheet holds hundreds of texts: they are passed over in C, field by field."""
    table, width = ws.table, TEXT_FIELDS
    rows, cols, cells = kept[0::width], kept[1::width], kept[2::width]
    if not all(map(is_, map(dict.get, map(table.__getitem__, rows), cols), cells)):
        held = [
            field
            for at in range(0, len(kept), width)
            if table[kept[at]].get(kept[at + 1]) is kept[at + 2]
            for field in kept[at : at + width]
        ]
        return _kept_texts(ws, held, cap_px)
    sheet = (
        cap_px,
        ws.dim_colmax,
        tuple(map(tuple, ws.merge)),
        tuple(ws.col_info),
        tuple(map(_COLUMN, ws.col_info.values())),
    )
    looks = list(map(_looks_of(ws).__getitem__, kept[4::width]))
    return kept, (sheet, rows, cols, kept[3::width], looks)


def _hashable(kept: Kept) -> tuple[Any, ...]:
    return (kept[0], *map(tuple, kept[1:]))


_COLUMN = attrgetter("width", "hidden")
_new_tuple = tuple.__new__  # what a named tuple's own __new__ calls
_LOOKS: dict[tuple[Any, ...] | None, int] = {}  # a handful: the text styles in use


class _LookNumbers(dict[Format | None, int]):
    """The look number of each format of a workbook, found when first asked for."""

    def __missing__(self, fmt: Format | None) -> int:
        number = self[fmt] = _LOOKS.setdefault(_looks(fmt), len(_LOOKS))
        return number


def _looks_of(ws: Worksheet) -> _LookNumbers:
    """The look numbers of the formats of ``ws``'s workbook (its sheets share them; none
    changes once the sheets are written), kept for the last workbook."""
    kept = _WORKBOOK_LOOKS.get("table")
    if kept is None or kept[0] is not ws.str_table:
        kept = _WORKBOOK_LOOKS["table"] = (ws.str_table, _LookNumbers())
    return kept[1]


_WORKBOOK_LOOKS: dict[str, tuple[SharedStringTable, _LookNumbers]] = {}


def _place(text: TextCell) -> tuple[int, int]:
    return text[0], text[1]


class _Plan:
    """What fitting a sheet of one set of texts reads besides them: how far each text wider
    than its own column runs on into the empty cells to its right. Widths only grow while
    a sheet is fitted, so a text no wider than its column before never runs on."""

    __slots__ = ("covered", "last", "number", "texts", "wide")

    def __init__(self, ws: Worksheet, texts: list[TextCell], kept: Kept) -> None:
        self.number = next(_PLANS)
        self.texts = kept  # what the plan was made for
        self.covered = _covered(ws)
        self.last = ws.dim_colmax
        self.wide: list[tuple[int, int]] = []
        for row, col, entry, text in texts:
            fmt = entry.format
            if not text or (row, col) in self.covered:
                continue  # a merged range's texts never run on
            if fmt is not None and (fmt.text_wrap or fmt.text_h_align not in (0, 1)):
                continue
            if text_px(text, *_font(fmt)) > _px(ws, col):
                self.wide.append((row, col))

    def reach(self, table: dict[int, dict[int, Any]]) -> tuple[int, ...]:
        """For each wide text, the first column past the empty cells to its right."""
        covered, last = self.covered, self.last
        found = []
        for row, col in self.wide:
            cells = table[row]
            right = col + 1
            while right <= last:
                entry = cells.get(right)
                if entry is not None and type(entry) is not CellBlankTuple:
                    break
                if covered and (row, right) in covered:
                    break
                right += 1
            found.append(right)
        return tuple(found)


_PLANS = itertools.count()  # a plan's number is never given twice in a process


def _covered(ws: Worksheet) -> set[tuple[int, int]]:
    """The cells of the merged ranges."""
    return {
        (r, c) for r1, c1, r2, c2 in ws.merge for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
    }


def _looks(fmt: Format | None) -> tuple[Any, ...] | None:
    if fmt is None:
        return None
    return (fmt.font_size, fmt.bold, fmt.text_wrap, fmt.text_h_align)


def _font(fmt: Format | None) -> tuple[float, bool]:
    """The size and weight a cell of ``fmt`` shows its text in."""
    if fmt is None:
        return BASE_SIZE, False
    return float(fmt.font_size), bool(fmt.bold)


def _all_texts(ws: Worksheet) -> list[TextCell]:
    """Every cell of ``ws`` holding a text, by row and column."""
    strings = _strings(ws.str_table)
    return [
        (row, col, entry, text)
        for row, cells in sorted(ws.table.items())
        for col, entry, text in _texts(cells, strings)
    ]


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
        size, bold = _font(fmt)
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
            take(("wrap", row, col, text))
            take(("lines", row, -(-needed // max(room, 1.0))))


def _take(ws: Worksheet, wrap: Callable[[Format], Format], step: Step) -> None:
    """Make one change to ``ws``: widen a column, wrap a cell's text, or make a row tall
    enough for the lines its text wraps into."""
    kind, first, second = step[0], step[1], step[2]
    if kind == "widen":
        _widen(ws, first, second, step[3])
    elif kind == "wrap":
        entry = ws.table[first][second]  # a string's or a formula's: its format comes second
        wrapped = _new_tuple(type(entry), (entry[0], wrap(entry[1]), *entry[2:]))
        ws.table[first][second] = wrapped
        kept = getattr(ws, "text_cells", None)
        if kept is not None:  # still a text cell, as written
            kept += (first, second, wrapped, step[3], wrapped.format)
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
