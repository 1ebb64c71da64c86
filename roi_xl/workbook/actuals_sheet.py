"""The Actuals sheet: each month side by side, year to date, and the live plan.

Month columns link to the monthly tabs and keep blanks blank. Each KPI row has
one formula, the same in R1C1 form in every column (months, year to date, plan,
plan to date), because a ratio of sums is the right year-to-date ratio.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from roi_xl.model import expr
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import MonthlyField, MonthlyKpi
from roi_xl.workbook.context import Context, made_once
from roi_xl.workbook.layout import (
    LABEL_COL,
    MONTH_ACTUAL_COL,
    MONTH_FIRST_ROW,
    UNIT_COL,
    cell,
    sheet_ref,
)
from roi_xl.workbook.monthly_sheets import column_refs, guarded_formula
from roi_xl.workbook.per_layout import conditional, layout_once
from roi_xl.workbook.printing import print_areas
from roi_xl.workbook.values import Cell


def write_actuals(ctx: Context) -> None:
    layout = ctx.layout
    a = layout.actuals
    ws = ctx.sheet(layout.actuals_sheet)
    s, t = ctx.styles, ctx.locale
    ws.set_column(LABEL_COL, LABEL_COL, 37)
    ws.set_column(UNIT_COL, UNIT_COL, 8)
    ws.set_column(a.first_month_col, a.variance_col, 10)
    ws.set_column(a.key_col, a.key_col, 22)
    ctx.heading(ws, "actuals")
    header = MONTH_FIRST_ROW - 1
    ws.set_row(header, 40)  # three lines: "Modelled plan to date" wraps in its column
    ws._write_string(header, LABEL_COL, t["label"], s.get("header"))
    ws._write_string(header, UNIT_COL, t["unit"], s.get("header"))
    for i, date in enumerate(layout.months):
        ws.write_datetime(
            header,
            a.first_month_col + i,
            dt.datetime(date.year, date.month, 1),
            s.get("header", "month"),
        )
    for col, text in (
        (a.ytd_col, t["ytd"]),
        (a.plan_col, t["plan_month"]),
        (a.plan_ytd_col, t["plan_ytd"]),
        (a.variance_col, t["variance"]),
        (a.key_col, t["key"]),
    ):
        ws._write_string(header, col, text, s.get("header"))
    _write_months_counted(ctx, ws)
    _write_fields(ctx, ws)
    _write_kpis(ctx, ws)
    ws.freeze_panes(MONTH_FIRST_ROW, UNIT_COL + 1)
    ctx.print_setup(ws, (header, header))
    print_areas(ws, [(0, LABEL_COL, ws.dim_rowmax, a.variance_col)])  # keys are for the reader
    ctx.protect(ws)


def _month_cols(ctx: Context) -> list[int]:
    a = ctx.layout.actuals
    return [a.first_month_col + i for i in range(len(ctx.layout.months))]


def _write_months_counted(ctx: Context, ws) -> None:
    """1 under each month its tab marks complete and that holds a figure, 0 otherwise: only
    those months count in the year to date and the plan to date."""
    layout = ctx.layout
    a = layout.actuals
    s = ctx.styles
    row = a.months_counted_row
    first_field, last_field = min(a.field_rows.values()), max(a.field_rows.values())
    complete = cell(layout.monthly.complete_row, MONTH_ACTUAL_COL, row_abs=True, col_abs=True)
    ws._write_string(row, LABEL_COL, ctx.locale["months_counted"], s.get("label"))
    for i, col in enumerate(_month_cols(ctx)):
        block = f"{cell(first_field, col)}:{cell(last_field, col)}"
        marked = sheet_ref(layout.month_sheets[i], complete)
        ctx.formula(
            ws,
            row,
            col,
            f"IF(AND({marked}=1,COUNT({block})>0),1,0)",
            s.get("formula", "count"),
            float(ctx.values.months[i].counted),
        )
    months = f"{cell(row, _month_cols(ctx)[0])}:{cell(row, _month_cols(ctx)[-1])}"
    ctx.formula(
        ws,
        row,
        a.ytd_col,
        f"SUM({months})",
        s.get("formula_bold", "count"),
        float(ctx.values.months_counted),
    )
    ws._write_string(row, a.key_col, "months_counted", s.get("key"))


def _write_fields(ctx: Context, ws) -> None:
    layout, values, s = ctx.layout, ctx.values, ctx.styles
    a = layout.actuals
    for item in ctx.template.monthly.fields:
        row = a.field_rows[item.key]
        fmt = s.format_for(item.kind, values.plans[item.key])
        texts = layout_once(ctx, ("actuals field", item.key), lambda item=item: _field(ctx, item))
        ws._write_string(row, LABEL_COL, texts.label, s.get("label"))
        ws._write_string(row, UNIT_COL, texts.unit, s.get("unit"))
        for i, (col, formula) in enumerate(zip(_month_cols(ctx), texts.months, strict=True)):
            value = values.months[i].fields[item.key]
            ctx.formula(
                ws, row, col, formula, s.get("formula", fmt), "" if value is None else value
            )
        ctx.formula(
            ws,
            row,
            a.ytd_col,
            texts.ytd,
            s.get("formula_bold", fmt),
            values.ytd_fields[item.key],
        )
        if texts.plan is not None and texts.plan_ytd is not None:
            ctx.formula(
                ws, row, a.plan_col, texts.plan, s.get("formula", fmt), values.plans[item.key]
            )
            ctx.formula(
                ws,
                row,
                a.plan_ytd_col,
                texts.plan_ytd,
                s.get("formula", fmt),
                values.plan_ytd_fields[item.key],
            )
        _write_variance(
            ctx,
            ws,
            row,
            fmt,
            (values.ytd_fields[item.key], values.plan_ytd_fields[item.key]),
            item.good,
        )
        ws._write_string(row, a.key_col, item.key, s.get("key"))


@dataclass(frozen=True)
class _Field:
    """A month figure's line on the Actuals sheet, as every workbook of a layout has it."""

    label: str
    unit: str
    months: list[str]  # a formula per month column
    ytd: str
    plan: str | None
    plan_ytd: str | None


def _field(ctx: Context, item: MonthlyField) -> _Field:
    layout = ctx.layout
    a = layout.actuals
    row = a.field_rows[item.key]
    filled = cell(a.months_counted_row, a.ytd_col, row_abs=True)
    counted = (
        f"{cell(a.months_counted_row, _month_cols(ctx)[0], row_abs=True)}:"
        f"{cell(a.months_counted_row, _month_cols(ctx)[-1], row_abs=True)}"
    )
    source_row = layout.monthly.field_rows[item.key]
    months = []
    for i in range(len(_month_cols(ctx))):
        source = sheet_ref(layout.month_sheets[i], cell(source_row, MONTH_ACTUAL_COL, col_abs=True))
        months.append(f'IF({source}="","",{source})')
    span = f"{cell(row, _month_cols(ctx)[0])}:{cell(row, _month_cols(ctx)[-1])}"
    plan = plan_ytd = None
    if item.plan is not None:
        plan = expr.to_excel(item.plan, layout.live_refs(), FUNCTIONS)
        plan_ytd = _plan_to_date(item.aggregate, cell(row, a.plan_col), filled)
    return _Field(
        item.label[ctx.language],
        ctx.locale.unit(item.unit),
        months,
        _year_to_date(item.aggregate, span, counted),
        plan,
        plan_ytd,
    )


def _year_to_date(aggregate: str, months: str, counted: str) -> str:
    """The figure over the months counted: flows summed, stocks (a headcount) averaged;
    blank when no counted month holds it. SUMIF and COUNTIFS skip the blank ("") months; no
    array arithmetic, which Gnumeric does not do outside an array formula."""
    numbers = f'(COUNTIFS({counted},1,{months},">=0")+COUNTIFS({counted},1,{months},"<0"))'

    total = f"SUMIF({counted},1,{months})"
    result = f"{total}/{numbers}" if aggregate == "average" else total
    return f'IF({numbers}=0,"",{result})'


def _plan_to_date(aggregate: str, plan: str, filled: str) -> str:
    """The plan for the months filled in: the monthly plan times their number, or itself."""
    if aggregate == "average":
        return f'IF({filled}=0,"",{plan})'
    return f'IF({filled}=0,"",{plan}*{filled})'


def _write_kpis(ctx: Context, ws) -> None:
    layout, values, s = ctx.layout, ctx.values, ctx.styles
    a = layout.actuals
    if not a.kpi_rows:
        return
    first = min(a.kpi_rows.values())
    ws.merge_range(first - 1, LABEL_COL, first - 1, a.key_col, ctx.locale["kpis"], s.get("section"))
    live = layout.live_refs()
    local_rows = {**a.field_rows, **a.kpi_rows}
    columns = [(col, values.months[i].kpis) for i, col in enumerate(_month_cols(ctx))]
    columns += [
        (a.ytd_col, values.ytd_kpis),
        (a.plan_col, values.plan_kpis),
        (a.plan_ytd_col, values.plan_ytd_kpis),
    ]
    for kpi in ctx.template.monthly.kpis:
        row = a.kpi_rows[kpi.key]
        fmt = s.format_for(kpi.kind, values.plan_kpis[kpi.key])
        ws._write_string(row, LABEL_COL, kpi.label[ctx.language], s.get("label"))
        ws._write_string(row, UNIT_COL, ctx.locale.unit(kpi.unit), s.get("unit"))
        formulas = layout_once(
            ctx,
            ("actuals kpi", kpi.key),
            lambda kpi=kpi: [_kpi_formula(ctx, kpi, col, local_rows, live) for col, _ in columns],
        )
        style, bold = s.get("formula", fmt), s.get("formula_bold", fmt)
        for (col, column_values), formula in zip(columns, formulas, strict=True):
            ctx.formula(
                ws, row, col, formula, bold if col == a.ytd_col else style, column_values[kpi.key]
            )
        _write_variance(
            ctx, ws, row, fmt, (values.ytd_kpis[kpi.key], values.plan_ytd_kpis[kpi.key]), kpi.good
        )
        ws._write_string(row, a.key_col, kpi.key, s.get("key"))


def _kpi_formula(
    ctx: Context, kpi: MonthlyKpi, col: int, rows: dict[str, int], live: dict[str, str]
) -> str:
    """A KPI of one column, the same in every workbook of a layout: rendered once."""
    return made_once(
        ctx,
        ("actuals kpi", kpi.key, col),
        lambda: guarded_formula(kpi.node, column_refs(ctx, col, rows), live),
    )


def _write_variance(
    ctx: Context, ws, row: int, fmt: str, figures: tuple[Cell, Cell], good: str
) -> None:
    """Actual to date minus plan to date, green when it goes the way that is good for the line.

    The change of a rate is shown in points (+1.1 pts), as the report shows it, never as a
    percent that reads like a relative change."""
    a = ctx.layout.actuals
    actual, plan = figures
    points = fmt == "percent"
    ytd, plan_ytd = cell(row, a.ytd_col), cell(row, a.plan_ytd_col)
    if isinstance(actual, ExcelError):
        value = actual
    elif isinstance(plan, ExcelError):
        value = plan
    elif actual == "" or plan == "":
        value = ""
    else:
        value = (actual - plan) * 100 if points else actual - plan
    gap = f"({ytd}-{plan_ytd})*100" if points else f"{ytd}-{plan_ytd}"
    ctx.formula(
        ws,
        row,
        a.variance_col,
        f'IF(OR({ytd}="",{plan_ytd}=""),"",{gap})',
        ctx.styles.get("variance", "points" if points else fmt),
        value,
    )
    ref = cell(row, a.variance_col)
    for rule in ctx.styles.conditional_variance(ref, good):
        conditional(ws, row, a.variance_col, row, a.variance_col, rule)
