"""The Calculations sheet: one row per metric, one column per scenario plus Live.

Each row's formula is rendered from the template's single definition for each
column; Inputs and Calculations share their column letters, so the formula is
identical in R1C1 form across the four columns.
"""

from __future__ import annotations

from roi_xl.model import expr
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import SCENARIOS, Metric
from roi_xl.workbook.context import Context
from roi_xl.workbook.layout import (
    FORMULA_COL,
    HEADER_ROW,
    LABEL_COL,
    LIVE_COL,
    METRIC_KEY_COL,
    SCENARIO_COLS,
    UNIT_COL,
    cell,
    metrics_in_sheet_order,
)


def write_calculations(ctx: Context) -> None:
    ws = ctx.sheet(ctx.layout.calculations)
    s, t = ctx.styles, ctx.locale
    ws.set_column(LABEL_COL, LABEL_COL, 49)
    ws.set_column(UNIT_COL, UNIT_COL, 10)
    ws.set_column(SCENARIO_COLS["prudent"], LIVE_COL, 14)
    ws.set_column(FORMULA_COL, FORMULA_COL, 56)
    ws.set_column(METRIC_KEY_COL, METRIC_KEY_COL, 24)
    ctx.heading(ws, "calculations")
    headers = [
        t["label"],
        t["unit"],
        *(ctx.locale.scenarios[x] for x in SCENARIOS),
        t["live"],
        t["formula"],
        t["key"],
    ]
    ctx.headers(ws, HEADER_ROW, headers)
    for section, row in ctx.layout.metric_section_rows.items():
        ws.merge_range(
            row, LABEL_COL, row, METRIC_KEY_COL, ctx.locale.section(section), s.get("section")
        )
    for metric in metrics_in_sheet_order(ctx.template):
        _write_metric_row(ctx, metric)
    ws.freeze_panes(HEADER_ROW + 1, UNIT_COL + 1)
    ctx.print_setup(ws, (HEADER_ROW, HEADER_ROW))
    ctx.protect(ws)


def metric_formula(ctx: Context, metric: Metric, col: int) -> str:
    """The metric's Excel formula in scenario column ``col`` (or Live)."""
    return expr.to_excel(metric.node, ctx.layout.model_refs(col, on_calculations=True), FUNCTIONS)


def _write_metric_row(ctx: Context, metric: Metric) -> None:
    ws = ctx.sheet(ctx.layout.calculations)
    s = ctx.styles
    row = ctx.layout.metric_rows[metric.key]
    number_format = s.format_for(metric.kind, ctx.values.outputs["realistic"][metric.key])
    headline = metric.key in ctx.template.headline
    ws._write_string(
        row, LABEL_COL, metric.label[ctx.language], s.get("label_bold" if headline else "label")
    )
    ws._write_string(row, UNIT_COL, ctx.locale.unit(metric.unit), s.get("unit"))
    for scenario, col in SCENARIO_COLS.items():
        ctx.formula(
            ws,
            row,
            col,
            metric_formula(ctx, metric, col),
            s.get("formula", number_format),
            ctx.values.outputs[scenario][metric.key],
        )
    ctx.formula(
        ws,
        row,
        LIVE_COL,
        metric_formula(ctx, metric, LIVE_COL),
        s.get("formula_bold", number_format),
        ctx.values.live_outputs[metric.key],
    )
    ws._write_string(row, FORMULA_COL, metric.formula, s.get("note"))
    ws._write_string(row, METRIC_KEY_COL, metric.key, s.get("key"))
    ctx.define_name(
        f"out_{metric.key}", f"='{ctx.layout.calculations}'!{cell(row, LIVE_COL, True, True)}"
    )
