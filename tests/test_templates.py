"""The three built-in models: every metric against a hand calculation from the source articles."""

from __future__ import annotations

import math

import formulas
import pytest

from roi_xl.model import engine, expr, template
from roi_xl.model.excel_errors import DIV0, ExcelError
from roi_xl.model.functions import FUNCTIONS

WORKED_EXAMPLE = {
    "calls_made": 8000,
    "reach_rate": 0.04,
    "meeting_rate": 0.25,
    "proposal_rate": 0.625,
    "win_rate": 0.3,
    "average_deal_value": 6000,
    "gross_margin_rate": 0.4,
    # 120 hours of seller time: 8,000 calls at 80 an hour plus 20 hours off the phone.
    "calls_per_hour": 80,
    "caller_fixed_hours": 20,
    "caller_hourly_cost": 62.5,
    "tool_cost": 1000,
    "data_cost": 1500,
    "management_cost": 2000,
    "indirect_cost": 0,
}


def shown(outputs: dict) -> dict:
    return {key: engine.as_displayed(value) for key, value in outputs.items()}


def test_the_realistic_defaults_are_the_worked_example() -> None:
    """Nothing to type: the shipped realistic column is the article's month, 120 hours included."""
    model = template.load("phoning-b2b")
    realistic = engine.scenario_inputs(model, "realistic")
    assert {key: realistic[key] for key in WORKED_EXAMPLE} == WORKED_EXAMPLE
    out = shown(engine.compute(model, realistic))
    assert (out["caller_hours"], out["total_cost"], out["roi"], out["cac"]) == (120, 12000, 2, 800)


def test_phoning_worked_example_to_the_cent() -> None:
    model = template.load("phoning-b2b")
    inputs = engine.scenario_inputs(model, "realistic", WORKED_EXAMPLE)
    out = shown(engine.compute(model, inputs))
    assert out["conversations"] == 320
    assert out["meetings"] == 80
    assert out["proposals"] == 50
    assert out["deals_won"] == 15
    assert out["revenue"] == 90000
    assert out["gross_margin"] == 36000
    assert out["caller_hours"] == 120
    assert out["agent_cost"] == 7500
    assert out["total_cost"] == 12000
    assert out["roi"] == 2.0
    assert out["return_multiple"] == 3.0
    assert out["cac"] == 800
    assert out["cost_per_meeting"] == 150
    assert out["cost_per_conversation"] == 37.5
    assert out["cost_per_proposal"] == 240
    assert out["net_gain"] == 24000
    # "100 appels pour 5 rendez-vous et 1 vente" style ratios
    assert out["call_to_meeting_rate"] == 0.01
    assert out["calls_per_deal"] == pytest.approx(8000 / 15)
    # LTV: the first deal's margin as signed, then 3,000 of recurring revenue at 40 % in
    # years 2 and 3, kept at 80 % a year and discounted at 8 %.
    ltv = 6000 * 0.4 + 3000 * 0.4 * sum(0.8**t / 1.08**t for t in (1, 2))
    assert out["ltv"] == pytest.approx(ltv, rel=1e-12)
    assert out["ltv_to_cac"] == pytest.approx(ltv / 800, rel=1e-12)
    assert out["lifetime_roi"] == pytest.approx((15 * ltv - 12000) / 12000, rel=1e-12)


def lifetime_value(first: float, recurring: float, years: int, churn: float, rate: float) -> float:
    """Year 0 as signed, then each later year kept at (1 - churn)^t and discounted (1 + rate)^t."""
    if years <= 0:
        return 0.0
    return first + sum(recurring * (1 - churn) ** t / (1 + rate) ** t for t in range(1, years))


def payback(upfront: float, monthly_gain: float) -> float | ExcelError:
    """Months to pay back; never (-1), when nothing is gained each month."""
    if monthly_gain > 0:
        return upfront / monthly_gain
    return -1.0 if upfront > 0 else 0.0


def phone_by_hand(i: dict[str, float]) -> dict[str, float]:
    """The phone-system article's method written out plainly."""
    valid = i["inbound_calls"] * (1 - i["spam_rate"])
    answered_before = valid * i["answer_rate_before"]
    answered_after = valid * i["answer_rate_after"]
    missed_before, missed_after = valid - answered_before, valid - answered_after
    # only missed callers never recovered (called back, or calling again) are lost
    lost_before = missed_before * (1 - i["recovery_rate"])
    lost_after = missed_after * (1 - i["recovery_rate"])
    loss = lambda lost: lost * i["lead_rate"] * i["conversion_rate"] * i["average_value"]  # noqa: E731
    recovered_revenue = loss(lost_before) - loss(lost_after)
    support = i["repeat_contacts_avoided"] * i["cost_per_contact"]
    igp = recovered_revenue * i["gross_margin_rate"] + support
    cost = i["incremental_phone_cost"]
    return {
        "valid_calls": valid,
        "answered_calls_before": answered_before,
        "answered_calls_after": answered_after,
        "missed_calls_before": missed_before,
        "missed_calls_after": missed_after,
        "recovered_calls": missed_before - missed_after,
        "lost_callers_before": lost_before,
        "lost_callers_after": lost_after,
        "qualified_leads_after": answered_after * i["lead_rate"],
        "booked_outcomes_after": answered_after * i["lead_rate"] * i["conversion_rate"],
        "added_outcomes": (lost_before - lost_after) * i["lead_rate"] * i["conversion_rate"],
        "next_step_calls_after": answered_after * i["next_step_rate"],
        "lost_revenue": loss(lost_before),
        "lost_revenue_after": loss(lost_after),
        "recovered_revenue": recovered_revenue,
        "sales_gross_profit": recovered_revenue * i["gross_margin_rate"],
        "support_value": support,
        "incremental_gross_profit": igp,
        "net_monthly_gain": igp - cost,
        "phone_roi": (igp - cost) / cost,
        "return_multiple": igp / cost,
        "payback_months": payback(i["setup_cost"], igp - cost),
        "first_year_roi": (igp * 12 - (cost * 12 + i["setup_cost"]))
        / (cost * 12 + i["setup_cost"]),
        "answer_rate_change": i["answer_rate_after"] - i["answer_rate_before"],
        "abandonment_rate_change": i["abandonment_rate_after"] - i["abandonment_rate_before"],
        "speed_to_answer_change": i["speed_to_answer_after"] - i["speed_to_answer_before"],
        "fcr_change": i["fcr_after"] - i["fcr_before"],
    }


def crm_by_hand(i: dict[str, float]) -> dict[str, float]:
    """The CRM article's ROI (%) = (benefits - costs) / costs, written out plainly."""
    deals_b = i["annual_leads"] * i["conversion_rate_baseline"]
    deals_c = i["annual_leads"] * i["conversion_rate_current"]
    rev_b, rev_c = deals_b * i["average_deal_baseline"], deals_c * i["average_deal_current"]
    retained = i["customers"] * (i["churn_rate_baseline"] - i["churn_rate_current"])
    hours = i["users"] * i["adoption_rate"] * i["hours_saved_per_user_month"] * 12
    benefits = (
        (rev_c - rev_b) * i["gross_margin_rate"]
        + retained * i["annual_margin_per_customer"]
        + hours * i["productivity_capture_rate"] * i["loaded_hourly_cost"]
        + i["annual_cost_savings"]
    )
    licences = i["users"] * i["licence_cost_per_user_month"] * 12
    running = licences + i["annual_support_cost"]
    one_off = i["implementation_cost"] + i["training_cost"]
    factors = [1 / (1 + i["discount_rate"]) ** year for year in (1, 2, 3)]
    benefits_pv = benefits * sum(factors)
    costs_pv = one_off + running * sum(factors)

    def clv(churn: float) -> float:
        years = int(i["customer_lifetime_years"])
        return lifetime_value(
            i["annual_margin_per_customer"],
            i["annual_margin_per_customer"],
            years,
            churn,
            i["discount_rate"],
        )

    return {
        "deals_baseline": deals_b,
        "deals_current": deals_c,
        "revenue_baseline": rev_b,
        "revenue_current": rev_c,
        "revenue_growth": rev_c - rev_b,
        "revenue_growth_margin": (rev_c - rev_b) * i["gross_margin_rate"],
        "customers_retained": retained,
        "retention_margin": retained * i["annual_margin_per_customer"],
        "hours_saved_per_year": hours,
        "efficiency_gain": hours * i["productivity_capture_rate"] * i["loaded_hourly_cost"],
        "annual_benefits": benefits,
        "annual_licence_cost": licences,
        "annual_running_cost": running,
        "one_off_cost": one_off,
        "first_year_cost": one_off + running,
        "first_year_roi": (benefits - one_off - running) / (one_off + running),
        "return_multiple": benefits / (one_off + running),
        "payback_months": payback(one_off, (benefits - running) / 12),
        "discount_factor_y1": factors[0],
        "discount_factor_y2": factors[1],
        "discount_factor_y3": factors[2],
        "net_benefit_y0": -one_off,
        "net_benefit_y1": (benefits - running) * factors[0],
        "net_benefit_y2": (benefits - running) * factors[1],
        "net_benefit_y3": (benefits - running) * factors[2],
        "three_year_benefits_pv": benefits_pv,
        "three_year_costs_pv": costs_pv,
        "three_year_npv": -one_off + (benefits - running) * sum(factors),
        "three_year_roi": (benefits_pv - costs_pv) / costs_pv,
        "conversion_rate_change": i["conversion_rate_current"] - i["conversion_rate_baseline"],
        "average_deal_change": i["average_deal_current"] / i["average_deal_baseline"] - 1,
        "sales_cycle_change_days": i["sales_cycle_days_current"] - i["sales_cycle_days_baseline"],
        "revenue_per_rep_baseline": rev_b / i["sales_reps"],
        "revenue_per_rep_current": rev_c / i["sales_reps"],
        "response_time_change_hours": i["response_time_hours_current"]
        - i["response_time_hours_baseline"],
        "task_completion_change": i["task_completion_rate_current"]
        - i["task_completion_rate_baseline"],
        "data_quality_change": i["data_quality_current"] - i["data_quality_baseline"],
        "csat_change": i["csat_current"] - i["csat_baseline"],
        "nps_change": i["nps_current"] - i["nps_baseline"],
        "churn_rate_change": i["churn_rate_current"] - i["churn_rate_baseline"],
        "clv_baseline": clv(i["churn_rate_baseline"]),
        "clv_current": clv(i["churn_rate_current"]),
    }


def phoning_by_hand(i: dict[str, float]) -> dict[str, float]:
    conversations = i["calls_made"] * i["reach_rate"]
    meetings = conversations * i["meeting_rate"]
    proposals = meetings * i["proposal_rate"]
    deals = proposals * i["win_rate"]
    revenue = deals * i["average_deal_value"]
    margin = revenue * i["gross_margin_rate"]
    hours = i["calls_made"] / i["calls_per_hour"] + i["caller_fixed_hours"]
    callers = hours * i["caller_hourly_cost"]
    direct = callers + i["tool_cost"] + i["data_cost"] + i["management_cost"]
    total = direct + i["indirect_cost"]
    ltv = lifetime_value(
        i["average_deal_value"] * i["gross_margin_rate"],
        i["recurring_revenue"] * i["gross_margin_rate"],
        int(i["customer_lifetime_years"]),
        i["annual_churn_rate"],
        i["discount_rate"],
    )
    channels = {}
    for channel in ("emailing", "paid_ads", "events", "outsourced_phoning"):
        cost = i[f"{channel}_cost"]
        won = i[f"{channel}_opportunities"] * i[f"{channel}_win_rate"]
        earned = won * i[f"{channel}_deal_value"] * i["gross_margin_rate"]
        channels[f"{channel}_deals"] = won
        channels[f"{channel}_margin"] = earned
        channels[f"{channel}_cost_per_opportunity"] = cost / i[f"{channel}_opportunities"]
        channels[f"{channel}_cac"] = cost / won
        channels[f"{channel}_roi"] = (earned - cost) / cost
    return {
        **channels,
        "conversations": conversations,
        "meetings": meetings,
        "proposals": proposals,
        "deals_won": deals,
        "call_to_meeting_rate": meetings / i["calls_made"],
        "calls_per_deal": i["calls_made"] / deals,
        "revenue": revenue,
        "gross_margin": margin,
        "caller_hours": hours,
        "agent_cost": callers,
        "direct_cost": direct,
        "total_cost": total,
        "net_gain": margin - total,
        "roi": (margin - total) / total,
        "return_multiple": margin / total,
        "cac": total / deals,
        "cost_per_conversation": total / conversations,
        "cost_per_meeting": total / meetings,
        "cost_per_proposal": total / proposals,
        "ltv": ltv,
        "ltv_to_cac": ltv / (total / deals),
        "lifetime_roi": (deals * ltv - total) / total,
    }


BY_HAND = {"phone-system": phone_by_hand, "crm": crm_by_hand, "phoning-b2b": phoning_by_hand}


@pytest.mark.parametrize("scenario", template.SCENARIOS)
@pytest.mark.parametrize("name", sorted(BY_HAND))
def test_every_metric_matches_a_hand_calculation(name: str, scenario: str) -> None:
    model = template.load(name)
    inputs = engine.scenario_inputs(model, scenario)
    ours = engine.compute(model, inputs)
    expected = BY_HAND[name](inputs)
    assert set(expected) == set(model.metric_keys), "the hand calculation covers every metric"
    for key, value in expected.items():
        if isinstance(value, ExcelError):
            assert ours[key] == value, key
        else:
            assert ours[key] == pytest.approx(value, rel=1e-12, abs=1e-9), key


@pytest.mark.parametrize("name", template.builtin_names())
def test_every_metric_formula_computes_the_same_in_an_excel_engine(name: str) -> None:
    """Each metric's Excel text, given its direct inputs, gives the engine's value (`formulas`)."""
    model = template.load(name)
    inputs = engine.scenario_inputs(model, "realistic")
    values = {**inputs, **engine.compute(model, inputs)}
    for metric in model.metrics:
        refs = sorted(expr.names(metric.node))
        cells = {ref: f"A{row}" for row, ref in enumerate(refs, start=1)}
        formula = expr.to_excel(metric.node, cells, FUNCTIONS)
        compiled = formulas.Parser().ast("=" + formula)[1].compile()
        by_cell = {cell: ref for ref, cell in cells.items()}
        args = [values[by_cell[str(key).upper()]] for key in compiled.inputs]
        result = compiled(*args)
        theirs = float(result.item() if hasattr(result, "item") else result)
        assert theirs == pytest.approx(values[metric.key], rel=1e-12), (metric.key, formula)


@pytest.mark.parametrize("name", template.builtin_names())
def test_zero_inputs_give_excel_errors_not_crashes(name: str) -> None:
    model = template.load(name)
    zeros = {item.key: max(0.0, item.minimum) for item in model.inputs}
    outputs = engine.compute(model, zeros)
    assert set(outputs) == set(model.metric_keys)
    assert all(isinstance(v, ExcelError) or math.isfinite(v) for v in outputs.values())
    assert any(v == DIV0 for v in outputs.values())


def test_impossible_phoning_cases() -> None:
    model = template.load("phoning-b2b")
    out = engine.compute(model, engine.scenario_inputs(model, "realistic", {"win_rate": 0}))
    assert out["deals_won"] == 0
    assert out["cac"] == DIV0
    assert out["ltv_to_cac"] == DIV0  # errors flow downstream as in Excel
    assert out["roi"] == -1.0
    out = engine.compute(
        model,
        engine.scenario_inputs(
            model,
            "realistic",
            {
                "caller_hourly_cost": 0,
                "tool_cost": 0,
                "data_cost": 0,
                "management_cost": 0,
                "indirect_cost": 0,
            },
        ),
    )
    assert out["roi"] == DIV0 and out["return_multiple"] == DIV0 and out["cac"] == 0


def test_phone_system_never_pays_back_when_it_loses_money() -> None:
    model = template.load("phone-system")
    inputs = engine.scenario_inputs(model, "prudent", {"incremental_phone_cost": 5000})
    out = engine.compute(model, inputs)
    assert out["net_monthly_gain"] < 0
    assert out["payback_months"] == -1  # never, shown as such; no #DIV/0! on the Dashboard


@pytest.mark.parametrize("name", template.builtin_names())
def test_default_scenarios_compute_without_errors(name: str) -> None:
    """A fresh workbook must show no error cell, so every default gives a real number."""
    model = template.load(name)
    for scenario, result in engine.calculate(model).items():
        errors = [k for k, v in result.outputs.items() if isinstance(v, ExcelError)]
        assert not errors, (scenario, errors)


@pytest.mark.parametrize("name", template.builtin_names())
def test_scenarios_are_ordered_from_prudent_to_optimistic(name: str) -> None:
    model = template.load(name)
    results = engine.calculate(model)
    key = model.headline[0]
    values = [results[s].outputs[key] for s in template.SCENARIOS]
    assert values[0] < values[1] < values[2], (key, values)


def test_templates_cite_their_sources() -> None:
    phone = template.load("phone-system")
    notes = " ".join(n for i in phone.inputs for n in i.notes.values())
    for source in ("Invoca", "MaxContact"):
        assert source in notes
    assert any("TransUnion" in s for s in phone.sources)
    for model in template.load_all():
        assert model.sources
        for item in model.inputs:
            assert all(item.notes[s].strip() for s in template.SCENARIOS), item.key
            assert item.label.en and item.label.fr and item.unit


def test_phoning_keys_are_the_agreed_ones() -> None:
    model = template.load("phoning-b2b")
    for key in (
        "calls_made",
        "reach_rate",
        "meeting_rate",
        "proposal_rate",
        "win_rate",
        "average_deal_value",
        "gross_margin_rate",
        "calls_per_hour",
        "caller_fixed_hours",
        "caller_hourly_cost",
        "tool_cost",
        "data_cost",
        "management_cost",
        "indirect_cost",
    ):
        assert key in model.input_keys
    for key in (
        "conversations",
        "meetings",
        "proposals",
        "deals_won",
        "revenue",
        "gross_margin",
        "total_cost",
        "roi",
        "return_multiple",
        "cac",
        "cost_per_conversation",
        "cost_per_meeting",
        "cost_per_proposal",
    ):
        assert key in model.metric_keys
    assert "lost_revenue" in template.load("phone-system").metric_keys


def test_a_headcount_is_averaged_over_the_months_not_added() -> None:
    """Active users in three months are an average headcount; calls in three months add up."""
    from roi_xl.workbook.values import COMPLETE, compute_values

    model = template.load("crm")
    inputs = {s: engine.scenario_inputs(model, s) for s in template.SCENARIOS}
    months = [
        {"active_users": 11, "leads": 100, COMPLETE: 1},
        {"active_users": 12, "leads": 120, COMPLETE: 1},
        {"active_users": 13, "leads": 110, COMPLETE: 1},
        {"active_users": 40, "leads": 5, COMPLETE: 0},  # partly filled: left out
    ]
    values = compute_values(model, inputs, "realistic", 12, months)
    assert values.ytd_fields["active_users"] == 12
    assert values.ytd_fields["leads"] == 330
    assert values.plan_ytd_fields["active_users"] == values.plans["active_users"]
    assert values.ytd_kpis["adoption_actual"] == pytest.approx(12 / inputs["realistic"]["users"])
