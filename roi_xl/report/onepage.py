"""The report's first page: the one-page investment justification a finance director reads.

The phone-system article asks for one page with the current state, the impact and
the measurement plan; finance adds the ask, the recommendation, the business case
and its risk. Everything here is a figure the appendix details, so the page only
picks and words them, and prints on one A4 or Letter page.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from roi_xl.report import parts
from roi_xl.report.facts import Facts
from roi_xl.report.recommend import (
    APPROVE,
    FIX_FIRST,
    REJECT,
    TEST_FIRST,
    Recommendation,
    recommend,
)

TONES = {APPROVE: "good", TEST_FIRST: "warn", REJECT: "bad", FIX_FIRST: "bad"}


def first_page(f: Facts) -> str:
    """The ask and the recommendation, the business case, the risk, today, and the plan."""
    w = f.words
    errors = sum(x.severity == "error" for x in f.read.findings)
    audit = w("audit_tile_errors", errors=str(errors)) if errors else w("audit_tile_clean")
    closing = (
        f'<p class="closing"><span class="badge {"bad" if errors else "good"}">'
        f"{w('audit')}{w('colon')}{audit}</span> {w('appendix_next')}</p>"
    )
    return (
        '<section id="summary">'
        + _pair(_ask(f), _recommendation(f))
        + _business_case(f)
        + _pair(_risk(f), _current_state(f))
        + _plan(f)
        + closing
        + "</section>"
    )


def _pair(left: str, right: str) -> str:
    return f'<div class="pair">{left}{right}</div>'


def _block(css: str, title: str, *content: str) -> str:
    return f'<div class="block {css}"><h2>{title}</h2>{"".join(content)}</div>'


def _horizon(f: Facts, periods: float) -> str:
    return f"{f.numbers.plain(periods, 0)} {f.locale.unit_of('months', periods)}"


# ------------------------------------------------------------------ the ask


def _ask(f: Facts) -> str:
    """What the budget is: each cost line of the timeline over the horizon, and the total."""
    w = f.words
    what = escape(f.config.get("object", {}).get(f.lang, "")) or w("object_default")
    found, timeline = f.timeline(f.base), f.model.timeline
    if found is None or timeline is None:
        return _block("ask", w("ask"), f"<p>{w('ask_unknown', object=what)}</p>")
    values, figures = found
    horizon = _horizon(f, values.periods)
    rows = []
    for key in timeline.costs:
        months = values.rows[key].values.reshape(-1)
        spent = [float(v) for v in months if v]
        shown = f.num(float(months.sum()), "currency")
        if len(spent) > 1 and len(set(spent)) == 1:
            monthly = f.numbers.format(spent[0], "currency")
            shown = f"<span class='note'>{w('per_month', amount=escape(monthly))}</span> {shown}"
        rows.append([escape(timeline.row(key).label[f.lang]), shown])
    total = sum(float(values.rows[key].values.sum()) for key in timeline.costs)
    rows.append(
        f"<tr class='strong'><td>{w('ask_total', horizon=horizon)}</td>"
        f"<td class='n'>{f.num(total, 'currency')}</td></tr>"
    )
    if "costs_pv" in figures:
        label = escape(timeline.result("costs_pv").label[f.lang])
        rows.append([label, f.num(figures["costs_pv"], "currency")])
    sentence = w("ask_text", object=what, horizon=horizon)
    return _block("ask", w("ask"), f"<p>{sentence}</p>", _plain_table(rows))


def _plain_table(rows: Sequence[Sequence[str] | str]) -> str:
    """Label and figure rows without a heading row: a small table inside a block."""
    body = "".join(
        row if isinstance(row, str) else f"<tr><td>{row[0]}</td><td class='n'>{row[1]}</td></tr>"
        for row in rows
    )
    return f"<table class='plain'><tbody>{body}</tbody></table>"


# ------------------------------------------------------------------ the recommendation


def _recommendation(f: Facts) -> str:
    w, found = f.words, recommend(f)
    scenario = escape(f.scenario_name(f.base).lower())
    badge = (
        f"<span class='badge {TONES.get(found.verdict, 'warn')}'>{w(f'rec_{found.verdict}')}</span>"
    )
    text = w(
        f"rec_{found.verdict}_text",
        adjusted=_money(f, found.npv_adjusted),
        prudent=_money(f, found.prudent_npv),
        scenario=scenario,
        errors=str(found.errors),
    )
    pieces = [f"<p>{badge}</p>", f"<p>{text}</p>"]
    if found.verdict == TEST_FIRST:
        pieces.append(f"<p>{_threshold(f, found)}</p>")
    pieces.append(f"<p class='note'>{w('rec_rule')}</p>")
    return _block("recommendation", w("recommendation"), *pieces)


def _lower_first(label: str) -> str:
    """'Answer rate' -> 'answer rate' inside a sentence; 'CAC' stays as it is."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _money(f: Facts, value: float | None) -> str:
    return f"<b>{f.num(value, 'currency')}</b>"


def _threshold(f: Facts, found: Recommendation) -> str:
    """What the test window must show: the key driver past its break-even."""
    w, threshold = f.words, found.threshold
    if threshold is None or threshold.value is None:
        return w("rec_measure_plan")
    kind = f.kind(threshold.driver)
    return w(
        "rec_threshold_at_least" if found.at_least else "rec_threshold_at_most",
        driver=escape(_lower_first(parts.clean(f.label(threshold.driver)))),
        value=f"<b>{f.num(threshold.value, kind)}</b>",
        base=f.num(threshold.base_value, kind, exact=True),
        scenario=escape(f.scenario_name(f.base).lower()),
    )


# ------------------------------------------------------------------ the business case


def _business_case(f: Facts) -> str:
    """NPV, ROI over the horizon, payback month, IRR, then the ROI of one period, named so."""
    w, outputs = f.words, f.outputs(f.base)
    scenario = escape(f.scenario_name(f.base).lower())
    found = f.timeline(f.base)
    tiles = _horizon_tiles(f)
    period = escape(f.model.period[f.lang])
    tone = (
        "good" if isinstance(value := (outputs or {}).get(f.roi), float) and value >= 0 else "bad"
    )
    tiles.append(parts.tile(w("net_roi_period"), f.output(f.base, f.roi), period, tone))
    if f.multiple:
        tiles.append(parts.tile(w("return_multiple_period"), f.output(f.base, f.multiple), period))
    title = (
        w("case_title", horizon=_horizon(f, found[0].periods), scenario=scenario)
        if found is not None
        else w("case_title_period", scenario=scenario)
    )
    return _block("case", title, f'<div class="tiles">{"".join(tiles)}</div>', _impact(f))


def _horizon_tiles(f: Facts) -> list[str]:
    """NPV and ROI over the horizon (risk-adjusted beneath), payback month and IRR."""
    found = f.timeline(f.base)
    if found is None:
        return []
    w, (values, figures) = f.words, found
    horizon = f"{values.periods:g}"
    adjusted = w.text["risk_adjusted"]

    def shown(key: str, kind: str) -> str:
        value = figures[key]
        if value is None:
            text = f.model.timeline.result(key).absent_text  # type: ignore[union-attr]
            return escape(text[f.lang].replace("{horizon}", horizon)) if text else "–"
        return f.num(value, kind)

    def beneath(key: str, kind: str) -> str:
        return f"{adjusted}{w.text['colon']}{f.numbers.format(figures[key], kind)}"

    tone = "good" if isinstance(figures["npv"], float) and figures["npv"] >= 0 else "bad"
    of_horizon = w.text["payback_of"].replace("$horizon", _horizon(f, values.periods))
    return [
        parts.tile(
            w("npv"), shown("npv", "currency"), beneath("npv_risk_adjusted", "currency"), tone
        ),
        parts.tile(
            w("roi_horizon"),
            shown("roi_horizon", "percent"),
            beneath("roi_horizon_risk_adjusted", "percent"),
        ),
        parts.tile(w("payback_month"), shown("payback_month", "count"), of_horizon),
        _irr_tile(f, figures["irr"], shown("irr", "percent")),
    ]


_IRR_SHOWN_UP_TO = 10.0  # 1,000 % a year: above it, a yearly rate of a fast payback says little


def _irr_tile(f: Facts, irr: object, shown: str) -> str:
    """The IRR, or 'above 1,000 %' where a payback within months compounds past reading."""
    w = f.words
    if isinstance(irr, float) and irr > _IRR_SHOWN_UP_TO:
        above = w(
            "irr_above", rate=escape(f.numbers.format(_IRR_SHOWN_UP_TO, "percent", style="tick"))
        )
        return parts.tile(
            w("irr"),
            above,
            w.text["irr_above_sub"].replace("$rate", f.numbers.format(irr, "percent")),
        )
    return parts.tile(w("irr"), shown, w.text["irr_sub"])


def _impact(f: Facts) -> str:
    """A few outcomes of one period (the article's validated impact), as the model computes them."""
    keys = [k for k in f.config.get("summary_impact", ()) if k in f.model.metric_keys]
    if not keys or f.outputs(f.base) is None:
        return ""
    items = "".join(
        f"<div><dt>{escape(f.label(key))}</dt><dd>{f.output(f.base, key)}</dd></div>"
        for key in keys
    )
    title = f.words("impact_line", period=escape(f.model.period[f.lang]))
    return f'<p class="impact-title">{title}</p><dl class="impact">{items}</dl>'


# ------------------------------------------------------------------ risk, today, the plan


def _risk(f: Facts) -> str:
    """The range 8 cases in 10 fall in, its median, and the chance of a loss."""
    w, risk = f.words, f.risk
    if risk is None:
        return _block("risk", w("risk"), parts.help_text(w("not_computable")))
    kind = f.kind(risk.metric)
    median = f"{w.text['median']}{w.text['colon']}{f.numbers.format(risk.p50, kind)}"
    draws = w.text["draws"].replace("$draws", f.numbers.plain(risk.draws, 0))
    loss = f.numbers.format(risk.probability_below_zero, "percent")
    tiles = [
        parts.tile(w("risk_range"), f"{f.num(risk.p10, kind)} – {f.num(risk.p90, kind)}", median),
        parts.tile(w("loss_probability"), escape(loss), draws),
    ]
    return _block("risk", w("risk"), f'<div class="tiles two">{"".join(tiles)}</div>')


def _current_state(f: Facts) -> str:
    """Today's KPIs against the target (or the funnel, for a template without before/after):
    those the template's report settings choose, or all of them."""
    w = f.words
    for old, new, heads in (
        ("_before", "_after", ("before", "after")),
        ("_baseline", "_current", ("baseline", "current")),
    ):
        chosen = f.config.get("summary_state")
        pairs = [
            (item.key, item.key.removesuffix(old) + new)
            for item in f.model.inputs
            if item.key.endswith(old)
            and item.key.removesuffix(old) + new in f.model.input_keys
            and (chosen is None or item.key in chosen)
        ]
        if pairs:
            return _block("state", w("current_state"), parts.pairs_table(f, pairs, heads))
    return _block("state", w("current_state"), parts.funnel(f)[0])


def _plan(f: Facts) -> str:
    """What is measured each week and each month, with the base scenario's targets."""
    w = f.words
    scenario = escape(f.scenario_name(f.base).lower())
    fields = [f"monthly.{x.key}" for x in f.model.monthly.fields]
    tables = []
    for cadence, keys in (
        ("cadence_weekly", f.config.get("weekly", [])),
        ("cadence_monthly", f.config.get("monthly", [*fields, f.roi])),
    ):
        if keys:
            rows = [list(parts.plan_item(f, key, short=True)) for key in keys]
            head = [w(cadence), w("target", scenario=scenario)]
            tables.append(parts.table(head, rows, ["", "n"]))
    body = "".join(f"<div>{table}</div>" for table in tables)
    return _block(
        "plan",
        w("measurement"),
        f'<div class="pair">{body}</div>',
        parts.help_text(w("plan_where", actuals=escape(f.locale.sheets["actuals"]))),
    )
