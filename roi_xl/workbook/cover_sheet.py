"""The Cover: what the workbook is for, how to use it, the colour key, contents, status."""

from __future__ import annotations

import datetime as dt

from roi_xl import __version__
from roi_xl.workbook.context import Context
from roi_xl.workbook.per_layout import conditional


def write_cover(ctx: Context, created: dt.date) -> None:
    layout, s, t = ctx.layout, ctx.styles, ctx.locale
    template = ctx.template
    ws = ctx.sheet(layout.cover)
    ws.set_column(0, 0, 3)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 2, 90)
    ws.hide_gridlines(2)
    ws._write_string(
        0, 1, f"{t['cover_title']}{t['colon']}{template.title[ctx.language]}", s.get("title")
    )
    row = 2
    ws._write_string(row, 1, t["master"], s.get("label_bold"))
    ctx.formula(
        ws,
        row,
        2,
        f'IF(master_check=0,"{t["all_ok"]}","{t["not_ok"]}")',
        s.get("label_bold"),
        t["all_ok"] if ctx.values.master_check == 0 else t["not_ok"],
    )
    conditional(
        ws,
        row,
        2,
        row,
        2,
        {"type": "formula", "criteria": "=master_check=0", "format": s.get("good")},
    )
    conditional(
        ws,
        row,
        2,
        row,
        2,
        {"type": "formula", "criteria": "=master_check<>0", "format": s.get("bad")},
    )
    row += 2
    row = _block(ctx, ws, row, t["purpose"], [template.purpose[ctx.language]])
    row = _block(
        ctx, ws, row, t["how_to_use"], [f"{i}. {step}" for i, step in enumerate(t["how_steps"], 1)]
    )
    ws._write_string(row, 1, t["colour_key"], s.get("section"))
    ws._write_string(row, 2, "", s.get("section"))
    for style, text in (
        ("input", t["key_input"]),
        ("formula", t["key_formula"]),
        ("good", t["key_check_ok"]),
        ("bad", t["key_check_bad"]),
    ):
        row += 1
        ws._write_string(row, 1, "1 234", s.get(style))
        ws._write_string(row, 2, text, s.get("label"))
    row += 2
    ws._write_string(row, 1, t["contents"], s.get("section"))
    ws._write_string(row, 2, "", s.get("section"))
    for sheet, purpose in _contents(ctx):
        row += 1
        ws.write_url(row, 1, f"internal:'{sheet}'!A1", s.get("link"), string=sheet)
        ws._write_string(row, 2, purpose, s.get("label"))
    row += 2
    row = _block(ctx, ws, row, t["sign_convention"], [t["sign_text"]])
    facts = [
        (t["model"], template.key),
        (t["version"], template.version),
        (t["generator"], f"roi_xl {__version__}"),
        (t["created"], created.strftime("%m/%d/%Y" if ctx.language == "en" else "%d/%m/%Y")),
        (t["period"], template.period[ctx.language]),
    ]
    for label, value in facts:
        ws._write_string(row, 1, label, s.get("label_bold"))
        ws._write_string(row, 2, value, s.get("label"))
        row += 1
    row += 1
    _block(ctx, ws, row, t["sources"], list(template.sources_in(ctx.language)))
    ws.set_portrait()
    ctx.print_setup(ws, landscape=False)
    ctx.protect(ws)


def _block(ctx: Context, ws, row: int, title: str, lines: list[str]) -> int:
    s = ctx.styles
    ws._write_string(row, 1, title, s.get("section"))
    ws._write_string(row, 2, "", s.get("section"))
    for line in lines:
        row += 1
        ws._write_string(row, 2, line, s.get("wrap"))
        ws.set_row(row, 15 * max(1, -(-len(line) // 110)))
    return row + 2


def _contents(ctx: Context) -> list[tuple[str, str]]:
    layout, t = ctx.layout, ctx.locale
    rows = [(layout.cover, t["sheet_purpose_cover"]), (layout.inputs, t["sheet_purpose_inputs"])]
    rows += [(sheet, t["sheet_purpose_month"]) for sheet in layout.month_sheets]
    rows += [
        (layout.actuals_sheet, t["sheet_purpose_actuals"]),
        (layout.calculations, t["sheet_purpose_calculations"]),
        (layout.dashboard, t["sheet_purpose_dashboard"]),
        (layout.sensitivity, t["sheet_purpose_sensitivity"]),
        *([(layout.channels, t["sheet_purpose_channels"])] if layout.channels else []),
        (layout.checks, t["sheet_purpose_checks"]),
    ]
    return rows
