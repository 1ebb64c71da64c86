"""A user's template is refused at load time when its workbook could not be written or read.

Business functions are written out inside each formula, so a function nested in
an argument its body uses twice doubles the formula at every level: ten levels
gave 30,702 characters (Excel's limit is 8,192), sixteen ran for minutes. A long
chain (a 500-term sum) exhausted the recursion; a headline that no input moves
crashed the sensitivity sheet; ROUND(x, 400) printed NaN. Each must be refused,
or computed, with one message naming the file, the metric and the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_template_errors import GOOD
from typer.testing import CliRunner

from roi_xl.cli import app
from roi_xl.excel import lite_runtime
from roi_xl.model import expr, template
from roi_xl.model.functions import FUNCTIONS

runner = CliRunner()
EXPR = 'expr = "ROI(gain, cost)"'


def nested(levels: int, function: str = "ROI(gain, {})") -> str:
    text = "cost"
    for _ in range(levels):
        text = function.format(text)
    return text


def with_expr(text: str) -> str:
    assert EXPR in GOOD
    return GOOD.replace(EXPR, f'expr = "{text}"')


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (with_expr(nested(10)), "characters long; Excel allows 8,192"),
        (with_expr(nested(16)), "characters long; Excel allows 8,192"),
        (with_expr(nested(60)), "more than 10^12 characters"),
        (with_expr(nested(70, "MAX({}, gain)")), "nests 70 functions; Excel allows 64"),
        (with_expr(nested(61, "IF(gain > 0, {}, cost)")), "nests 61 functions"),
        (with_expr("+".join(["1"] * 500)), "nested 500 levels deep"),
        (with_expr("*".join(["gain"] * 300)), "nested 300 levels deep"),
        (with_expr("-" * 400 + "gain"), "nested 401 levels deep"),
        (with_expr("1 + 2"), "headline: metric 'roi' uses no input"),
    ],
    ids=[
        "nested-10",
        "nested-16",
        "nested-60",
        "nesting-70",
        "if-61",
        "sum-500",
        "product-300",
        "minus-400",
        "no-input",
    ],
)
def test_a_template_excel_could_not_hold_is_refused(
    tmp_path: Path, source: str, reason: str
) -> None:
    path = tmp_path / "hostile.toml"
    path.write_text(source, encoding="utf-8")
    result = runner.invoke(app, ["new", str(path), "-o", str(tmp_path / "out.xlsx")])
    message = " ".join(result.output.split())
    assert result.exit_code == 2, message
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert str(path).replace(" ", "") in message.replace(" ", "")
    assert reason in message
    if "headline" not in reason:
        assert "metric 'roi'" in message
    assert not (tmp_path / "out.xlsx").exists()


def test_the_size_bound_holds_for_every_rendered_formula() -> None:
    """The estimate is an upper bound: checked against what the writer renders."""
    for name in template.builtin_names():
        model = template.load(name)
        references = {key: "'Hypothèses longue'!$AB$1048576" for key in model.input_keys}
        references |= {key: "'Calculs'!$XFD$1048576" for key in model.metric_keys}
        for metric in model.metrics:
            text = expr.to_excel(metric.node, references, FUNCTIONS)
            assert len(text) <= expr.rendered_size(metric.node, FUNCTIONS).chars, metric.key
    for levels in range(1, 6):
        node = expr.parse(nested(levels), FUNCTIONS)
        text = expr.to_excel(node, {"gain": "G" * 46, "cost": "C" * 46}, FUNCTIONS)
        assert len(text) <= expr.rendered_size(node, FUNCTIONS).chars


@pytest.mark.parametrize(
    ("formula", "value"),
    [("ROUND(gain, 400)", 200.0), ("ROUND(gain, -400)", 0.0), ("ROUND(gain / 3, 2)", 66.67)],
)
def test_round_with_any_digits_gives_a_number_and_strict_json(
    tmp_path: Path, formula: str, value: float
) -> None:
    path = tmp_path / "round.toml"
    path.write_text(with_expr(formula), encoding="utf-8")
    result = runner.invoke(app, ["calc", str(path), "--json"])
    assert result.exit_code == 0, result.output

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    payload = json.loads(result.output, parse_constant=refuse)
    assert json.dumps(payload).count("roi") >= 1
    assert str(value) in result.output
    created = runner.invoke(app, ["new", str(path), "-o", str(tmp_path / "round.xlsx")])
    assert created.exit_code == 0, created.output


def test_round_with_far_digits_is_the_same_in_the_excel_runtime() -> None:
    """The xlwings Lite runtime carries its own ROUND: it must agree with the engine's."""
    numbers = np.array([1.2345, -2.5, 1e300, 0.0, 123.456])
    for digits in (-400, -309, -2, 0, 2, 15, 308, 400):
        node = expr.parse("ROUND(x, d)", FUNCTIONS)
        engine = expr.evaluate(node, {"x": numbers, "d": float(digits)})
        values, errors = lite_runtime.round_excel(
            (numbers, np.zeros(5, dtype=np.int8)),
            (np.full(5, float(digits)), np.zeros(5, dtype=np.int8)),
        )
        assert np.array_equal(values, engine.values), digits
        assert np.array_equal(errors, engine.errors), digits
        assert np.isfinite(values).all()
