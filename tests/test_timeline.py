"""The business-case timeline: period functions, finance figures by hand, IRR, JSON, audit.

NPV and payback are recomputed here month by month with plain Python from the
inputs, the way a finance analyst would on paper; IRR is compared with
numpy-financial's on the same monthly flows. Workbooks written with random
valid inputs (payback never reached among them) must audit clean.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import numpy_financial as npf
import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from roi_xl.cli import app
from roi_xl.errors import ExpressionError, TemplateError
from roi_xl.inspect.reader import read_workbook
from roi_xl.locale import load_locale
from roi_xl.model import engine, expr, template, timeline
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import SCENARIOS
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.layout import SCENARIO_COLS, build_layout, cell

runner = CliRunner()
TEMPLATES = tuple(template.builtin_names())


def figures(name: str, scenario: str, **overrides: float) -> tuple[dict, dict, dict]:
    model = template.load(name)
    inputs = engine.scenario_inputs(model, scenario, overrides)
    outputs = engine.compute(model, inputs)
    series, found = timeline.scenario_figures(model, inputs, outputs)
    return {**inputs, **outputs}, series, found


# -- the period functions


def evaluate(text: str, **env: object) -> np.ndarray:
    node = expr.parse(text, FUNCTIONS, periods=True)
    return expr.evaluate(node, {expr.PERIOD: np.arange(1.0, 6.0), **env}, FUNCTIONS).values


def test_lag_cumsum_and_total_over_months() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert evaluate("LAG(x, 2)", x=x).tolist() == [0, 0, 1, 2, 3]
    assert evaluate("CUMSUM(x)", x=x).tolist() == [1, 3, 6, 10, 15]
    assert evaluate("TOTAL(x)", x=x).tolist() == [15]
    assert evaluate("period * 2").tolist() == [2, 4, 6, 8, 10]


def test_lag_per_draw_and_below_one_is_a_reference_error() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    lags = np.array([[1.0], [3.0]])  # one lag per draw, as the inputs of a simulation
    assert evaluate("LAG(x, n)", x=x, n=lags).tolist() == [[0, 1, 2, 3, 4], [0, 0, 0, 1, 2]]
    node = expr.parse("LAG(x, 0)", FUNCTIONS, periods=True)
    result = expr.evaluate(node, {expr.PERIOD: np.arange(1.0, 4.0), "x": x[:3]}, FUNCTIONS)
    assert [e.text for e in result.to_objects()] == ["#REF!"] * 3


def test_period_functions_take_a_row_and_only_in_a_timeline() -> None:
    with pytest.raises(ExpressionError, match="row's name"):
        expr.parse("LAG(x + 1, 2)", FUNCTIONS, periods=True)
    with pytest.raises(ExpressionError, match="unknown function 'CUMSUM'"):
        expr.parse("CUMSUM(x)", FUNCTIONS)


def test_period_functions_render_through_the_sheet() -> None:
    node = expr.parse("LAG(x, n) + CUMSUM(x)", FUNCTIONS, periods=True)

    def periods(call: expr.Call, render) -> str:  # type: ignore[no-untyped-def]
        return f"{call.name}[{','.join(render(arg) for arg in call.args)}]"

    assert expr.to_excel(node, {"x": "F9", "n": "$C$3"}, FUNCTIONS, periods) == (
        "LAG[F9,$C$3]+CUMSUM[F9]"
    )
    with pytest.raises(ExpressionError, match="only be written in a timeline"):
        expr.to_excel(node, {"x": "F9", "n": "$C$3"}, FUNCTIONS)


# -- finance figures by hand, one template each


def npv_by_hand(flows: list[float], rate: float) -> float:
    return sum(flow / (1 + rate) ** (t / 12) for t, flow in enumerate(flows))


def payback_by_hand(flows: list[float]) -> int | None:
    total = 0.0
    for month, flow in enumerate(flows, start=1):
        total += flow
        if total >= 0:
            return month
    return None


def ramp(month: int, months: float) -> float:
    return min(month / max(months, 1), 1)


def phone_flows(v: dict) -> list[float]:
    return [
        (v["sales_gross_profit"] + v["support_value"]) * ramp(m, v["ramp_up_months"])
        - v["incremental_phone_cost"]
        - (v["setup_cost"] if m == 1 else 0)
        for m in range(1, int(v["horizon_months"]) + 1)
    ]


def crm_flows(v: dict) -> list[float]:
    flows, kept = [], 0.0
    for m in range(1, int(v["horizon_months"]) + 1):
        r = ramp(m, v["ramp_up_months"])
        kept = kept * (1 - v["churn_rate_current"] / 12) + v["customers_retained"] / 12 * r
        benefits = (
            v["revenue_growth_margin"] + v["efficiency_gain"] + v["annual_cost_savings"]
        ) / 12 * r + kept * v["annual_margin_per_customer"] / 12
        costs = v["annual_running_cost"] / 12 + (v["one_off_cost"] if m == 1 else 0)
        flows.append(benefits - costs)
    return flows


def phoning_flows(v: dict) -> list[float]:
    months = int(v["horizon_months"])
    lag = int(v["sales_cycle_months"])
    margin_per_deal = v["average_deal_value"] * v["gross_margin_rate"]
    new = [0.0] * months
    for m in range(1, months + 1):  # the calls of month m sign in month m + lag
        if m + lag <= months:
            new[m + lag - 1] = v["deals_won"] * ramp(m, v["ramp_up_months"]) * margin_per_deal
    renewals = [0.0] * months
    keep = (1 - v["annual_churn_rate"]) * (1 + v["upsell_rate"])
    for m in range(13, months + 1):
        renewals[m - 1] = (new[m - 13] * v["renewal_share"] + renewals[m - 13]) * keep
    return [
        new[i] + renewals[i] - v["total_cost"] - (v["campaign_setup_cost"] if i == 0 else 0)
        for i in range(months)
    ]


BY_HAND = {"phone-system": phone_flows, "crm": crm_flows, "phoning-b2b": phoning_flows}


@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_npv_and_payback_equal_a_hand_calculation(name: str, scenario: str) -> None:
    values, series, found = figures(name, scenario)
    flows = BY_HAND[name](values)
    assert series["cash_flow"] == pytest.approx(flows, rel=1e-12, abs=1e-9)
    assert found["npv"] == pytest.approx(npv_by_hand(flows, values["discount_rate"]), rel=1e-12)
    assert found["payback_month"] == payback_by_hand(flows)
    cumulative = list(np.cumsum(flows))
    assert series["cumulative"] == pytest.approx(cumulative, rel=1e-12, abs=1e-9)


def test_payback_never_reached_is_none_and_said_in_words() -> None:
    _, _, found = figures("phoning-b2b", "prudent")
    assert found["payback_month"] is None and found["payback_reached"] == 0
    assert found["irr"] is None  # the prudent campaign never has a positive month


@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_irr_equals_numpy_financial_annualised(name: str, scenario: str) -> None:
    _, series, found = figures(name, scenario)
    flows = series["cash_flow"]
    if not (min(flows) < 0 < max(flows)):
        assert found["irr"] is None
        return
    monthly = npf.irr(flows)
    assert found["irr"] == pytest.approx((1 + monthly) ** 12 - 1, rel=1e-9, abs=1e-12)


def test_irr_of_a_negative_rate_and_of_a_horizon_changed() -> None:
    _, series, found = figures("crm", "prudent")
    assert found["irr"] < 0
    assert found["irr"] == pytest.approx((1 + npf.irr(series["cash_flow"])) ** 12 - 1, rel=1e-9)
    _, series, found = figures("phone-system", "prudent", horizon_months=60)
    assert len(series["months"]) == 60
    assert found["irr"] == pytest.approx((1 + npf.irr(series["cash_flow"])) ** 12 - 1, rel=1e-9)


def test_risk_adjusted_and_unadjusted_stand_apart() -> None:
    _, _, found = figures("crm", "realistic")
    assert found["npv_risk_adjusted"] < found["npv"]
    assert found["roi_horizon_risk_adjusted"] < found["roi_horizon"]
    _, _, none = figures(
        "crm",
        "realistic",
        risk_adjustment_revenue=0,
        risk_adjustment_retention=0,
        risk_adjustment_efficiency=0,
        risk_adjustment_savings=0,
    )
    assert none["npv_risk_adjusted"] == pytest.approx(none["npv"], rel=1e-12)


def test_the_worked_example_per_month_is_unchanged() -> None:
    values, _, _ = figures("phoning-b2b", "realistic")
    assert values["roi"] == pytest.approx(2.0, abs=1e-12)
    assert values["return_multiple"] == pytest.approx(3.0, abs=1e-12)
    assert values["cac"] == pytest.approx(800.0, abs=1e-9)


# -- the command line


def test_calc_json_gives_the_timeline_and_null_where_a_figure_does_not_exist() -> None:
    result = runner.invoke(app, ["calc", "phoning-b2b", "--json"])
    assert result.exit_code == 0, result.output
    scenarios = json.loads(result.output)["scenarios"]
    realistic = scenarios["realistic"]
    assert realistic["timeline"]["months"] == list(range(1, 37))
    assert len(realistic["timeline"]["cash_flow"]) == 36
    assert realistic["timeline"]["cumulative"][-1] == pytest.approx(
        sum(realistic["timeline"]["cash_flow"]), rel=1e-12
    )
    for key in ("npv", "irr", "payback_month", "roi_first_year", "roi_horizon"):
        assert isinstance(realistic["outputs"][key], float), key
    for key in ("npv_risk_adjusted", "roi_horizon_risk_adjusted"):
        assert isinstance(realistic["outputs"][key], float), key
    assert scenarios["prudent"]["outputs"]["payback_month"] is None
    assert scenarios["prudent"]["outputs"]["irr"] is None


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("horizon_months=0", "input 'horizon_months' must be between 1 and 120; got 0"),
        ("horizon_months=121", "input 'horizon_months' must be between 1 and 120; got 121"),
        ("ramp_up_months=-1", "input 'ramp_up_months' must be between 0 and 60; got -1"),
        (
            "horizon_months=24.5",
            "input 'horizon_months' must be a whole number of months; got 24.5",
        ),
    ],
)
def test_bad_timeline_inputs_are_refused(tmp_path: Path, setting: str, message: str) -> None:
    target = str(tmp_path / "x.xlsx")
    commands = (["calc", "phone-system"], ["new", "phone-system", "-o", target], ["decide", "crm"])
    for command in commands:
        result = runner.invoke(app, [*command, "--set", setting])
        assert result.exit_code == 2, (command, result.output)
        assert message in " ".join(result.output.split()), command
    assert not Path(target).exists()


@pytest.mark.parametrize(
    ("key", "value", "rule", "message"),
    [
        ("horizon_months", 0, "input_out_of_range", "is 0, outside its allowed range"),
        ("horizon_months", 121, "input_out_of_range", "is 121, outside its allowed range"),
        ("horizon_months", 12.5, "input_not_whole", "is 12.5, not a whole number of months"),
        ("ramp_up_months", -1, "input_out_of_range", "is -1, outside its allowed range"),
    ],
)
def test_bad_timeline_inputs_read_from_a_workbook_are_refused(
    tmp_path: Path, key: str, value: float, rule: str, message: str
) -> None:
    """Typed into the Inputs sheet: the audit names the cell and the rule, and deciding on
    the workbook stops with exit 2 naming the file, the cell, the rule and the value."""
    model = template.load("phoning-b2b")
    path = tmp_path / "typed.xlsx"
    write_workbook(model, path, WorkbookOptions(start=dt.date(2026, 1, 1), months=2))
    row = build_layout(model, load_locale("en-US"), dt.date(2026, 1, 1), 2).input_rows[key]
    book = openpyxl.load_workbook(path)
    book["Inputs"].cell(row + 1, SCENARIO_COLS["realistic"] + 1).value = value
    book.save(path)
    ref = f"Inputs!{cell(row, SCENARIO_COLS['realistic'])}"
    found = [f for f in read_workbook(path).findings if f.rule == rule]
    assert [(f"{f.sheet}!{f.cell}", f.found) for f in found] == [(ref, f"{value:g}")]
    result = runner.invoke(app, ["decide", str(path)])
    assert result.exit_code == 2
    words = " ".join(result.output.split())
    assert f"{path.name}: {ref}:" in words and message in words and f"(rule {rule})" in words


# -- template rules


def with_timeline_row(expression: str) -> str:
    source = Path(template.load("phone-system").path).read_text(encoding="utf-8")
    return source.replace('expr = "benefits - costs"', f'expr = "{expression}"')


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cash_flow + 1", "refers to itself"),
        ("LAG(cash_flow, horizon_months)", "its own earlier values"),
        ("TOTAL(benefits)", "belongs in a result"),
        ("benefits - nothing", "unknown name 'nothing'"),
    ],
)
def test_timeline_rows_are_checked(expression: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        template.parse_template(with_timeline_row(expression), "user.toml")


def test_a_result_cannot_use_a_monthly_row_bare() -> None:
    source = Path(template.load("phone-system").path).read_text(encoding="utf-8")
    broken = source.replace('expr = "TOTAL(discounted_cash_flow)"', 'expr = "discounted_cash_flow"')
    with pytest.raises(TemplateError, match="use TOTAL"):
        template.parse_template(broken, "user.toml")


# -- audit clean on random valid inputs


@st.composite
def timeline_inputs(draw: st.DrawFn) -> tuple[str, dict[str, float]]:
    name = draw(st.sampled_from(TEMPLATES))
    model = template.load(name)
    settings_ = {
        "horizon_months": float(draw(st.integers(1, 120))),
        "ramp_up_months": float(draw(st.integers(0, 24))),
        "discount_rate": draw(st.floats(0, 0.5)),
    }
    one_off = {"phone-system": "setup_cost", "crm": "implementation_cost"}.get(
        name, "campaign_setup_cost"
    )
    settings_[one_off] = draw(st.floats(0, 5_000_000))
    for item in model.inputs:
        if item.section == "risk":
            settings_[item.key] = draw(st.floats(0, 1))
    return name, settings_


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=timeline_inputs())
@example(case=("phone-system", {"setup_cost": 5_000_000.0, "horizon_months": 12.0}))
@example(case=("phoning-b2b", {"horizon_months": 1.0, "ramp_up_months": 0.0}))
def test_audit_is_clean_on_random_valid_timelines(
    tmp_path: Path, case: tuple[str, dict[str, float]]
) -> None:
    name, overrides = case
    model = template.load(name)
    path = tmp_path / f"{name}.xlsx"
    options = WorkbookOptions(overrides=overrides, force=True, start=dt.date(2026, 1, 1))
    write_workbook(model, path, options)
    read = read_workbook(path)
    assert read.findings == [], [f.message for f in read.findings]
    _, _, found = figures(name, "realistic", **overrides)
    npv = found["npv"]
    assert isinstance(npv, float) and math.isfinite(npv)


@pytest.mark.parametrize(
    "flows",
    [
        [-1000.0] + [1.0] * 40 + [0.0] * 79,  # a rate near -11 % a month, months left empty
        [-10.0] + [5000.0] * 35 + [0.0] * 84,  # a rate of 500 % a month
        [-100.0, 60.0, 60.0],
    ],
)
def test_irr_far_from_zero_without_overflow(flows: list[float]) -> None:
    rate, exists = expr.irr(np.array(flows))
    assert bool(exists)
    assert float(rate) == pytest.approx(npf.irr(flows), rel=1e-9)
