"""The Sensitivity sheet: tornado per headline result and break-even of the key drivers."""

from __future__ import annotations

from roi_xl.workbook.context import Context


def write_sensitivity(ctx: Context) -> None:
    ws = ctx.sheet(ctx.layout.sensitivity)
    ctx.heading(ws, "sensitivity")
    ctx.protect(ws)
