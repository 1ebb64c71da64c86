"""The named business functions, each defined once as an expression.

Templates call them (``ROI(gross_margin, total_cost)``), the workbook writes
them out as Excel formulas, and the Excel functions (UDFs, named LAMBDAs) wrap
them: a formula is never written a second time anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from roi_xl.model import expr
from roi_xl.model.excel_errors import ExcelError


@dataclass(frozen=True)
class Parameter:
    """One argument: its name, what it means, and what values make sense."""

    name: str
    doc: str
    kind: str  # "count", "rate", "amount", "years" or "number"


@dataclass(frozen=True)
class BusinessFunction:
    """A named formula with documented parameters."""

    name: str
    params: tuple[Parameter, ...]
    formula: str
    description: str
    source: str
    body: expr.Node = field(repr=False)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(param.name for param in self.params)

    def __call__(self, *args: float | np.ndarray) -> float | ExcelError | np.ndarray:
        """Evaluate on numbers (a float or an ExcelError) or arrays (an object array)."""
        if len(args) != len(self.params):
            raise TypeError(f"{self.name}() takes {len(self.params)} arguments, got {len(args)}")
        result = expr.evaluate(self.body, dict(zip(self.param_names, args, strict=True)), FUNCTIONS)
        if result.values.ndim == 0:
            return result.scalar()
        return result.to_objects()


# What PAYBACKMONTHS gives when the upfront cost is never paid back: no month number can
# be negative, so -1 is unambiguous, and a number (not an error value) keeps the Dashboard
# and every ratio built on it clean; the "months" number format shows it as "never".
PAYBACK_NEVER = -1.0

SOURCE_PHONE = "Measuring Phone System ROI (seed 000)"
SOURCE_CRM = "How to Measure CRM ROI with Key KPIs (seed 001)"
SOURCE_PHONING = "Phoning B2B : calculer le retour sur investissement réel (seed 002)"

# name, parameters, formula, description, source. Later entries may call earlier ones.
_DEFINITIONS: list[tuple[str, list[tuple[str, str, str]], str, str, str]] = [
    (
        "ROI",
        [
            ("gain", "What the investment brought in (e.g. gross margin)", "amount"),
            ("cost", "What the investment cost", "amount"),
        ],
        "(gain - cost) / cost",
        "Net return on investment: (gain - cost) / cost. 2.0 means 200 %.",
        SOURCE_CRM,
    ),
    (
        "RETURNMULTIPLE",
        [
            ("gain", "What the investment brought in", "amount"),
            ("cost", "What the investment cost", "amount"),
        ],
        "gain / cost",
        "Return multiple: gain / cost. 3.0 means every 1 spent brought 3 back.",
        SOURCE_PHONING,
    ),
    (
        "PHONEROI",
        [
            ("incremental_gross_profit", "Gross profit the phone system added", "amount"),
            ("incremental_cost", "What the phone system added to costs", "amount"),
        ],
        "ROI(incremental_gross_profit, incremental_cost)",
        "Phone system ROI: (incremental gross profit - incremental phone costs)"
        " / incremental phone costs.",
        SOURCE_PHONE,
    ),
    (
        "MISSEDCALLLOSS",
        [
            ("missed_calls", "Calls not answered", "count"),
            ("lead_rate", "Share of calls that are true sales opportunities", "rate"),
            ("conversion_rate", "Share of answered, qualified leads that buy", "rate"),
            ("average_value", "Average revenue (or gross profit) per closed outcome", "amount"),
        ],
        "missed_calls * lead_rate * conversion_rate * average_value",
        "Revenue lost to missed calls: missed calls x lead rate x conversion rate x average value.",
        SOURCE_PHONE,
    ),
    (
        "CAC",
        [
            ("total_cost", "Everything the acquisition channel cost", "amount"),
            ("new_customers", "Customers won through the channel", "count"),
        ],
        "total_cost / new_customers",
        "Customer acquisition cost: total cost / new customers won.",
        SOURCE_PHONING,
    ),
    (
        "COSTPER",
        [
            ("cost", "Total cost", "amount"),
            ("units", "Number of units (conversations, meetings, proposals...)", "count"),
        ],
        "cost / units",
        "Cost per unit: cost / units (cost per conversation, meeting, proposal...).",
        SOURCE_PHONING,
    ),
    (
        "CONVRATE",
        [
            ("to_stage", "Count reaching the later stage", "count"),
            ("from_stage", "Count at the earlier stage", "count"),
        ],
        "to_stage / from_stage",
        "Conversion rate between two funnel stages: later stage / earlier stage.",
        SOURCE_PHONING,
    ),
    (
        "DISCOUNTFACTOR",
        [("discount_rate", "Yearly discount rate", "rate"), ("year", "Years from today", "years")],
        "1 / (1 + discount_rate) ^ year",
        "Discount factor: 1 / (1 + rate) ^ year, to bring a future amount to today's value.",
        SOURCE_CRM,
    ),
    (
        "LTV",
        [
            (
                "first_year_margin",
                "Margin of the first year: the deal signed, one-off and recurring parts together",
                "amount",
            ),
            ("recurring_margin", "Margin a kept customer brings in each later year", "amount"),
            ("years", "Years the relationship lasts at most, the first year included", "years"),
            ("churn_rate", "Share of customers lost each year", "rate"),
            ("discount_rate", "Yearly discount rate", "rate"),
        ],
        "IF(years <= 0, 0, first_year_margin + recurring_margin"
        " * IF((1 - churn_rate) / (1 + discount_rate) = 1, MAX(years - 1, 0),"
        " ((1 - churn_rate) / (1 + discount_rate)"
        " - ((1 - churn_rate) / (1 + discount_rate)) ^ MAX(years, 1))"
        " / (1 - (1 - churn_rate) / (1 + discount_rate))))",
        "Customer lifetime value: the first year's margin as signed (not discounted), then the"
        " recurring margin of each later year t, kept at (1 - churn)^t and discounted by"
        " (1 + rate)^t. One year gives exactly the first year's margin.",
        SOURCE_PHONING,
    ),
    (
        "PAYBACKMONTHS",
        [
            ("upfront_cost", "What is paid before any gain", "amount"),
            ("monthly_net_gain", "Gain per month after running costs", "amount"),
        ],
        "IF(monthly_net_gain > 0, upfront_cost / monthly_net_gain, IF(upfront_cost > 0, -1, 0))",
        'Months to pay back the upfront cost; -1 (shown as "never") when the monthly net gain'
        " is not positive, 0 when there is nothing to pay back.",
        SOURCE_PHONE,
    ),
    (
        "SUPPORTVALUE",
        [
            ("repeat_contacts_avoided", "Repeat contacts no longer needed", "count"),
            ("cost_per_contact", "What one support contact costs", "amount"),
        ],
        "repeat_contacts_avoided * cost_per_contact",
        "Support value: repeat contacts avoided x cost per contact.",
        SOURCE_PHONE,
    ),
]


def _build() -> dict[str, BusinessFunction]:
    registry: dict[str, BusinessFunction] = {}
    for name, params, formula, description, source in _DEFINITIONS:
        body = expr.parse(formula, registry)
        unknown = expr.names(body) - {param[0] for param in params}
        if unknown:
            raise AssertionError(f"{name} refers to {sorted(unknown)}")
        registry[name] = BusinessFunction(
            name=name,
            params=tuple(Parameter(*param) for param in params),
            formula=formula,
            description=description,
            source=source,
            body=body,
        )
    return registry


FUNCTIONS: Mapping[str, BusinessFunction] = _build()
