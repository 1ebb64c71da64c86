"""Sheets read before, remembered by their bytes with their numbers taken out.

Workbooks of one template repeat, sheet for sheet, the same XML but for the numbers their
cells cache: every formula, text, style and merge stays. The package guard splits each
sheet into its bytes without the plain numbers of its ``<v>`` elements and those numbers
(``roi_xl.inspect.judged.split_numbers``). A sheet whose bytes so split equal those of a
sheet read in full before, under the same shared parts (the formula reader's key: the
workbook, its relationships, content types, shared strings and styles, byte for byte, and
the package's entries), reads as that sheet did, but for its numbers. Each number is one of:

- a formula's cached number, which only the values view (python-calamine) shows: a float;
- a value cell's number (an input, a figure), which both views show: the formula view types
  it as openpyxl does (the formula reader's own function), the values view as a float;
- any other (a shared string's index, a number shown as a date, one outside a cell): it
  must be the text it was, or the sheet is read in full again.

A number is only taken as a float where both readers are sure to read it so: a cell of type
n, in a style that neither openpyxl nor python-calamine (its rules, read wide) shows as a
date or a duration, and that python-calamine read as exactly ``float(text)`` when the shape
was made. Python's ``float`` and Rust's ``f64`` parser accept the same texts of the
characters a number here holds, and both round correctly; a text ``float`` refuses sends the
sheet to the full read, so any refusal stays the full read's own.

A sheet is only remembered the second time it is met under one key, so a single read pays
nothing for it. Bounded: at most ``_MAX_BYTES`` of sheets (their bytes) in all.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

Key = tuple[int, int]  # zero-based (row, column)
Cell = tuple[Any, str]  # the formula view of a cell: its value as openpyxl gives it, its format
Grid = list[list[Any]]  # the values view of a sheet, anchored at A1
Typer = Callable[[int, str], Any]  # a value cell's number (its style, its text), typed
Split = tuple[bytes, list[bytes]]  # a sheet's bytes without its numbers, and those numbers
Picker = Callable[[Sequence[Any]], Sequence[Any]]
SheetKey = tuple[object, str, str]  # the shared parts' token, the sheet's name and part

# The number of a <v> element, as roi_xl.inspect.judged takes it out, in decoded text.
_NUMBER_TEXT = re.compile(r"<v>[-+.0-9eE]{0,27}(?=<)")
_MAX_BYTES = 16 * 1024 * 1024  # the sheets' bytes held (a twelve-month workbook: 1.2 MiB)
_MAX_SEEN = 512


@dataclass(frozen=True)
class PlainCell:
    """A cell as the formula reader's pattern read it: where it lies in the decoded text."""

    start: int
    end: int
    place: Key
    style: int
    kind: str  # the t attribute ("" when absent)
    formula: bool


@dataclass(frozen=True)
class Reading:
    """A sheet read from its shape and numbers: both views, as a full read gives them."""

    cells: dict[Key, Cell]
    grid: Grid
    shape: Shape


@dataclass(frozen=True)
class Shape:
    """What a sheet's bytes without their numbers read as, and where each number goes."""

    bare: bytes
    count: int  # numbers
    fixed: Picker  # the numbers that must be as they were
    fixed_texts: Sequence[bytes]
    floats: Picker  # the numbers read as floats, in order
    constants: list[Any]  # the values view's other values
    rows: tuple[Picker, ...]  # each row of the values view, from floats + constants
    cells: dict[Key, Cell]  # the formula view
    typed: tuple[tuple[int, Key, int, str], ...]  # value cells: number, place, style, format
    float_places: frozenset[Key]  # where the values view shows a number read as a float

    def read(self, numbers: list[bytes], typer: Typer) -> Reading | None:
        """Both views with these numbers; None when one cannot be read from them alone."""
        if len(numbers) != self.count or self.fixed(numbers) != self.fixed_texts:
            return None
        try:
            pool = list(map(float, self.floats(numbers)))
            cells = self.cells.copy()
            for slot, place, style, number_format in self.typed:
                cells[place] = (typer(style, numbers[slot].decode()), number_format)
        except ValueError:
            return None
        pool += self.constants
        return Reading(cells, [list(row(pool)) for row in self.rows], self)


@dataclass
class Draft:
    """A sheet read in full, met before: its shape is made once its values are read."""

    key: SheetKey
    split: Split
    text: str  # the part, decoded
    plain_cells: list[PlainCell]  # in document order
    cells: dict[Key, Cell]  # the formula view read
    plain_styles: frozenset[int]  # styles no reader shows as a date or a duration
    typer: Typer

    def complete(self, grid: Grid) -> None:
        """Make and remember the shape, given the values view python-calamine read."""
        shape = _shape(self, grid)
        if shape is not None:
            _remember(self.key, shape)


_SHAPES: dict[tuple[object, str, str, int], list[Shape]] = {}  # by key and size
_ORDER: OrderedDict[int, tuple[tuple[object, str, str, int], Shape]] = OrderedDict()  # by use
_HELD = [0]  # bytes of the shapes held
_SEEN: OrderedDict[SheetKey, None] = OrderedDict()


def recall(key: SheetKey, split: Split, typer: Typer) -> Reading | None:
    """The sheet read from a shape remembered for its bytes; None when there is none."""
    bare, numbers = split
    for shape in _SHAPES.get((*key, len(bare)), ()):
        # Shapes of the same bytes may differ in the numbers that must stay: try each.
        reading = shape.read(numbers, typer) if shape.bare == bare else None
        if reading is not None:
            _ORDER.move_to_end(id(shape))
            return reading
    return None


def met_before(key: SheetKey) -> bool:
    """Whether a sheet of this key was met before (noting it met now)."""
    if key in _SEEN:
        _SEEN.move_to_end(key)
        return True
    if len(_SEEN) >= _MAX_SEEN:
        _SEEN.popitem(last=False)
    _SEEN[key] = None
    return False


def _remember(key: SheetKey, shape: Shape) -> None:
    place = (*key, len(shape.bare))
    _SHAPES.setdefault(place, []).append(shape)
    _ORDER[id(shape)] = (place, shape)
    _HELD[0] += len(shape.bare)
    while _HELD[0] > _MAX_BYTES and _ORDER:  # the least recently used shapes go first
        _, (where, dropped) = _ORDER.popitem(last=False)
        _SHAPES[where].remove(dropped)
        if not _SHAPES[where]:
            del _SHAPES[where]
        _HELD[0] -= len(dropped.bare)


def _shape(draft: Draft, grid: Grid) -> Shape | None:
    """The shape of a sheet read in full; None when a number could not be placed for sure."""
    bare, numbers = draft.split
    slots = [match.start() for match in _NUMBER_TEXT.finditer(draft.text)]
    # Every "<v><" left is a number taken out (an empty one too), so bytes left equal to
    # these hold their numbers at the same places.
    if len(slots) != len(numbers) or bare.count(b"<v><") != len(numbers):
        return None
    plain = draft.plain_cells
    if len({cell.place for cell in plain}) != len(plain):
        return None  # a place written twice: which one a reader keeps is its own affair
    starts = [cell.start for cell in plain]
    floats: list[tuple[int, Key]] = []
    typed: list[tuple[int, Key, int, str]] = []
    fixed: list[int] = []
    for slot, position in enumerate(slots):
        index = bisect_right(starts, position) - 1
        cell = plain[index] if index >= 0 and position < plain[index].end else None
        role = None if cell is None else _role(draft, cell, numbers[slot].decode(), grid)
        if role is None:
            fixed.append(slot)
            continue
        assert cell is not None
        floats.append((slot, cell.place))
        if role:  # a value cell, with its number format
            typed.append((slot, cell.place, cell.style, role[0]))
    return Shape(
        bare=bare,
        count=len(numbers),
        fixed=picker(fixed),
        fixed_texts=picker(fixed)(numbers),
        floats=picker([slot for slot, _ in floats]),
        constants=(gathered := _gather(grid, [place for _, place in floats]))[0],
        rows=gathered[1],
        cells=dict(draft.cells),
        typed=tuple(typed),
        float_places=frozenset(place for _, place in floats),
    )


def _role(draft: Draft, cell: PlainCell, text: str, grid: Grid) -> tuple[str, ...] | None:
    """What a number is: () a formula's cached number, (its number format,) a value cell's,
    None a number that must stay as it is."""
    if cell.kind not in ("", "n") or cell.style not in draft.plain_styles:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    row, col = cell.place
    shown = grid[row][col] if row < len(grid) and col < len(grid[row]) else None
    if type(shown) is not float or shown != number:
        return None
    if math.copysign(1.0, shown) != math.copysign(1.0, number):
        return None
    if cell.formula:
        return ()
    found = draft.cells.get(cell.place)
    if found is None:
        return None
    typed = draft.typer(cell.style, text)
    if type(typed) is not type(found[0]) or typed != found[0]:
        return None  # covered by a merge, or typed otherwise
    return (found[1],)


def _gather(grid: Grid, variable: list[Key]) -> tuple[list[Any], tuple[Picker, ...]]:
    """The grid's other values, and each row as picked from the floats then those values."""
    where = {place: index for index, place in enumerate(variable)}
    constants: list[Any] = []
    rows = []
    first = len(variable)
    for row, values in enumerate(grid):
        picked = []
        for col, value in enumerate(values):
            index = where.get((row, col))
            if index is None:
                index = first + len(constants)
                constants.append(value)
            picked.append(index)
        rows.append(picker(picked))
    return constants, tuple(rows)


def picker(indices: Sequence[int]) -> Picker:
    """What ``itemgetter(*indices)`` picks, always as a tuple (one index or none too)."""
    if len(indices) > 1:
        return itemgetter(*indices)
    if len(indices) == 1:
        only = indices[0]
        return lambda items: (items[only],)
    return lambda items: ()
