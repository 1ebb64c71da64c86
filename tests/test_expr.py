"""The expression language: what it accepts, refuses, computes and writes for Excel."""

from __future__ import annotations

import numpy as np
import pytest

from roi_xl.errors import ExpressionError
from roi_xl.model import expr
from roi_xl.model.excel_errors import DIV0, NUM
from roi_xl.model.functions import FUNCTIONS


def value(text: str, **env: float) -> float | object:
    return expr.evaluate(expr.parse(text, FUNCTIONS), env, FUNCTIONS).scalar()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("__import__('os').system('true')", "only named functions"),
        ("a.real", "attribute access"),
        ("(lambda: 1)()", "only named functions"),
        ("lambda: 1", "a lambda"),
        ("[x for x in y]", "a comprehension"),
        ("sum(x for x in y)", "unknown function 'sum'"),
        ("2 ** 99999999", "exponent 1e+08 is too large"),
        ("a ^ 5000", "exponent 5000 is too large"),
        ("OPEN(a)", "unknown function 'OPEN'"),
        ("'text'", "not a number"),
        ("True", "not a number"),
        ("a < b < c", "chained comparisons"),
        ("a and b", "'and' / 'or'"),
        ("a if b else c", "use IF(c, x, y)"),
        ("x[0]", "indexing"),
        ("a +", "syntax error"),
        ("", "empty"),
        ("IF(a, b)", "IF() takes 3 argument(s), got 2"),
        ("ROI(a)", "ROI() takes 2 argument(s), got 1"),
        ("Calls", "not a valid name"),
        ("_private", "not a valid name"),
        ("1e999", "too large"),
        ("a + " * 600 + "a", "characters long"),
        ("(" * 300 + "a" + ")" * 300, "too many nested parentheses"),
        ("-" * 1500 + "a", "nested too deeply"),
    ],
)
def test_refuses_what_is_outside_the_language(text: str, problem: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        expr.parse(text, FUNCTIONS)
    assert problem in str(caught.value)


def test_arithmetic_follows_the_usual_rules() -> None:
    assert value("a + b * c", a=1, b=2, c=3) == 7
    assert value("(a + b) * c", a=1, b=2, c=3) == 9
    assert value("-a ^ 2", a=3) == -9  # written in Python's sense, rendered unambiguously
    assert value("a ** 2", a=3) == 9
    assert value("IF(a > b, a, b)", a=1, b=2) == 2
    assert value("IF(a = 1, 10, 20)", a=1) == 10
    assert value("IF(a <> 1, 10, 20)", a=1) == 20
    assert value("MIN(a, b, c)", a=4, b=2, c=3) == 2
    assert value("MAX(a, 0)", a=-4) == 0
    assert value("ABS(a)", a=-4) == 4


@pytest.mark.parametrize(
    ("number", "digits", "rounded"),
    [
        (2.5, 0, 3),
        (-2.5, 0, -3),
        (1.005, 2, 1.01),
        (2.675, 2, 2.68),
        (1234.5, -2, 1200),
        (0.125, 2, 0.13),
    ],
)
def test_round_is_excels_half_away_from_zero(number: float, digits: int, rounded: float) -> None:
    assert value("ROUND(a, b)", a=number, b=digits) == pytest.approx(rounded, abs=1e-12)


def test_errors_are_values_like_excel() -> None:
    assert value("a / b", a=1, b=0) == DIV0
    assert value("a / b + 1", a=1, b=0) == "#DIV/0!"
    assert value("a ^ b", a=0, b=-1) == DIV0
    assert value("a ^ b", a=0, b=0) == NUM
    assert value("a ^ b", a=-8, b=1 / 3) == NUM
    assert value("a ^ b", a=10, b=400) == NUM
    # IF only looks at the branch it takes, as Excel does.
    assert value("IF(b = 0, 0, a / b)", a=1, b=0) == 0
    # The first error met, left to right, wins.
    assert value("a / b + c ^ d", a=1, b=0, c=0, d=0) == DIV0


def test_evaluates_numpy_arrays_element_by_element() -> None:
    node = expr.parse("a / b", FUNCTIONS)
    result = expr.evaluate(node, {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([1.0, 0.0, 2.0])})
    objects = result.to_objects()
    assert objects[0] == 1.0 and objects[1] == DIV0 and objects[2] == 1.5


def test_refs_and_calls_are_listed() -> None:
    node = expr.parse("ROI(a * b, MAX(c, 1))", FUNCTIONS)
    assert expr.names(node) == {"a", "b", "c"}
    assert expr.calls(node) == {"ROI", "MAX"}
    assert expr.constants(node) == [1.0]


@pytest.mark.parametrize(
    ("text", "excel"),
    [
        ("a + b * c", "A1+B1*C1"),
        ("(a + b) * c", "(A1+B1)*C1"),
        ("a - (b - c)", "A1-(B1-C1)"),
        ("a - b - c", "A1-B1-C1"),
        ("a / (b * c)", "A1/(B1*C1)"),
        ("a * (b / c)", "A1*(B1/C1)"),
        ("-a ^ 2", "-(A1^2)"),
        ("(-a) ^ 2", "(-A1)^2"),
        ("a ^ b ^ c", "A1^(B1^C1)"),
        ("a ^ -b", "A1^(-B1)"),
        ("IF(a >= b, a, 0.5)", "IF(A1>=B1,A1,0.5)"),
        ("a != b", "A1<>B1"),
        ("a == b", "A1=B1"),
        ("(a > b) * c", "(A1>B1)*C1"),
        ("MAX(a > b, c)", "MAX((A1>B1)*1,C1)"),
        ("(a > b) == (b > c)", "(A1>B1)*1=(B1>C1)*1"),
        ("ROI(a, b)", "(A1-B1)/B1"),
        ("ROI(a + c, b)", "(A1+C1-B1)/B1"),
        ("PHONEROI(a, b * c)", "(A1-B1*C1)/(B1*C1)"),
        ("a * 0.0001", "A1*0.0001"),
        ("a * 0.00001", "A1*1E-05"),
        ("a * 12", "A1*12"),
    ],
)
def test_renders_excel_text_that_keeps_the_tree(text: str, excel: str) -> None:
    refs = {"a": "A1", "b": "B1", "c": "C1"}
    assert expr.to_excel(expr.parse(text, FUNCTIONS), refs, FUNCTIONS) == excel


def test_rendering_needs_a_reference_for_every_name() -> None:
    with pytest.raises(ExpressionError, match="no cell reference for 'b'"):
        expr.to_excel(expr.parse("a + b", FUNCTIONS), {"a": "A1"}, FUNCTIONS)
