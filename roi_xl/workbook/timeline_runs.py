"""The Timeline's rows of formulas in a batch: made from a frame, not rendered.

Between the workbooks of a batch (one template, locale, period and start) a row of the
Timeline's blocks keeps its formulas; only its numbers change, and its number format (finer
for small figures). The month header rows do not change at all. So the first workbook's row
is written as always and its formulas are kept as a frame, checked on the spot: the row
made from the frame with that workbook's numbers must be the row just written. The next
workbooks' rows are made from the frame and the timeline's array, and each is handed to the
splicing worksheet as a run: one token in the sheet's shape instead of an entry per cell. A
block's numbers (each row's months, their total, each year's sum, the first month that is
not zero and whether a month is -0.0) are worked out for all its rows at once, as the writer
works them out row by row. A row holding an error value is written as always.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby, repeat

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

    @functools.cached_property
    def _slot_runs(self) -> tuple[tuple[int, int], ...]:
        """The slots as (slot, cells in a row with it): a few runs for a whole row."""
        return tuple((slot, len(list(cells))) for slot, cells in groupby(self.slots))

    def used(self, formats: Formats) -> Formats:
        """The formats the cells use, in the order the cells first use them: the order in
        which the row writer gives formats their indices in the file."""
        return tuple(map(formats.__getitem__, self._first_used))

    def styles(self, formats: Formats) -> tuple[Format, ...]:
        """Each cell's format, in the cells' order."""
        styles: tuple[Format, ...] = ()
        for slot, count in self._slot_runs:
            styles += (formats[slot],) * count
        return styles


@dataclass(frozen=True, slots=True)
class RowNumbers:
    """A block row's numbers: its months, the first month that is not zero (NaN counts, as
    in the writer's test; else 0), and the values of its cells in their columns' order
    when it is a flow (its total, its months, each year's sum)."""

    months: np.ndarray
    typical: float
    values: list[float]

    def cells(self, count: int) -> list[float] | None:
        """The values of ``count`` cells: a flow row's, or a stock row's months; None when
        the row has neither that many cells."""
        if count == len(self.values):
            return self.values
        if count == self.months.size:
            return self.values[1 : 1 + count]
        return None


def block_numbers(rows: Sequence[Evaluated], months: int) -> list[RowNumbers | None]:
    """Each row's numbers, all worked out in one pass over the block, as the writer works
    them out for one row; None for a row that holds an error value or is not a row of
    ``months`` floats (it is written as always)."""
    plain = [_floats(e, months) for e in rows]
    found: list[RowNumbers | None] = [None] * len(rows)
    if not any(plain):
        return found
    zeros = np.zeros(months)
    table = np.concatenate(
        [e.values.reshape(-1) if ok else zeros for e, ok in zip(rows, plain, strict=True)]
    ).reshape(len(rows), months)
    errors = np.concatenate(
        [e.errors.reshape(-1) for e, ok in zip(rows, plain, strict=True) if ok]
    ).reshape(-1, months)
    clean = iter(~errors.any(axis=1))
    plain = [ok and bool(next(clean)) for ok in plain]
    typicals = _typicals(table)
    values = _with_sums(table).tolist()
    for index, ok in enumerate(plain):
        if ok:
            found[index] = RowNumbers(table[index], typicals[index], values[index])
    return found


def _typicals(table: np.ndarray) -> list[float]:
    """Each row's first month that is not zero (NaN counts), else 0."""
    nonzero = table != 0
    first = table[np.arange(table.shape[0]), nonzero.argmax(axis=1)]
    return np.where(nonzero.any(axis=1), first, 0.0).tolist()


def _with_sums(table: np.ndarray) -> np.ndarray:
    """Each row's total, its months and each year's sum, summed as the writer sums them
    (numpy's sum of each year's months, of all months): a sum along the last axis of a
    contiguous array is the same sum row by row."""
    count, months = table.shape
    whole = months - months % MONTHS_PER_YEAR
    parts = [table.sum(axis=1)[:, None], table]
    parts.append(table[:, :whole].reshape(count, -1, MONTHS_PER_YEAR).sum(axis=2))
    if whole < months:
        parts.append(table[:, whole:].sum(axis=1)[:, None])
    return np.concatenate(parts, axis=1)


def _floats(evaluated: Evaluated, months: int) -> bool:
    """Whether a row is ``months`` floats, with an error code for each (maybe none)."""
    values = evaluated.values
    return (
        values.dtype == np.float64
        and values.shape == evaluated.errors.shape
        and values.size == months
    )


# Key -> the frame of that row. A Timeline has about a hundred rows of formulas: dozens of
# Timelines' worth are kept, and a process meeting more starts again.
_FRAMES: dict[Key, _RowFrame] = {}
_FRAMES_LIMIT = 4096
# Rows put in from a frame, frames kept, and blocks put in whole, in this process.
STATS = {"put": 0, "kept": 0, "blocks": 0}


def put(
    template: Template,
    ws: SplicingWorksheet,
    key: Key,
    row: int,
    numbers: RowNumbers | None,
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
        values = numbers.cells(len(frame.formulas))
        if values is None:
            return False
        texts = _flat_texts(np.array(values), values)
    ws.put_run(row, frame.columns, _made(frame, values, formats), texts, frame.used(formats))
    STATS["put"] += 1
    return True


def keep(
    template: Template,
    ws: SplicingWorksheet,
    key: Key,
    row: int,
    cols: tuple[int, ...],
    numbers: RowNumbers | None,
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
    values = fixed if numbers is None else numbers.cells(len(cols))
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


@dataclass(frozen=True)
class _BlockFrame:
    """A whole block's rows of formulas, each from its row's frame: the cells of all rows
    made in one go, their values taken from the block's array of totals, months and years
    (``take``: where each cell's value stands in it, row after row)."""

    template: Template
    rows: tuple[int, ...]
    frames: tuple[_RowFrame, ...]
    months: int
    take: np.ndarray
    formulas: tuple[str, ...]
    bounds: tuple[int, ...]  # row i's cells are [bounds[i], bounds[i + 1]) of the block's


# Block key -> the frame of the block, once each of its rows has a frame.
_BLOCKS: dict[Key, _BlockFrame] = {}
_BLOCKS_LIMIT = 256


def keep_block(
    template: Template, key: Key, rows: Sequence[int], row_keys: Sequence[Key], months: int
) -> None:
    """Keep the frame of a block just written whose every row has a frame of its own."""
    frames = [_FRAMES.get(row_key) for row_key in row_keys]
    width = 1 + months + -(-months // MONTHS_PER_YEAR)
    take: list[np.ndarray] = []
    bounds = [0]
    for index, frame in enumerate(frames):
        if frame is None or frame.template is not template or frame.fixed is not None:
            return
        cells = len(frame.formulas)
        if cells == width:
            take.append(np.arange(width) + index * width)
        elif cells == months:
            take.append(np.arange(months) + index * width + 1)
        else:
            return
        bounds.append(bounds[-1] + cells)
    if len(_BLOCKS) >= _BLOCKS_LIMIT:
        _BLOCKS.clear()
    _BLOCKS[key] = _BlockFrame(
        template,
        tuple(rows),
        tuple(frames),  # type: ignore[arg-type]
        months,
        np.concatenate(take),
        tuple(formula for frame in frames for formula in frame.formulas),  # type: ignore[union-attr]
        tuple(bounds),
    )


@dataclass(frozen=True)
class BlockHit:
    """A block whose every row is put in from the block's frame: the first month that is
    not zero of each row (for its number format), then each cell's value and its text."""

    frame: _BlockFrame
    typicals: list[float]
    values: list[float]
    texts: list[str]

    def put(self, ws: SplicingWorksheet, formats: Sequence[Formats]) -> None:
        """Put every row's cells in, row ``i`` with ``formats[i]`` (as ``put`` would)."""
        frame = self.frame
        styles: list[Format] = []
        for row_frame, row_formats in zip(frame.frames, formats, strict=True):
            styles += row_frame.styles(row_formats)
        made = zip(frame.formulas, styles, self.values, strict=True)
        cells = list(map(tuple.__new__, _CELLS, made))
        texts, bounds = self.texts, frame.bounds
        for index, (row, row_frame) in enumerate(zip(frame.rows, frame.frames, strict=True)):
            first, last = bounds[index], bounds[index + 1]
            used = row_frame.used(formats[index])
            ws.put_run(row, row_frame.columns, cells[first:last], texts[first:last], used)
        STATS["put"] += len(frame.rows)
        STATS["blocks"] += 1


def block_hit(
    template: Template, key: Key, rows: Sequence[Evaluated], months: int
) -> BlockHit | None:
    """The block's numbers for putting it in whole from its frame; None when there is no
    frame for it, or a row holds an error value or is not a row of ``months`` floats."""
    frame = _BLOCKS.get(key)
    if frame is None or frame.template is not template or frame.months != months:
        return None
    if len(rows) != len(frame.rows) or not all(_floats(e, months) for e in rows):
        return None
    if np.concatenate([e.errors.reshape(-1) for e in rows]).any():
        return None
    table = np.concatenate([e.values.reshape(-1) for e in rows]).reshape(len(rows), months)
    flat = _with_sums(table).reshape(-1)[frame.take]
    values = flat.tolist()
    return BlockHit(frame, _typicals(table), values, _flat_texts(flat, values))


class _Texts(dict[float, str]):
    """Floats as the row writer writes them, each worked out once: a workbook's three
    blocks share many values (flags, discount factors, the months before a change), and
    a value missing here (a NaN) is simply worked out. Bounded: a process starts again
    past ``_TEXTS_LIMIT`` values."""

    def __missing__(self, value: float) -> str:
        return _float_text(value)

    def learn(self, distinct: list[float]) -> None:
        """Work out the texts of those of ``distinct`` (no zero among them) not known yet,
        all in one go: a list's text is its floats' texts joined by ", "."""
        missing = [value for value in distinct if value not in self]
        if not missing:
            return
        if len(self) + len(missing) > _TEXTS_LIMIT:
            self.clear()
            self[0.0] = "0.0"
        self.update(zip(missing, repr(missing)[1:-1].split(", "), strict=True))


_TEXTS_LIMIT = 65_536
_KNOWN_TEXTS = _Texts({0.0: "0.0"})


def _flat_texts(array: np.ndarray, values: list[float]) -> list[str]:
    """``values`` (``array`` as a list) as the row writer writes them: each value not
    zero worked out once, zeros as "0.0", -0.0 as "-0.0" (0.0 and -0.0 are one key of a
    dict and two texts in a file)."""
    zero = array == 0
    _KNOWN_TEXTS.learn(np.unique(array[~zero]).tolist())
    texts = list(map(_KNOWN_TEXTS.__getitem__, values))
    for index in np.flatnonzero(zero & np.signbit(array)).tolist():
        texts[index] = "-0.0"
    return texts


def _slot(style: Format | None, formats: Formats) -> int:
    """Which of the row's formats ``style`` is (the first when two are one), -1 none."""
    return next((index for index, known in enumerate(formats) if style is known), -1)


def _same(made: CellFormulaTuple, written: CellFormulaTuple) -> bool:
    """One cell as written: the formula, the format itself, the value as the file holds it
    (0.0 and -0.0 are equal numbers, not equal texts)."""
    return (
        made.formula == written.formula
        and made.format is written.format
        and _float_text(made.value) == _float_text(written.value)
    )


def _made(frame: _RowFrame, values: list[float], formats: Formats) -> list[CellFormulaTuple]:
    """The row's cells from its frame and ``values``."""
    cells = zip(frame.formulas, frame.styles(formats), values, strict=True)
    return list(map(tuple.__new__, _CELLS, cells))
