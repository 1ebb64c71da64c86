"""The fast generation path writes exactly what the plain path writes.

Generation prepares formulas in one pass (a worksheet subclass), assembles the
package in memory and evaluates single scenarios on plain floats. Each of these
is checked here against what it replaces: XlsxWriter's own formula preparation,
numpy's evaluation, and, end to end, a workbook written with XlsxWriter's stock
worksheet, temporary files and numpy, compared part by part.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from test_batch_fast_path import _parts
from xlsxwriter.worksheet import Worksheet

from roi_xl.demo import missed_call_grid, sample_actuals
from roi_xl.errors import ExpressionError
from roi_xl.locale import LOCALES
from roi_xl.model import engine, expr, timeline
from roi_xl.model import template as templates
from roi_xl.model.excel_errors import DIV0, NUM
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import Template
from roi_xl.workbook import WorkbookOptions, sensitivity_cells, write_workbook
from roi_xl.workbook import writer as writer_module
from roi_xl.workbook.worksheet import FastWorksheet

FORMULAS = [
    "=A1+B2",
    "{=SUM(A1:A3)}",
    "='Inputs'!$D$8*(1-'Calculations'!$F$9)",
    "=FILTER(A1:A3,B1:B3>0)",
    "=SORT(A1:A3)",
    "=XLOOKUP(A1,B1:B3,C1:C3)",
    "=LAMBDA(x,x+1)(2)",
    "=MYSINGLE(A1)",  # XlsxWriter's pattern for SINGLE matches any character before it
    "=SINGLE(A1)",
    "=_xlfn.STDEV.S(A1:A3)",
    "=IF(A1>0,MAX(A1,B1),MIN(A1,B1))",
    "=UNFILTER(A1)",  # FILTER inside a longer name: no word boundary, left alone
    "=ROUND(SUM(A1:A9)/3,2)",
    "=ÉFILTER(A1)",
]


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("future", [False, True])
def test_formula_preparation_matches_xlsxwriter(formula: str, future: bool) -> None:
    fast, stock = FastWorksheet(), Worksheet()
    for sheet in (fast, stock):
        sheet.use_future_functions = future
    assert fast._prepare_formula(formula) == stock._prepare_formula(formula)
    assert fast._prepare_formula(formula, True) == stock._prepare_formula(formula, True)


def _numpy_scalar(node: expr.Node, env: dict, functions: dict | None = None) -> object:
    return expr.evaluate(node, env, functions).scalar()


def _numpy_compiled(node: expr.Node, functions: dict | None = None) -> object:
    return lambda env: _numpy_scalar(node, env, functions)


SCALAR_CASES = [
    ("a / b", {"a": 1.0, "b": 0.0}, DIV0),
    ("a / b", {"a": 1.0, "b": -0.0}, DIV0),
    ("a ^ b", {"a": 0.0, "b": -1.0}, DIV0),
    ("a ^ b", {"a": 0.0, "b": 0.0}, NUM),
    ("a ^ b", {"a": -8.0, "b": 0.5}, NUM),
    ("a * b", {"a": 1e300, "b": 1e300}, NUM),
    ("IF(a / b > 1, 1, 2)", {"a": 1.0, "b": 0.0}, DIV0),
    ("IF(a > 0, a / b, 3)", {"a": -1.0, "b": 0.0}, 3.0),
    ("MIN(a / b, 3)", {"a": 1.0, "b": 0.0}, DIV0),
    ("MAX(3, a / b, b ^ -1)", {"a": 1.0, "b": 0.0}, DIV0),
    ("MIN(a, b)", {"a": 0.0, "b": -0.0}, -0.0),
    ("MAX(b, a)", {"a": 0.0, "b": -0.0}, 0.0),
    ("ROUND(a, 2)", {"a": 2.675, "b": 0.0}, 2.68),
    ("ROUND(-a, 0)", {"a": 2.5, "b": 0.0}, -3.0),
    ("ABS(a - b)", {"a": 1.0, "b": 4.0}, 3.0),
    ("-(a < b) + (a = b) * 2", {"a": 1.0, "b": 1.0}, 2.0),
    ("(1 + a) ^ b", {"a": 0.0431, "b": 21.97}, None),
    ("ROI(a, b)", {"a": 10.0, "b": 0.0}, None),
]


@pytest.mark.parametrize(("text", "env", "expected"), SCALAR_CASES)
def test_scalar_evaluation_matches_numpy(text: str, env: dict, expected: object) -> None:
    node = expr.parse(text, FUNCTIONS)
    fast = expr.evaluate_scalar(node, env, FUNCTIONS)
    slow = _numpy_scalar(node, env, FUNCTIONS)
    assert repr(fast) == repr(slow)  # repr tells -0.0 from 0.0
    if expected is not None:
        assert repr(fast) == repr(expected)


def test_scalar_evaluation_accepts_errors_and_falls_back_on_arrays() -> None:
    node = expr.parse("IF(a > 1, b, a)", FUNCTIONS)
    assert expr.evaluate_scalar(node, {"a": DIV0, "b": 1.0}) == DIV0
    assert expr.evaluate_scalar(node, {"a": 2, "b": NUM}) == NUM
    with pytest.raises(ValueError, match="not a single value"):
        expr.evaluate_scalar(node, {"a": [1.0, 2.0], "b": 1.0})


def _random_inputs(model: Template, rng: random.Random) -> dict[str, float]:
    values = {}
    for item in model.inputs:
        roll = rng.random()
        if roll < 0.15:
            values[item.key] = item.minimum
        elif roll < 0.25:
            values[item.key] = item.maximum
        elif item.integer:  # a number of months is whole
            values[item.key] = float(rng.randint(int(item.minimum), int(item.maximum)))
        else:
            values[item.key] = round(rng.uniform(item.minimum, item.maximum), rng.choice([0, 3, 9]))
    return values


@pytest.mark.parametrize("name", templates.builtin_names())
def test_engine_scalar_results_match_numpy(name: str) -> None:
    model = templates.load(name)
    rng = random.Random(name)
    for _ in range(150):
        inputs = _random_inputs(model, rng)
        fast = engine.compute(model, inputs)
        slow = {
            key: result.scalar() for key, result in engine.compute_arrays(model, inputs).items()
        }
        assert {k: repr(v) for k, v in fast.items()} == {k: repr(v) for k, v in slow.items()}


def _cases() -> list[tuple[str, str, int]]:
    return [
        (name, code, seed)
        for name in templates.builtin_names()
        for code in LOCALES
        for seed in (0, 1)
    ]


@pytest.mark.parametrize(("name", "locale", "seed"), _cases())
def test_fast_generation_is_byte_identical_to_the_plain_path(
    name: str, locale: str, seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = templates.load(name)
    rng = random.Random(f"{name}-{locale}-{seed}")
    actuals = sample_actuals(name) if seed else ()
    options = WorkbookOptions(
        locale=locale,
        overrides=_random_inputs(model, rng) if seed else {},
        start=dt.date(2026, 1 + seed, 1),
        months=12 if seed == 0 else 5,
        actuals=actuals,
        heatmaps=[missed_call_grid(40)] * len(actuals) if model.monthly.heatmap else (),
        scenario="prudent" if seed else "realistic",
        created=dt.date(2026, 1, 5),
        lambdas=bool(seed),
    )
    fast = write_workbook(model, tmp_path / "fast.xlsx", options)
    monkeypatch.setattr(writer_module, "FastWorksheet", Worksheet)
    plain_options = {k: v for k, v in writer_module._XLSXWRITER_OPTIONS.items() if k != "in_memory"}
    monkeypatch.setattr(writer_module, "_XLSXWRITER_OPTIONS", plain_options)
    monkeypatch.setattr(expr, "evaluate_scalar", _numpy_scalar)
    monkeypatch.setattr(expr, "compile_scalar", _numpy_compiled)
    monkeypatch.setattr(sensitivity_cells, "_MADE", {})  # nothing compiled before
    monkeypatch.setattr(engine, "_COMPILED", {})
    monkeypatch.setattr(timeline, "SCALAR_SETS", 0)  # recursive rows through numpy
    plain = write_workbook(model, tmp_path / "plain.xlsx", options)
    fast_parts, plain_parts = _parts(fast), _parts(plain)
    assert list(fast_parts) == list(plain_parts)
    for part, content in plain_parts.items():
        assert fast_parts[part] == content, f"{name} {locale} seed {seed}: {part} differs"


def test_rendered_formulas_follow_the_references_they_use() -> None:
    node = expr.parse("a * (b - c) + ROI(a, b)", FUNCTIONS)
    refs = {"a": "A1", "b": "B1", "c": "C1", "unused": "Z9"}
    first = expr.to_excel(node, refs, FUNCTIONS)
    assert first == expr._render(expr.inline(node, FUNCTIONS), refs)
    refs["unused"] = "Y8"
    assert expr.to_excel(node, refs, FUNCTIONS) == first
    refs["b"] = "'Other sheet'!$B$2"
    second = expr.to_excel(node, refs, FUNCTIONS)
    assert second != first
    assert second == expr._render(expr.inline(node, FUNCTIONS), refs)
    with pytest.raises(ExpressionError, match="no cell reference for 'c'"):
        expr.to_excel(node, {"a": "A1", "b": "B1"}, FUNCTIONS)


def test_the_rendered_formula_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expr, "_CACHE_LIMIT", 50)
    node = expr.parse("a + 1", FUNCTIONS)
    for row in range(500):
        assert expr.to_excel(node, {"a": f"A{row + 1}"}, FUNCTIONS) == f"A{row + 1}+1"
        assert len(expr._RENDERED) <= 50 and len(expr._INLINED) <= 50
