"""Deciding with a model: sensitivity (tornado), break-even and the Monte Carlo risk range.

A tiny template makes every figure checkable by hand: ROI = (units x price - cost) / cost.
The built-in templates check the solvers against the engine itself.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from roi_xl.decide.break_even import KEY_DRIVERS, break_even, key_drivers
from roi_xl.decide.risk import (
    DRAWS,
    figures_of,
    risk_range,
    triangular,
    triangular_from,
    trigen,
)
from roi_xl.decide.sensitivity import MOVES, sensitivity, sort_keys
from roi_xl.errors import InputError
from roi_xl.model import engine, template, timeline
from roi_xl.model.template import SCENARIOS, Template

TINY = """[template]
key = "tiny"
version = "0.1"
title = { en = "Tiny", fr = "Mini" }
purpose = { en = "Test", fr = "Test" }
headline = ["roi", "revenue"]

[[inputs]]
key = "units"
section = "main"
label = { en = "Units sold", fr = "Unités vendues" }
unit = "units"
kind = "count"
min = 0
max = 1000
defaults = { prudent = 80, realistic = 100, optimistic = 120 }
source = "Example"

[[inputs]]
key = "price"
section = "main"
label = { en = "Price", fr = "Prix" }
unit = "currency"
kind = "currency"
min = 0
max = 11
defaults = { prudent = 10, realistic = 10, optimistic = 10 }
source = "Example"

[[inputs]]
key = "cost"
section = "main"
label = { en = "Cost", fr = "Coût" }
unit = "currency"
kind = "currency"
min = 100
max = 1000
defaults = { prudent = 600, realistic = 500, optimistic = 450 }
source = "Example: the prudent cost is the higher one"

[[metrics]]
key = "revenue"
section = "main"
label = { en = "Revenue", fr = "Chiffre d'affaires" }
unit = "currency"
kind = "currency"
expr = "units * price"

[[metrics]]
key = "roi"
section = "main"
label = { en = "ROI", fr = "ROI" }
unit = "%"
kind = "percent"
expr = "ROI(revenue, cost)"

[monthly]
chart = "units_sold"

[[monthly.fields]]
key = "units_sold"
label = { en = "Units sold", fr = "Unités vendues" }
unit = "units"
kind = "count"
plan = "units"
"""

Scenarios = dict[str, dict[str, float]]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Template:
    path = tmp_path_factory.mktemp("tiny") / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return template.load(str(path))


def defaults(model: Template) -> Scenarios:
    return {s: engine.scenario_inputs(model, s) for s in SCENARIOS}


def roi_by_hand(units: float, price: float, cost: float) -> float:
    return (units * price - cost) / cost


# ------------------------------------------------------------------ sensitivity


def test_the_tornado_values_are_those_computed_by_hand(tiny: Template) -> None:
    tornado = sensitivity(tiny, defaults(tiny))["roi"]
    assert tornado.base == pytest.approx(1.0)
    bars = {bar.input: bar for bar in tornado.bars}
    units, price, cost = bars["units"], bars["price"], bars["cost"]
    assert list(units.inputs) == list(MOVES)
    assert list(units.inputs.values()) == pytest.approx([80, 90, 110, 120, 80, 120])
    expected_units = [roi_by_hand(u, 10, 500) for u in (80, 90, 110, 120, 80, 120)]
    assert list(units.outputs.values()) == pytest.approx(expected_units)
    # The price may not exceed 11: +10 % and +20 % both stop there.
    assert list(price.inputs) == list(MOVES)
    assert list(price.inputs.values()) == pytest.approx([8, 9, 11, 11, 10, 10])
    assert list(price.outputs.values()) == pytest.approx([0.6, 0.8, 1.2, 1.2, 1.0, 1.0])
    # The cost's prudent value (600) is its higher one.
    assert list(cost.inputs) == list(MOVES)
    assert list(cost.inputs.values()) == pytest.approx([400, 450, 550, 600, 600, 450])
    assert cost.low == pytest.approx(roi_by_hand(100, 10, 600))
    assert cost.high == pytest.approx(roi_by_hand(100, 10, 400))
    assert cost.swing == pytest.approx(1.5 - 2 / 3)
    assert units.swing == pytest.approx(0.8)
    assert price.swing == pytest.approx(0.6)


def test_the_tornado_puts_the_largest_swing_first(tiny: Template) -> None:
    tornados = sensitivity(tiny, defaults(tiny))
    assert set(tornados) == {"roi", "revenue"}
    assert [bar.input for bar in tornados["roi"].bars] == ["cost", "units", "price"]
    assert [bar.input for bar in tornados["revenue"].bars] == ["units", "price", "cost"]
    assert [bar.swing for bar in tornados["revenue"].bars] == pytest.approx([400, 300, 0])


def test_the_tornado_of_a_builtin_template_matches_the_engine_move_by_move() -> None:
    model = template.load("phone-system")
    scenarios = defaults(model)
    tornado = sensitivity(model, scenarios, base="realistic")[model.headline[0]]
    # sorted on swings to 12 decimals: equal swings (two rates of one product) keep their order
    keys = sort_keys([bar.swing for bar in tornado.bars])
    assert keys == sorted(keys, reverse=True)
    for bar in tornado.bars:
        for move, value in bar.inputs.items():
            moved = {**scenarios["realistic"], bar.input: value}
            expected = engine.compute(model, moved)[model.headline[0]]
            assert bar.outputs[move] == pytest.approx(expected, rel=1e-12, abs=1e-12)


# ------------------------------------------------------------------ break-even


def test_the_break_even_of_the_tiny_model_is_the_one_computed_by_hand(tiny: Template) -> None:
    base = defaults(tiny)["realistic"]
    units = break_even(tiny, base, "units", companions=("revenue",))
    assert units.value == pytest.approx(50)
    assert units.companions["revenue"] == pytest.approx(500)
    assert units.base_companions["revenue"] == pytest.approx(1000)
    assert break_even(tiny, base, "price").value == pytest.approx(5)
    # The cost breaks even at 1,000: the top of its range, found exactly.
    assert break_even(tiny, base, "cost").value == pytest.approx(1000)


def test_no_break_even_within_the_range_says_which_side_the_roi_stays_on(tiny: Template) -> None:
    free = {**defaults(tiny)["realistic"], "price": 0.0}
    result = break_even(tiny, free, "units")
    assert not result.found and result.value is None and result.sign == -1
    assert result.companions == {}
    crm = template.load("crm")
    hours = break_even(crm, defaults(crm)["realistic"], "hours_saved_per_user_month")
    assert not hours.found and hours.sign == 1
    assert (hours.minimum, hours.maximum) == (0, 200)


@pytest.mark.parametrize("name", template.builtin_names())
def test_every_break_even_put_back_into_the_engine_gives_a_zero_roi(name: str) -> None:
    model = template.load(name)
    scenarios = defaults(model)
    roi = model.headline[0]
    drivers = key_drivers(model)
    assert drivers == KEY_DRIVERS[name]
    found = 0
    for driver, companions in drivers:
        result = break_even(model, scenarios["realistic"], driver, companions=companions)
        if not result.found:
            continue
        found += 1
        assert result.value is not None
        item = model.input(driver)
        assert item.minimum <= result.value <= item.maximum
        back = engine.compute(model, {**scenarios["realistic"], driver: result.value})
        assert abs(back[roi]) < 1e-9
        for key in companions:
            assert result.companions[key] == back[key]
    assert found >= 1


def test_the_break_evens_a_cfo_asks_for() -> None:
    phone = template.load("phone-system")
    calls = break_even(
        phone, defaults(phone)["realistic"], "answer_rate_after", companions=("recovered_calls",)
    )
    # Gross profit must cover the 2,000 of phone costs: 1,700 from sales after 300 of support
    # value, i.e. 3,400 of revenue, i.e. 3,400 / (0.3 x 0.37 x 850) callers no longer lost;
    # a quarter of missed callers are recovered anyway, so that many calls / (1 - 0.25).
    needed = 3400 / (0.3 * 0.37 * 850) / (1 - 0.25)
    assert calls.companions["recovered_calls"] == pytest.approx(needed)
    assert calls.value == pytest.approx(0.61 + needed / 900)
    phoning = template.load("phoning-b2b")
    base = defaults(phoning)["realistic"]
    assert break_even(phoning, base, "win_rate").value == pytest.approx(0.1)
    cost = break_even(phoning, base, "caller_hourly_cost", companions=("cost_per_meeting",))
    # 36,000 of margin pays for at most 36,000 of costs, i.e. 450 per meeting for 80 meetings.
    assert cost.companions["cost_per_meeting"] == pytest.approx(450)


def test_a_user_template_breaks_even_on_its_most_sensitive_input(tiny: Template) -> None:
    assert key_drivers(tiny) == (("cost", ()),)


def test_an_unknown_driver_is_refused(tiny: Template) -> None:
    with pytest.raises(InputError, match="not an input"):
        break_even(tiny, defaults(tiny)["realistic"], "nope")


# ------------------------------------------------------------------ risk range


@pytest.mark.parametrize("name", template.builtin_names())
def test_the_same_seed_gives_the_same_numbers(name: str) -> None:
    model = template.load(name)
    first = risk_range(model, defaults(model), seed=7)
    again = risk_range(model, defaults(model), seed=7)
    other = risk_range(model, defaults(model), seed=8)
    assert first == again
    assert np.array_equal(first.values, again.values)
    assert (first.p10, first.p50, first.p90) != (other.p10, other.p50, other.p90)


@pytest.mark.parametrize("name", template.builtin_names())
def test_equal_scenarios_give_the_deterministic_roi_at_every_percentile(name: str) -> None:
    """The range is of the horizon ROI of the business case, as `calc` computes it."""
    model = template.load(name)
    realistic = engine.scenario_inputs(model, "realistic")
    result = risk_range(model, dict.fromkeys(SCENARIOS, realistic), seed=3)
    _, figures = timeline.scenario_figures(model, realistic, engine.compute(model, realistic))
    expected = figures["roi_horizon"]
    assert isinstance(expected, float)
    assert result.metric == "roi_horizon" and result.loss_measure == "npv"
    assert result.p10 == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert result.p10 == result.p50 == result.p90 == result.deterministic
    assert result.probability_below_zero == (1.0 if expected < 0 else 0.0)
    assert result.errors == 0


def test_ten_thousand_draws_come_back() -> None:
    model = template.load("crm")
    result = risk_range(model, defaults(model))
    assert result.draws == DRAWS == 10_000
    assert result.values.shape == (10_000,)
    assert result.p10 is not None and result.p50 is not None and result.p90 is not None
    assert result.p10 < result.p50 < result.p90
    assert 0.0 <= result.probability_below_zero <= 1.0


def test_the_probability_of_a_loss_matches_the_distribution(tiny: Template) -> None:
    # Units on a symmetric triangle around 50 with 20 and 80 as its 1-in-10 cases: ROI < 0
    # exactly when units < 50; P10 and P90 are the prudent and optimistic values' ROIs.
    scenarios = defaults(tiny)
    scenarios["prudent"] = {**scenarios["prudent"], "units": 20.0, "cost": 500.0}
    scenarios["realistic"] = {**scenarios["realistic"], "units": 50.0}
    scenarios["optimistic"] = {**scenarios["optimistic"], "units": 80.0, "cost": 500.0}
    result = risk_range(tiny, scenarios, seed=11)
    assert result.probability_below_zero == pytest.approx(0.5, abs=0.02)
    assert result.p50 == pytest.approx(0.0, abs=0.03)
    assert result.p10 == pytest.approx(roi_by_hand(20, 10, 500), abs=0.02)  # -60 %
    assert result.p90 == pytest.approx(roi_by_hand(80, 10, 500), abs=0.02)  # +60 %
    assert result.prudent_percentile == pytest.approx(10, abs=0.5)
    assert result.optimistic_percentile == pytest.approx(90, abs=0.5)


def test_prudent_and_optimistic_values_are_each_inputs_one_in_ten_cases() -> None:
    bottom, mode, top = (
        np.array([0.03, 5000.0, 0.0]),
        np.array([0.04, 6000.0, 0.0]),
        np.array([0.05, 6000.0, 1500.0]),
    )
    low, high = trigen(bottom, mode, top)
    u = np.tile((np.arange(200_000) + 0.5) / 200_000, (3, 1))
    drawn = triangular_from(u, low, mode, high)
    assert (drawn < bottom[:, None]).mean(axis=1) == pytest.approx([0.1] * 3, abs=1e-4)
    assert (drawn > top[:, None]).mean(axis=1) == pytest.approx([0.1] * 3, abs=1e-4)
    assert high[0] - 0.04 == pytest.approx(0.04 - low[0])  # symmetric around a centred mode


def test_inputs_that_move_together_put_the_scenarios_at_p10_and_p90(tiny: Template) -> None:
    """Fully correlated, units and cost lean prudent together: the prudent ROI (80 units at
    600) is then the 10th percentile exactly; drawn independently it is further out."""
    scenarios = defaults(tiny)
    together = risk_range(tiny, scenarios, seed=2, correlation={"main": 1.0, "across": 1.0})
    apart = risk_range(tiny, scenarios, seed=2, correlation={"main": 0.0, "across": 0.0})
    assert together.prudent == roi_by_hand(80, 10, 600)
    assert together.prudent_percentile == pytest.approx(10, abs=0.2)
    assert together.optimistic_percentile == pytest.approx(90, abs=0.2)
    assert apart.prudent_percentile is not None and apart.prudent_percentile < 5
    assert together.correlation == {"main": 1.0, "across": 1.0}


@pytest.mark.parametrize("name", template.builtin_names())
def test_a_prudent_loss_is_a_chance_of_a_loss(name: str) -> None:
    """The prudent scenario loses money over the horizon in every template; the simulation
    visits it, so a loss is not 0.0 %, and the prudent and optimistic scenarios' own horizon
    ROIs (as `calc` gives them) sit in the range's tails."""
    model = template.load(name)
    scenarios = defaults(model)
    result = risk_range(model, scenarios)
    prudent = timeline.scenario_figures(
        model, scenarios["prudent"], engine.compute(model, scenarios["prudent"])
    )[1]
    assert result.metric == "roi_horizon" and result.prudent == prudent["roi_horizon"]
    assert isinstance(prudent["npv"], float) and prudent["npv"] < 0 and result.prudent < 0
    assert result.probability_below_zero >= 0.01
    assert result.prudent_percentile is not None and 0 < result.prudent_percentile < 10
    assert result.optimistic_percentile is not None and 90 < result.optimistic_percentile < 100
    assert set(result.correlation) > {"across"}
    assert all(v == 0.5 for k, v in result.correlation.items() if k != "across")


@pytest.mark.parametrize("name", template.builtin_names())
def test_the_chance_of_a_loss_is_the_share_of_draws_with_a_negative_horizon_npv(
    name: str,
) -> None:
    """The same seed draws the same inputs: the NPV's own range counts the losses."""
    model = template.load(name)
    roi = risk_range(model, defaults(model), seed=5, draws=2000)
    npv = risk_range(model, defaults(model), metric="npv", seed=5, draws=2000)
    assert roi.probability_below_zero == np.count_nonzero(npv.values < 0) / 2000
    assert roi.probability_below_zero == np.count_nonzero(roi.values < 0) / 2000


@pytest.mark.parametrize("name", template.builtin_names())
def test_the_vectorised_business_case_equals_each_scenario_alone(name: str) -> None:
    """Draws of different horizons (6 to 120 months), ramp-ups and costs in one pass give,
    draw by draw, the NPV and horizon ROI the one-scenario timeline gives."""
    model = template.load(name)
    rng = np.random.default_rng(13)
    columns = []
    for horizon in (6, 36, 120, 17):
        inputs = engine.scenario_inputs(model, str(rng.choice(SCENARIOS)))
        inputs[model.timeline.horizon] = float(horizon) if model.timeline else 0.0
        columns.append([inputs[key] for key in model.input_keys])
    sample = np.array(columns).T
    found = figures_of(model, sample, ("npv", "roi_horizon"))
    for index, column in enumerate(columns):
        inputs = dict(zip(model.input_keys, column, strict=True))
        _, alone = timeline.scenario_figures(model, inputs, engine.compute(model, inputs))
        for key in ("npv", "roi_horizon"):
            assert found[key].errors[index] == 0
            assert found[key].values[index] == pytest.approx(alone[key], rel=1e-12, abs=1e-9)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"funnel": 1.5}, "--correlation funnel=1.5: a correlation must be between -1 and 1"),
        ({"*": -2.0}, "--correlation -2.0: a correlation must be between -1 and 1"),
        ({"nope": 0.1}, "'nope' is not a group of inputs of 'phoning-b2b'"),
        ({"funnel": -0.9}, "no set of inputs can be correlated this way"),
        ({"funnel": 0.1, "across": 0.5}, "no set of inputs can be correlated this way"),
    ],
)
def test_an_impossible_correlation_is_refused(given: dict[str, float], message: str) -> None:
    model = template.load("phoning-b2b")
    with pytest.raises(InputError, match=re.escape(message)):
        risk_range(model, defaults(model), correlation=given)


def test_the_risk_range_runs_on_whatever_the_headline_is(tiny: Template) -> None:
    result = risk_range(tiny, defaults(tiny), metric="revenue", seed=1)
    assert result.metric == "revenue" and result.deterministic == 1000
    assert result.p10 is not None and result.p10 == pytest.approx(800, rel=0.02)


def test_triangular_draws_respect_bounds_mode_and_degenerate_ranges() -> None:
    rng = np.random.default_rng(0)
    low = np.array([450.0, 10.0, 0.0])
    mode = np.array([500.0, 10.0, 0.0])
    high = np.array([600.0, 10.0, 1.0])
    drawn = triangular(rng, low, mode, high, 100_000)
    assert drawn.shape == (3, 100_000)
    assert drawn[0].min() >= 450 and drawn[0].max() <= 600
    assert drawn[0].mean() == pytest.approx((450 + 500 + 600) / 3, rel=2e-3)
    assert (drawn[1] == 10.0).all()
    assert drawn[2].mean() == pytest.approx(1 / 3, rel=1e-2)  # mode at the lower bound


def test_draws_stay_within_each_inputs_allowed_range(tiny: Template) -> None:
    """Beyond the scenarios, but never beyond an input's range: cost 100 to 1,000, price
    at most 11, units at least 0 (a prudent cost is the higher one)."""
    scenarios = defaults(tiny)
    scenarios["prudent"] = {**scenarios["prudent"], "units": 2.0, "cost": 990.0}
    scenarios["optimistic"] = {**scenarios["optimistic"], "units": 990.0, "cost": 110.0}
    result = risk_range(tiny, scenarios, seed=5)
    assert result.values.min() >= roi_by_hand(0, 10, 1000)
    assert result.values.max() <= roi_by_hand(1000, 10, 100)


def test_more_calls_cost_more_in_the_phoning_tornado() -> None:
    """Callers' time follows the call volume: +20 % calls is 140 hours, not a free 120.

    Margin 43,200 for 9,600 calls; cost (9,600 / 80 + 20) x 62.50 + 4,500 = 13,250;
    ROI (43,200 - 13,250) / 13,250, about 226 %, not the 260 % of free extra calls.
    """
    phoning = template.load("phoning-b2b")
    tornado = sensitivity(phoning, defaults(phoning), metrics=("roi", "total_cost"))
    calls = next(bar for bar in tornado["roi"].bars if bar.input == "calls_made")
    assert calls.outputs["+20%"] == pytest.approx((43200 - 13250) / 13250, rel=1e-12)
    assert calls.outputs["+20%"] < 2.6
    cost = next(bar for bar in tornado["total_cost"].bars if bar.input == "calls_made")
    assert (cost.outputs["-20%"], cost.outputs["+20%"]) == (10750, 13250)
