"""The Channels sheet: phoning against the other acquisition channels."""

from __future__ import annotations

from roi_xl.workbook.context import Context


def write_channels(ctx: Context) -> None:
    ws = ctx.sheet(ctx.layout.channels or "")
    ctx.heading(ws, "channels")
    ctx.protect(ws)
