"""`roi-xl decide`: tornado, break-evens and risk range from a template or a workbook.

Expected figures are worked by hand from the phoning article's example
(8,000 calls x 4 % x 25 % x 62.5 % x 30 % = 15 deals, 6,000 EUR each, 40 %
margin, 12,000 EUR of costs).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from roi_xl.cli import app
from roi_xl.errors import InputError
from roi_xl.inspect.reader import read_workbook
from roi_xl.inspect.workbook_decision import decide_from
from roi_xl.model import template
from roi_xl.report.facts import build_facts
from roi_xl.workbook import WorkbookOptions, write_workbook

runner = CliRunner()


def decide_json(*args: str) -> dict:
    result = runner.invoke(app, ["decide", *args, "--json"])
    assert result.exit_code == 0, result.stdout
    return json.loads(result.stdout)


def test_the_phoning_example_by_hand() -> None:
    decision = decide_json("phoning-b2b")
    assert decision["base"] == "realistic" and decision["base_value"] == 2.0
    # Margin = 50 proposals x win rate x 6,000 x 40 % = 12,000 at break-even: win rate 10 %.
    win = next(b for b in decision["break_even"] if b["driver"] == "win_rate")
    assert win["value"] == 0.1 and win["today"] == 0.3
    assert win["at_break_even"] == {"deals_won": 5.0, "cac": 2400.0}
    # 36,000 of margin pays 36,000 of cost: callers' 120 hours cost 36,000 - 4,500 = 31,500,
    # i.e. 262.50 an hour.
    agent = next(b for b in decision["break_even"] if b["driver"] == "caller_hourly_cost")
    assert agent["value"] == 262.5
    # Reach rate moves the ROI most: 3 % (prudent) gives 125 %, 5 % (optimistic) 275 %.
    first = decision["tornado"][0]
    assert first["input"] == "reach_rate"
    assert (first["low"], first["high"], first["swing"]) == (1.25, 2.75, 1.5)
    assert first["outputs"]["-20%"] == 1.4 and first["outputs"]["+20%"] == 2.6
    swings = [bar["swing"] for bar in decision["tornado"]]
    assert swings == sorted(swings, reverse=True)
    # Every headline output has its tornado; CAC = 12,000 / deals, deals 11.25 to 18.75.
    model = template.load("phoning-b2b")
    assert list(decision["tornado_by_output"]) == list(model.headline)
    cac = decision["tornado_by_output"]["cac"]
    assert cac["base_value"] == 800.0 and cac["bars"][0]["input"] == "reach_rate"
    assert cac["bars"][0]["low"] == 640.0
    assert cac["bars"][0]["high"] == pytest.approx(12000 / 11.25)
    assert decision["tornado_by_output"]["roi"]["bars"] == decision["tornado"]
    text = runner.invoke(app, ["decide", "phoning-b2b", "--metric", "cac", "--top", "2"])
    words = " ".join(text.stdout.split())
    assert text.exit_code == 0 and "Customer acquisition cost (CAC) = 800.00" in words


def test_set_moves_the_break_even_and_the_seed_repeats_the_risk() -> None:
    base = decide_json("phoning-b2b", "--seed", "3", "--draws", "2000")
    again = decide_json("phoning-b2b", "--seed", "3", "--draws", "2000")
    other = decide_json("phoning-b2b", "--seed", "4", "--draws", "2000")
    assert base == again
    assert base["risk"] != other["risk"] and base["tornado"] == other["tornado"]
    assert base["risk"]["draws"] == 2000
    cheaper = decide_json("phoning-b2b", "--set", "tool_cost=0")
    win = next(b for b in cheaper["break_even"] if b["driver"] == "win_rate")
    assert win["value"] == pytest.approx(11000 / 120000)  # margin must now cover 11,000


def test_the_json_places_the_scenarios_on_the_risk_range() -> None:
    """The range is of the horizon ROI `calc` gives: prudent loses money over the horizon,
    it sits low on the range, and the chance of a loss (an NPV below zero) is not 0."""
    risk = decide_json("phoning-b2b")["risk"]
    calc = json.loads(runner.invoke(app, ["calc", "phoning-b2b", "--json"]).stdout)
    outputs = {s: calc["scenarios"][s]["outputs"] for s in ("prudent", "optimistic")}
    assert risk["metric"] == "roi_horizon" and risk["loss_measure"] == "npv"
    assert risk["prudent"] == outputs["prudent"]["roi_horizon"] < 0
    assert outputs["prudent"]["npv"] < 0
    assert risk["optimistic"] == outputs["optimistic"]["roi_horizon"]
    assert 0 < risk["prudent_percentile"] < 10 < 90 < risk["optimistic_percentile"] < 100
    assert risk["probability_below_zero"] > 0.01
    model = template.load("phoning-b2b")
    groups = {item.section for item in model.inputs}
    assert risk["correlation"]["across"] == 0.25
    assert {k for k in risk["correlation"] if k != "across"} <= groups
    assert {"funnel", "value", "costs"} <= set(risk["correlation"])
    assert all(v == 0.5 for k, v in risk["correlation"].items() if k != "across")
    tighter = decide_json("phoning-b2b", "--correlation", "0.9", "--correlation", "across=0.6")
    assert tighter["risk"]["correlation"]["funnel"] == 0.9
    assert tighter["risk"]["correlation"]["across"] == 0.6
    assert tighter["risk"]["prudent_percentile"] > risk["prudent_percentile"]


def test_a_workbook_decides_from_its_selected_scenario(tmp_path: Path) -> None:
    model = template.load("crm")
    path = write_workbook(
        model,
        tmp_path / "crm.xlsx",
        WorkbookOptions(scenario="prudent", start=dt.date(2026, 1, 1), months=2),
    )
    decision = decide_json(str(path))
    assert decision["base"] == "prudent"
    facts = build_facts(read_workbook(path))
    assert facts.tornado is not None and facts.risk is not None
    assert [bar["input"] for bar in decision["tornado"]] == [b.input for b in facts.tornado.bars]
    assert [b["value"] for b in decision["break_even"]] == [
        None if b.value is None else pytest.approx(b.value) for b in facts.breakevens
    ]
    assert decision["risk"]["p50"] == facts.risk.p50
    text = runner.invoke(app, ["decide", str(path), "--scenario", "optimistic"])
    words = " ".join(text.stdout.split())
    assert text.exit_code == 0 and "in the optimistic scenario" in words
    assert "Break-even Hours saved per active user per month: none" in words


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["phoning-b2b", "--scenario", "likely"], "unknown scenario 'likely'"),
        (["phoning-b2b", "--draws", "0"], "--draws must be between 1 and 200,000; got 0"),
        (["phoning-b2b", "--draws", "100000000"], "--draws must be between 1 and 200,000"),
        (["phoning-b2b", "--seed", "-1"], "--seed must be a whole number from 0"),
        (
            ["phoning-b2b", "--correlation", "funnel=1.5"],
            "--correlation funnel=1.5: a correlation must be between -1 and 1",
        ),
        (["phoning-b2b", "--correlation", "funnel=lots"], "'lots' is not a number"),
        (["phoning-b2b", "--set", "win_rate=30"], "win_rate"),
        (["nosuch"], "nosuch"),
        (["crm", "--metric", "nope"], "'nope' is not a headline output of template 'crm'"),
        (["missing.xlsx"], "missing.xlsx"),
    ],
)
def test_bad_requests_exit_2_with_a_message(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["decide", *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_set_is_refused_for_a_workbook(tmp_path: Path) -> None:
    path = write_workbook(template.load("crm"), tmp_path / "c.xlsx", WorkbookOptions(months=1))
    result = runner.invoke(app, ["decide", str(path), "--set", "users=3"])
    assert result.exit_code == 2 and "edit the workbook" in " ".join(result.output.split())
    with pytest.raises(InputError, match="edit the workbook"):
        decide_from(path, overrides={"users": 3})
