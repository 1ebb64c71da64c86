"""The Calculations sheet: one row per metric, one column per scenario plus Live.

Each row's formula is rendered from the template's single definition for each
column; Inputs and Calculations share their column letters, so the formula is
identical in R1C1 form across the four columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.worksheet import Worksheet

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
from roi_xl.workbook.per_layout import layout_once


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
        _write_metric_row(ctx, ws, metric)
    ws.freeze_panes(HEADER_ROW + 1, UNIT_COL + 1)
    ctx.print_setup(ws, (HEADER_ROW, HEADER_ROW))
    ctx.protect(ws)


def metric_formula(ctx: Context, metric: Metric, col: int) -> str:
    """The metric's Excel formula in scenario column ``col`` (or Live)."""
    return expr.to_excel(metric.node, ctx.layout.model_refs(col, on_calculations=True), FUNCTIONS)


@dataclass(frozen=True)
class _MetricLine:
    """A metric's row as every workbook of a template, locale and layout has it: all but
    its number format (from its realistic value) and its values."""

    row: int
    label_role: str
    label: str
    unit: str
    formulas: tuple[tuple[str, int, str], ...]  # (scenario, column, formula) in column order
    live: str
    target: str  # what its defined name refers to


def _metric_line(ctx: Context, metric: Metric) -> _MetricLine:
    row = ctx.layout.metric_rows[metric.key]
    return _MetricLine(
        row=row,
        label_role="label_bold" if metric.key in ctx.template.headline else "label",
        label=metric.label[ctx.language],
        unit=ctx.locale.unit(metric.unit),
        formulas=tuple(
            (scenario, col, metric_formula(ctx, metric, col))
            for scenario, col in SCENARIO_COLS.items()
        ),
        live=metric_formula(ctx, metric, LIVE_COL),
        target=f"='{ctx.layout.calculations}'!{cell(row, LIVE_COL, True, True)}",
    )


def _write_metric_row(ctx: Context, ws: Worksheet, metric: Metric) -> None:
    s, values = ctx.styles, ctx.values
    line = layout_once(ctx, ("metric line", metric.key), lambda: _metric_line(ctx, metric))
    row = line.row
    number_format = s.format_for(metric.kind, values.outputs["realistic"][metric.key])
    ws._write_string(row, LABEL_COL, line.label, s.get(line.label_role))
    ws._write_string(row, UNIT_COL, line.unit, s.get("unit"))
    style = s.get("formula", number_format)
    for scenario, col, formula in line.formulas:
        ctx.formula(ws, row, col, formula, style, values.outputs[scenario][metric.key])
    ctx.formula(
        ws,
        row,
        LIVE_COL,
        line.live,
        s.get("formula_bold", number_format),
        values.live_outputs[metric.key],
    )
    ws._write_string(row, FORMULA_COL, metric.formula, s.get("note"))
    ws._write_string(row, METRIC_KEY_COL, metric.key, s.get("key"))
    ctx.define_name(f"out_{metric.key}", line.target)
