"""The missed-call loss of a call log, in currency, split by new and existing callers.

It values the missed callers never recovered (spam excluded) the way the phone-system
model values its loss: MISSEDCALLLOSS(callers, lead rate, conversion rate, average value).
Realistic template rates: 0.3 x 0.37 x 850 = 94.35 a caller; prudent: 0.25 x 0.3 x 850
= 63.75.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from roi_xl.calls import CallAnalysis, CallLogError, CallOptions, analyse_calls
from roi_xl.calls.to_workbook import workbook_figures
from roi_xl.cli import app
from roi_xl.model import engine, template
from roi_xl.model.template import SCENARIOS
from roi_xl.workbook.values import compute_values

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "calls"
BLOCKED = SAMPLES / "blocked-numbers.txt"
ZONE = "America/New_York"
REALISTIC = 0.3 * 0.37 * 850
PRUDENT = 0.25 * 0.3 * 850


def analyse(path: Path, **options: object) -> CallAnalysis:
    settings = {"time_zone": ZONE, **options}
    return analyse_calls(path, CallOptions(**settings))  # type: ignore[arg-type]


def test_one_lost_caller_valued_at_the_model_rates() -> None:
    result = analyse(SAMPLES / "aircall-calls.csv", exclude_numbers=BLOCKED)
    march = result.months["2026-03"]
    # E, the one missed caller never recovered, is a new caller (first seen in the log)
    assert march.missed_not_recovered == 1
    assert march.missed_call_loss == pytest.approx(REALISTIC)  # 94.35
    assert march.by_caller_type["new"].missed_call_loss == pytest.approx(REALISTIC)
    assert march.by_caller_type["existing"].missed_call_loss == 0
    assert result.loss_basis == {
        "lead_rate": 0.3,
        "conversion_rate": 0.37,
        "average_value": 850.0,
        "source": "phone-system template, realistic scenario",
    }
    # without the blocked list D, the robocall, is one more lost new caller
    unblocked = analyse(SAMPLES / "aircall-calls.csv").months["2026-03"]
    assert unblocked.missed_call_loss == pytest.approx(2 * REALISTIC)
    prudent = analyse(SAMPLES / "aircall-calls.csv", exclude_numbers=BLOCKED, scenario="prudent")
    assert prudent.months["2026-03"].missed_call_loss == pytest.approx(PRUDENT)
    with pytest.raises(CallLogError, match="--scenario 'hopeful'"):
        analyse(SAMPLES / "aircall-calls.csv", scenario="hopeful")


def test_caller_types_split_the_loss_without_counting_a_caller_twice(tmp_path: Path) -> None:
    """X is new at 09:00, then an existing caller at 14:00: one lost caller, of the new type."""
    log = tmp_path / "calls.csv"
    log.write_text(
        "started_at,caller,status,wait_seconds,duration_seconds,source,outcome\n"
        "2026-03-02 09:00:00,+12125550101,missed,,,,\n"  # X, first call: new, missed
        "2026-03-02 14:00:00,+12125550101,missed,,,,\n"  # X again, hours later: missed
        "2026-02-27 10:00:00,+12125550102,answered,,,,\n"  # Y, new in February
        "2026-03-03 10:00:00,+12125550102,missed,,,,\n"  # Y in March, existing: missed
        "2026-03-03 11:00:00,+12125550103,missed,,,,\n"  # Z, new, missed then called again
        "2026-03-03 11:30:00,+12125550103,answered,,,,\n",
        "utf-8",
    )
    march = analyse(log).months["2026-03"]
    types = march.by_caller_type
    # X lost (new: one of X's March calls is a new caller's); Y lost (existing); Z recovered
    assert march.missed_not_recovered == 2
    assert (types["new"].missed_not_recovered, types["existing"].missed_not_recovered) == (1, 1)
    assert types["new"].missed_call_loss + types["existing"].missed_call_loss == pytest.approx(
        march.missed_call_loss
    )
    assert march.missed_call_loss == pytest.approx(2 * REALISTIC)
    # calls stay counted per call: X's and Z's second calls and Y's are existing callers'
    assert (types["new"].calls, types["existing"].calls) == (2, 3)


def test_the_log_loss_is_the_loss_the_workbook_computes_from_it() -> None:
    """The monthly tab's missed-call loss (model rates) equals the log's own, month by month."""
    model = template.load("phone-system")
    result = analyse(SAMPLES / "calls-2026-q1.csv", time_zone="UTC")
    figures, _ = workbook_figures(model, result)
    months = list(result.months)
    inputs = {s: engine.scenario_inputs(model, s) for s in SCENARIOS}
    values = compute_values(model, inputs, "realistic", 3, [figures[m] for m in months])
    for month, computed in zip(months, values.months, strict=True):
        logged = result.months[month]
        assert logged.missed_not_recovered > 0
        assert computed.kpis["missed_call_loss"] == pytest.approx(logged.missed_call_loss, abs=0.01)
        split = sum(t.missed_call_loss or 0 for t in logged.by_caller_type.values())
        assert split == pytest.approx(logged.missed_call_loss, abs=0.02)


def test_rates_from_a_workbook(tmp_path: Path) -> None:
    workbook = tmp_path / "phones.xlsx"
    made = CliRunner().invoke(
        app, ["new", "phone-system", "-o", str(workbook), "--scenario", "prudent"]
    )
    assert made.exit_code == 0, made.output
    result = analyse(SAMPLES / "3cx-cdr.csv", exclude_numbers=BLOCKED, value_from=workbook)
    assert result.months["2026-03"].missed_call_loss == pytest.approx(PRUDENT)
    assert result.loss_basis is not None
    assert result.loss_basis["source"] == "phones.xlsx, prudent scenario"


def test_cli_shows_the_loss_weeks_windows_and_grids() -> None:
    common = [str(SAMPLES / "3cx-cdr.csv"), "--tz", ZONE, "--exclude-numbers", str(BLOCKED)]
    windows = ["--baseline", "2026-03-06..2026-03-07", "--test", "2026-03-08..2026-03-09"]
    runner = CliRunner()
    data = json.loads(runner.invoke(app, ["calls", *common, *windows, "--json"]).stdout)
    march = data["months"]["2026-03"]
    assert march["missed_call_loss"] == pytest.approx(REALISTIC)
    assert march["by_caller_type"]["new"]["missed_call_loss"] == pytest.approx(REALISTIC)
    assert data["weeks"]["2026-W10"]["missed_call_loss"] == pytest.approx(REALISTIC)
    # E was lost in the baseline (Fri-Sat, 2 days): 94.35 x 7 / 2 a week; none in the test
    baseline = data["windows"]["baseline"]["per_week"]["missed_call_loss"]
    assert baseline == pytest.approx(REALISTIC * 7 / 2, abs=0.01)
    assert data["window_change"]["missed_call_loss_per_week"] == pytest.approx(-baseline)
    shown = runner.invoke(app, ["calls", *common, *windows], env={"COLUMNS": "160"})
    assert shown.exit_code == 0, shown.output
    text = shown.stdout
    for needle in (
        "missed-call loss (not recovered)",
        "Inbound calls per ISO week",
        "2026-W10",
        "2026-W11",
        "Missed calls by weekday x hour (spam excluded, whole log)",
        "Abandoned calls by weekday x hour",
        "Baseline and test windows",
        "lead rate 30 % x conversion rate 37 % x average value 850.00",
    ):
        assert needle in text, needle
    sat = next(line for line in text.splitlines() if line.startswith("Sat"))
    # Saturday: E at 20:00, the one missed call, in the hour-20 column (of 24), total 1
    cells = sat.split()[1:]
    assert cells[20] == "1" and cells[-1] == "1"
    assert [c for i, c in enumerate(cells[:24]) if i != 20] == ["·"] * 23
    # The grid fits an 80-column terminal: every hour and the row sums are there.
    narrow = runner.invoke(app, ["calls", *common], env={"COLUMNS": "80"}).stdout
    header = next(line for line in narrow.splitlines() if line.lstrip().startswith("00 01"))
    assert header.split() == [f"{hour:02d}" for hour in range(24)] + ["sum"]
    assert max(len(line) for line in narrow.splitlines() if line.startswith("Sat")) <= 80
    bad = runner.invoke(app, ["calls", *common, "--value-from", "missing.xlsx"])
    assert bad.exit_code == 2 and "missing.xlsx" in bad.output
