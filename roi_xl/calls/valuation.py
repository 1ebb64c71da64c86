"""What the missed callers never recovered are worth, valued the way the phone-system model does.

The model values its loss as MISSEDCALLLOSS(missed callers not recovered, lead rate,
conversion rate, average value); the log's loss uses the same function on the log's
``missed_not_recovered`` callers (spam excluded), so the two agree on one basis. The rates
are a workbook's own (its selected scenario), else the phone-system template's defaults
for a scenario (realistic, as a new workbook opens).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from roi_xl.calls.errors import CallLogError
from roi_xl.calls.result import CallAnalysis, PeriodFigures
from roi_xl.inspect.reader import read_workbook
from roi_xl.model import template
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import SCENARIOS

MODEL = "phone-system"
DEFAULT_SCENARIO = "realistic"
RATE_KEYS = ("lead_rate", "conversion_rate", "average_value")


@dataclass(frozen=True)
class LossRates:
    """The three rates a missed caller is valued with, and where they come from."""

    lead_rate: float
    conversion_rate: float
    average_value: float
    source: str

    def value(self, callers: int) -> float:
        """MISSEDCALLLOSS(callers, lead rate, conversion rate, average value)."""
        loss = FUNCTIONS["MISSEDCALLLOSS"](
            float(callers), self.lead_rate, self.conversion_rate, self.average_value
        )
        return round(float(loss), 2)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, float | str]:
        return {
            "lead_rate": self.lead_rate,
            "conversion_rate": self.conversion_rate,
            "average_value": self.average_value,
            "source": self.source,
        }


def template_rates(scenario: str = DEFAULT_SCENARIO) -> LossRates:
    """The phone-system template's default rates for ``scenario``."""
    if scenario not in SCENARIOS:
        raise CallLogError(f"--scenario {scenario!r}: expected one of {', '.join(SCENARIOS)}")
    inputs = {item.key: item for item in template.load_builtin(MODEL).inputs}
    values = [float(inputs[key].defaults[scenario]) for key in RATE_KEYS]
    return LossRates(*values, source=f"{MODEL} template, {scenario} scenario")


def workbook_rates(path: Path) -> LossRates:
    """The rates of the scenario a phone-system workbook has selected."""
    read = read_workbook(path)
    scenario = read.selected_scenario
    if scenario is None:
        raise CallLogError(f"--value-from {path}: no scenario is selected on its Inputs sheet")
    inputs = read.scenarios[scenario].inputs
    values: list[float] = []
    for key in RATE_KEYS:
        value = inputs.get(key)
        if value is None or not math.isfinite(value) or value < 0:
            raise CallLogError(
                f"--value-from {path}: input {key} of the {scenario} scenario is {value!r}, "
                "not a number of 0 or more (a phone-system workbook has it on its Inputs sheet)"
            )
        values.append(float(value))
    return LossRates(*values, source=f"{path.name}, {scenario} scenario")


def value_losses(analysis: CallAnalysis, rates: LossRates) -> None:
    """Set the missed-call loss of every period, and of each caller type, in place."""
    periods = [
        analysis.total,
        *analysis.months.values(),
        *analysis.weeks.values(),
        *(window.figures for window in analysis.windows.values()),
    ]
    for figures in periods:
        _value(figures, rates)
    analysis.loss_basis = rates.to_dict()


def _value(figures: PeriodFigures, rates: LossRates) -> None:
    figures.missed_call_loss = rates.value(figures.missed_not_recovered)
    figures.by_caller_type = {
        kind: replace(types, missed_call_loss=rates.value(types.missed_not_recovered))
        for kind, types in figures.by_caller_type.items()
    }
