"""The figures a decision rests on: tornado, break-evens and risk range, from one set of inputs.

The report and ``roi-xl decide`` both start here, so the page a finance
director forwards and the numbers an analyst scripts against are the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from roi_xl.decide.break_even import BreakEven, break_even, key_drivers
from roi_xl.decide.risk import DRAWS, RiskRange, check_draws, label_and_kind, risk_range
from roi_xl.decide.sensitivity import Tornado, sensitivity
from roi_xl.errors import InputError
from roi_xl.model import engine
from roi_xl.model.template import SCENARIOS, Template
from roi_xl.presentation import format_value

Scenarios = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class Decision:
    """Around the ``base`` scenario: what moves each headline output, where the ROI breaks
    even, how wide its range is."""

    model: Template
    base: str
    metric: str  # the headline ROI (the tornado's and the break-evens'; the risk range
    # is of the business case over its horizon, ``risk.metric``)
    tornados: dict[str, Tornado]  # one per headline output, the ROI's first
    break_evens: tuple[BreakEven, ...]
    risk: RiskRange

    @property
    def tornado(self) -> Tornado:
        """The headline ROI's tornado."""
        return self.tornados[self.metric]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``roi-xl decide --json``; values as Excel shows them."""
        shown = engine.as_displayed
        return {
            "template": self.model.key,
            "base": self.base,
            "metric": self.metric,
            "base_value": shown(self.tornado.base),
            "tornado": _bars(self.tornado),
            "tornado_by_output": {
                key: {"base_value": shown(tornado.base), "bars": _bars(tornado)}
                for key, tornado in self.tornados.items()
            },
            "break_even": [
                {
                    "driver": result.driver,
                    "today": result.base_value,
                    "value": None if result.value is None else shown(result.value),
                    "stays": {1: "above zero", -1: "below zero"}.get(result.sign)
                    if result.value is None
                    else None,
                    "range": [result.minimum, result.maximum],
                    "at_break_even": {k: shown(v) for k, v in result.companions.items()},
                }
                for result in self.break_evens
            ],
            "risk": {
                "metric": self.risk.metric,
                "loss_measure": self.risk.loss_measure,
                "draws": self.risk.draws,
                "seed": self.risk.seed,
                "p10": self.risk.p10,
                "p50": self.risk.p50,
                "p90": self.risk.p90,
                "probability_below_zero": self.risk.probability_below_zero,
                "errors": self.risk.errors,
                "correlation": self.risk.correlation,
                "prudent": shown(self.risk.prudent),
                "prudent_percentile": self.risk.prudent_percentile,
                "optimistic": shown(self.risk.optimistic),
                "optimistic_percentile": self.risk.optimistic_percentile,
            },
        }


def _bars(tornado: Tornado) -> list[dict[str, Any]]:
    shown = engine.as_displayed
    return [
        {
            "input": bar.input,
            "base": bar.base_input,
            "low": None if bar.low is None else shown(bar.low),
            "high": None if bar.high is None else shown(bar.high),
            "swing": shown(bar.swing),
            "inputs": bar.inputs,
            "outputs": {move: shown(v) for move, v in bar.outputs.items()},
        }
        for bar in tornado.bars
    ]


def decide(
    model: Template,
    scenarios: Scenarios,
    base: str,
    seed: int = 0,
    draws: int = DRAWS,
    solved: tuple[BreakEven, ...] | None = None,
    correlation: Mapping[str, float] | None = None,
) -> Decision:
    """Tornado and break-evens around ``scenarios[base]``; risk over the three scenarios.

    ``solved``: the break-evens already found for that base (by the reader), kept as they are.
    """
    if base not in SCENARIOS:
        raise InputError(f"unknown scenario '{base}' (choose {', '.join(SCENARIOS)})")
    check_draws(draws, seed)
    metric = model.headline[0]
    return Decision(
        model=model,
        base=base,
        metric=metric,
        tornados=sensitivity(model, scenarios, base, model.headline),
        break_evens=solved
        if solved is not None
        else tuple(
            break_even(model, scenarios[base], driver, metric, companions)
            for driver, companions in key_drivers(model)
        ),
        risk=risk_range(model, scenarios, None, draws, seed, correlation),
    )


def print_decision(
    console: Console, decision: Decision, top: int = 10, output: str | None = None
) -> None:
    """The decision in a terminal: the tornado of ``output`` (the headline ROI by default),
    the break-evens and the risk range."""
    model = decision.model
    key = output or decision.metric
    if key not in decision.tornados:
        raise InputError(
            f"'{key}' is not a headline output of template '{model.key}' "
            f"(choose {', '.join(decision.tornados)})"
        )
    tornado, metric = decision.tornados[key], model.metric(key)
    kind = metric.kind
    console.print(
        f"[bold]{model.title.en}[/]: {metric.label.en} = "
        f"[bold]{format_value(tornado.base, kind)}[/] in the {decision.base} scenario"
    )
    shown = min(top, len(tornado.bars))
    table = Table(
        title=f"What moves it most: each input alone, -20 % to +20 % and prudent to optimistic "
        f"(top {shown}; --json for every move)"
    )
    table.add_column("input", ratio=3)
    for heading in ("today", "lowest", "highest", "swing"):
        table.add_column(heading, justify="right", no_wrap=True)
    for bar in tornado.bars[:top]:
        item = model.input(bar.input)
        table.add_row(
            item.label.en,
            format_value(bar.base_input, item.kind),
            "-" if bar.low is None else format_value(bar.low, kind),
            "-" if bar.high is None else format_value(bar.high, kind),
            format_value(bar.swing, kind),
        )
    console.print(table)
    for result in decision.break_evens:
        item = model.input(result.driver)
        today = format_value(result.base_value, item.kind)
        if result.value is None:
            stays = {1: "stays above 0", -1: "stays below 0"}.get(result.sign, "has no sign")
            console.print(
                f"Break-even {item.label.en}: none; the ROI {stays} from "
                f"{format_value(result.minimum, item.kind)} to "
                f"{format_value(result.maximum, item.kind)} (today {today})"
            )
            continue
        companions = ", ".join(
            f"{model.metric(k).label.en} {format_value(v, model.metric(k).kind)}"
            for k, v in result.companions.items()
        )
        console.print(
            f"Break-even {item.label.en}: [bold]{format_value(result.value, item.kind)}[/] "
            f"(today {today})" + (f"; there {companions}" if companions else "")
        )
    risk = decision.risk
    label, kind = label_and_kind(model, risk.metric)
    if risk.p10 is None or risk.p50 is None or risk.p90 is None:
        console.print(f"Risk range of the {label.en}: no computable draw out of {risk.draws:,}")
        return
    loss_label = label_and_kind(model, risk.loss_measure)[0].en
    console.print(
        f"Risk range of the {label.en} over {risk.draws:,} draws (seed {risk.seed}): P10 "
        f"{format_value(risk.p10, kind)}, P50 {format_value(risk.p50, kind)}, P90 "
        f"{format_value(risk.p90, kind)}; chance of a loss ({loss_label} below zero) "
        f"{risk.probability_below_zero * 100:.1f} %"
        + (f"; {risk.errors:,} draws not computable" if risk.errors else "")
    )
    console.print(
        f"The scenarios on that range: prudent {format_value(risk.prudent, kind)} "
        f"at P{_percentile(risk.prudent_percentile)}, optimistic "
        f"{format_value(risk.optimistic, kind)} at P{_percentile(risk.optimistic_percentile)}; "
        "inputs correlated "
        + ", ".join(f"{group} {value:g}" for group, value in risk.correlation.items())
    )


def _percentile(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
