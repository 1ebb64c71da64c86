"""The investment justification: one self-contained HTML page a CFO can forward.

It is built from what ``read_workbook`` found, so its figures are those of
``roi-xl read`` (the engine's, recomputed from the workbook's inputs). The first
printed page is the one-page justification (``onepage``); the appendix details
the business case, the current state, the modelled impact against the plan, the
return of each scenario, what moves it (sensitivity, break-even, risk range), the
measurement plan, the assumptions with their sources and the workbook's audit.
Charts are inline SVG and styles are inline, so the file opens offline and prints
as is, on the locale's paper.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from importlib import resources
from pathlib import Path
from string import Template as Text

from roi_xl import __version__
from roi_xl.decide.risk import ACROSS
from roi_xl.decide.sensitivity import MOVES
from roi_xl.inspect.reader import WorkbookRead
from roi_xl.model import engine
from roi_xl.model.template import SCENARIOS, Channel, Input
from roi_xl.report import charts as report_charts
from roi_xl.report import parts
from roi_xl.report.facts import Facts, build_facts
from roi_xl.report.onepage import first_page

TORNADO_BARS = 8
CHANNEL_COLUMNS = ("cost", "opportunities", "cost_per_opportunity", "deals", "cac", "margin", "roi")
FINDINGS_SHOWN = 5


# ------------------------------------------------------------------ the page


def render_report(
    read: WorkbookRead, locale: str = "en-US", seed: int = 0, as_of: dt.date | None = None
) -> str:
    """The whole report as one HTML page (styles and charts inline, no external resource)."""
    facts = build_facts(read, locale, seed)
    w = facts.words
    generated = w("generated", version=escape(__version__), file=escape(Path(read.path).name))
    numbered = [
        _business_case(facts),
        _current_state(facts),
        _impact(facts),
        _returns(facts),
        _channels(facts),
        _decide(facts),
        _measurement(facts),
        _assumptions(facts),
        _audit(facts),
    ]
    appendix = "\n".join(
        [
            f'<h1 class="appendix">{w("appendix")}</h1>',
            *_numbered(part for part in numbered if part),
            f"<footer><p>{w('method')}</p><p>{generated}</p></footer>",
        ]
    )
    body = "\n".join(
        [
            _header(facts, as_of or dt.date.today()),
            first_page(facts),
            f'<div class="appendix">{appendix}</div>',
        ]
    )
    page = resources.files("roi_xl.report").joinpath("templates", "report.html").read_text("utf-8")
    title = f"{facts.model.title[facts.lang]} – {w('document')}"
    return Text(page).substitute(
        lang=facts.lang,
        title=escape(title),
        version=escape(__version__),
        paper=facts.locale.paper,
        running_title=_css_text(title),
        page_number=_css_text(w.text["page_of"], page="counter(page)", pages="counter(pages)"),
        body=body,
    )


def _css_text(text: str, **counters: str) -> str:
    """A CSS ``content`` value: ``text`` quoted, with $name placeholders as CSS counters."""
    safe = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ")
    safe = re.sub(r"[\n\r\f]", " ", safe)
    quoted = f'"{safe}"'
    return Text(quoted).safe_substitute({k: f'" {v} "' for k, v in counters.items()})


def _numbered(sections: Iterable[str]) -> list[str]:
    """Sections numbered 1, 2, 3... in the order shown (a template may have fewer)."""
    return [
        section.replace("<h2>", f"<h2>{number}. ", 1)
        for number, section in enumerate(sections, start=1)
    ]


# ------------------------------------------------------------------ header


def _header(f: Facts, as_of: dt.date) -> str:
    w, read = f.words, f.read
    months = list(read.actuals)
    period = f"{f.numbers.month(months[0])} – {f.numbers.month(months[-1])}" if months else ""
    base = f.scenario_name(f.base)
    if read.selected_scenario:
        base += f" ({w('selected')})"
    items = [
        (w("workbook"), escape(Path(read.path).name)),
        (w("template"), escape(f"{read.template} {read.version}")),
        (w("period"), escape(period)),
        (w("base"), escape(base)),
        (w("prepared"), as_of.strftime("%m/%d/%Y" if f.lang == "en" else "%d/%m/%Y")),
    ]
    facts = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in items)
    return (
        f'<header class="top"><div class="kicker">{w("document")}</div>'
        f"<h1>{escape(f.model.title[f.lang])}</h1><dl>{facts}</dl></header>"
    )


def _business_case(f: Facts) -> str:
    """The unadjusted and risk-adjusted figures side by side, the payback curve, the waterfall."""
    found = f.timeline(f.base)
    timeline = f.model.timeline
    if found is None or timeline is None:
        return ""
    w, (values, figures) = f.words, found
    pairs = (
        ("npv", "npv_risk_adjusted", "currency"),
        ("roi_horizon", "roi_horizon_risk_adjusted", "percent"),
    )
    rows = [
        [escape(timeline.result(a).label[f.lang]), f.num(figures[a], kind), f.num(figures[b], kind)]
        for a, b, kind in pairs
    ]
    table = parts.table(["", w("unadjusted"), w("risk_adjusted")], rows, ["", "n", "n"])
    curves = []
    for scenario in SCENARIOS:
        other = f.timeline(scenario)
        if other is not None:
            line = other[0].rows[timeline.cumulative].values.reshape(-1)
            curves.append((f.scenario_name(scenario), [float(v) for v in line]))

    def money(value: float) -> str:
        return f.numbers.format(value, "currency")

    curve = report_charts.payback_curve(curves, money, w.text["chart_payback"])
    steps = [
        (timeline.row(key).label[f.lang], float(values.rows[key].values.sum()), "benefit")
        for key in timeline.benefits
    ]
    steps += [
        (timeline.row(key).label[f.lang], float(values.rows[key].values.sum()), "cost")
        for key in timeline.costs
    ]
    net = float(values.rows[timeline.cash_flow].values.sum())
    steps.append((w.text["net_over_horizon"], net, "net"))
    fall = report_charts.waterfall(steps, money, w.text["chart_waterfall"])
    return parts.section(
        "business-case",
        w("business_case"),
        parts.help_text(w("business_case_help")),
        table,
        parts.grid(
            parts.figure(curve, w("chart_payback")), parts.figure(fall, w("chart_waterfall"))
        ),
    )


def _current_state(f: Facts) -> str:
    w = f.words
    scenario = escape(f.scenario_name(f.base).lower())
    tables = []
    for old, new, help_key, heads in (
        ("_before", "_after", "current_help", ("before", "after")),
        ("_baseline", "_current", "baseline_current_help", ("baseline", "current")),
    ):
        pairs = [
            (item.key, item.key.removesuffix(old) + new)
            for item in f.model.inputs
            if item.key.endswith(old) and item.key.removesuffix(old) + new in f.model.input_keys
        ]
        if pairs:
            tables.append(
                parts.help_text(w(help_key, scenario=scenario)) + parts.pairs_table(f, pairs, heads)
            )
    funnel_table, funnel_chart = parts.funnel(f)
    if tables:
        body = parts.grid("".join(tables), funnel_chart + funnel_table)
    else:
        body = parts.grid(funnel_table, funnel_chart)
    return parts.section("current-state", w("current_state"), body)


# ------------------------------------------------------------------ 2. impact


def _impact(f: Facts) -> str:
    w = f.words
    keys = [k for k in f.config.get("impact", f.model.headline) if k in f.model.metric_keys]
    return parts.section(
        "impact",
        w("impact"),
        parts.part(
            f"<h3>{w('outcomes', period=escape(f.model.period[f.lang]))}</h3>"
            + _scenario_table(f, keys)
        ),
        parts.part(_actuals(f)),
    )


def _scenario_table(f: Facts, keys: Sequence[str]) -> str:
    """Outputs side by side, one column per scenario, the base scenario highlighted."""
    w = f.words
    rows = []
    for key in keys:
        label = escape(f.label(key))
        if key == f.roi:
            label = f"<b>{w('net_roi')}</b>{parts.note(label)}"
        elif key == f.multiple:
            label = f"<b>{w('return_multiple')}</b>{parts.note(label)}"
        rows.append([label, *(f.output(s, key) for s in SCENARIOS)])
    head = [w("measure"), *(escape(f.scenario_name(s)) for s in SCENARIOS)]
    columns = ["", *("n sel" if s == f.base else "n" for s in SCENARIOS)]
    return parts.table(head, rows, columns)


def _actuals(f: Facts) -> str:
    """Actual to date against the plan to date, as the workbook's Actuals sheet computes them."""
    w, values = f.words, f.values
    title = f"<h3>{w('actuals')}</h3>"
    if values is None:
        return title + parts.help_text(w("not_computable"))
    monthly = f.model.monthly
    scenario = escape(f.scenario_name(f.base).lower())
    pieces = [title]
    if values.months_counted:
        total = str(f.read.months)
        filled = str(values.months_counted)
        pieces.append(
            parts.help_text(w("actuals_help", filled=filled, total=total, scenario=scenario))
        )
        items = [(x, values.ytd_fields, values.plan_ytd_fields) for x in monthly.fields]
        items += [(x, values.ytd_kpis, values.plan_ytd_kpis) for x in monthly.kpis]
        rows = []
        for item, actuals, plans in items:
            actual, plan = parts.cell_value(actuals[item.key]), parts.cell_value(plans[item.key])
            gap = actual - plan if isinstance(actual, float) and isinstance(plan, float) else None
            ratio = gap / plan if gap is not None and plan and item.kind != "percent" else None
            rows.append(
                [
                    escape(item.label[f.lang]),
                    f.num(actual, item.kind),
                    f.num(plan, item.kind),
                    _variance(
                        f.numbers.format(gap, item.kind, parts.points(item.kind), signed=True),
                        gap,
                        item.good,
                    ),
                    escape(f.numbers.format(ratio, "percent", signed=True)) if ratio else "",
                ]
            )
        head = [w("indicator"), w("actual"), w("plan"), w("variance"), w("variance_pct")]
        pieces.append(parts.table(head, rows, ["", "n", "n", "n", "n"]))
    else:
        pieces.append(parts.help_text(w("no_actuals")))
    field = next(x for x in monthly.fields if x.key == monthly.chart)
    months = list(f.read.actuals)
    plan = parts.number_or_none(parts.cell_value(values.plans[field.key]))
    caption = w("chart_monthly", field=escape(field.label[f.lang]))
    legend = (w.text["chart_actual"], f"{w.text['chart_plan']} ({f.scenario_name(f.base)})")
    chart = report_charts.actual_vs_plan(
        [f.numbers.month(m) for m in months],
        [f.read.actuals[m].get(field.key) for m in months],
        [plan] * len(months),
        lambda v: f.numbers.format(v, field.kind, style="tick"),
        legend,
        field.label[f.lang],
    )
    pieces.append(parts.figure(chart, caption))
    return "".join(pieces)


def _variance(text: str, gap: float | None, good: str) -> str:
    """A variance coloured by whether it is good for its line (fewer missed calls are)."""
    if gap is None or gap == 0 or good == "none":
        return escape(text)
    better = gap > 0 if good == "up" else gap < 0
    return f'<span class="{"better" if better else "worse"}">{escape(text)}</span>'


# ------------------------------------------------------------------ 3. returns


def _returns(f: Facts) -> str:
    w = f.words
    panels = []
    for key, name in ((f.roi, w.text["net_roi"]), (f.multiple, w.text["return_multiple"])):
        if key is None:
            continue
        bars = []
        for s in SCENARIOS:
            outputs = f.outputs(s)
            value = outputs[key] if outputs else None
            bars.append(
                (
                    f.scenario_name(s),
                    parts.number_or_none(value),
                    f.numbers.format(value, f.kind(key)),
                )
            )
        panels.append((name, bars))
    chart = report_charts.scenario_panels(
        panels, SCENARIOS.index(f.base), w.text["chart_scenarios"]
    )
    return parts.section(
        "returns",
        w("returns"),
        parts.help_text(w("returns_help")),
        parts.grid(_scenario_table(f, f.model.headline), parts.figure(chart, w("chart_scenarios"))),
    )


# ------------------------------------------------------------------ 4. channels


def _channels(f: Facts) -> str:
    """Each acquisition channel of the template on the same basis, in the base scenario."""
    if not f.model.channels:
        return ""
    w, outputs = f.words, f.outputs(f.base)
    scenario = f.scenario_name(f.base).lower()
    period = escape(f.model.period[f.lang])
    pieces = [parts.help_text(w("channels_help", period=period, scenario=escape(scenario)))]
    if outputs is None:
        return parts.section(
            "channels", w("channels"), *pieces, parts.help_text(w("not_computable"))
        )
    rows = []
    for index, channel in enumerate(f.model.channels):
        name = escape(channel.label[f.lang])
        rows.append(
            [
                f"<b>{name}</b>" if index == 0 else name,
                *(_channel_figure(f, channel, figure) for figure in CHANNEL_COLUMNS),
            ]
        )
    head = [w("channel"), *(w(f"channel_{figure}") for figure in CHANNEL_COLUMNS)]
    pieces.append(parts.table(head, rows, ["", *["n"] * len(CHANNEL_COLUMNS)]))
    kind = f.kind(f.model.channels[0].figures["roi"])
    bars = []
    for channel in f.model.channels:
        value = _channel_value(f, channel.figures["roi"])
        bars.append(
            (channel.label[f.lang], parts.number_or_none(value), f.numbers.format(value, kind))
        )
    title = Text(w.text["chart_channels"]).safe_substitute(scenario=scenario)
    chart = report_charts.channel_bars(
        bars, 0, lambda v: f.numbers.format(v, kind, style="tick"), title
    )
    leaders = _channel_leaders(f)
    reading = (f"<p>{leaders}</p>" if leaders else "") + parts.help_text(w("channels_reading"))
    pieces.append(parts.grid(parts.figure(chart, escape(title)), reading))
    return parts.section("channels", w("channels"), *pieces)


def _channel_value(f: Facts, key: str) -> engine.Value | None:
    """An input's or metric's value in the base scenario, as ``roi-xl read`` gives it."""
    if key in f.model.input_keys:
        return f.read.scenarios[f.base].inputs[key]
    outputs = f.outputs(f.base)
    return outputs[key] if outputs is not None else None


def _channel_figure(f: Facts, channel: Channel, figure: str) -> str:
    key = channel.figures[figure]
    if key in f.model.input_keys:
        return f.num(_channel_value(f, key), f.kind(key), exact=True)
    return f.output(f.base, key)


def _channel_leaders(f: Facts) -> str:
    """Which channel has the highest net ROI, the lowest CAC, the lowest cost per opportunity."""
    leaders, numbers = [], {}
    for figure, pick in (("roi", max), ("cac", min), ("cost_per_opportunity", min)):
        values = [
            (value, channel)
            for channel in f.model.channels
            if isinstance(value := _channel_value(f, channel.figures[figure]), float)
        ]
        if not values:
            return ""
        value, channel = pick(values, key=lambda item: item[0])
        leaders.append(channel)
        numbers[figure] = escape(f.numbers.format(value, f.kind(channel.figures[figure])))
    names = [f"<b>{escape(channel.label[f.lang])}</b>" for channel in leaders]
    if len(set(names)) == 1:
        return f.words(
            "channel_best_all",
            channel=names[0],
            roi=numbers["roi"],
            cac=numbers["cac"],
            opportunity=numbers["cost_per_opportunity"],
        )
    roi, cac, opportunity = (
        f"{name} ({numbers[figure]})"
        for name, figure in zip(names, ("roi", "cac", "cost_per_opportunity"), strict=True)
    )
    return f.words("channel_best", roi=roi, cac=cac, opportunity=opportunity)


# ------------------------------------------------------------------ 5. decide


def _decide(f: Facts) -> str:
    w = f.words
    if f.tornado is None or f.risk is None:
        return parts.section("decide", w("decide"), parts.help_text(w("not_computable")))
    # The tornado's chart and its table may go to separate pages; each other part stays whole.
    return parts.section(
        "decide", w("decide"), *_tornado(f), parts.part(_breakeven(f)), parts.part(_risk(f))
    )


def _tornado(f: Facts) -> tuple[str, str]:
    """The chart with its heading and introduction, and the table of every move."""
    w, tornado = f.words, f.tornado
    assert tornado is not None
    kind = f.kind(f.roi)
    bars = [bar for bar in tornado.bars if bar.swing > 0][:TORNADO_BARS]
    rows = [
        report_charts.TornadoRow(
            label=f.label(bar.input),
            minus=parts.number_or_none(bar.outputs["-20%"]),
            plus=parts.number_or_none(bar.outputs["+20%"]),
            prudent=parts.number_or_none(bar.outputs["prudent"]),
            optimistic=parts.number_or_none(bar.outputs["optimistic"]),
            minus_text=f.numbers.format(bar.outputs["-20%"], kind),
            plus_text=f.numbers.format(bar.outputs["+20%"], kind),
        )
        for bar in bars
    ]
    legend = [w.text[k] for k in ("tornado_minus", "tornado_plus", "tornado_range", "tornado_base")]
    chart = report_charts.tornado(
        rows,
        (parts.number_or_none(tornado.base) or 0.0, f.numbers.format(tornado.base, kind)),
        lambda v: f.numbers.format(v, kind, style="tick"),
        legend,
        w.text["tornado"],
    )
    table = []
    for bar in bars:
        base = f.numbers.format(bar.base_input, f.kind(bar.input), style="exact")
        swing = f.numbers.format(bar.swing, kind, parts.points(kind))
        table.append(
            [
                escape(f.label(bar.input))
                + parts.note(f"{w('base_value')}{w('colon')}{escape(base)}"),
                *(f.num(bar.outputs[move], kind) for move in MOVES),
                f"<b>{escape(swing)}</b>",
            ]
        )
    head = [
        w("assumption"),
        *(f.numbers.percent.replace("#", step) for step in ("−20", "−10", "+10", "+20")),
        escape(f.scenario_name("prudent")),
        escape(f.scenario_name("optimistic")),
        w("swing"),
    ]
    scenario = escape(f.scenario_name(f.base).lower())
    return (
        parts.part(
            f"<h3>{w('tornado')}</h3>"
            + parts.help_text(w("tornado_help", scenario=scenario))
            + parts.figure(chart)
        ),
        parts.table(head, table, ["", *["n"] * 7]),
    )


def _breakeven(f: Facts) -> str:
    w = f.words
    rows = []
    for result in f.breakevens:
        kind = f.kind(result.driver)
        companions = ""
        headroom = ""
        if result.value is not None:
            value = f"<b>{f.num(result.value, kind, f'break_even.{result.driver}')}</b>"
            gap = result.value - result.base_value
            headroom = escape(f.numbers.format(gap, kind, parts.points(kind), signed=True))
            if result.base_value:
                relative = f.numbers.format(gap / result.base_value, "percent", signed=True)
                headroom += parts.note(f"({escape(relative)})")
            companions = "<br>".join(
                _companion(f, key, value, result.base_companions[key])
                for key, value in result.companions.items()
            )
        else:
            key = {1: "no_breakeven_up", -1: "no_breakeven_down"}.get(result.sign, "no_breakeven")
            low = escape(f.numbers.format(result.minimum, kind, style="exact"))
            high = escape(f.numbers.format(result.maximum, kind, style="exact"))
            value, companions = "–", w(key, min=low, max=high)
        label = escape(f.label(result.driver))
        base = f.num(result.base_value, kind, exact=True)
        rows.append([label, base, value, headroom, companions])
    head = [w(k) for k in ("driver", "base_value", "breakeven_value", "headroom", "at_breakeven")]
    scenario = escape(f.scenario_name(f.base).lower())
    return (
        f"<h3>{w('breakeven')}</h3>"
        + parts.help_text(w("breakeven_help", scenario=scenario))
        + parts.table(head, rows, ["", "n", "n", "n", ""])
    )


def _companion(f: Facts, key: str, value: engine.Value, base: engine.Value) -> str:
    """'Recovered calls: 36 (base value: 171)'."""
    colon, kind = f.words("colon"), f.kind(key)
    return (
        f"{escape(f.label(key))}{colon}<b>{f.num(value, kind)}</b> <span class='note'>"
        f"({f.words('base_value')}{colon}{f.num(base, kind)})</span>"
    )


def _percentile(f: Facts, value: float | None) -> str:
    """A scenario's place on the range: "P2.7", or a dash when it has no value."""
    return "–" if value is None else f"P{f.numbers.plain(value, 1)}"


def _risk(f: Facts) -> str:
    w, risk = f.words, f.risk
    assert risk is not None
    kind = f.kind(risk.metric)
    rows = [
        [w("p10"), f.num(risk.p10, kind)],
        [w("p50"), f.num(risk.p50, kind)],
        [w("p90"), f.num(risk.p90, kind)],
        [w("below_zero"), f"<b>{f.num(risk.probability_below_zero, 'percent')}</b>"],
        [w("realistic_roi"), f.num(risk.deterministic, kind)],
        *(
            [w(f"{name}_on_range", at=_percentile(f, at)), f.num(value, kind)]
            for name, value, at in (
                ("prudent", risk.prudent, risk.prudent_percentile),
                ("optimistic", risk.optimistic, risk.optimistic_percentile),
            )
        ),
    ]
    if risk.errors:
        rows.append([w("no_result"), f.numbers.plain(risk.errors, 0)])
    markers = [
        (name, value)
        for name, value in (("P10", risk.p10), ("P50", risk.p50), ("P90", risk.p90))
        if value is not None
    ]
    chart = report_charts.histogram(
        risk.values.tolist(),
        markers,
        lambda v: f.numbers.format(v, kind, style="tick"),
        w.text["chart_risk"],
    )
    draws = f.numbers.plain(risk.draws, 0)
    within = ", ".join(
        f"{w('across_groups') if k == ACROSS else f.numbers.locale.section(k)} "
        f"{f.numbers.plain(v, 2)}"
        for k, v in risk.correlation.items()
    )
    return (
        f"<h3>{w('risk')}</h3>"
        + parts.help_text(
            w("risk_help", draws=draws, seed=str(risk.seed), correlation=escape(within))
        )
        + parts.grid(
            parts.table([w("measure"), escape(f.label(risk.metric))], rows, ["", "n"]),
            parts.figure(chart, w("chart_risk")),
        )
    )


# ------------------------------------------------------------------ 6. measurement plan


def _measurement(f: Facts) -> str:
    w = f.words
    fields = [f"monthly.{x.key}" for x in f.model.monthly.fields]
    rows: list[Sequence[str] | str] = []
    for cadence, keys in (
        ("cadence_weekly", f.config.get("weekly", [])),
        ("cadence_monthly", f.config.get("monthly", [*fields, f.roi])),
    ):
        if keys:
            rows.append(parts.group(w(cadence), 2))
        rows += [list(parts.plan_item(f, key)) for key in keys]
    note = f.config.get("plan_note", {}).get(f.lang, "")
    scenario = escape(f.scenario_name(f.base).lower())
    head = [w("indicator"), w("target", scenario=scenario)]
    return parts.section(
        "measurement",
        w("measurement"),
        parts.help_text(escape(note)) if note else "",
        parts.table(head, rows, ["", "n"]),
    )


# ------------------------------------------------------------------ 7. assumptions


def _assumptions(f: Facts) -> str:
    w = f.words
    rows: list[Sequence[str] | str] = []
    section = None
    for item in f.model.inputs:
        if item.section != section:
            section = item.section
            rows.append(parts.group(escape(f.locale.section(section)), 5))
        values = {s: f.read.scenarios[s].inputs[item.key] for s in SCENARIOS}
        rows.append(
            [
                escape(item.label[f.lang]),
                *(f.num(values[s], item.kind, exact=True) for s in SCENARIOS),
                _source(f, item, values),
            ]
        )
    head = [w("assumption"), *(escape(f.scenario_name(s)) for s in SCENARIOS), w("source")]
    return parts.section(
        "assumptions",
        w("assumptions"),
        parts.help_text(w("assumptions_help")),
        parts.table(head, rows, ["", "n", "n", "n", "src"], css="long"),
    )


def _source(f: Facts, item: Input, values: Mapping[str, float | None]) -> str:
    """The input's note (one, or one per scenario), and a mark when the workbook changed it."""
    notes = dict.fromkeys(item.note(s, f.lang) for s in SCENARIOS)
    if len(notes) == 1:
        text = escape(next(iter(notes)))
    else:
        text = "<br>".join(
            f"<i>{escape(f.scenario_name(s))}</i>{f.words('colon')}{escape(item.note(s, f.lang))}"
            for s in SCENARIOS
        )
    if any(values[s] != item.defaults[s] for s in SCENARIOS):
        defaults = " / ".join(
            f.numbers.format(item.defaults[s], item.kind, style="exact") for s in SCENARIOS
        )
        edited = f.words("edited", default=escape(defaults))
        text += f"<br><span class='edited'>✎ {edited}</span>"
    return text


# ------------------------------------------------------------------ 8. audit


def _audit(f: Facts) -> str:
    w, findings = f.words, f.read.findings
    errors = sum(x.severity == "error" for x in findings)
    warnings = len(findings) - errors
    if errors:
        status = w("audit_errors", errors=str(errors), warnings=str(warnings))
        tone = "bad"
    elif warnings:
        status, tone = w("audit_warnings", warnings=str(warnings)), "warn"
    else:
        status, tone = w("audit_clean"), "good"
    pieces = [f"<p><span class='badge {tone}'>{status}</span></p>"]
    if findings:
        rows = [
            [w(x.severity), escape(x.where), f"<code>{escape(x.rule)}</code>", escape(x.message)]
            for x in findings[:FINDINGS_SHOWN]
        ]
        pieces.append(parts.table([w(k) for k in ("severity", "where", "rule", "what")], rows))
        if len(findings) > FINDINGS_SHOWN:
            more = w("audit_more", count=str(len(findings) - FINDINGS_SHOWN))
            pieces.append(f"<p class='note'>{more}</p>")
    return parts.section("audit", w("audit_section"), *pieces)
