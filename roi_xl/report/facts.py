"""What the report knows before it writes a word: its words, its number style, its figures.

``build_facts`` reads the template, recomputes the plan and takes the decision
figures (tornado, break-evens, risk range) from ``roi_xl.decide.decision``, once, for
every section of the page to share.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from importlib import resources
from string import Template as Text
from typing import Any

from roi_xl.decide.break_even import BreakEven
from roi_xl.decide.risk import RiskRange, label_and_kind
from roi_xl.decide.sensitivity import Tornado
from roi_xl.inspect.reader import WorkbookRead
from roi_xl.inspect.workbook_decision import decide_read
from roi_xl.locale import Locale, load_locale
from roi_xl.model import engine, timeline
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.functions import PAYBACK_NEVER
from roi_xl.model.template import Template
from roi_xl.typography import spaced
from roi_xl.workbook.values import WorkbookValues, compute_values

# ------------------------------------------------------------------ words and numbers


@dataclass(frozen=True)
class Words:
    """The report's sentences in one language; values are substituted as given (HTML)."""

    text: Mapping[str, str]

    def __call__(self, key: str, **values: str) -> str:
        return Text(escape(self.text[key], quote=False)).safe_substitute(values)


@dataclass(frozen=True)
class Numbers:
    """Numbers the way a reader of the locale writes them: $1,234.5 or 1 234,5 €.

    Results are rounded for reading (ROI to 0.1 %, money to the unit); inputs
    are shown ``exact``ly as typed (4.41 %, $6.50); axis ``tick``s drop zeros.
    """

    decimal: str
    group: str
    currency: str
    percent: str
    months: tuple[str, ...]
    locale: Locale

    def plain(self, value: float, decimals: int, strip: int = 0) -> str:
        """``value`` to ``decimals`` places, dropping up to ``strip`` trailing zeros."""
        text = f"{abs(value):,.{decimals}f}"
        for _ in range(strip if "." in text else 0):
            text = text.removesuffix("0")
        text = text.removesuffix(".")
        negative = value < 0 and any(c not in "0.," for c in text)
        text = text.replace(",", "\0").replace(".", self.decimal).replace("\0", self.group)
        return ("−" if negative else "") + text

    def format(
        self,
        value: engine.Value | None,
        kind: str,
        unit: str = "",
        signed: bool = False,
        style: str = "shown",
    ) -> str:
        """One value for a reader; Excel errors as the workbook shows them, None as a dash."""
        if value is None:
            return "–"
        if isinstance(value, ExcelError):
            return value.text
        text = self._bare(value, kind, unit, style)
        return ("+" if signed and value > 0 and not text.startswith("−") else "") + text

    def _bare(self, value: float, kind: str, unit: str, style: str) -> str:
        exact, tick = style == "exact", style == "tick"
        if kind == "percent":
            number = self.plain(value * 100, 2 if exact else 1, 1 if exact else 2 if tick else 0)
            return f"{number} pts" if unit == "pts" else self.percent.replace("#", number)
        if kind == "currency":
            cents = (exact or abs(value) < 100) and round(value, 2) != round(value)
            number = self.plain(abs(value), 2 if cents else 0)
            sign = "−" if value < 0 and number.strip("0" + self.decimal + self.group) else ""
            return sign + self.currency.replace("#", number)
        if kind == "multiple":
            return f"{self.plain(value, 2, 2 if tick else 0)}x"
        if kind == "factor":
            return self.plain(value, 4)
        if kind == "months" and value == PAYBACK_NEVER:
            return self.locale.unit("never")
        if kind == "months":
            shown = self.plain(value, 1, 1 if tick else 0)
            return f"{shown} {self.locale.unit_of('months', round(value, 1))}"
        if kind in ("seconds", "hours", "days", "years"):
            word = {"seconds": "s", "hours": "h"}.get(kind, kind)
            shown = self.plain(value, 2, 2)
            return f"{shown} {self.locale.unit_of(word, value)}"
        if kind == "count" and abs(value) >= 10 and not exact:
            # Whole calls, leads and deals; a tenth is kept below ten, where rounding 0.8 deals
            # up to 1 would overstate the case.
            return self.plain(value, 0)
        return self.plain(value, 2 if exact else 1, 2 if exact else 1)

    def month(self, key: str) -> str:
        """'2026-03' as 'Mar 26' or 'mars 26'."""
        year, month = key.split("-")
        return f"{self.months[int(month) - 1]} {year[2:]}"


def load_config() -> dict[str, Any]:
    raw = resources.files("roi_xl.report").joinpath("templates", "report.toml").read_text("utf-8")
    return tomllib.loads(raw)


# ------------------------------------------------------------------ what the report knows


@dataclass(frozen=True)
class Facts:
    """Everything computed once for the report, shared by its sections."""

    read: WorkbookRead
    model: Template
    locale: Locale
    words: Words
    numbers: Numbers
    config: Mapping[str, Any]
    base: str
    values: WorkbookValues | None
    tornado: Tornado | None
    breakevens: tuple[BreakEven, ...]
    risk: RiskRange | None

    @property
    def lang(self) -> str:
        return self.locale.language

    @property
    def roi(self) -> str:
        return self.model.headline[0]

    @property
    def multiple(self) -> str | None:
        keys = self.model.metric_keys
        if "return_multiple" in keys:
            return "return_multiple"
        return next((m.key for m in self.model.metrics if m.kind == "multiple"), None)

    def outputs(self, scenario: str) -> dict[str, engine.Value] | None:
        return self.read.scenarios[scenario].outputs

    def scenario_name(self, scenario: str) -> str:
        return self.locale.scenarios[scenario]

    def label(self, key: str) -> str:
        """An input's, metric's or timeline result's label in the report's language."""
        if key in self.model.input_keys:
            return self.model.input(key).label[self.lang]
        return label_and_kind(self.model, key)[0][self.lang]

    def kind(self, key: str) -> str:
        if key in self.model.input_keys:
            return self.model.input(key).kind
        return label_and_kind(self.model, key)[1]

    def num(self, value: engine.Value | None, kind: str, key: str = "", exact: bool = False) -> str:
        """A formatted number (an input ``exact``ly); ``key`` marks an output for checking."""
        text = escape(self.numbers.format(value, kind, style="exact" if exact else "shown"))
        css = ' class="neg"' if isinstance(value, float) and value < 0 else ""
        if not key:
            return f"<span{css}>{text}</span>"
        shown = engine.as_displayed(value) if value is not None else ""
        return f'<span{css} data-key="{key}" data-value="{escape(str(shown))}">{text}</span>'

    def timeline(self, scenario: str) -> tuple[timeline.TimelineValues, dict] | None:
        """The scenario's monthly timeline and its finance figures (None where none exists)."""
        read = self.read.scenarios[scenario]
        if self.model.timeline is None or read.outputs is None or self.read.invalid_inputs:
            return None
        if any(value is None for value in read.inputs.values()):
            return None
        inputs = {key: float(value) for key, value in read.inputs.items() if value is not None}
        months = timeline.periods_of(self.model, inputs)
        values = timeline.compute_timeline(self.model, inputs, read.outputs, months)
        found = {
            r.key: timeline.present(self.model, values, r.key) for r in self.model.timeline.results
        }
        return values, found

    def output(self, scenario: str, key: str) -> str:
        outputs = self.outputs(scenario)
        value = outputs[key] if outputs is not None else None
        return self.num(value, self.kind(key), f"outputs.{scenario}.{key}")


def build_facts(read: WorkbookRead, locale: str = "en-US", seed: int = 0) -> Facts:
    """Read the template, compute the plan, the sensitivity, the break-evens and the risk."""
    model = read.model
    loc = load_locale(locale)
    config = load_config()
    style = config["number"][locale]
    numbers = Numbers(
        style["decimal"],
        style["group"],
        style["currency"],
        style["percent"],
        tuple(style["months"]),
        loc,
    )
    base = read.selected_scenario or "realistic"
    inputs = read.scenario_inputs()
    decision = decide_read(read, base, seed=seed)
    values = tornado = risk = None
    breakevens: tuple[BreakEven, ...] = ()
    if inputs is not None and decision is not None:
        values = compute_values(model, inputs, base, read.months, list(read.actuals.values()))
        tornado, breakevens, risk = decision.tornado, decision.break_evens, decision.risk
    texts = config["text"][loc.language]
    return Facts(
        read=read,
        model=model,
        locale=loc,
        words=Words(spaced(texts, loc.language)),
        numbers=numbers,
        config=spaced(config["templates"].get(model.key, {}), loc.language),
        base=base,
        values=values,
        tornado=tornado,
        breakevens=breakevens,
        risk=risk,
    )
