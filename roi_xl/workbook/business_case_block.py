"""The Dashboard's business case: what finance reads first, and its two charts.

Horizon NPV and ROI (unadjusted and risk-adjusted side by side, each named),
payback month and IRR lead, with the one-period ROI of the source article
beside them, its period named. A payback curve draws the cumulative cash flow
of the three scenarios from the Timeline sheet; a waterfall of benefits and
costs over the horizon (stacked columns with invisible bases, which Excel and
LibreOffice both draw) follows the scenario selector.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from roi_xl.model.template import SCENARIOS, Timeline
from roi_xl.workbook import chart_text
from roi_xl.workbook.context import Context
from roi_xl.workbook.layout import cell, sheet_ref
from roi_xl.workbook.timeline_layout import TL_FIRST_MONTH_COL, TL_TOTAL_COL
from roi_xl.workbook.timeline_sheet import summary_value

LABEL, UNIT, FIRST = 0, 1, 2
CURVE_ROW, CHARTS_COL = 3, 17  # right of the Dashboard's own charts (columns 6 to 16)
WATERFALL_ROW = 20
TABLE_COL = 33  # the waterfall's chart data, right of the charts
GOOD, BAD, NET = "#548235", "#C00000", "#1F3864"
# Waterfall table columns after the label: start, end, then the stacked series.
SERIES = (
    "base_up",
    "base_down",
    "benefit_up",
    "benefit_down",
    "cost_up",
    "cost_down",
    "net_up",
    "net_down",
)


def business_case_area(ctx: Context) -> tuple[int, int, int, int] | None:
    """The business-case charts (first row, first col, last row, last col), printed as an area
    of their own so the figures beside them keep their scale; the chart data to their right
    stays on screen."""
    if ctx.template.timeline is None:
        return None
    chart_rows = 16  # a chart at its default height spans about 15 rows
    return CURVE_ROW, CHARTS_COL, WATERFALL_ROW + chart_rows, TABLE_COL - 1


def write_business_case(ctx: Context, ws: Worksheet, row: int) -> int:
    """The business-case rows from ``row``; returns the first free row after them."""
    timeline = ctx.template.timeline
    if timeline is None or ctx.layout.timeline_sheet is None:
        return row
    s, t = ctx.styles, ctx.locale
    ws.merge_range(row, LABEL, row, FIRST + 2, t["business_case"], s.get("section"))
    row += 1
    ctx.headers(ws, row, ["", "", t["unadjusted"], t["risk_adjusted"]])
    pairs = (("npv", "npv_risk_adjusted"), ("roi_horizon", "roi_horizon_risk_adjusted"))
    for key, adjusted in pairs:
        row += 1
        _figure(ctx, ws, row, timeline, key, FIRST)
        _figure(ctx, ws, row, timeline, adjusted, FIRST + 1, label=False)
    for key in ("payback_month", "irr", "roi_first_year"):
        row += 1
        _figure(ctx, ws, row, timeline, key, FIRST)
    row += 1
    per_period = ctx.template.headline[0]
    metric = ctx.template.metric(per_period)
    label = f"{metric.label[ctx.language]} - {t['per_period']} {ctx.template.period[ctx.language]}"
    ws._write_string(row, LABEL, label, s.get("label"))
    ws._write_string(row, UNIT, t.unit(metric.unit), s.get("unit"))
    value = ctx.values.live_outputs[per_period]
    fmt = s.format_for(metric.kind, ctx.values.outputs["realistic"][per_period])
    ctx.formula(ws, row, FIRST, f"out_{per_period}", s.get("formula", fmt), value)
    _payback_curve(ctx, ws, timeline)
    _waterfall(ctx, ws, timeline)
    return row + 1


def _figure(
    ctx: Context,
    ws: Worksheet,
    row: int,
    timeline: Timeline,
    key: str,
    col: int,
    label: bool = True,
) -> None:
    s = ctx.styles
    result = timeline.result(key)
    if label:
        ws._write_string(row, LABEL, result.label[ctx.language], s.get("label_bold"))
        ws._write_string(row, UNIT, ctx.locale.unit(result.unit), s.get("unit"))
    typical = ctx.values.timelines["realistic"].result(key)
    fmt = s.format_for(result.kind, typical)
    value = summary_value(ctx, timeline, result, ctx.values.selected)
    ctx.formula(ws, row, col, f"out_{key}", s.get("headline", fmt), value)
    ws.set_row(row, 20)


def _payback_curve(ctx: Context, ws: Worksheet, timeline: Timeline) -> None:
    """The cumulative cash flow of each scenario, month by month: where it crosses zero."""
    tl, sheet = ctx.layout.timeline, ctx.layout.timeline_sheet or ""
    months = int(max(ctx.values.inputs[x][timeline.horizon] for x in SCENARIOS))
    last = TL_FIRST_MONTH_COL + months - 1
    chart = ctx.workbook.add_chart({"type": "line"})
    colours = {"prudent": BAD, "realistic": NET, "optimistic": GOOD}
    for scenario in SCENARIOS:
        row = tl.rows[scenario][timeline.cumulative]
        chart_text.add_series(
            chart,
            {
                "name": ctx.locale.scenarios[scenario],
                "categories": [sheet, tl.period_row, TL_FIRST_MONTH_COL, tl.period_row, last],
                "values": [sheet, row, TL_FIRST_MONTH_COL, row, last],
                "line": {"color": colours[scenario], "width": 2},
            },
        )
    chart_text.set_title(chart, ctx.locale["payback_chart"])
    chart.set_x_axis({"name": ctx.locale["timeline_period"], "label_position": "low"})
    currency = ctx.styles.number_format("currency")
    chart.set_y_axis({"num_format": currency, "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    ws.insert_chart(CURVE_ROW, CHARTS_COL, chart, {"x_scale": 1.3, "y_scale": 1.0})


def _waterfall(ctx: Context, ws: Worksheet, timeline: Timeline) -> None:
    """Benefits up, costs down, the net over the horizon last; each step a stacked column whose
    invisible part lifts the visible one to where the previous step ended."""
    s, t, tl = ctx.styles, ctx.locale, ctx.layout.timeline
    sheet = ctx.layout.timeline_sheet or ""
    selector = sheet_ref(ctx.layout.inputs, ctx.layout.selector_index_cell)
    steps = [(key, "benefit") for key in timeline.benefits]
    steps += [(key, "cost") for key in timeline.costs]
    header = TABLE_COL
    ws._write_string(WATERFALL_ROW, header, t["waterfall_data"], s.get("label_bold"))
    titles = ["", t["waterfall_start"], t["waterfall_end"], *(t[f"waterfall_{x}"] for x in SERIES)]
    for offset, title in enumerate(titles):
        ws._write_string(WATERFALL_ROW + 1, header + offset, title, s.get("header"))
    totals = ctx.values.timelines[ctx.values.selected]
    running = 0.0
    first_row = WATERFALL_ROW + 2
    fmt = s.get("formula", "currency")
    for index, (key, kind) in enumerate([*steps, (timeline.cash_flow, "net")]):
        row = first_row + index
        item = timeline.row(key)
        label = t["waterfall_net"] if kind == "net" else item.label[ctx.language]
        ws._write_string(row, header, label, s.get("label"))
        start_cell, end_cell = cell(row, header + 1), cell(row, header + 2)
        choices = ",".join(
            sheet_ref(sheet, cell(tl.rows[x][key], TL_TOTAL_COL, True, True)) for x in SCENARIOS
        )
        amount = float(sum(totals.rows[key].values[: tl.months]))
        if kind == "net":
            start_formula, start = "0", 0.0
            end_formula, end = f"CHOOSE({selector},{choices})", amount
        else:
            start_formula = "0" if index == 0 else cell(row - 1, header + 2)
            start = running
            sign = "+" if kind == "benefit" else "-"
            end_formula = f"{start_cell}{sign}CHOOSE({selector},{choices})"
            end = start + amount if kind == "benefit" else start - amount
        running = end
        ctx.formula(ws, row, header + 1, start_formula, fmt, start)
        ctx.formula(ws, row, header + 2, end_formula, fmt, end)
        low, high = f"MIN({start_cell},{end_cell})", f"MAX({start_cell},{end_cell})"
        lo, hi = min(start, end), max(start, end)
        parts = {
            "base_up": (f"MAX({low},0)", max(lo, 0.0)),
            "base_down": (f"MIN({high},0)", min(hi, 0.0)),
        }
        for visible in ("benefit", "cost", "net"):
            mine = visible == kind
            up = f"MAX({high},0)-MAX({low},0)" if mine else "0"
            down = f"MIN({low},0)-MIN({high},0)" if mine else "0"
            parts[f"{visible}_up"] = (up, max(hi, 0.0) - max(lo, 0.0) if mine else 0.0)
            parts[f"{visible}_down"] = (down, min(lo, 0.0) - min(hi, 0.0) if mine else 0.0)
        for offset, name in enumerate(SERIES, start=3):
            formula, value = parts[name]
            ctx.formula(ws, row, header + offset, formula, fmt, value)
    last_row = first_row + len(steps)
    chart = ctx.workbook.add_chart({"type": "column", "subtype": "stacked"})
    colours = {"benefit": GOOD, "cost": BAD, "net": NET}
    name = ctx.layout.dashboard
    for offset, series in enumerate(SERIES, start=3):
        kind = series.split("_")[0]
        options = {
            "name": [name, WATERFALL_ROW + 1, header + offset],
            "categories": [name, first_row, header, last_row, header],
            "values": [name, first_row, header + offset, last_row, header + offset],
            "gap": 50,
        }
        if kind == "base":
            options["fill"] = {"none": True}
            options["border"] = {"none": True}
        else:
            options["fill"] = {"color": colours[kind]}
        chart_text.add_series(chart, options)
    chart_text.set_title(chart, t["waterfall_chart"])
    chart.set_legend({"none": True})
    chart.set_x_axis({"label_position": "low"})
    currency = ctx.styles.number_format("currency")
    chart.set_y_axis({"num_format": currency, "major_gridlines": {"visible": True}})
    ws.insert_chart(WATERFALL_ROW, CHARTS_COL, chart, {"x_scale": 1.3, "y_scale": 1.0})
