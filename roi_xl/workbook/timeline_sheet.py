"""The Timeline sheet: the business case month by month, and its finance figures.

Each scenario has a block of rows, one column per month from the start month
(FAST style: timing flags are formula rows, every row one formula identical
in R1C1 form across the month columns, yearly columns roll the months up).
The summary on top reads NPV, IRR, payback month and the ROIs from the
blocks, one column per scenario and a Live column that follows the selector.
Every formula is rendered from the template's single definition and carries
the value the engine computed over the same months.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

import numpy as np
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from roi_xl.model import expr
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import SCENARIOS, Timeline, TimelineResult, TimelineRow
from roi_xl.model.timeline import TimelineValues
from roi_xl.workbook import timeline_frame, timeline_runs
from roi_xl.workbook.context import Context, made_once
from roi_xl.workbook.layout import SCENARIO_COLS, column_name, sheet_ref
from roi_xl.workbook.layout import cell as a1
from roi_xl.workbook.printing import print_areas
from roi_xl.workbook.skeleton import SplicingWorksheet
from roi_xl.workbook.timeline_frame import plain, total
from roi_xl.workbook.timeline_layout import (
    MONTHS_PER_YEAR,
    SUMMARY_COLS,
    SUMMARY_LIVE_COL,
    TL_FIRST_MONTH_COL,
    TL_KEY_COL,
    TL_LABEL_COL,
    TL_SPACER_COL,
    TL_START_ROW,
    TL_TOTAL_COL,
    TL_UNIT_COL,
    TimelineLayout,
)
from roi_xl.workbook.worksheet import ReferenceWorksheet

EXCEL_EPOCH = dt.date(1899, 12, 30)
HERE, LEFT = "\x01", "\x02"  # the month column being written, and the one before it


def write_timeline(ctx: Context, start: dt.date) -> None:
    """Write the sheet, define the out_ names of its results (Live column)."""
    timeline = ctx.template.timeline
    name = ctx.layout.timeline_sheet
    if timeline is None or name is None:
        return
    ws = ctx.sheet(name)
    tl = ctx.layout.timeline
    key = timeline_frame.frame_key(ctx, start)
    summary = functools.partial(summary_value, ctx, timeline)
    if isinstance(ws, ReferenceWorksheet) and timeline_frame.fill(ctx, ws, key, summary):
        _define_outputs(ctx, timeline, tl)  # the cells from the frame, the names as written
        return
    s, t = ctx.styles, ctx.locale
    ws.set_column(TL_LABEL_COL, TL_LABEL_COL, 50)
    ws.set_column(TL_UNIT_COL, TL_UNIT_COL, 9)
    # The summary's scenario columns share these: wide enough for "not within 36 months".
    ws.set_column(TL_KEY_COL, TL_FIRST_MONTH_COL, 21)
    ws.set_column(TL_FIRST_MONTH_COL + 1, tl.first_year_col + tl.years, 11)
    ctx.heading(ws, "timeline")
    ws.write_string(TL_START_ROW, TL_LABEL_COL, t["timeline_start"], s.get("label_bold"))
    ws.write_datetime(
        TL_START_ROW,
        TL_TOTAL_COL,
        dt.datetime(start.year, start.month, 1),
        s.get("formula_bold", "month"),
    )
    _write_summary(ctx, timeline, tl)
    _write_month_headers(ctx, tl, start)
    for scenario in SCENARIOS:
        _write_block(ctx, timeline, tl, scenario)
    ws.freeze_panes(0, TL_FIRST_MONTH_COL)
    # On paper: the summary with each row's total, then the yearly columns with the labels
    # repeated; the month columns stay on screen (up to 120 of them would fill dozens of pages).
    last_row = max(max(rows.values()) for rows in tl.rows.values())
    print_areas(
        ws,
        [
            (0, TL_LABEL_COL, last_row, SUMMARY_LIVE_COL),
            (0, tl.first_year_col, last_row, tl.first_year_col + tl.years - 1),
        ],
    )
    ctx.print_setup(ws)
    ws.repeat_columns(TL_LABEL_COL, TL_UNIT_COL)
    ctx.protect(ws)
    if isinstance(ws, ReferenceWorksheet):
        timeline_frame.keep(ctx, ws, key, summary)


# ------------------------------------------------------------- the summary


def _write_summary(ctx: Context, timeline: Timeline, tl: TimelineLayout) -> None:
    ws = ctx.sheet(ctx.layout.timeline_sheet or "")
    s, t = ctx.styles, ctx.locale
    headers = [
        t["timeline_summary"],
        t["unit"],
        *(t.scenarios[x] for x in SCENARIOS),
        t["live"],
    ]
    ctx.headers(ws, tl.summary_header_row, headers)
    selector = sheet_ref(ctx.layout.inputs, ctx.layout.selector_index_cell)
    for result in timeline.results:
        row = tl.summary_rows[result.key]
        ws.write_string(row, TL_LABEL_COL, result.label[ctx.language], s.get("label"))
        ws.write_string(row, TL_UNIT_COL, t.unit(result.unit), s.get("unit"))
        typical = ctx.values.timelines["realistic"].result(result.key)
        style = s.get("formula", s.format_for(result.kind, typical))
        for scenario, col in SUMMARY_COLS.items():
            formula, value = _summary_cell(ctx, timeline, tl, result, scenario, col)
            ctx.formula(ws, row, col, formula, style, value)
        first = a1(row, SUMMARY_COLS["prudent"], col_abs=True)
        last = a1(row, SUMMARY_COLS["optimistic"], col_abs=True)
        live_value = summary_value(ctx, timeline, result, ctx.values.selected)
        ctx.formula(
            ws,
            row,
            SUMMARY_LIVE_COL,
            f"INDEX({first}:{last},1,{selector})",
            s.get("formula_bold", s.format_for(result.kind, typical)),
            live_value,
        )
    _define_outputs(ctx, timeline, tl)


def _define_outputs(ctx: Context, timeline: Timeline, tl: TimelineLayout) -> None:
    """The out_ name of each result: its Live column."""
    for result in timeline.results:
        target = a1(tl.summary_rows[result.key], SUMMARY_LIVE_COL, True, True)
        ctx.workbook.define_name(
            f"out_{result.key}", "=" + sheet_ref(ctx.layout.timeline_sheet or "", target)
        )


def _summary_cell(
    ctx: Context,
    timeline: Timeline,
    tl: TimelineLayout,
    result: TimelineResult,
    scenario: str,
    col: int,
) -> tuple[str, object]:
    formula = made_once(
        ctx,
        ("summary", scenario, result.key, col),
        lambda: _summary_formula(ctx, timeline, tl, result, scenario, col),
    )
    return formula, summary_value(ctx, timeline, result, scenario)


def _summary_formula(
    ctx: Context,
    timeline: Timeline,
    tl: TimelineLayout,
    result: TimelineResult,
    scenario: str,
    col: int,
) -> str:
    rows = tl.rows[scenario]
    first, last = TL_FIRST_MONTH_COL, tl.last_month_col

    def periods(call: expr.Call, render: Callable[[expr.Node], str]) -> str:
        row = rows[_row_name(call)]
        span = f"{a1(row, first, col_abs=True)}:{a1(row, last, col_abs=True)}"
        return f"SUM({span})" if call.name == "TOTAL" else _irr(span)

    references = _model_refs(ctx, SCENARIO_COLS[scenario])
    references.update({key: a1(r, col) for key, r in tl.summary_rows.items()})
    formula = expr.to_excel(_as_number(result.node), references, FUNCTIONS, periods)
    if result.absent_when and result.absent_text is not None:
        flag = a1(tl.summary_rows[result.absent_when], col)
        text = _absent_formula(result.absent_text[ctx.language], references[timeline.horizon])
        formula = f"IF({flag}=0,{text},{formula})"
    return formula


# Excel's and LibreOffice's IRR are Newton's steps from a guess (20 of them at most); from 0
# they miss rates far from it (-17 % or +19,400 % a month). The cell only asks IRR when the
# flows change sign exactly once, so the rate is unique: whichever guess converges finds the
# engine's rate, and the next guess is tried only where the previous one found none. The
# present value is convex in the rate, so Newton's steps converge from just below the
# rate: the guesses step down through negative monthly rates (-8.3 % to -99 %) and up
# through positive ones (100 % to 100,000,000 %). They set where the solver starts, not a
# figure of the model.
IRR_GUESSES = (
    "0",
    "-0.083",
    "-0.167",
    "-0.25",
    "-0.333",
    "-0.5",
    "-0.667",
    "-0.75",
    "-0.917",
    "-0.97",
    "-0.99",
    "1",
    "12",
    "100",
    "1200",
    "10000",
    "120000",
    "1000000",
)


def _irr(span: str) -> str:
    """IRR of the months in ``span``, from each guess in turn until one converges."""
    formula = f"IRR({span},{IRR_GUESSES[-1]})"
    for guess in reversed(IRR_GUESSES[:-1]):
        formula = f"IFERROR(IRR({span},{guess}),{formula})"
    return formula


def summary_value(
    ctx: Context, timeline: Timeline, result: TimelineResult, scenario: str
) -> object:
    """A result as its cell shows it: the number, or the text saying it does not exist."""
    values = ctx.values.timelines[scenario]
    absent = result.absent_when and values.result(result.absent_when) == 0
    if absent and result.absent_text is not None:
        horizon = ctx.values.inputs[scenario][timeline.horizon]
        return result.absent_text[ctx.language].replace("{horizon}", f"{horizon:g}")
    return values.result(result.key)


def _absent_formula(text: str, horizon_ref: str) -> str:
    """The text shown when a figure does not exist, the horizon written in from its input."""
    parts = [f'"{part}"' for part in (p.replace('"', '""') for p in text.split("{horizon}"))]
    return f"&{horizon_ref}&".join(parts)


# -------------------------------------------------------- the month headers


def _write_month_headers(ctx: Context, tl: TimelineLayout, start: dt.date) -> None:
    ws = ctx.sheet(ctx.layout.timeline_sheet or "")
    s, t = ctx.styles, ctx.locale
    for row, label in (
        (tl.period_row, t["timeline_period"]),
        (tl.date_row, t["timeline_date"]),
        (tl.year_row, t["timeline_year"]),
    ):
        ws.write_string(row, TL_LABEL_COL, label, s.get("label_bold"))
    ws.write_string(tl.date_row, TL_TOTAL_COL, t["timeline_total"], s.get("header"))
    # The same in every workbook of a template, locale, period and start: a batch's sheet
    # takes each row from its first workbook's.
    spliced = ws if isinstance(ws, SplicingWorksheet) else None
    cols = tuple(map(tl.month_col, range(1, tl.months + 1)))
    for row, style in (
        (tl.period_row, s.get("header")),
        (tl.date_row, s.get("header", "month")),
        (tl.year_row, s.get("header")),
    ):
        key = (*timeline_frame.frame_key(ctx, start), "months", row)
        if spliced is not None and timeline_runs.put(
            ctx.template, spliced, key, row, None, (style,)
        ):
            continue
        for period, col in enumerate(cols, start=1):
            formula, value = _month_header(tl, row, col, period, start)
            ctx.formula(ws, row, col, formula, style, value)
        if spliced is not None:
            timeline_runs.keep(ctx.template, spliced, key, row, cols, None, (style,))
    for year in range(1, tl.years + 1):
        col = tl.first_year_col + year - 1
        ws.write_number(tl.period_row, col, year, s.get("header"))
        ws.write_string(tl.date_row, col, f"{t['timeline_year_label']} {year}", s.get("header"))


def _month_header(
    tl: TimelineLayout, row: int, col: int, period: int, start: dt.date
) -> tuple[str, float]:
    """The formula and value of a month header row (period, date or year) in ``col``."""
    here, left, pr = column_name(col), column_name(col - 1), tl.period_row + 1
    if row == tl.period_row:
        return f"{left}{pr}+1", float(period)
    if row == tl.date_row:
        start_cell = a1(TL_START_ROW, TL_TOTAL_COL, True, True)
        date = _add_months(start, period - 1)
        formula = f"DATE(YEAR({start_cell}),MONTH({start_cell})+{here}{pr}-1,1)"
        return formula, float((date - EXCEL_EPOCH).days)
    return f"INT(({here}{pr}-1)/{MONTHS_PER_YEAR})+1", float((period - 1) // MONTHS_PER_YEAR + 1)


def _add_months(start: dt.date, offset: int) -> dt.date:
    index = start.month - 1 + offset
    return dt.date(start.year + index // 12, index % 12 + 1, 1)


# --------------------------------------------------------------- the blocks


def _write_block(ctx: Context, timeline: Timeline, tl: TimelineLayout, scenario: str) -> None:
    ws = ctx.sheet(ctx.layout.timeline_sheet or "")
    s, t = ctx.styles, ctx.locale
    title_row = tl.block_title_rows[scenario]
    ws.merge_range(
        title_row,
        TL_LABEL_COL,
        title_row,
        TL_SPACER_COL,
        f"{t['timeline_block']} {t.scenarios[scenario]}",
        s.get("section"),
    )
    values = ctx.values.timelines[scenario]
    # What a block row's formulas depend on, beside the row: never the inputs.
    key = (id(ctx.template), ctx.locale.code, tuple(ctx.layout.sheet_order), scenario)
    looks = _RowLooks(ctx, timeline)
    if not isinstance(ws, SplicingWorksheet):
        for item in timeline.rows:
            _write_row(ctx, ws, tl, scenario, item, values, None, looks, (*key, item.key))
        return
    # A batch's sheet: the rows of plain numbers are made from the formulas of its first
    # workbook, their numbers worked out for the whole block at once.
    evaluated = [values.rows[item.key] for item in timeline.rows]
    hit = timeline_runs.block_hit(ctx.template, key, evaluated, tl.months)
    if hit is not None:
        _put_block(ctx, ws, tl, scenario, timeline, hit, looks)
        return
    numbers = timeline_runs.block_numbers(evaluated, tl.months)
    for item, row_numbers in zip(timeline.rows, numbers, strict=True):
        _write_row(ctx, ws, tl, scenario, item, values, row_numbers, looks, (*key, item.key))
    rows = tl.rows[scenario]
    timeline_runs.keep_block(
        ctx.template,
        key,
        [rows[item.key] for item in timeline.rows],
        [(*key, item.key) for item in timeline.rows],
        tl.months,
    )


def _put_block(
    ctx: Context,
    ws: SplicingWorksheet,
    tl: TimelineLayout,
    scenario: str,
    timeline: Timeline,
    hit: timeline_runs.BlockHit,
    looks: _RowLooks,
) -> None:
    """A block put in whole from its frame: each row's texts, as ``_write_row`` writes
    them, then every row's formulas with this workbook's values and formats."""
    rows, s = tl.rows[scenario], ctx.styles
    formats = []
    for item, typical in zip(timeline.rows, hit.typicals, strict=True):
        row = rows[item.key]
        bold = looks.write_texts(ctx, ws, row, item)
        formats.append(looks.formulas(bold, s.format_for(item.kind, typical)))
    hit.put(ws, formats)


class _RowLooks:
    """The formats of a block's rows: the texts', and the formulas' for each number format
    and weight, each asked of the workbook's styles once per block."""

    def __init__(self, ctx: Context, timeline: Timeline) -> None:
        s = ctx.styles
        self.styles = s
        self.label = {False: s.get("label"), True: s.get("label_bold")}
        self.unit, self.key = s.get("unit"), s.get("key")
        self.bold_rows = (timeline.cash_flow, timeline.cumulative)
        self._formulas: dict[tuple[bool, str], tuple[Format, Format]] = {}

    def write_texts(self, ctx: Context, ws: Worksheet, row: int, item: TimelineRow) -> bool:
        """Write a row's label, unit and key; whether the row is bold."""
        bold = item.key in self.bold_rows
        ws.write_string(row, TL_LABEL_COL, item.label[ctx.language], self.label[bold])
        ws.write_string(row, TL_UNIT_COL, ctx.locale.unit(item.unit), self.unit)
        ws.write_string(row, TL_KEY_COL, item.key, self.key)
        return bold

    def formulas(self, bold: bool, number_format: str) -> tuple[Format, Format]:
        """The months' and years' format, and the total's."""
        formats = self._formulas.get((bold, number_format))
        if formats is None:
            s = self.styles
            style = s.get("formula_bold" if bold else "formula", number_format)
            formats = self._formulas[bold, number_format] = (
                style,
                s.get("formula_bold", number_format),
            )
        return formats


def _write_row(
    ctx: Context,
    ws: Worksheet,
    tl: TimelineLayout,
    scenario: str,
    item: TimelineRow,
    values: TimelineValues,
    numbers: timeline_runs.RowNumbers | None,
    looks: _RowLooks,
    key: tuple[object, ...],
) -> None:
    """One block row: its texts, then its formulas with their values; in a batch's sheet,
    with ``numbers`` (a row of plain numbers), from the frame kept under ``key`` when there
    is one."""
    row = tl.rows[scenario][item.key]
    if numbers is None:
        objects = values.rows[item.key].to_objects().reshape(-1)
        typical = next((v for v in objects if isinstance(v, float) and v), 0.0)
    else:
        typical = numbers.typical
    number_format = looks.styles.format_for(item.kind, float(typical))
    bold = looks.write_texts(ctx, ws, row, item)
    formats = looks.formulas(bold, number_format)
    spliced = ws if isinstance(ws, SplicingWorksheet) and numbers is not None else None
    if spliced is not None and numbers is not None:
        if timeline_runs.put(ctx.template, spliced, key, row, numbers, formats):
            return
        objects = numbers.months.astype(object)
    _write_row_cells(ctx, tl, scenario, item, row, objects, formats)
    if spliced is not None:
        months = tuple(range(tl.month_col(1), tl.month_col(tl.months) + 1))
        years = tuple(range(tl.first_year_col, tl.first_year_col + tl.years))
        cols = (TL_TOTAL_COL, *months, *years) if item.is_flow else months
        timeline_runs.keep(ctx.template, spliced, key, row, cols, numbers, formats)


def _write_row_cells(
    ctx: Context,
    tl: TimelineLayout,
    scenario: str,
    item: TimelineRow,
    row: int,
    objects: np.ndarray,
    formats: tuple[Format, Format],
) -> None:
    """A block row's formulas, each with its value: the months, the total and the years."""
    ws = ctx.sheet(ctx.layout.timeline_sheet or "")
    style, total_style = formats
    pattern = _row_pattern(ctx, tl, scenario, item)
    first, last = tl.month_col(1), tl.month_col(tl.months)
    ctx.formula_run(
        ws,
        row,
        first,
        _month_formulas(pattern, first, last),
        style,
        [v if type(v) is float else plain(v) for v in objects[: tl.months]],  # floats: most
    )
    if not item.is_flow:
        return
    span = f"{a1(row, TL_FIRST_MONTH_COL, col_abs=True)}:{a1(row, tl.last_month_col, col_abs=True)}"
    ctx.formula(ws, row, TL_TOTAL_COL, f"SUM({span})", total_style, total(objects))
    years = (
        a1(tl.year_row, TL_FIRST_MONTH_COL, True, True)
        + ":"
        + a1(tl.year_row, tl.last_month_col, True, True)
    )
    for year in range(1, tl.years + 1):
        col = tl.first_year_col + year - 1
        criterion = a1(tl.period_row, col, row_abs=True)
        in_year = objects[(year - 1) * MONTHS_PER_YEAR : year * MONTHS_PER_YEAR]
        ctx.formula(ws, row, col, f"SUMIF({years},{criterion},{span})", style, total(in_year))


@functools.lru_cache(maxsize=4096)
def _month_formulas(pattern: str, first: int, last: int) -> tuple[str, ...]:
    """A row's formula in each month column from ``first`` to ``last``: the same for every
    workbook of a template, locale and period, so made once."""
    return tuple(
        pattern.replace(HERE, column_name(col)).replace(LEFT, column_name(col - 1))
        for col in range(first, last + 1)
    )


def _row_pattern(ctx: Context, tl: TimelineLayout, scenario: str, item: TimelineRow) -> str:
    """The row's formula with the month column left as a placeholder."""
    return made_once(
        ctx, ("row", scenario, item.key), lambda: _render_pattern(ctx, tl, scenario, item)
    )


def _render_pattern(ctx: Context, tl: TimelineLayout, scenario: str, item: TimelineRow) -> str:
    rows = tl.rows[scenario]
    period = f"{HERE}${tl.period_row + 1}"
    spacer = column_name(TL_SPACER_COL)
    first = column_name(TL_FIRST_MONTH_COL)

    def periods(call: expr.Call, render: Callable[[expr.Node], str]) -> str:
        row = rows[_row_name(call)] + 1
        if call.name == "CUMSUM":
            return f"SUM(${first}{row}:{HERE}{row})"
        lag = call.args[1]
        n = render(lag)
        if not isinstance(lag, (expr.Num, expr.Ref)):
            n = f"({n})"
        return f"IF({period}>{n},INDEX(${spacer}{row}:{LEFT}{row},1,{period}-{n}+1),0)"

    references = _model_refs(ctx, SCENARIO_COLS[scenario])
    references.update({key: f"{HERE}{r + 1}" for key, r in rows.items()})
    references[expr.PERIOD] = period
    return expr.to_excel(_as_number(item.node), references, FUNCTIONS, periods)


def _as_number(node: expr.Node) -> expr.Node:
    """A flag row holds 1 or 0, not TRUE or FALSE: Excel's SUM skips logical values."""
    return expr.Binary("*", node, expr.Num(1.0)) if isinstance(node, expr.Compare) else node


def _model_refs(ctx: Context, col: int) -> dict[str, str]:
    """Inputs and metrics of one scenario column, absolute: the same in every month."""
    layout = ctx.layout
    refs = {
        key: sheet_ref(layout.inputs, a1(row, col, True, True))
        for key, row in layout.input_rows.items()
    }
    refs.update(
        {
            key: sheet_ref(layout.calculations, a1(row, col, True, True))
            for key, row in layout.metric_rows.items()
        }
    )
    return refs


def _row_name(call: expr.Call) -> str:
    target = call.args[0]
    assert isinstance(target, expr.Ref)  # the template builder checked it
    return target.name
