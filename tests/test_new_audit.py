"""`roi-xl audit` is clean on every workbook `roi-xl new` writes from valid inputs.

Random inputs within each input's allowed range go through the CLI as a user
types them (`--set` on every input, a random scenario selected): either the
workbook is written and its audit finds nothing, or `new` refuses with exit 2
because the inputs leave a figure undefined (no deal signed: no cost per deal),
and then the engine agrees that some figure is an error value. A payback that
is never reached is a written, clean workbook, never a refusal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from roi_xl.cli import app
from roi_xl.model import engine, template
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.functions import PAYBACK_NEVER
from roi_xl.model.template import SCENARIOS, Input

TEMPLATES = tuple(template.builtin_names())
MONTHS = "3"  # the monthly tabs do not change what is checked; fewer keep the test quick
runner = CliRunner()


def value_of(item: Input, positive: bool) -> st.SearchStrategy[float]:
    """A value within the input's range; strictly above 0 when ``positive``."""
    default = item.defaults["realistic"]
    high = min(item.maximum, max(default * 5, 1.0))
    low = item.minimum
    if positive and low <= 0:
        low = 1.0 if item.integer else min(0.01, high)
    drawn = st.one_of(st.just(float(default)), st.floats(low, high, allow_nan=False))
    if positive:
        drawn = drawn.filter(lambda v: v > 0)
    return drawn.map(lambda v: float(round(v)) if item.integer else v)


def random_inputs(name: str, positive: bool) -> st.SearchStrategy[dict[str, float]]:
    model = template.load(name)
    return st.fixed_dictionaries({item.key: value_of(item, positive) for item in model.inputs})


def new_then_audit(
    name: str, inputs: Mapping[str, float], scenario: str, folder: Path
) -> tuple[int, str, dict | None]:
    """Exit code and output of `new`, and the audit's JSON when a workbook was written."""
    path = folder / f"{name}-{scenario}.xlsx"
    sets = [arg for key, value in inputs.items() for arg in ("--set", f"{key}={value!r}")]
    args = ["new", name, "-o", str(path), "--scenario", scenario, "--months", MONTHS, "--force"]
    made = runner.invoke(app, [*args, *sets])
    if made.exit_code != 0:
        return made.exit_code, made.output, None
    audited = runner.invoke(app, ["audit", str(path), "--json"])
    assert audited.exit_code in (0, 1), audited.output
    return made.exit_code, made.output, json.loads(audited.stdout)


def engine_errors(name: str, inputs: Mapping[str, float]) -> set[str]:
    """Figures the engine finds undefined: metrics, and monthly KPIs over the plan."""
    model = template.load(name)
    return {
        f"{scenario}:{key}"
        for scenario, result in engine.calculate(model, overrides=inputs).items()
        for key, value in {**result.outputs, **engine.planned_kpis(model, result)}.items()
        if isinstance(value, ExcelError)
    }


NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
SETTINGS = settings(
    max_examples=6,
    deadline=None,
    phases=NO_SHRINK,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize("name", TEMPLATES)
@SETTINGS
@given(data=st.data())
def test_positive_random_inputs_give_a_clean_workbook(
    name: str, data: st.DataObject, tmp_path: Path
) -> None:
    inputs = data.draw(random_inputs(name, positive=True))
    scenario = data.draw(st.sampled_from(SCENARIOS))
    assert engine_errors(name, inputs) == set()
    code, output, audit = new_then_audit(name, inputs, scenario, tmp_path)
    assert code == 0, output
    assert audit is not None and audit["clean"] and audit["findings"] == [], audit


@pytest.mark.parametrize("name", TEMPLATES)
@SETTINGS
@given(data=st.data())
def test_any_valid_inputs_give_a_clean_workbook_or_a_one_line_refusal(
    name: str, data: st.DataObject, tmp_path: Path
) -> None:
    inputs = data.draw(random_inputs(name, positive=False))
    scenario = data.draw(st.sampled_from(SCENARIOS))
    errors = engine_errors(name, inputs)
    code, output, audit = new_then_audit(name, inputs, scenario, tmp_path)
    if errors:
        assert code == 2, output
        assert "undefined" in output and "Traceback" not in output
        assert any(
            f"'{e.split(':')[1]}' undefined in the {e.split(':')[0]}" in output for e in errors
        )
    else:
        assert code == 0, output
        assert audit is not None and audit["findings"] == [], audit


@pytest.mark.parametrize(
    ("name", "scenario", "sets"),
    [
        ("crm", "prudent", {"users": 40.0}),  # the README's example
        ("phone-system", "realistic", {"incremental_phone_cost": 50000.0}),
    ],
)
def test_a_payback_never_reached_is_a_clean_workbook(
    name: str, scenario: str, sets: dict[str, float], tmp_path: Path
) -> None:
    model = template.load(name)
    outputs = engine.compute(model, engine.scenario_inputs(model, scenario, sets))
    assert outputs["payback_months"] == PAYBACK_NEVER
    code, output, audit = new_then_audit(name, sets, scenario, tmp_path)
    assert code == 0, output
    assert audit is not None and audit["findings"] == [], audit


def test_inputs_that_leave_a_figure_undefined_are_refused_in_one_line(tmp_path: Path) -> None:
    code, output, audit = new_then_audit("phoning-b2b", {"win_rate": 0.0}, "realistic", tmp_path)
    assert code == 2 and audit is None
    assert output.count("\n") == 1 and output.startswith("error: ")
    assert "undefined in the prudent scenario (#DIV/0!" in output
    assert "win_rate = 0" in output
    assert not (tmp_path / "phoning-b2b-realistic.xlsx").exists()
