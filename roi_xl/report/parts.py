"""The pieces the report is built of: tables, tiles, figures, and the blocks both its first
page and its appendix show (the before/after KPIs, the funnel, an item of the plan)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from roi_xl.model import engine
from roi_xl.model.excel_errors import ExcelError
from roi_xl.report import charts as report_charts
from roi_xl.report.facts import Facts

_QUALIFIER = re.compile(
    r"[\s,]*\b(before|after|baseline|current|avant|après|référence|actuel|actuelle)\b.*$",
    re.IGNORECASE,
)


def table(
    head: Sequence[str],
    rows: Sequence[Sequence[str] | str],
    columns: Sequence[str] = (),
    css: str = "",
) -> str:
    """A table from HTML cells; ``columns`` gives each column's CSS class ("n": a number).

    A row given as a string is written as it is (a group heading spanning the table).
    ``css`` "long" marks a table that may run over pages (its rows are never cut).
    """
    classes = [*columns, *[""] * (len(head) - len(columns))]

    def cell(tag: str, index: int, content: str) -> str:
        css = f' class="{classes[index]}"' if classes[index] else ""
        return f"<{tag}{css}>{content}</{tag}>"

    heading = "".join(cell("th", i, text) for i, text in enumerate(head))
    body = "".join(
        row
        if isinstance(row, str)
        else f"<tr>{''.join(cell('td', i, c) for i, c in enumerate(row))}</tr>"
        for row in rows
    )
    attribute = f' class="{css}"' if css else ""
    return f"<table{attribute}><thead><tr>{heading}</tr></thead><tbody>{body}</tbody></table>"


def group(text: str, span: int) -> str:
    return f"<tr class='group'><td colspan='{span}'>{text}</td></tr>"


def section(anchor: str, title: str, *pieces: str) -> str:
    """A numbered part of the appendix. Its heading, its introduction and its first piece
    print as one block, so a page never ends with the heading alone; before a long table,
    the block is the heading and the introduction, kept with the table's first rows."""
    first = 0
    while first < len(pieces) - 1 and pieces[first].startswith('<p class="help">'):
        first += 1
    css = "part"
    if first < len(pieces) and pieces[first].startswith('<table class="long">'):
        first, css = first - 1, "part intro"
    lead, rest = "".join(pieces[: first + 1]), "".join(pieces[first + 1 :])
    return f'<section id="{anchor}"><div class="{css}"><h2>{title}</h2>{lead}</div>{rest}</section>'


def part(content: str) -> str:
    """A subsection (its heading and what it heads), printed on one page when it fits."""
    return f'<div class="part">{content}</div>'


def help_text(text: str) -> str:
    return f'<p class="help">{text}</p>'


def figure(chart: str, caption: str = "") -> str:
    return f"<figure>{chart}{f'<figcaption>{caption}</figcaption>' if caption else ''}</figure>"


def grid(left: str, right: str) -> str:
    return f'<div class="grid2"><div>{left}</div><div>{right}</div></div>'


def note(text: str) -> str:
    return f"<br><span class='note'>{text}</span>"


def tile(label: str, value: str, sub: str, tone: str = "") -> str:
    small = " small" if len(re.sub(r"<[^>]+>", "", value)) > 9 else ""
    return (
        f'<div class="tile {tone}"><div class="label">{label}</div>'
        f'<div class="value{small}">{value}</div><div class="sub">{escape(sub)}</div></div>'
    )


def clean(label: str) -> str:
    """'Answer rate before (baseline window)' -> 'Answer rate': the KPI without its window."""
    return _QUALIFIER.sub("", label).strip(" ,") or label


def number_or_none(value: engine.Value | None) -> float | None:
    return value if isinstance(value, float) else None


def points(kind: str) -> str:
    """The unit of a difference: percentage points for rates."""
    return "pts" if kind == "percent" else ""


def pairs_table(f: Facts, pairs: Sequence[tuple[str, str]], heads: tuple[str, str]) -> str:
    w = f.words
    inputs = f.read.scenarios[f.base].inputs
    rows = []
    for old, new in pairs:
        kind = f.kind(old)
        before, after = inputs[old], inputs[new]
        change = after - before if before is not None and after is not None else None
        rows.append(
            [
                escape(clean(f.label(old))),
                f.num(before, kind, exact=True),
                f.num(after, kind, exact=True),
                escape(f.numbers.format(change, kind, points(kind), True, "exact")),
            ]
        )
    head = [w("indicator"), w(heads[0]), w(heads[1]), w("change")]
    return table(head, rows, ["", "n", "n", "n"])


def funnel(f: Facts) -> tuple[str, str]:
    """The funnel of the base scenario as a table and as a chart."""
    w, outputs = f.words, f.outputs(f.base)
    if outputs is None or not f.model.funnel:
        return "", ""
    stages, steps, rows = [], [], []
    previous: float | None = None
    inputs = f.read.scenarios[f.base].inputs
    for key in f.model.funnel:
        is_input = key in f.model.input_keys
        value = inputs[key] if is_input else outputs[key]
        number = value if isinstance(value, float) else 0.0
        stages.append((f.label(key), number, f.numbers.format(value, f.kind(key))))
        step = ""
        if previous is not None:
            step = f.numbers.format(number / previous if previous else None, "percent")
            steps.append(step)
        shown = f.num(value, f.kind(key), exact=True) if is_input else f.output(f.base, key)
        rows.append([escape(f.label(key)), shown, escape(step)])
        previous = number
    title = w("funnel", scenario=escape(f.scenario_name(f.base).lower()))
    stage_table = table([w("stage"), w("volume"), w("step")], rows, ["", "n", "n"])
    chart = f"<h3>{title}</h3>" + figure(report_charts.funnel(stages, steps, title))
    return stage_table, chart


def cell_value(value: object) -> float | ExcelError | None:
    """A workbook cell value for the report: blank ("") becomes None."""
    return value if isinstance(value, (float, ExcelError)) else None


def plan_item(f: Facts, key: str, short: bool = False) -> tuple[str, str]:
    """An indicator of the plan and its target: a field's plan per month, or a model value.

    ``short`` leaves out what the first page's table already says (per month, the
    metric's own name under the net ROI and the return multiple).
    """
    if key.startswith("monthly."):
        name = key.removeprefix("monthly.")
        field = next(x for x in f.model.monthly.fields if x.key == name)
        plan = cell_value(f.values.plans[name]) if f.values else None
        label = field.label[f.lang]
        if not short:
            label += f" ({f.words.text['plan_month'].lower()})"
        return escape(label), f.num(plan, field.kind)
    if key in f.model.input_keys:
        value = f.read.scenarios[f.base].inputs[key]
        return escape(clean(f.label(key))), f.num(value, f.kind(key), exact=True)
    label = escape(f.label(key))
    if key in (f.roi, f.multiple):
        name = "net_roi" if key == f.roi else "return_multiple"
        name += "_period" if short else ""
        label = f"<b>{f.words(name)}</b>{'' if short else note(label)}"
    return label, f.output(f.base, key)
