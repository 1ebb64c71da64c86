"""The Timeline sheet of a reference workbook, refilled instead of rewritten.

The reader rebuilds in memory the workbook the generator would write for every file it
reads, and the Timeline holds most of a workbook's cells. Between workbooks of one
template, locale, period and start only its values change, and the number format of each
row and result (finer for small figures): the formulas, texts and header cells stay. So
the first reference of such a workbook writes the sheet cell by cell and keeps it as a
frame, checked on the spot to give back exactly what was written; the next ones copy the
frame's cells and put in each row's values and format.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import repeat

import numpy as np

from roi_xl.model.excel_errors import ERROR_TEXTS, from_text
from roi_xl.model.template import Template, TimelineResult, TimelineRow
from roi_xl.workbook.context import Context, cached
from roi_xl.workbook.timeline_layout import (
    MONTHS_PER_YEAR,
    SUMMARY_COLS,
    SUMMARY_LIVE_COL,
    TL_KEY_COL,
    TL_LABEL_COL,
    TL_TOTAL_COL,
    TL_UNIT_COL,
    TimelineLayout,
)
from roi_xl.workbook.worksheet import ReferenceCell, ReferenceWorksheet

Summary = Callable[[TimelineResult, str], object]  # a result's value in one scenario
_new_cell = partial(tuple.__new__, ReferenceCell)  # a ReferenceCell from a 3-tuple, in C


@dataclass(frozen=True)
class _BlockRow:
    """One timeline row of one scenario: its texts, then one formula per month, the total
    (flows only) and one per year."""

    row: int
    scenario: str
    item: TimelineRow
    texts: dict[int, object]
    month_cols: tuple[int, ...]
    month_formulas: tuple[str, ...]
    total: str | None
    year_cols: tuple[int, ...]
    year_formulas: tuple[str, ...]


@dataclass(frozen=True)
class _SummaryRow:
    """One result: its texts, then one formula per scenario column and the Live column."""

    row: int
    result: TimelineResult
    texts: dict[int, object]
    formulas: tuple[tuple[int, str, str | None], ...]  # column, formula, scenario (None: live)


_Entry = tuple[int, dict[int, object]] | _BlockRow | _SummaryRow
_Key = tuple[object, ...]

# (template id, locale, sheet names, start) -> (template, frame); the template is held so
# its id cannot be reused while the entry lives. A frame holds one sheet's cells (a few
# hundred kilobytes), so only the last few are kept.
_FRAMES: dict[_Key, tuple[Template, list[_Entry]]] = {}
_FRAMES_LIMIT = 8
_SEEN: dict[_Key, None] = {}  # keys met once, in the order met
_SEEN_LIMIT = 64


def frame_key(ctx: Context, start: dt.date) -> _Key:
    """What the sheet's formulas, texts and headers depend on: never the inputs."""
    return (id(ctx.template), ctx.locale.code, tuple(ctx.layout.sheet_order), start)


def fill(ctx: Context, ws: ReferenceWorksheet, key: _Key, summary: Summary) -> bool:
    """Put the sheet's cells into ``ws`` from a kept frame; False when there is none."""
    kept = _FRAMES.get(key)
    if kept is None or kept[0] is not ctx.template:
        return False
    ws.table.update(_cells(ctx, kept[1], summary))
    return True


def keep(ctx: Context, ws: ReferenceWorksheet, key: _Key, summary: Summary) -> None:
    """Keep the sheet just written as a frame, the second time its key comes (making and
    checking a frame costs a fraction of a write: a key met once, such as each workbook of
    a roll-up of many periods, does not pay it), if refilling it gives back every cell in
    its place and order (anything unexpected, and the sheet is simply written every time)."""
    if key not in _SEEN:
        if len(_SEEN) >= _SEEN_LIMIT:
            del _SEEN[next(iter(_SEEN))]  # the oldest
        _SEEN[key] = None
        return
    frame = _frame(ctx, ws)
    if frame is None or _as_dicts(_cells(ctx, frame, summary)) != _as_dicts(ws.table):
        return
    if len(_FRAMES) >= _FRAMES_LIMIT:
        del _FRAMES[next(iter(_FRAMES))]  # the oldest
    _FRAMES[key] = (ctx.template, frame)


def _as_dicts(table: dict[int, dict[int, object]]) -> list[tuple[int, list[tuple[int, object]]]]:
    return [(row, list(cells.items())) for row, cells in table.items()]


def _frame(ctx: Context, ws: ReferenceWorksheet) -> list[_Entry] | None:
    """The written sheet as a frame: rows of texts and headers as they are, the blocks' and
    the summary's rows as their formulas; None when a row is not as expected."""
    timeline = ctx.template.timeline
    tl = ctx.layout.timeline
    assert timeline is not None
    blocks = {
        rows[item.key]: (scenario, item)
        for scenario, rows in tl.rows.items()
        for item in timeline.rows
    }
    results = {tl.summary_rows[result.key]: result for result in timeline.results}
    frame: list[_Entry] = []
    for row, cells in ws.table.items():
        if row in blocks:
            entry: _Entry | None = _block_row(tl, row, *blocks[row], cells)
        elif row in results:
            entry = _summary_row(row, results[row], cells)
        else:
            entry = (row, dict(cells))
        if entry is None:
            return None
        frame.append(entry)
    return frame


def _block_row(
    tl: TimelineLayout, row: int, scenario: str, item: TimelineRow, cells: dict[int, object]
) -> _BlockRow | None:
    texts = (TL_LABEL_COL, TL_UNIT_COL, TL_KEY_COL)
    months = tuple(range(tl.month_col(1), tl.month_col(tl.months) + 1))
    years = tuple(range(tl.first_year_col, tl.first_year_col + tl.years)) if item.is_flow else ()
    total = (TL_TOTAL_COL,) if item.is_flow else ()
    if list(cells) != [*texts, *months, *total, *years]:
        return None
    formulas = [cells[col] for col in (*months, *total, *years)]
    if any(type(entry) is not ReferenceCell for entry in formulas):
        return None
    return _BlockRow(
        row,
        scenario,
        item,
        {col: cells[col] for col in texts},
        months,
        tuple(cells[col].formula for col in months),  # type: ignore[attr-defined]
        cells[TL_TOTAL_COL].formula if total else None,  # type: ignore[attr-defined]
        years,
        tuple(cells[col].formula for col in years),  # type: ignore[attr-defined]
    )


def _summary_row(row: int, result: TimelineResult, cells: dict[int, object]) -> _SummaryRow | None:
    columns = [*SUMMARY_COLS.items(), (None, SUMMARY_LIVE_COL)]
    if list(cells) != [TL_LABEL_COL, TL_UNIT_COL, *(col for _, col in columns)]:
        return None
    if any(type(cells[col]) is not ReferenceCell for _, col in columns):
        return None
    return _SummaryRow(
        row,
        result,
        {col: cells[col] for col in (TL_LABEL_COL, TL_UNIT_COL)},
        tuple((col, cells[col].formula, scenario) for scenario, col in columns),  # type: ignore[attr-defined]
    )


def _cells(ctx: Context, frame: list[_Entry], summary: Summary) -> dict[int, dict[int, object]]:
    """The sheet's rows, in the writer's order, with this workbook's values and formats."""
    table: dict[int, dict[int, object]] = {}
    styles, values = ctx.styles, ctx.values
    for entry in frame:
        if type(entry) is tuple:
            table[entry[0]] = dict(entry[1])
        elif type(entry) is _BlockRow:
            table[entry.row] = _block_cells(ctx, entry)
        else:
            assert type(entry) is _SummaryRow
            result = entry.result
            typical = values.timelines["realistic"].result(result.key)
            code = styles.number_format(styles.format_for(result.kind, typical))
            cells = dict(entry.texts)
            for col, formula, scenario in entry.formulas:
                value = summary(result, scenario or values.selected)
                cells[col] = ReferenceCell(formula, _stored(value), code)
            table[entry.row] = cells
    return table


def _block_cells(ctx: Context, entry: _BlockRow) -> dict[int, object]:
    """One block row's cells: what ``_write_row`` of the Timeline sheet writes."""
    item = entry.item
    evaluated = ctx.values.timelines[entry.scenario].rows[item.key]
    if evaluated.errors.any():
        return _block_cells_with_errors(ctx, entry, evaluated.to_objects().reshape(-1))
    numbers = np.ascontiguousarray(evaluated.values, dtype=float).reshape(-1)
    nonzero = np.flatnonzero(numbers)  # NaN counts, as it is true in the writer's test
    typical = float(numbers[nonzero[0]]) if nonzero.size else 0.0
    code = ctx.styles.number_format(ctx.styles.format_for(item.kind, typical))
    cells = dict(entry.texts)
    cells.update(
        zip(
            entry.month_cols,
            map(_new_cell, zip(entry.month_formulas, numbers.tolist(), repeat(code))),
            strict=True,
        )
    )
    if entry.total is None:
        return cells
    cells[TL_TOTAL_COL] = ReferenceCell(entry.total, float(numbers.sum()), code)
    years = zip(entry.year_cols, entry.year_formulas, strict=True)
    for index, (col, formula) in enumerate(years):
        in_year = numbers[index * MONTHS_PER_YEAR : (index + 1) * MONTHS_PER_YEAR]
        cells[col] = ReferenceCell(formula, float(in_year.sum()), code)
    return cells


def _block_cells_with_errors(
    ctx: Context, entry: _BlockRow, objects: np.ndarray
) -> dict[int, object]:
    """``_block_cells`` for a row holding an error value, month by month as the writer."""
    item = entry.item
    typical = next((v for v in objects if isinstance(v, float) and v), 0.0)
    code = ctx.styles.number_format(ctx.styles.format_for(item.kind, float(typical)))
    months = [v if type(v) is float else _stored(plain(v)) for v in objects]
    cells = dict(entry.texts)
    cells.update(
        zip(
            entry.month_cols,
            map(_new_cell, zip(entry.month_formulas, months, repeat(code))),
            strict=True,
        )
    )
    if entry.total is None:
        return cells
    cells[TL_TOTAL_COL] = ReferenceCell(entry.total, _stored(total(objects)), code)
    years = zip(entry.year_cols, entry.year_formulas, strict=True)
    for index, (col, formula) in enumerate(years):
        in_year = objects[index * MONTHS_PER_YEAR : (index + 1) * MONTHS_PER_YEAR]
        cells[col] = ReferenceCell(formula, _stored(total(in_year)), code)
    return cells


def _stored(value: object) -> object:
    """A cached value as the reference worksheet keeps it (errors as error values)."""
    value = cached(value)  # type: ignore[arg-type]
    if value.__class__ is str and value in ERROR_TEXTS:
        return from_text(value)  # type: ignore[arg-type]
    return value


def plain(value: object) -> object:
    """A numpy number as a Python float; anything else as it is."""
    return float(value) if isinstance(value, (float, np.floating)) else value


def total(values: np.ndarray) -> object:
    """SUM as Excel does it: the first error met, else the sum."""
    for value in values:
        if not isinstance(value, (float, np.floating)):
            return value
    return float(np.sum(np.asarray(values, dtype=float)))
