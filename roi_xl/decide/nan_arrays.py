"""A tree evaluated on numpy arrays with every error value as NaN.

Where a solver or a block of cells needs only to know where the engine gives an error,
not which, the engine's error codes beside every value cost more than the arithmetic.
These closures do the engine's operations on the same numbers and let NaN stand for any
error: where the engine has a number, the same number; where it has an error, NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from roi_xl.model import expr
from roi_xl.model.functions import FUNCTIONS

# id(tree) -> (tree, closures or None); the tree is held so its id cannot be reused while
# the entry lives. The trees asked about are a template's, made once.
_KEPT: dict[int, tuple[expr.Node, object]] = {}
_KEPT_LIMIT = 4096


def nan_compiled(node: expr.Node) -> NanCurve | None:
    """``node`` made into closures on arrays, errors as NaN (see ``_compiled``); made once
    per tree. None for a tree holding ROUND or a period function."""
    kept = _KEPT.get(id(node))
    if kept is not None and kept[0] is node:
        return kept[1]  # type: ignore[return-value]
    compiled = _compiled(node)
    if len(_KEPT) >= _KEPT_LIMIT:
        _KEPT.clear()
    _KEPT[id(node)] = (node, compiled)
    return compiled


NanCurve = Callable[[Mapping[str, object]], object]  # arrays or numbers in, array or number out


def _compiled(node: expr.Node) -> NanCurve | None:
    """``node`` made into closures on numpy arrays with every error value as NaN: where
    the engine gives an error, NaN; elsewhere the engine's number, by the same operation
    on the same numbers. A solver needs only that, and it costs a few array operations per
    node instead of the engine's error codes beside every value.

    It holds because every error starts NaN or infinite here (a division by 0, an overflow,
    0 to a power not above 0 is made NaN on the spot), NaN carries through arithmetic, MIN
    and MAX, and comparisons and IF are made to carry it. None for a tree holding anything
    else (ROUND, a period function): the engine's own way is used then."""
    kind = type(node)
    if kind is expr.Num:
        number = node.value  # type: ignore[union-attr]
        return lambda env: number
    if kind is expr.Ref:
        name = node.name  # type: ignore[union-attr]
        return lambda env: env[name]
    if kind is expr.Unary:
        operand = _compiled(node.operand)  # type: ignore[union-attr]
        if operand is None or node.op == "+":  # type: ignore[union-attr]
            return operand
        return lambda env: np.negative(operand(env))
    if kind is expr.Binary or kind is expr.Compare:
        left = _compiled(node.left)  # type: ignore[union-attr]
        right = _compiled(node.right)  # type: ignore[union-attr]
        if left is None or right is None:
            return None
        return _nan_binary(kind is expr.Compare, node.op, left, right)  # type: ignore[union-attr]
    if kind is not expr.Call:
        return None
    name = node.name  # type: ignore[union-attr]
    args = [_compiled(arg) for arg in node.args]  # type: ignore[union-attr]
    if any(arg is None for arg in args):
        return None
    return _nan_call(name, args)  # type: ignore[arg-type]


def _nan_binary(compare: bool, op: str, left: NanCurve, right: NanCurve) -> NanCurve:
    if compare:
        test = expr.ARRAY_COMPARE[op]

        def compared(env: Mapping[str, object]) -> object:
            a, b = left(env), right(env)
            unknown = np.isnan(a) | np.isnan(b)
            return np.where(unknown, np.nan, test(a, b).astype(float))

        return compared
    operation = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}.get(op)

    def arithmetic(env: Mapping[str, object]) -> object:
        a, b = left(env), right(env)
        if operation is None:  # a power: 0 to a power not above 0 is an error
            value = np.where((np.equal(a, 0) & np.less_equal(b, 0)), np.nan, np.power(a, b))
        else:
            value = operation(a, b)
        return np.where(np.isinf(value), np.nan, value)  # x/0 and overflows: errors

    return arithmetic


def _nan_call(name: str, args: list[NanCurve]) -> NanCurve | None:
    if name == "IF":
        condition, when_true, when_false = args

        def chosen(env: Mapping[str, object]) -> object:
            test = condition(env)
            value = np.where(np.not_equal(test, 0), when_true(env), when_false(env))
            return np.where(np.isnan(test), np.nan, value)

        return chosen
    if name in ("MIN", "MAX"):
        pair = np.minimum if name == "MIN" else np.maximum

        def reduced(env: Mapping[str, object]) -> object:
            value = args[0](env)
            for arg in args[1:]:
                value = pair(value, arg(env))
            return value

        return reduced
    if name == "ABS":
        return lambda env: np.abs(args[0](env))
    macro = FUNCTIONS.get(name)
    if macro is None:
        return None  # ROUND, a period function
    body = _compiled(macro.body)
    if body is None:
        return None
    params = macro.param_names
    return lambda env: body(dict(zip(params, [arg(env) for arg in args], strict=True)))
