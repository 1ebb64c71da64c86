"""The Channels sheet: phoning against the other acquisition channels.

One row per channel of the template, one column per figure compared (cost,
opportunities, deals, margin, net gain, cost per opportunity, CAC, ROI). Each
cell links to the live scenario's input or metric that holds the figure, so the
comparison follows the scenario selector and uses the same period and the same
gross margin rate for every channel; the net gain is the margin minus the cost,
on this sheet. Two native charts read the table: ROI by channel, and cost per
opportunity against CAC. The first channel (the campaign itself) is highlighted.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from roi_xl.model import engine
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.template import SCENARIOS, Channel
from roi_xl.workbook import chart_text
from roi_xl.workbook.context import Context
from roi_xl.workbook.layout import sheet_ref
from roi_xl.workbook.styles import NAVY

LABEL_COL, FIRST_COL = 0, 1
SELECTOR_ROW, HEADER_ROW = 2, 4
NET_GAIN = "net_gain"
# The table's columns: a channel figure, or the net gain computed here.
COLUMNS: tuple[str, ...] = (
    "cost",
    "opportunities",
    "deals",
    "margin",
    NET_GAIN,
    "cost_per_opportunity",
    "cac",
    "roi",
)
KEY_COL = FIRST_COL + len(COLUMNS)
HIGHLIGHT, OTHERS, SECOND = NAVY, "#8EA9DB", "#C55A11"
GRIDLINES = {"visible": True, "line": {"color": "#D9D9D9"}}
CHART_GAP = 2  # rows between the table and the charts
CHART_SIZE = {"x_scale": 1.25, "y_scale": 1.15}


def write_channels(ctx: Context) -> None:
    ws = ctx.sheet(ctx.layout.channels or "")
    s, t = ctx.styles, ctx.locale
    channels = ctx.template.channels
    ws.set_column(LABEL_COL, LABEL_COL, 34)
    ws.set_column(FIRST_COL, KEY_COL - 1, 14)
    ws.set_column(KEY_COL, KEY_COL, 20)
    ctx.heading(ws, "channels")
    ws._write_string(SELECTOR_ROW, LABEL_COL, t["selector"], s.get("label_bold"))
    ctx.formula(
        ws,
        SELECTOR_ROW,
        FIRST_COL,
        sheet_ref(ctx.layout.inputs, ctx.layout.selector_cell),
        s.get("formula_bold"),
        t.scenarios[ctx.values.selected],
    )
    headers = [t["channel"], *(t[f"channel_{column}"] for column in COLUMNS), t["key"]]
    ctx.headers(ws, HEADER_ROW, headers)
    formats = {column: _column_format(ctx, column) for column in COLUMNS}
    for index, channel in enumerate(channels):
        row = HEADER_ROW + 1 + index
        bold = index == 0
        ws._write_string(
            row, LABEL_COL, channel.label[ctx.language], s.get("label_bold" if bold else "label")
        )
        for offset, column in enumerate(COLUMNS):
            formula, value = _figure(ctx, channel, column)
            style = s.get("formula_bold" if bold else "formula", formats[column])
            ctx.formula(ws, row, FIRST_COL + offset, formula, style, value)
        ws._write_string(row, KEY_COL, channel.key, s.get("key"))
    last = HEADER_ROW + len(channels)
    chart_row = last + 1 + CHART_GAP
    _roi_chart(ctx, ws, last, chart_row, formats["roi"])
    _unit_cost_chart(ctx, ws, last, chart_row, formats["cac"])
    ws.freeze_panes(HEADER_ROW + 1, FIRST_COL)
    ctx.print_setup(ws, (HEADER_ROW, HEADER_ROW))
    ctx.protect(ws)


def _figure(ctx: Context, channel: Channel, column: str) -> tuple[str, engine.Value]:
    """The formula of one cell (a link to the live scenario) and the value it shows."""
    refs = ctx.layout.live_refs()
    if column == NET_GAIN:
        margin, cost = channel.figures["margin"], channel.figures["cost"]
        formula = f"{refs[margin]}-{refs[cost]}"
        return formula, net_gain(_live(ctx, margin), _live(ctx, cost))
    key = channel.figures[column]
    return refs[key], _live(ctx, key)


def net_gain(margin: engine.Value, cost: engine.Value) -> engine.Value:
    """Margin minus cost as Excel computes it: an error on either side is the result."""
    if isinstance(margin, ExcelError):
        return margin
    if isinstance(cost, ExcelError):
        return cost
    return margin - cost


def _live(ctx: Context, key: str) -> engine.Value:
    return _value(ctx, ctx.values.selected, key)


def _value(ctx: Context, scenario: str, key: str) -> engine.Value:
    """An input's or metric's value in a scenario, as the engine computed it."""
    inputs = ctx.values.inputs[scenario]
    return inputs[key] if key in inputs else ctx.values.outputs[scenario][key]


def _kind(ctx: Context, key: str) -> str:
    model = ctx.template
    return model.input(key).kind if key in model.input_keys else model.metric(key).kind


def _column_format(ctx: Context, column: str) -> str:
    """One number format per column, fine enough for every channel in every scenario."""
    figure = "margin" if column == NET_GAIN else column
    keys = [channel.figures[figure] for channel in ctx.template.channels]
    kind = _kind(ctx, keys[0])
    numbers = [
        value
        for scenario in SCENARIOS
        for key in keys
        if isinstance(value := _value(ctx, scenario, key), float)
    ]
    typical = None
    if kind == "count":  # 1.8 deals must not show as 2
        typical = next((v for v in numbers if not v.is_integer()), 1.0)
    elif kind == "currency":  # cents only when every amount is small
        typical = max((abs(v) for v in numbers), default=None)
    return ctx.styles.format_for(kind, typical)


def _series(ctx: Context, last: int, column: str, color: str, points: bool) -> dict:
    """A chart series over one column of the table, the first channel highlighted."""
    name = ctx.layout.channels or ""
    first = HEADER_ROW + 1
    col = FIRST_COL + COLUMNS.index(column)
    series: dict = {
        "name": [name, HEADER_ROW, col],
        "categories": [name, first, LABEL_COL, last, LABEL_COL],
        "values": [name, first, col, last, col],
        "fill": {"color": color},
        "invert_if_negative": False,
    }
    if points:
        count = last - first + 1
        series["points"] = [{"fill": {"color": HIGHLIGHT}}] + [
            {"fill": {"color": color}} for _ in range(count - 1)
        ]
    return series


def _roi_chart(ctx: Context, ws: Worksheet, last: int, row: int, number_format: str) -> None:
    chart = ctx.workbook.add_chart({"type": "column"})
    shown = ctx.styles.number_format(number_format)
    chart_text.add_series(
        chart,
        {
            **_series(ctx, last, "roi", OTHERS, points=True),
            "data_labels": {"value": True, "num_format": shown},
            "gap": 60,
        },
    )
    chart_text.set_title(chart, ctx.locale["channel_chart_roi"])
    chart.set_legend({"none": True})
    chart.set_x_axis({"label_position": "low"})
    chart.set_y_axis({"num_format": shown, "major_gridlines": GRIDLINES})
    ws.insert_chart(row, LABEL_COL, chart, CHART_SIZE)


def _unit_cost_chart(ctx: Context, ws: Worksheet, last: int, row: int, number_format: str) -> None:
    chart = ctx.workbook.add_chart({"type": "bar"})
    shown = ctx.styles.number_format(number_format)
    for column, color in (("cost_per_opportunity", OTHERS), ("cac", SECOND)):
        chart_text.add_series(
            chart,
            {
                **_series(ctx, last, column, color, points=False),
                "data_labels": {"value": True, "num_format": shown, "font": {"size": 8}},
                "gap": 50,
            },
        )
    chart_text.set_title(chart, ctx.locale["channel_chart_costs"])
    chart.set_legend({"position": "bottom"})
    chart.set_y_axis({"reverse": True})
    chart.set_x_axis({"num_format": shown, "major_gridlines": GRIDLINES})
    ws.insert_chart(row, FIRST_COL + 4, chart, CHART_SIZE)
