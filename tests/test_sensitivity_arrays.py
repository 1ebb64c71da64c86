"""The Sensitivity sheet's moves and the break-even curve, evaluated for many points at once,
give bit for bit what evaluating each cell or point on its own gives.

The sheet's move values, results, lowest, highest and swing are computed for every input
together (numpy arrays); each is held here to the scalar evaluation of the very tree its
cell holds, on every template and on random inputs (bounds included, so error values come
through). The tornado's sort keys and the break-even solver's curve likewise.
"""

from __future__ import annotations

import random
import struct

import numpy as np
import pytest
from test_formula_book import _random_inputs

from roi_xl.decide import break_even as break_even_module
from roi_xl.decide import nan_arrays
from roi_xl.decide.sensitivity import MOVES, SORT_DIGITS, STEPS, sort_keys
from roi_xl.model import engine, expr
from roi_xl.model import template as templates
from roi_xl.model.excel_errors import DIV0, NUM, ExcelError
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import SCENARIOS, Template
from roi_xl.workbook import WorkbookOptions, build_reference, cell_program
from roi_xl.workbook.cell_program import evaluate_each
from roi_xl.workbook.sensitivity_layout import (
    FIRST_MOVE,
    FIRST_RESULT,
    HIGHEST,
    LOWEST,
    SWING,
    sensitivity_layout,
)

NAMES = templates.builtin_names()


def _bits(value: object) -> object:
    """A value with its exact bits (0.0 is not -0.0), errors by their text."""
    if isinstance(value, ExcelError):
        return value.text
    assert isinstance(value, float), value
    return struct.pack("<d", value)


def _scalar(node: expr.Node, env: dict[str, object]) -> object:
    return expr.compile_scalar(node, FUNCTIONS)(env)


def _options(model: Template, rng: random.Random) -> WorkbookOptions:
    """Random inputs per scenario, each within its range (bounds and zeros included)."""
    inputs = {scenario: _random_inputs(model, rng) for scenario in SCENARIOS}
    return WorkbookOptions(inputs=inputs, scenario=rng.choice(SCENARIOS), months=3)


@pytest.mark.parametrize("name", NAMES)
def test_the_moves_equal_each_cell_evaluated_alone(name: str) -> None:
    model = templates.load(name)
    plan = sensitivity_layout(model)
    roi = engine.expanded(model, plan.metric)
    percent = model.metric(plan.metric).kind == "percent"
    rng = random.Random(f"{name}-moves")
    errors = 0
    for draw in range(12):
        options = WorkbookOptions(months=3) if draw == 0 else _options(model, rng)
        reference = build_reference(model, options)
        cells = reference.cells[reference.layout.sensitivity]
        values = reference.values
        live = {**values.live_inputs, **values.live_outputs}
        for key, row in plan.move_rows.items():
            item = model.input(key)
            moved: list[object] = [
                _scalar(
                    expr.Call(
                        "MIN",
                        (
                            expr.Call(
                                "MAX",
                                (
                                    expr.Binary(
                                        "*",
                                        expr.Ref("base"),
                                        expr.Binary("+", expr.Num(1.0), expr.Ref("step")),
                                    ),
                                    expr.Ref("min"),
                                ),
                            ),
                            expr.Ref("max"),
                        ),
                    ),
                    {"base": live[key], "step": step, "min": item.minimum, "max": item.maximum},
                )
                for step in STEPS
            ]
            moved += [values.inputs[scenario][key] for scenario in MOVES[len(STEPS) :]]
            results = [_scalar(roi, {**live, key: value}) for value in moved]
            ends = {f"r{i}": value for i, value in enumerate(results)}
            names = tuple(expr.Ref(name) for name in ends)
            lowest = _scalar(expr.Call("MIN", names), ends)
            highest = _scalar(expr.Call("MAX", names), ends)
            swing = _scalar(
                expr.Binary("-", expr.Ref("h"), expr.Ref("l")), {"h": highest, "l": lowest}
            )
            if percent and not isinstance(swing, ExcelError):
                swing = _scalar(expr.Binary("*", expr.Ref("s"), expr.Num(100.0)), {"s": swing})
            expected = {
                **{FIRST_MOVE + i: value for i, value in enumerate(moved)},
                **{FIRST_RESULT + i: value for i, value in enumerate(results)},
                LOWEST: lowest,
                HIGHEST: highest,
                SWING: swing,
            }
            for col, value in expected.items():
                assert _bits(cells[(row, col)].value) == _bits(value), (draw, key, col)
            errors += sum(isinstance(value, ExcelError) for value in expected.values())
    if name == "phone-system":  # its draws reach error values (no call answered...)
        assert errors


COLUMNS = {
    "a": [1.5, -0.0, 0.0, 3.0, DIV0, 1e308, 2.0, -7.25],
    "b": [0.0, 0.0, -0.0, 3.0, 1.0, 1e308, NUM, 0.1],
    "c": 2.0,
}
TREES = {
    "arithmetic": "(a + b * c - a / b) * (a - c)",
    "choices": "IF(a > b, MIN(a, b, c), MAX(-a, ABS(b)))",
    "business function": "ROI(a, b) + COSTPER(a, c)",
    "power": "a ^ c + b",
    "round": "ROUND(a / 3, 2)",
}


@pytest.mark.parametrize("text", TREES.values(), ids=list(TREES))
def test_evaluate_each_equals_each_position_alone(text: str) -> None:
    node = expr.parse(text, FUNCTIONS)
    size = len(COLUMNS["a"])
    found = evaluate_each(node, COLUMNS, size)
    for index in range(size):
        env = {name: c if isinstance(c, float) else c[index] for name, c in COLUMNS.items()}
        assert _bits(found[index]) == _bits(_scalar(node, env)), (text, index)


def test_only_trees_numpy_rounds_alike_go_through_arrays() -> None:
    for name, text in TREES.items():
        node = expr.parse(text, FUNCTIONS)
        assert cell_program._exact(node, FUNCTIONS) is (name not in ("power", "round"))
    # a business function whose body raises to a power is judged by its body
    assert not cell_program._exact(expr.parse("DISCOUNTFACTOR(a, b)", FUNCTIONS), FUNCTIONS)


def test_the_exactness_verdict_is_kept_per_tree() -> None:
    node = expr.parse("a * b + c", FUNCTIONS)
    cell_program._EXACT.pop(id(node), None)
    assert cell_program._exact(node, FUNCTIONS)
    assert cell_program._EXACT[id(node)] == (node, True)  # kept: the next ask is a hit
    cell_program._EXACT[id(node)] = (node, False)
    assert not cell_program._exact(node, FUNCTIONS)  # read from the entry, not walked again
    other = expr.parse("a ^ b", FUNCTIONS)
    cell_program._EXACT[id(other)] = (node, True)  # an entry of another tree of that id
    assert not cell_program._exact(other, FUNCTIONS)  # a miss: walked, the entry replaced
    assert cell_program._EXACT[id(other)] == (other, False)
    cell_program._EXACT.pop(id(node))
    cell_program._EXACT.pop(id(other))


def _sort_keys_one_by_one(swings: list[float]) -> list[float]:
    largest = max(swings)
    if largest == 0:
        return [0.0] * len(swings)
    rounded = expr.Call(
        "ROUND", (expr.Binary("/", expr.Ref("s"), expr.Ref("m")), expr.Num(SORT_DIGITS))
    )
    return [float(expr.evaluate(rounded, {"s": v, "m": largest}).scalar()) for v in swings]


def test_sort_keys_at_once_equal_one_by_one() -> None:
    rng = random.Random("sort-keys")
    for _ in range(300):
        base = rng.choice([1.0, 0.37, 1234.5, 1e-6, 1e9])
        swings = [base * rng.random() for _ in range(rng.randint(1, 25))]
        swings += [swings[0] * (1 + 2**-52), swings[0], 0.0, swings[-1] * 3]  # near ties
        assert [_bits(k) for k in sort_keys(swings)] == [
            _bits(k) for k in _sort_keys_one_by_one(swings)
        ]
    assert sort_keys([0.0, 0.0]) == [0.0, 0.0]
    assert sort_keys([1.0, DIV0]) == [0.0, 0.0]


def _whole_engine_curve(model: Template, metric: str, driver: str, base: dict, points: np.ndarray):
    result = engine.compute_arrays(model, {**base, driver: points}, metric)[metric]
    numbers = np.broadcast_to(result.values, points.shape).astype(float)
    return np.where(np.broadcast_to(result.errors, points.shape) == 0, numbers, np.nan)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    nan = np.isnan(a)
    return bool(
        (nan == np.isnan(b)).all() and (a[~nan].view(np.int64) == b[~nan].view(np.int64)).all()
    )


@pytest.mark.parametrize("name", NAMES)
def test_the_break_even_curve_equals_the_whole_engine(name: str) -> None:
    model = templates.load(name)
    rng = random.Random(f"{name}-curve")
    metrics = [model.headline[0], *(m.key for m in model.metrics[::6])]
    nans = 0
    for draw in range(6):
        base = (
            {item.key: item.defaults["realistic"] for item in model.inputs}
            if draw == 0
            else _random_inputs(model, rng)
        )
        for metric in metrics:
            for item in model.inputs:
                points = np.linspace(item.minimum, item.maximum, 257)
                points = np.concatenate([points, [base[item.key], 0.0]])
                curve = break_even_module._curve(model, metric, item.key, base)
                expected = _whole_engine_curve(model, metric, item.key, base, points)
                assert _same_bits(curve(points), expected), (draw, metric, item.key)
                nans += int(np.isnan(expected).sum())
    assert nans  # error values (as NaN) were compared too


def test_a_metric_is_split_once_per_template_metric_and_driver() -> None:
    model = templates.load("crm")
    metric, driver = model.headline[0], "conversion_rate_current"
    break_even_module._SPLIT.clear()
    split = break_even_module.split_metric(model, metric, driver)
    assert len(break_even_module._SPLIT) == 1
    assert break_even_module.split_metric(model, metric, driver) is split  # a hit
    assert driver in expr.names(split.spine) and split.parts  # what the driver does not reach
    assert split.curve is not None  # the headline compiles on arrays with errors as NaN
    other = break_even_module.split_metric(model, metric, "users")  # another driver: a miss
    assert other is not split and len(break_even_module._SPLIT) == 2
    stranger = templates.load("phoning-b2b")  # an entry held for another template: a miss
    break_even_module._SPLIT[(id(model), metric, driver)] = (stranger, other)
    again = break_even_module.split_metric(model, metric, driver)
    assert again is not other and again.spine == split.spine
    assert break_even_module._SPLIT[(id(model), metric, driver)] == (model, again)


@pytest.mark.parametrize("name", NAMES)
def test_a_split_metric_on_numbers_equals_the_whole_tree(name: str) -> None:
    model = templates.load(name)
    rng = random.Random(f"{name}-split")
    whole = expr.compile_scalar(engine.expanded(model, model.headline[0]), FUNCTIONS)
    for _ in range(20):
        inputs = _random_inputs(model, rng)
        for item in model.inputs:
            split = break_even_module.split_metric(model, model.headline[0], item.key)
            fixed = split.fixed(inputs)
            for value in (inputs[item.key], item.minimum, item.maximum, 0.0):
                expected = whole({**inputs, item.key: value})
                assert _bits(split.run({**fixed, item.key: value})) == _bits(expected)


@pytest.mark.parametrize("text", [*TREES.values(), "a / (b - 1) ^ 0.5", "IF(a < 0, 0, 1 / a)"])
def test_errors_as_nan_match_the_engine_on_arrays(text: str) -> None:
    node = expr.parse(text, FUNCTIONS)
    compiled = nan_arrays.nan_compiled(node)
    if "ROUND" in text:
        assert compiled is None  # the engine's own way is used
        return
    assert compiled is not None
    a = np.array([1.5, -0.0, 0.0, 3.0, -2.0, 1e308, 2.0, -7.25, 0.5, 4.0])
    b = np.array([0.0, 0.0, -0.0, 3.0, 1.0, 1e308, -1.0, 0.1, 1.0, -3.0])
    with np.errstate(all="ignore"):
        found = np.broadcast_to(compiled({"a": a, "b": b, "c": 2.0}), a.shape).astype(float)
    engine_says = expr.evaluate(node, {"a": a, "b": b, "c": 2.0}, FUNCTIONS)
    expected = np.where(engine_says.errors == 0, engine_says.values, np.nan)
    assert _same_bits(found, np.broadcast_to(expected, a.shape).astype(float))
    assert np.isnan(found).any() or text.startswith("IF(a > b")  # error values are met


CLEAN = {"a": [1.5, 2.0, -3.0, 0.25, -0.0], "b": [0.5, 4.0, 1.0, -2.0, 3.0], "c": 2.0}


@pytest.mark.parametrize("name", ["arithmetic", "choices", "business function", "power"])
def test_without_errors_the_positions_go_through_the_nan_closures(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = expr.parse(TREES[name], FUNCTIONS)
    size = len(CLEAN["a"])
    expected = [
        _scalar(node, {k: c if isinstance(c, float) else c[i] for k, c in CLEAN.items()})
        for i in range(size)
    ]
    if name == "power":  # not exact: position by position, the engine never asked
        assert [_bits(v) for v in evaluate_each(node, CLEAN, size)] == [_bits(v) for v in expected]
        return

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine's error codes were not needed here")

    monkeypatch.setattr(cell_program.expr, "evaluate", refused)
    assert [_bits(v) for v in evaluate_each(node, CLEAN, size)] == [_bits(v) for v in expected]
