"""The report's charts as inline SVG: crisp on screen and in print, no image library.

Each function returns one ``<svg>`` element sized by its viewBox (so it scales
to its column) with its text escaped. Numbers arrive already formatted by the
caller, so a chart speaks the report's locale.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

NAVY = "#1F3864"
BLUE = "#4472C4"
LIGHT = "#B4C7E7"
GREEN = "#548235"
RED = "#C00000"
PINK = "#E6A1A1"
GREY = "#7F7F7F"
GRID = "#E4E7EC"
FONT = 12
LABEL_CHARS = 44

Format = Callable[[float], str]


@dataclass(frozen=True)
class TornadoRow:
    """One input's bar: the output at -20 % and +20 % of the input, and at its scenario values."""

    label: str
    minus: float | None
    plus: float | None
    prudent: float | None
    optimistic: float | None
    minus_text: str
    plus_text: str


def funnel(stages: Sequence[tuple[str, float, str]], steps: Sequence[str], title: str) -> str:
    """Horizontal bars, widest first, with the conversion from each stage to the next."""
    width, label_w, bar_h, gap = 500, 200, 26, 18
    height = 10 + len(stages) * (bar_h + gap)
    top = max((value for _, value, _ in stages), default=0) or 1
    parts = []
    for index, (label, value, text) in enumerate(stages):
        y = 6 + index * (bar_h + gap)
        length = max(value, 0) / top * (width - label_w - 70)
        x = label_w + (width - label_w - 70 - length) / 2
        short = _short(label, 30)
        parts.append(_text(label_w - 8, y + bar_h / 2 + 4, short, "end", size=11, title=label))
        parts.append(_rect(x, y, max(length, 1), bar_h, NAVY if index == 0 else BLUE))
        parts.append(_text(x + length + 6, y + bar_h / 2 + 4, text, weight="600"))
        if index < len(steps):
            centre = label_w + (width - label_w - 70) / 2
            parts.append(
                _text(centre, y + bar_h + gap / 2 + 5, f"↓ {steps[index]}", "middle", GREY)
            )
    return _svg(width, height, title, parts)


def scenario_panels(
    panels: Sequence[tuple[str, Sequence[tuple[str, float | None, str]]]],
    highlight: int | None,
    title: str,
) -> str:
    """One small bar chart per measure (net ROI, return multiple...), never on a shared axis."""
    width, height = 500, 230
    panel_w = width / len(panels)
    parts = []
    for p, (name, bars) in enumerate(panels):
        left = p * panel_w + 12
        inner = panel_w - 24
        numbers = [v for _, v, _ in bars if v is not None]
        low, high = min([0.0, *numbers]), max([0.0, *numbers])
        span = (high - low) or 1
        top, bottom = 44, height - 34

        def y_of(v: float, top: float = top, bottom: float = bottom) -> float:
            return bottom - (v - low) / span * (bottom - top)  # noqa: B023

        parts.append(_text(left + inner / 2, 16, name, "middle", NAVY, weight="700"))
        zero = y_of(0)
        parts.append(_line(left, zero, left + inner, zero, GREY))
        slot = inner / len(bars)
        for b, (label, value, text) in enumerate(bars):
            x = left + b * slot + slot * 0.18
            bar_w = slot * 0.64
            colour = NAVY if b == highlight else LIGHT
            if value is not None:
                y = min(y_of(value), zero)
                parts.append(_rect(x, y, bar_w, max(abs(y_of(value) - zero), 1), colour))
                # Above a positive bar; above the zero line for a negative one (the axis
                # labels sit below it).
                ty = (y_of(value) if value >= 0 else zero) - 6
                parts.append(_text(x + bar_w / 2, ty, text, "middle", weight="600"))
            else:
                parts.append(_text(x + bar_w / 2, zero - 6, text, "middle", RED))
            parts.append(_text(x + bar_w / 2, height - 14, label, "middle", GREY))
    return _svg(width, height, title, parts)


def _value_axis(
    numbers: Sequence[float],
    plot: tuple[float, float],
    rows: tuple[float, float],
    fmt: Format,
    size: int,
) -> tuple[Callable[[float], float], list[str]]:
    """A horizontal value axis over ``numbers``: where a value sits, and the gridlines with
    their labels from ``rows`` (top of the gridlines, height of the chart)."""
    ticks = nice_ticks(min(numbers), max(numbers))
    low, span = ticks[0], (ticks[-1] - ticks[0]) or 1
    left, right = plot
    top, height = rows

    def x_of(v: float) -> float:
        return left + (v - low) / span * (right - left)

    parts = []
    for tick in ticks:
        x = x_of(tick)
        parts.append(_line(x, top, x, height - 26, GRID))
        parts.append(_text(x, height - 10, fmt(tick), "middle", GREY, size=size))
    return x_of, parts


def channel_bars(
    bars: Sequence[tuple[str, float | None, str]], highlight: int | None, fmt: Format, title: str
) -> str:
    """A horizontal bar per channel from a zero line, losses in red, ``highlight`` darker."""
    width, label_w, right, row_h, top = 500, 200, 56, 34, 12
    height = top + len(bars) * row_h + 30
    numbers = [0.0, *(value for _, value, _ in bars if value is not None)]
    x_of, parts = _value_axis(numbers, (label_w, width - right), (top - 4, height), fmt, 10)
    zero = x_of(0.0)
    for i, (label, value, text) in enumerate(bars):
        y = top + i * row_h
        weight = "700" if i == highlight else "400"
        parts.append(
            _text(
                label_w - 8, y + 18, _short(label, 34), "end", weight=weight, size=11, title=label
            )
        )
        if value is None:
            parts.append(_text(zero + 5, y + 18, text, fill=RED, size=11))
            continue
        colour = (RED if value < 0 else NAVY) if i == highlight else (PINK if value < 0 else LIGHT)
        start, end = sorted((zero, x_of(value)))
        parts.append(_rect(start, y + 5, max(end - start, 1), row_h - 12, colour))
        if value < 0:
            parts.append(_text(start - 5, y + 18, text, "end", weight="600", size=11))
        else:
            parts.append(_text(end + 5, y + 18, text, weight="600", size=11))
    parts.append(_line(zero, top - 4, zero, height - 26, GREY))
    return _svg(width, height, title, parts)


def actual_vs_plan(
    months: Sequence[str],
    actual: Sequence[float | None],
    plan: Sequence[float | None],
    fmt: Format,
    labels: tuple[str, str],
    title: str,
) -> str:
    """Columns for the months filled in, a dashed plan line across every month."""
    width, height, left, right, top, bottom = 1000, 270, 70, 20, 44, 40
    numbers = [v for v in (*actual, *plan) if v is not None]
    ticks = nice_ticks(0.0, max(numbers, default=1.0) or 1.0)
    high = ticks[-1]
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(len(months), 1)

    def y_of(v: float) -> float:
        return top + plot_h - v / high * plot_h

    parts = _y_grid(ticks, y_of, left, width - right, fmt)
    for i, month in enumerate(months):
        x = left + i * slot
        if actual[i] is not None:
            parts.append(
                _rect(
                    x + slot * 0.2,
                    y_of(actual[i]),
                    slot * 0.6,
                    plot_h + top - y_of(actual[i]),
                    BLUE,
                )
            )
        parts.append(_text(x + slot / 2, height - bottom + 16, month, "middle", GREY))
    points = [
        f"{left + i * slot + slot / 2:.1f},{y_of(v):.1f}"
        for i, v in enumerate(plan)
        if v is not None
    ]
    if points:
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{NAVY}" '
            'stroke-width="2" stroke-dasharray="6 4"/>'
        )
    parts.append(_legend(left, 12, [(labels[0], BLUE, False), (labels[1], NAVY, True)]))
    return _svg(width, height, title, parts)


def tornado(
    rows: Sequence[TornadoRow],
    base: tuple[float, str],
    fmt: Format,
    legend: Sequence[str],
    title: str,
) -> str:
    """Bars from the output at -20 % to +20 % of each input; a bracket for prudent-optimistic."""
    base, base_text = base
    width, label_w, right, row_h, top = 1000, 330, 90, 38, 44
    height = top + len(rows) * row_h + 30
    numbers = [base]
    for row in rows:
        numbers += [v for v in (row.minus, row.plus, row.prudent, row.optimistic) if v is not None]
    x_of, parts = _value_axis(numbers, (label_w + 70, width - right), (top - 6, height), fmt, 11)
    for i, row in enumerate(rows):
        y = top + i * row_h
        label = _short(row.label, LABEL_CHARS)
        parts.append(_text(label_w + 60, y + 19, label, "end", title=row.label))
        moves = [(row.minus, RED, row.minus_text), (row.plus, GREEN, row.plus_text)]
        moves.sort(key=lambda move: -abs((move[0] if move[0] is not None else base) - base))
        for value, colour, text in moves:
            if value is None:
                continue
            start, end = sorted((x_of(base), x_of(value)))
            parts.append(_rect(start, y + 4, max(end - start, 1), 18, colour, 0.85))
            left_side = x_of(value) < x_of(base)
            tx = start - 5 if left_side else end + 5
            parts.append(_text(tx, y + 17, text, "end" if left_side else "start", size=10))
        scenario = [v for v in (row.prudent, row.optimistic) if v is not None]
        if len(scenario) == 2 and scenario[0] != scenario[1]:
            a, b = sorted(x_of(v) for v in scenario)
            mid = y + 29
            parts.append(_line(a, mid, b, mid, NAVY, 2))
            parts.append(_line(a, mid - 4, a, mid + 4, NAVY, 2))
            parts.append(_line(b, mid - 4, b, mid + 4, NAVY, 2))
    parts.append(_line(x_of(base), top - 10, x_of(base), height - 26, NAVY, 1.5))
    parts.append(
        _text(x_of(base), top - 14, f"{legend[3]} {base_text}", "middle", NAVY, weight="700")
    )
    parts.append(
        _legend(
            10, 14, [(legend[0], RED, False), (legend[1], GREEN, False), (legend[2], NAVY, True)]
        )
    )
    return _svg(width, height, title, parts)


def histogram(
    values: Sequence[float], markers: Sequence[tuple[str, float]], fmt: Format, title: str
) -> str:
    """The spread of simulated outcomes; bars below zero in red, percentiles marked."""
    width, height, left, right, top, bottom = 500, 230, 24, 30, 40, 36
    if not len(values):
        return _svg(width, height, title, [])
    ticks = nice_ticks(min(min(values), 0.0), max(max(values), 0.0))
    low, high = ticks[0], ticks[-1]
    bins = 40
    step = (high - low) / bins or 1
    counts = [0] * bins
    for v in values:
        counts[min(int((v - low) / step), bins - 1)] += 1
    tallest = max(counts) or 1
    plot_w, plot_h = width - left - right, height - top - bottom

    def x_of(v: float) -> float:
        return left + (v - low) / ((high - low) or 1) * plot_w

    parts = []
    for i, count in enumerate(counts):
        h = count / tallest * plot_h
        colour = RED if low + (i + 1) * step <= 0 else LIGHT
        parts.append(
            _rect(x_of(low + i * step) + 0.5, top + plot_h - h, plot_w / bins - 1, h, colour)
        )
    parts.append(_line(left, top + plot_h, width - right, top + plot_h, GREY))
    for tick in ticks:
        parts.append(_text(x_of(tick), height - bottom + 16, fmt(tick), "middle", GREY, size=10))
    for index, (name, value) in enumerate(markers):
        x = x_of(value)
        parts.append(_line(x, top - 4, x, top + plot_h, NAVY, 1.5, dash=index != 1))
        parts.append(
            _text(x, top - 8 - (index % 2) * 12, f"{name} {fmt(value)}", "middle", NAVY, size=10)
        )
    return _svg(width, height, title, parts)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round axis values covering [low, high]: steps of 1, 2 or 5 times a power of ten."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [math.floor(low / step) * step]
    while ticks[-1] < high - step * 1e-9:
        ticks.append(ticks[-1] + step)
    return [round(tick, 12) for tick in ticks]


# ------------------------------------------------------------------ pieces


def _svg(width: float, height: float, title: str, parts: Sequence[str]) -> str:
    return (
        f'<svg viewBox="0 0 {width:g} {height:g}" '
        f'role="img" aria-label="{escape(title)}" class="chart">'
        f"<title>{escape(title)}</title>{''.join(parts)}</svg>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, opacity: float = 1.0) -> str:
    extra = f' fill-opacity="{opacity:g}"' if opacity != 1 else ""
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"{extra}/>'


def _line(
    x1: float, y1: float, x2: float, y2: float, stroke: str, width: float = 1, dash: bool = False
) -> str:
    pattern = ' stroke-dasharray="4 3"' if dash else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
        f'stroke-width="{width:g}"{pattern}/>'
    )


def _text(
    x: float,
    y: float,
    text: str,
    anchor: str = "start",
    fill: str = "#222",
    weight: str = "400",
    size: int = FONT,
    title: str | None = None,
) -> str:
    tooltip = f"<title>{escape(title)}</title>" if title and title != text else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" '
        f'font-size="{size}" font-weight="{weight}">{tooltip}{escape(text)}</text>'
    )


def _y_grid(
    ticks: Sequence[float], y_of: Callable[[float], float], x1: float, x2: float, fmt: Format
) -> list[str]:
    parts = []
    for tick in ticks:
        y = y_of(tick)
        parts.append(_line(x1, y, x2, y, GRID))
        parts.append(_text(x1 - 8, y + 4, fmt(tick), "end", GREY, size=10))
    return parts


def _legend(x: float, y: float, items: Sequence[tuple[str, str, bool]]) -> str:
    parts = []
    for name, colour, is_line in items:
        if is_line:
            parts.append(_line(x, y - 4, x + 18, y - 4, colour, 2))
        else:
            parts.append(_rect(x, y - 10, 14, 12, colour))
        parts.append(_text(x + 24, y, name, size=11))
        x += 34 + len(name) * 6.5
    return "".join(parts)


def _short(text: str, limit: int) -> str:
    """``text`` cut on a word boundary to fit ``limit``: a word cut in two reads as a typo."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-(/") + "…"


def payback_curve(series: Sequence[tuple[str, Sequence[float]]], fmt: Format, title: str) -> str:
    """Cumulative cash flow by month, one line per scenario: where each crosses zero."""
    width, height, left, right, top, bottom = 500, 250, 70, 16, 20, 56
    values = [v for _, line in series for v in line]
    months = max((len(line) for _, line in series), default=0)
    if not values or months < 1:
        return _svg(width, height, title, [])
    ticks = nice_ticks(min(min(values), 0.0), max(max(values), 0.0))
    low, high = ticks[0], ticks[-1]
    plot_w, plot_h = width - left - right, height - top - bottom

    def x_of(month: int) -> float:
        return left + (month - 1) / max(months - 1, 1) * plot_w

    def y_of(v: float) -> float:
        return top + (high - v) / ((high - low) or 1) * plot_h

    parts = _y_grid(ticks, y_of, left, width - right, fmt)
    parts.append(_line(left, y_of(0.0), width - right, y_of(0.0), GREY, 1.2))
    colours = (RED, NAVY, GREEN)
    for (_, line), colour in zip(series, colours, strict=False):
        points = " ".join(f"{x_of(m):.1f},{y_of(v):.1f}" for m, v in enumerate(line, start=1))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
    step = 12 if months > 24 else 6 if months > 6 else 1
    for month in range(1, months + 1):
        if month == 1 or month % step == 0:
            parts.append(_text(x_of(month), top + plot_h + 16, str(month), "middle", GREY, size=10))
    items = [(name, colour, True) for (name, _), colour in zip(series, colours, strict=False)]
    parts.append(_legend(left, height - 10, items))
    return _svg(width, height, title, parts)


def waterfall(steps: Sequence[tuple[str, float, str]], fmt: Format, title: str) -> str:
    """Benefits up, costs down, the net last: each bar starts where the previous one ended.

    ``steps`` are (label, amount, kind) with kind "benefit", "cost" (amount subtracted) or
    "net" (a bar from zero).
    """
    width, height, left, right, top, bottom = 500, 260, 70, 10, 20, 80
    bars, running = [], 0.0
    for label, amount, kind in steps:
        if kind == "net":
            bars.append((label, 0.0, amount, NAVY))
            continue
        end = running + amount if kind == "benefit" else running - amount
        bars.append((label, running, end, GREEN if kind == "benefit" else RED))
        running = end
    if not bars:
        return _svg(width, height, title, [])
    ends = [v for _, a, b, _ in bars for v in (a, b)]
    ticks = nice_ticks(min(min(ends), 0.0), max(max(ends), 0.0))
    low, high = ticks[0], ticks[-1]
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / len(bars)

    def y_of(v: float) -> float:
        return top + (high - v) / ((high - low) or 1) * plot_h

    parts = _y_grid(ticks, y_of, left, width - right, fmt)
    for index, (label, start, end, colour) in enumerate(bars):
        x = left + index * slot + slot * 0.15
        y1, y2 = sorted((y_of(start), y_of(end)))
        parts.append(_rect(x, y1, slot * 0.7, max(y2 - y1, 1.0), colour))
        centre = x + slot * 0.35
        parts.append(_text(centre, top + plot_h + 14, _short(label, 13), "middle", size=8))
        parts.append(_text(centre, y1 - 3, fmt(end - start), "middle", GREY, size=9))
    parts.append(_line(left, y_of(0.0), width - right, y_of(0.0), GREY, 1.2))
    return _svg(width, height, title, parts)
