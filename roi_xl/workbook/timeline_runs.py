"""The Timeline's rows of formulas in a batch: made from a frame, not rendered.

Between the workbooks of a batch (one template, locale, period and start) a row of the
Timeline's blocks keeps its formulas; only its numbers change, and its number format (finer
for small figures). The month header rows do not change at all. So the first workbook's row
is written as always and its formulas are kept as a frame, checked on the spot: the row
made from the frame with that workbook's numbers must be the row just written. The next
workbooks' rows are made from the frame and the timeline's array (the months, their total
and each year's sum, as the writer computes them), and each is handed to the splicing
worksheet as a run: one token in the sheet's shape instead of an entry per cell. A row
holding an error value is written as always.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from itertools import repeat
from operator import is_

import numpy as np
from xlsxwriter.format import Format
from xlsxwriter.worksheet import CellFormulaTuple

from roi_xl.model.expr import Evaluated
from roi_xl.model.template import Template
from roi_xl.workbook.skeleton import RunColumns, SplicingWorksheet
from roi_xl.workbook.timeline_layout import MONTHS_PER_YEAR

Key = tuple[object, ...]  # what a row's formulas (and a fixed row's values) depend on
Formats = tuple[Format, ...]  # the formats a row's cells use, each cell one of them
_CELLS = repeat(CellFormulaTuple)  # with tuple.__new__: a cell from a 3-tuple, in C
_float_text = float.__repr__  # a float as the row writer writes it (f"{value}")


@dataclass(frozen=True)
class _RowFrame:
    """A row's formula cells: their columns (with the token standing for the frame in a
    sheet's shape), the formula each stores, which of the row's formats each has, and the
    values of a row that never changes and their texts (None for a block row)."""

    template: Template  # held, so that its id (in the key) is not reused while kept
    columns: RunColumns
    formulas: tuple[str, ...]
    slots: tuple[int, ...]
    fixed: list[float] | None
    texts: list[str] | None  # the fixed values as text

    @functools.cached_property
    def _first_used(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(self.slots))

    def used(self, formats: Formats) -> Formats:
        """The formats the cells use, in the order the cells first use them: the order in
        which the row writer gives formats their indices in the file."""
        return tuple(map(formats.__getitem__, self._first_used))


# Key -> the frame of that row. A Timeline has about a hundred rows of formulas: dozens of
# Timelines' worth are kept, and a process meeting more starts again.
_FRAMES: dict[Key, _RowFrame] = {}
_FRAMES_LIMIT = 4096
# Rows put in from a frame, and frames kept, in this process.
STATS = {"put": 0, "kept": 0}


def numbers_of(evaluated: Evaluated) -> np.ndarray | None:
    """A row's months as a fresh array of floats (the writer sums such arrays), or None when
    the row holds an error value or is not a plain row of floats."""
    values, errors = evaluated.values, evaluated.errors
    if values.dtype != np.float64 or values.shape != errors.shape or errors.any():
        return None
    return np.array(values, dtype=float).reshape(-1)


def typical(numbers: np.ndarray) -> float:
    """The first month that is not zero (NaN counts, as in the writer's test), else 0."""
    nonzero = np.flatnonzero(numbers)
    return float(numbers[nonzero[0]]) if nonzero.size else 0.0


def put(
    template: Template,
    ws: SplicingWorksheet,
    key: Key,
    row: int,
    numbers: np.ndarray | None,
    formats: Formats,
) -> bool:
    """Put the row's formula cells in from its frame, with ``numbers`` for a block row;
    False when there is no frame for it (or not one of this kind and size)."""
    frame = _FRAMES.get(key)
    if (
        frame is None
        or frame.template is not template
        or (numbers is None) is (frame.fixed is None)
    ):
        return False
    if numbers is None:
        values, texts = frame.fixed, frame.texts
    else:
        values = _block_values(numbers, len(frame.formulas))
        if values is None:
            return False
        texts = _texts(numbers, values)
    ws.put_run(row, frame.columns, _made(frame, values, formats), texts, frame.used(formats))
    STATS["put"] += 1
    return True


def keep(
    template: Template,
    ws: SplicingWorksheet,
    key: Key,
    row: int,
    cols: tuple[int, ...],
    numbers: np.ndarray | None,
    formats: Formats,
) -> None:
    """Keep the frame of the row just written (its cells in ``cols``, ascending), a block
    row's when making it from the frame and ``numbers`` gives back the very cells written,
    a fixed row's (``numbers`` None) as written; then put the row in as a run, so that this
    sheet's shape is already the one of the workbooks to come."""
    cells = ws.table[row]
    written = [cells.get(col) for col in cols]
    if not cols or any(type(cell) is not CellFormulaTuple for cell in written):
        return
    if any(type(cell.value) is not float for cell in written):
        return
    slots = tuple(_slot(cell.format, formats) for cell in written)
    if -1 in slots:
        return
    fixed = [cell.value for cell in written] if numbers is None else None
    values = fixed if numbers is None else _block_values(numbers, len(cols))
    if values is None:
        return
    formulas = tuple(cell.formula for cell in written)
    texts = list(map(_float_text, values))
    kept_texts = texts if fixed is not None else None
    frame = _RowFrame(template, RunColumns(cols), formulas, slots, fixed, kept_texts)
    made = _made(frame, values, formats)
    if not all(map(_same, made, written)):
        return
    if len(_FRAMES) >= _FRAMES_LIMIT:
        _FRAMES.clear()
    _FRAMES[key] = frame
    STATS["kept"] += 1
    ws.put_run(row, frame.columns, made, texts, frame.used(formats))


def _slot(style: Format | None, formats: Formats) -> int:
    """Which of the row's formats ``style`` is (the first when two are one), -1 none."""
    return next((index for index, known in enumerate(formats) if style is known), -1)


def _same(made: CellFormulaTuple, written: CellFormulaTuple) -> bool:
    """One cell as written: the formula, the format itself, the value as the file holds it
    (0.0 and -0.0 are equal numbers, not equal texts)."""
    return (
        made.formula == written.formula
        and is_(made.format, written.format)
        and _float_text(made.value) == _float_text(written.value)
    )


def _block_values(numbers: np.ndarray, cells: int) -> list[float] | None:
    """A block row's values in its columns' order: a flow row's total, its months and each
    year's sum; a stock row's months. None when the row has not ``cells`` cells."""
    months = numbers.size
    if cells == months:
        return numbers.tolist()
    whole = months - months % MONTHS_PER_YEAR
    # Summed as the writer sums them (numpy's sum of each year's months), all years at once.
    years = numbers[:whole].reshape(-1, MONTHS_PER_YEAR).sum(axis=1).tolist()
    if whole < months:
        years.append(float(numbers[whole:].sum()))
    if cells != 1 + months + len(years):
        return None
    return [float(numbers.sum()), *numbers.tolist(), *years]


def _made(frame: _RowFrame, values: list[float], formats: Formats) -> list[CellFormulaTuple]:
    """The row's cells from its frame and ``values``."""
    styles = map(formats.__getitem__, frame.slots)
    return list(map(tuple.__new__, _CELLS, zip(frame.formulas, styles, values, strict=True)))


class _Texts(dict[float, str]):
    """Floats as the row writer writes them, each worked out once: most of a Timeline's
    numbers are zeros, and the same few values come back along its rows. Bounded: a
    process starts again past ``_TEXTS_LIMIT`` values."""

    def __missing__(self, value: float) -> str:
        if len(self) >= _TEXTS_LIMIT:
            self.clear()
        text = self[value] = _float_text(value)
        return text


_TEXTS_LIMIT = 65_536
_KNOWN_TEXTS = _Texts()


def _texts(numbers: np.ndarray, values: list[float]) -> list[str]:
    """``values`` (a block row's, from its months ``numbers``) as text. 0.0 and -0.0 are
    one key of a dict and two texts, so a row with a -0.0 month is written out value by
    value (its sums cannot be -0.0 otherwise: a sum is -0.0 only of -0.0s)."""
    if (np.signbit(numbers) & (numbers == 0)).any():
        return list(map(_float_text, values))
    return list(map(_KNOWN_TEXTS.__getitem__, values))
