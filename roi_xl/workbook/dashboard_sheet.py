"""The Dashboard: headline results of the live scenario, the three scenarios, native charts.

Charts read small tables on this sheet, which link to the model; nothing on
the Dashboard is typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from xlsxwriter.worksheet import Worksheet

from roi_xl.model.engine import Value
from roi_xl.model.template import SCENARIOS
from roi_xl.workbook import chart_text
from roi_xl.workbook.business_case_block import business_case_area, write_business_case
from roi_xl.workbook.context import Context
from roi_xl.workbook.layout import (
    HEATMAP_FIRST_COL,
    HOURS,
    SCENARIO_COLS,
    WEEKDAYS,
    cell,
    sheet_ref,
)
from roi_xl.workbook.per_layout import conditional, layout_once
from roi_xl.workbook.printing import print_areas
from roi_xl.workbook.sensitivity_layout import BREAK_EVEN
from roi_xl.workbook.styles import NAVY
from roi_xl.workbook.worksheet import ReferenceWorksheet

LABEL, UNIT, FIRST = 0, 1, 2  # FIRST: the scenario columns share Calculations' letters (C, D, E)
CHART_COL = 6
HEAT_LABEL_COL, HEAT_FIRST_COL = 6, 7
CHART_SIZE = {"x_scale": 1.45, "y_scale": 1.0}


def write_dashboard(ctx: Context, break_evens: Mapping[str, Value | str]) -> None:
    """The sheet a reader opens first; ``break_evens`` as the Sensitivity sheet shows them."""
    layout, s, t = ctx.layout, ctx.styles, ctx.locale
    ws = ctx.sheet(layout.dashboard)
    ws.set_column(LABEL, LABEL, 40)
    ws.set_column(UNIT, UNIT, 7)
    ws.set_column(FIRST, FIRST + 2, 14)
    ws.set_column(FIRST + 3, FIRST + 3, 3)
    ctx.heading(ws, "dashboard")
    ws._write_string(1, LABEL, t["selector"], s.get("label_bold"))
    ctx.formula(
        ws,
        1,
        FIRST,
        sheet_ref(layout.inputs, layout.selector_cell),
        s.get("formula_bold"),
        ctx.locale.scenarios[ctx.values.selected],
    )
    _write_master(ctx, ws, 2)
    row = write_business_case(ctx, ws, 4)
    row = _write_headline(ctx, ws, row + 1 if row > 4 else row)
    row = _write_scenarios(ctx, ws, row + 1)
    row = _write_break_evens(ctx, ws, row + 1, break_evens)
    row = _write_funnel(ctx, ws, row + 1)
    _write_monthly(ctx, ws, row + 1)
    if ctx.template.monthly.heatmap:
        _write_heatmap(ctx, ws, 52)
        ws.set_h_pagebreaks([52])  # the grid prints whole, on a page of its own
    business = business_case_area(ctx)
    if business is not None:
        # The figures and their charts, the business-case charts, then the grid below:
        # each on pages of their own, so none widens the page the others print on.
        first_col = business[1]
        last = 51 if ctx.template.monthly.heatmap else ws.dim_rowmax or 0
        areas = [(0, 0, last, first_col - 1), business]
        if ctx.template.monthly.heatmap:
            areas.append((52, 0, ws.dim_rowmax or 52, first_col - 1))
        print_areas(ws, areas)
    ctx.print_setup(ws)
    ctx.protect(ws)


def _write_master(ctx: Context, ws: Worksheet, row: int) -> None:
    s, t = ctx.styles, ctx.locale
    ws._write_string(row, LABEL, t["master"], s.get("label_bold"))
    ctx.formula(ws, row, FIRST, "master_check", s.get("check"), ctx.values.master_check)
    for rule in s.conditional_check():
        conditional(ws, row, FIRST, row, FIRST, rule)
    ok = ctx.values.master_check == 0
    status = cell(row, FIRST)
    ctx.formula(
        ws,
        row,
        FIRST + 1,
        f'IF({status}=0,"{t["all_ok"]}","{t["not_ok"]}")',
        s.get("note"),
        t["all_ok"] if ok else t["not_ok"],
    )


def _section(ctx: Context, ws: Worksheet, row: int, title: str) -> None:
    ws.merge_range(row, LABEL, row, FIRST + 2, title, ctx.styles.get("section"))


def _write_headline(ctx: Context, ws: Worksheet, row: int) -> int:
    s = ctx.styles
    _section(ctx, ws, row, ctx.locale["headline"])
    for key in ctx.template.headline:
        row += 1
        metric = ctx.template.metric(key)
        value = ctx.values.live_outputs[key]
        fmt = s.format_for(metric.kind, ctx.values.outputs["realistic"][key])
        ws._write_string(row, LABEL, metric.label[ctx.language], s.get("label"))
        ws._write_string(row, UNIT, ctx.locale.unit(metric.unit), s.get("unit"))
        ctx.formula(ws, row, FIRST, f"out_{key}", s.get("headline", fmt), value)
        ws.set_row(row, 20)
    return row + 1


def _write_scenarios(ctx: Context, ws: Worksheet, row: int) -> int:
    s, layout = ctx.styles, ctx.layout
    _section(ctx, ws, row, ctx.locale["scenario_table"])
    row += 1
    header_row = row
    ws._write_string(row, LABEL, "", s.get("header"))
    ws._write_string(row, UNIT, "", s.get("header"))
    for scenario in SCENARIOS:
        ws._write_string(
            row, SCENARIO_COLS[scenario], ctx.locale.scenarios[scenario], s.get("header")
        )
    first_metric_row = row + 1
    for key in ctx.template.headline:
        row += 1
        metric = ctx.template.metric(key)
        fmt = s.format_for(metric.kind, ctx.values.outputs["realistic"][key])
        ws._write_string(row, LABEL, metric.label[ctx.language], s.get("label"))
        ws._write_string(row, UNIT, ctx.locale.unit(metric.unit), s.get("unit"))
        for scenario in SCENARIOS:
            col = SCENARIO_COLS[scenario]
            source = sheet_ref(
                layout.calculations, cell(layout.metric_rows[key], col, row_abs=True)
            )
            ctx.formula(
                ws, row, col, source, s.get("formula", fmt), ctx.values.outputs[scenario][key]
            )
    if not isinstance(ws, ReferenceWorksheet):  # a reference holds no charts
        _scenario_chart(ctx, ws, header_row, first_metric_row)
    return row + 1


def _scenario_chart(ctx: Context, ws: Worksheet, header_row: int, metric_row: int) -> None:
    name = ctx.layout.dashboard
    key = ctx.template.headline[0]
    metric = ctx.template.metric(key)
    chart = ctx.workbook.add_chart({"type": "column"})
    chart_text.add_series(
        chart,
        {
            "name": metric.label[ctx.language],
            "categories": [name, header_row, FIRST, header_row, FIRST + 2],
            "values": [name, metric_row, FIRST, metric_row, FIRST + 2],
            "fill": {"color": NAVY},
            "data_labels": {
                "value": True,
                "num_format": ctx.styles.number_format(
                    ctx.styles.format_for(metric.kind, ctx.values.outputs["realistic"][key])
                ),
            },
        },
    )
    chart_text.set_title(
        chart, ctx.locale["scenario_chart"] + ctx.locale["colon"] + metric.label[ctx.language]
    )
    chart.set_legend({"none": True})
    # Scenario names at the bottom even when a bar is negative, clear of its value label.
    chart.set_x_axis({"label_position": "low"})
    chart.set_y_axis(
        {
            "num_format": ctx.styles.number_format(
                ctx.styles.format_for(metric.kind, ctx.values.outputs["realistic"][key])
            ),
            "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
        }
    )
    ws.insert_chart(20, CHART_COL, chart, CHART_SIZE)


def _write_break_evens(
    ctx: Context, ws: Worksheet, row: int, shown: Mapping[str, Value | str]
) -> int:
    """Each key driver today and at break-even, linked to the Sensitivity sheet's solver."""
    s, t, layout = ctx.styles, ctx.locale, ctx.layout
    plan = layout.sensitivity_rows
    _section(ctx, ws, row, t["dashboard_break_even"])
    row += 1
    ctx.headers(ws, row, ["", "", t["today"], t["break_even"]])
    for rows in plan.break_evens:
        row += 1
        item = ctx.template.input(rows.driver)
        fmt = s.format_for(item.kind, ctx.values.live_inputs[rows.driver])
        ws._write_string(row, LABEL, item.label[ctx.language], s.get("label"))
        ws._write_string(row, UNIT, ctx.locale.unit(item.unit), s.get("unit"))
        live = layout.live_refs()[rows.driver]
        today = ctx.values.live_inputs[rows.driver]
        ctx.formula(ws, row, FIRST, live, s.get("formula", fmt), today)
        source = sheet_ref(layout.sensitivity, cell(rows.row, BREAK_EVEN, True, True))
        ctx.formula(ws, row, FIRST + 1, source, s.get("formula_bold", fmt), shown[rows.driver])
    return row + 1


def _write_funnel(ctx: Context, ws: Worksheet, row: int) -> int:
    s, layout = ctx.styles, ctx.layout
    stages = ctx.template.funnel
    if not stages:
        return row
    _section(ctx, ws, row, ctx.locale["funnel_chart"])
    live = layout.live_refs()
    values = {**ctx.values.live_inputs, **ctx.values.live_outputs}
    first = row + 1
    for key in stages:
        row += 1
        label = (
            ctx.template.input(key).label
            if key in ctx.template.input_keys
            else ctx.template.metric(key).label
        )[ctx.language]
        ws._write_string(row, LABEL, label, s.get("label"))
        fmt = s.format_for("count", values[key])
        ctx.formula(ws, row, FIRST, live[key], s.get("formula", fmt), values[key])
    if isinstance(ws, ReferenceWorksheet):  # a reference holds no charts
        return row + 1
    chart = ctx.workbook.add_chart({"type": "bar"})
    name = layout.dashboard
    chart_text.add_series(
        chart,
        {
            "name": ctx.locale["funnel_chart"],
            "categories": [name, first, LABEL, row, LABEL],
            "values": [name, first, FIRST, row, FIRST],
            "fill": {"color": "#2E75B6"},
            "gap": 40,
            "data_labels": {"value": True, "num_format": "#,##0"},
        },
    )
    chart_text.set_title(chart, ctx.locale["funnel_chart"])
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True})
    chart.set_x_axis(
        {
            "num_format": "#,##0",
            "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
        }
    )
    ws.insert_chart(3, CHART_COL, chart, CHART_SIZE)
    return row + 1


def _write_monthly(ctx: Context, ws: Worksheet, row: int) -> int:
    s, layout = ctx.styles, ctx.layout
    a = layout.actuals
    key = ctx.template.monthly.chart
    item = next(f for f in ctx.template.monthly.fields if f.key == key)
    _section(
        ctx,
        ws,
        row,
        ctx.locale["monthly_chart"] + ctx.locale["colon"] + item.label[ctx.language],
    )
    row += 1
    ws._write_string(row, LABEL, "", s.get("header"))
    ws._write_string(row, UNIT, "", s.get("header"))
    ws._write_string(row, FIRST, ctx.locale["value"], s.get("header"))
    ws._write_string(row, FIRST + 1, ctx.locale["plan_month"], s.get("header"))
    fmt = s.format_for(item.kind, ctx.values.plans[key])
    first = row + 1
    field_row = a.field_rows[key]
    plan_ref = sheet_ref(layout.actuals_sheet, cell(field_row, a.plan_col, True, True))
    actuals = layout_once(
        ctx,
        ("dashboard months", key),
        lambda: [
            sheet_ref(layout.actuals_sheet, cell(field_row, a.first_month_col + i, True, True))
            for i in range(len(layout.months))
        ],
    )
    for i, (date, actual) in enumerate(zip(layout.months, actuals, strict=True)):
        row += 1
        ws.write_datetime(
            row, LABEL, dt.datetime(date.year, date.month, 1), s.get("label", "month")
        )
        value = ctx.values.months[i].fields[key]
        ctx.formula(ws, row, FIRST, actual, s.get("formula", fmt), "" if value is None else value)
        ctx.formula(ws, row, FIRST + 1, plan_ref, s.get("formula", fmt), ctx.values.plans[key])
    if isinstance(ws, ReferenceWorksheet):  # a reference holds no charts
        return row + 1
    chart = ctx.workbook.add_chart({"type": "column"})
    name = layout.dashboard
    for col, color in ((FIRST, "#2E75B6"), (FIRST + 1, "#BFBFBF")):
        chart_text.add_series(
            chart,
            {
                "name": [name, first - 1, col],
                "categories": [name, first, LABEL, row, LABEL],
                "values": [name, first, col, row, col],
                "fill": {"color": color},
            },
        )
    chart_text.set_title(
        chart, ctx.locale["monthly_chart"] + ctx.locale["colon"] + item.label[ctx.language]
    )
    chart.set_legend({"position": "bottom"})
    chart.set_x_axis({"num_format": ctx.styles.number_format("month"), "text_axis": True})
    chart.set_y_axis(
        {
            "num_format": ctx.styles.number_format(fmt),
            "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
        }
    )
    ws.insert_chart(37, CHART_COL, chart, CHART_SIZE)
    return row + 1


def _write_heatmap(ctx: Context, ws: Worksheet, row: int) -> None:
    """Missed calls by weekday x hour over all months, coloured by conditional formatting."""
    s, t, layout = ctx.styles, ctx.locale, ctx.layout
    ws.set_column(HEAT_LABEL_COL, HEAT_LABEL_COL, 9)
    ws.set_column(HEAT_FIRST_COL, HEAT_FIRST_COL + HOURS - 1, 3.6)  # three digits
    ws._write_string(row, HEAT_LABEL_COL, t["heatmap_chart"], s.get("label_bold"))
    row += 1
    for hour in range(HOURS):
        ws._write_number(row, HEAT_FIRST_COL + hour, hour, s.get("header"))
    source_first = layout.monthly.heatmap_first_row
    assert source_first is not None and ctx.values.heatmap_total is not None
    first = row + 1
    sums = layout_once(ctx, "dashboard heatmap", lambda: _heatmap_sums(ctx, source_first))
    style = s.get("formula", "count")
    for day in range(WEEKDAYS):
        ws._write_string(first + day, HEAT_LABEL_COL, t["weekdays"][day], s.get("label"))
        for hour in range(HOURS):
            ctx.formula(
                ws,
                first + day,
                HEAT_FIRST_COL + hour,
                sums[day][hour],
                style,
                ctx.values.heatmap_total[day][hour],
            )
    ws.conditional_format(
        first,
        HEAT_FIRST_COL,
        first + WEEKDAYS - 1,
        HEAT_FIRST_COL + HOURS - 1,
        {
            "type": "3_color_scale",
            "min_color": "#FFFFFF",
            "mid_color": "#FFD966",
            "max_color": "#C00000",
        },
    )


def _heatmap_sums(ctx: Context, source_first: int) -> list[list[str]]:
    """Each weekday and hour's sum over the monthly tabs, the same in every workbook of a
    layout."""
    sheets = ctx.layout.month_sheets
    return [
        [
            "+".join(
                sheet_ref(sheet, cell(source_first + day, HEATMAP_FIRST_COL + hour))
                for sheet in sheets
            )
            for hour in range(HOURS)
        ]
        for day in range(WEEKDAYS)
    ]
