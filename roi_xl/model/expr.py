"""The expression language every business formula is written in.

One parsed expression is evaluated in Python (scalars or numpy arrays, with
Excel's error semantics) and rendered as an Excel formula, so the numbers in
the terminal, in the workbook's cached values and in Excel's recalculation all
come from the same definition. Parsing goes through Python's ``ast`` against a
whitelist of node types; nothing is ever passed to ``eval``.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from roi_xl.errors import ExpressionError
from roi_xl.model.excel_errors import ALL_ERROR_CODES, DIV0, NUM, REF, ExcelError

MAX_EXPRESSION_LENGTH = 2000
MAX_EXPONENT = 1000
EXCEL_MAX_FORMULA_CHARS = 8192  # Excel refuses a longer formula
EXCEL_MAX_NESTING = 64  # Excel refuses functions nested deeper
MAX_TREE_DEPTH = 200  # deeper trees would exhaust the recursion of evaluation and rendering
# The writer wraps some formulas (a blank test, a scenario choice): room kept for it.
WRAPPER_CHARS, WRAPPER_LEVELS = 500, 4
REFERENCE_CHARS = 46  # the longest cell reference: a quoted 31-character sheet and $XFD$1048576
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

# ---------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "+"
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str  # + - * / ^
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare:
    op: str  # < <= > >= = <>
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = Num | Ref | Unary | Binary | Compare | Call


class Macro(Protocol):
    """A named business function as the expression language sees it."""

    name: str
    param_names: tuple[str, ...]
    body: Node


# Built-in functions: name -> (min args, max args or None for any).
BUILTINS: dict[str, tuple[int, int | None]] = {
    "MIN": (1, None),
    "MAX": (1, None),
    "IF": (3, 3),
    "ROUND": (2, 2),
    "ABS": (1, 1),
}

# Functions over a timeline's periods (one column per month), allowed only where
# the caller says periods exist. Their first argument names a timeline row.
#   LAG(row, n)   the row's value n periods earlier (0 before the first period)
#   CUMSUM(row)   the sum of the row from the first period to this one
#   TOTAL(row)    the sum of the row over every period (one value per timeline)
#   IRR(row)      Excel's IRR of the row's flows, per period (one value per timeline)
PERIOD_BUILTINS: dict[str, int] = {"LAG": 2, "CUMSUM": 1, "TOTAL": 1, "IRR": 1}
PERIOD = "period"  # the name of the period index (1 in the first period)

_BINARY_OPS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "^",
}
_COMPARE_OPS: dict[type, str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "=",
    ast.NotEq: "<>",
}
_NODE_WORDS: dict[type, str] = {
    ast.Attribute: "attribute access",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.Subscript: "indexing",
    ast.BoolOp: "'and' / 'or' (use IF, MIN or MAX)",
    ast.IfExp: "Python's 'x if c else y' (use IF(c, x, y))",
    ast.JoinedStr: "a string",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.NamedExpr: "an assignment",
    ast.Starred: "unpacking",
    ast.Await: "await",
}

# ----------------------------------------------------------------- parsing


def parse(text: str, functions: Mapping[str, Macro] | None = None, periods: bool = False) -> Node:
    """Parse ``text`` into a tree, refusing anything outside the language.

    With ``periods`` the timeline functions (LAG, CUMSUM, TOTAL, IRR) are allowed.
    """
    functions = dict(functions or {})
    if periods:
        functions.update(_PERIOD_MACROS)
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text)} characters long; the limit is {MAX_EXPRESSION_LENGTH}"
        )
    try:
        tree = ast.parse(_pythonic(text.strip()), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error at column {exc.offset}: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("the expression is nested too deeply") from None
    try:
        node = _convert(tree.body, functions)
    except RecursionError:
        raise ExpressionError("the expression is nested too deeply") from None
    depth = _depth(node)
    if depth > MAX_TREE_DEPTH:
        raise ExpressionError(
            f"the expression is nested {depth} levels deep (a long chain such as a+b+c+... "
            f"counts one level per term); the limit is {MAX_TREE_DEPTH}"
        )
    check_size(node, functions)
    return node


def _depth(node: Node) -> int:
    """The depth of a tree, counted without recursion (the tree may be very deep)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children(current))
    return deepest


def _pythonic(text: str) -> str:
    """Accept Excel's spelling of operators: ^ for power, = and <> for comparisons."""
    text = text.replace("^", "**").replace("<>", "!=")
    return _SINGLE_EQUALS.sub("==", text)


_SINGLE_EQUALS = re.compile(r"(?<![<>=!])=(?!=)")


def _convert(node: ast.AST, functions: Mapping[str, Macro]) -> Node:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError(f"{value!r} is not a number; only numbers are allowed")
        if not math.isfinite(float(value)) or abs(value) > 1e300:
            raise ExpressionError(f"the number {value!r} is too large")
        return Num(float(value))
    if isinstance(node, ast.Name):
        if not NAME_PATTERN.match(node.id):
            raise ExpressionError(
                f"'{node.id}' is not a valid name (lower case letters, digits and _ only)"
            )
        return Ref(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return Unary(
            "-" if isinstance(node.op, ast.USub) else "+", _convert(node.operand, functions)
        )
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_OPS:
        op = _BINARY_OPS[type(node.op)]
        left = _convert(node.left, functions)
        right = _convert(node.right, functions)
        if op == "^":
            _check_exponent(right)
        return Binary(op, left, right)
    if isinstance(node, ast.Compare):
        if len(node.ops) != 1:
            raise ExpressionError("chained comparisons such as a < b < c are not allowed")
        if type(node.ops[0]) not in _COMPARE_OPS:
            raise ExpressionError("only < <= > >= == != comparisons are allowed")
        return Compare(
            _COMPARE_OPS[type(node.ops[0])],
            _convert(node.left, functions),
            _convert(node.comparators[0], functions),
        )
    if isinstance(node, ast.Call):
        return _convert_call(node, functions)
    word = _NODE_WORDS.get(type(node), f"'{type(node).__name__}'")
    raise ExpressionError(f"{word} is not allowed in a formula")


def _convert_call(node: ast.Call, functions: Mapping[str, Macro]) -> Call:
    if not isinstance(node.func, ast.Name):
        raise ExpressionError("only named functions such as MAX(a, b) can be called")
    name = node.func.id
    if name not in BUILTINS and name not in functions:
        known = ", ".join(sorted([*BUILTINS, *functions]))
        raise ExpressionError(f"unknown function '{name}' (known: {known})")
    args = tuple(_convert(arg, functions) for arg in node.args)
    if name in PERIOD_BUILTINS and not isinstance(args[0] if args else None, Ref):
        raise ExpressionError(f"{name}() takes a timeline row's name as its first argument")
    if name in BUILTINS:
        low, high = BUILTINS[name]
        if len(args) < low or (high is not None and len(args) > high):
            expected = str(low) if low == high else f"at least {low}"
            raise ExpressionError(f"{name}() takes {expected} argument(s), got {len(args)}")
    else:
        expected_count = len(functions[name].param_names)
        if len(args) != expected_count:
            raise ExpressionError(f"{name}() takes {expected_count} argument(s), got {len(args)}")
    return Call(name, args)


def _check_exponent(node: Node) -> None:
    value = _constant_value(node)
    if value is not None and abs(value) > MAX_EXPONENT:
        raise ExpressionError(f"the exponent {value:g} is too large (limit {MAX_EXPONENT})")


def _constant_value(node: Node) -> float | None:
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Unary) and isinstance(node.operand, Num):
        return -node.operand.value if node.op == "-" else node.operand.value
    return None


# --------------------------------------------------------------- inspection


def names(node: Node) -> set[str]:
    """The input or metric names a tree refers to."""
    if isinstance(node, Ref):
        return {node.name}
    return set().union(*(names(child) for child in children(node)))


def calls(node: Node) -> set[str]:
    """The function names a tree calls (not those called by the functions)."""
    own = {node.name} if isinstance(node, Call) else set()
    return own.union(*(calls(child) for child in children(node)))


def constants(node: Node) -> list[float]:
    """Every number written in the tree, for the no-hard-coded-numbers rule."""
    if isinstance(node, Num):
        return [node.value]
    return [value for child in children(node) for value in constants(child)]


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, (Binary, Compare)):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def inline(node: Node, functions: Mapping[str, Macro]) -> Node:
    """Replace every business-function call by its body, arguments substituted."""
    if isinstance(node, Call):
        args = tuple(inline(arg, functions) for arg in node.args)
        if node.name in BUILTINS or node.name in PERIOD_BUILTINS:
            return Call(node.name, args)
        macro = functions[node.name]
        body = inline(macro.body, functions)
        return substitute(body, dict(zip(macro.param_names, args, strict=True)))
    if isinstance(node, Unary):
        return Unary(node.op, inline(node.operand, functions))
    if isinstance(node, Binary):
        return Binary(node.op, inline(node.left, functions), inline(node.right, functions))
    if isinstance(node, Compare):
        return Compare(node.op, inline(node.left, functions), inline(node.right, functions))
    return node


def substitute(node: Node, replacements: Mapping[str, Node]) -> Node:
    """Replace references by trees (parameters by arguments)."""
    if isinstance(node, Ref):
        return replacements.get(node.name, node)
    if isinstance(node, Unary):
        return Unary(node.op, substitute(node.operand, replacements))
    if isinstance(node, Binary):
        return Binary(
            node.op, substitute(node.left, replacements), substitute(node.right, replacements)
        )
    if isinstance(node, Compare):
        return Compare(
            node.op, substitute(node.left, replacements), substitute(node.right, replacements)
        )
    if isinstance(node, Call):
        return Call(node.name, tuple(substitute(arg, replacements) for arg in node.args))
    return node


@dataclass(frozen=True)
class Size:
    """What a tree becomes once its business functions are written out, measured without
    writing it out (a function using its argument twice doubles it at every level)."""

    chars: int  # an upper bound on the rendered formula's length
    nesting: int  # functions nested in the rendered formula
    depth: int  # depth of the written-out tree


def rendered_size(node: Node, functions: Mapping[str, Macro]) -> Size:
    """The size of ``to_excel(node)`` for any cell references the writer may use."""
    return _size(node, functions, {})


def _size(node: Node, functions: Mapping[str, Macro], params: Mapping[str, Size]) -> Size:
    if isinstance(node, Num):
        return Size(len(format_number(node.value)), 0, 1)
    if isinstance(node, Ref):
        if node.name in params:
            return params[node.name]
        return Size(max(REFERENCE_CHARS, len(node.name) + 4), 0, 1)
    if isinstance(node, Call) and node.name not in BUILTINS:
        macro = functions[node.name]
        args = [_size(arg, functions, params) for arg in node.args]
        return _size(macro.body, functions, dict(zip(macro.param_names, args, strict=True)))
    parts = [_size(child, functions, params) for child in children(node)]
    chars = sum(part.chars for part in parts)
    if isinstance(node, Call):
        # NAME( args , ) and a comparison argument written (a<b)*1
        chars += len(node.name) + 2 + len(parts) + 4 * len(parts)
        nesting = 1 + max((part.nesting for part in parts), default=0)
    else:
        chars += 2 + 8  # the operator, brackets around either side and a (a<b)*1
        nesting = max(part.nesting for part in parts)
    return Size(chars, nesting, 1 + max((part.depth for part in parts), default=0))


def check_size(node: Node, functions: Mapping[str, Macro]) -> None:
    """Refuse a tree whose formula Excel would refuse, or that grows too large to handle."""
    size = rendered_size(node, functions)
    if size.depth > MAX_TREE_DEPTH:
        raise ExpressionError(
            f"written out, the formula is nested {size.depth} levels deep; "
            f"the limit is {MAX_TREE_DEPTH}"
        )
    if size.nesting > EXCEL_MAX_NESTING - WRAPPER_LEVELS:
        raise ExpressionError(
            f"written out, the formula nests {size.nesting} functions; Excel allows "
            f"{EXCEL_MAX_NESTING} (and the workbook adds up to {WRAPPER_LEVELS})"
        )
    if size.chars > EXCEL_MAX_FORMULA_CHARS - WRAPPER_CHARS:
        shown = f"{size.chars:,}" if size.chars < 10**12 else "more than 10^12"
        raise ExpressionError(
            f"written out, the formula may be {shown} characters long; Excel allows "
            f"{EXCEL_MAX_FORMULA_CHARS:,} (and the workbook adds up to {WRAPPER_CHARS})"
        )


# --------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Evaluated:
    """Values with an Excel error code per element (0 = no error).

    Errors are values, as in Excel: a division by zero in one element gives
    #DIV/0! there and leaves its neighbours alone.
    """

    values: np.ndarray
    errors: np.ndarray

    @classmethod
    def of(cls, value: float | np.ndarray | ExcelError | Evaluated) -> Evaluated:
        if isinstance(value, Evaluated):
            return value
        if isinstance(value, ExcelError):
            return cls(np.asarray(np.nan), np.asarray(value.code, dtype=np.int8))
        array = np.asarray(value, dtype=float)
        return cls(array, np.zeros(array.shape, dtype=np.int8))

    def scalar(self) -> float | ExcelError:
        """The single value, or its error."""
        if self.values.size != 1:
            raise ValueError("not a single value")
        code = int(self.errors.reshape(-1)[0]) if self.errors.size else 0
        if code:
            return ALL_ERROR_CODES[code]
        return float(self.values.reshape(-1)[0])

    def to_objects(self) -> np.ndarray:
        """An object array of floats and ExcelError values."""
        values, errors = np.broadcast_arrays(self.values, self.errors)
        out = values.astype(object)
        for code in np.unique(errors[errors != 0]):
            out[errors == code] = ALL_ERROR_CODES[int(code)]
        return out


def stacked(values: Sequence[float | ExcelError]) -> Evaluated:
    """Scalars (numbers or Excel errors) as one array, to evaluate a tree over all at once."""
    parts = [Evaluated.of(value) for value in values]
    return Evaluated(
        np.array([float(part.values) for part in parts]),
        np.array([int(part.errors) for part in parts], dtype=np.int8),
    )


def evaluate(
    node: Node,
    env: Mapping[str, float | np.ndarray | ExcelError | Evaluated],
    functions: Mapping[str, Macro] | None = None,
) -> Evaluated:
    """Evaluate a tree over numbers or numpy arrays (broadcast like numpy)."""
    functions = functions or {}
    with np.errstate(all="ignore"):
        return _evaluate(node, env, functions)


def _evaluate(node: Node, env: Mapping, functions: Mapping[str, Macro]) -> Evaluated:
    if isinstance(node, Num):
        return Evaluated.of(node.value)
    if isinstance(node, Ref):
        if node.name not in env:
            raise ExpressionError(f"no value given for '{node.name}'")
        return Evaluated.of(env[node.name])
    if isinstance(node, Unary):
        operand = _evaluate(node.operand, env, functions)
        values = -operand.values if node.op == "-" else operand.values
        return Evaluated(values, operand.errors)
    if isinstance(node, Binary):
        return _binary(
            node.op, _evaluate(node.left, env, functions), _evaluate(node.right, env, functions)
        )
    if isinstance(node, Compare):
        left = _evaluate(node.left, env, functions)
        right = _evaluate(node.right, env, functions)
        values = ARRAY_COMPARE[node.op](left.values, right.values).astype(float)
        return Evaluated(values, _first_error(left.errors, right.errors))
    if isinstance(node, Call):
        args = [_evaluate(arg, env, functions) for arg in node.args]
        if node.name in BUILTINS:
            return _BUILTIN_FUNCS[node.name](args)
        if node.name in PERIOD_BUILTINS:
            return _period_call(node.name, args, env)
        macro = functions[node.name]
        return _evaluate(macro.body, dict(zip(macro.param_names, args, strict=True)), functions)
    raise ExpressionError(f"cannot evaluate {node!r}")


def evaluate_scalar(
    node: Node,
    env: Mapping[str, float | np.ndarray | ExcelError | Evaluated],
    functions: Mapping[str, Macro] | None = None,
) -> float | ExcelError:
    """Evaluate a tree over single numbers: ``evaluate(...).scalar()``, without numpy's cost.

    A workbook evaluates a few thousand trees on single numbers, where numpy's
    per-operation overhead is most of the time. Plain Python floats follow the
    same IEEE arithmetic and the same error rules; power and ROUND still go
    through numpy, whose results can differ from the C library's in the last
    digit. Any array in ``env`` hands the whole tree to :func:`evaluate`.
    """
    functions = functions or {}
    try:
        return _scalar(node, env, functions)
    except _NotScalar:
        return evaluate(node, env, functions).scalar()


def compile_scalar(
    node: Node, functions: Mapping[str, Macro] | None = None
) -> Callable[[Mapping], float | ExcelError]:
    """``node`` made once into plain-Python closures: ``evaluate_scalar`` of the same tree
    and functions for any environment, the same values and errors, a few times faster.

    Worth it for a tree evaluated again and again (a cell of every workbook of a
    template): the tree is walked once here instead of at every evaluation. An array in
    the environment hands the whole tree to :func:`evaluate`, as ``evaluate_scalar`` does.
    """
    functions = functions or {}
    run = _compiled(node, functions)

    def evaluate_compiled(env: Mapping) -> float | ExcelError:
        try:
            return run(env)
        except _NotScalar:
            return evaluate(node, env, functions).scalar()

    return evaluate_compiled


_Compiled = Callable[[Mapping], "float | ExcelError"]


def _compiled(node: Node, functions: Mapping[str, Macro]) -> _Compiled:
    """One closure per node, each doing what ``_scalar`` does for that node."""
    kind = type(node)
    if kind is Num:
        number = node.value  # type: ignore[union-attr]
        return lambda env: number
    if kind is Ref:
        return _compiled_ref(node.name)  # type: ignore[union-attr]
    if kind is Unary:
        operand = _compiled(node.operand, functions)  # type: ignore[union-attr]
        if node.op == "+":  # type: ignore[union-attr]
            return operand

        def negate(env: Mapping) -> float | ExcelError:
            value = operand(env)
            return value if value.__class__ is ExcelError else -value  # type: ignore[operator]

        return negate
    if kind is Binary or kind is Compare:
        left = _compiled(node.left, functions)  # type: ignore[union-attr]
        right = _compiled(node.right, functions)  # type: ignore[union-attr]
        op = node.op  # type: ignore[union-attr]
        if kind is Compare:
            compare = _SCALAR_COMPARE[op]

            def compared(env: Mapping) -> float | ExcelError:
                a, b = left(env), right(env)
                if a.__class__ is ExcelError:
                    return a
                if b.__class__ is ExcelError:
                    return b
                return 1.0 if compare(a, b) else 0.0  # type: ignore[arg-type]

            return compared

        def binary(env: Mapping) -> float | ExcelError:
            a, b = left(env), right(env)
            if a.__class__ is ExcelError:
                return a
            if b.__class__ is ExcelError:
                return b
            return _scalar_binary(op, a, b)  # type: ignore[arg-type]

        return binary
    if kind is Call:
        name = node.name  # type: ignore[union-attr]
        args = [_compiled(arg, functions) for arg in node.args]  # type: ignore[union-attr]
        if name in BUILTINS:
            return lambda env: _scalar_builtin(name, [arg(env) for arg in args])
        if name in functions:
            macro = functions[name]
            body = _compiled(macro.body, functions)
            params = macro.param_names
            return lambda env: body(dict(zip(params, [arg(env) for arg in args], strict=True)))
    return lambda env: _scalar(node, env, functions)  # anything else, as evaluate_scalar


def _compiled_ref(name: str) -> _Compiled:
    def ref(env: Mapping) -> float | ExcelError:
        if name not in env:
            raise ExpressionError(f"no value given for '{name}'")
        value = env[name]
        return value if value.__class__ is float else _scalar_of(value)

    return ref


class _NotScalar(Exception):
    """A value in the environment is not a single number or error."""


def _scalar_of(value: object) -> float | ExcelError:
    if isinstance(value, float):
        return value
    if isinstance(value, ExcelError):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, Evaluated) and value.values.ndim == 0:
        return value.scalar()
    raise _NotScalar


def _scalar(node: Node, env: Mapping, functions: Mapping[str, Macro]) -> float | ExcelError:
    kind = type(node)
    if kind is Num:
        return node.value  # type: ignore[union-attr]
    if kind is Ref:
        if node.name not in env:  # type: ignore[union-attr]
            raise ExpressionError(f"no value given for '{node.name}'")  # type: ignore[union-attr]
        return _scalar_of(env[node.name])  # type: ignore[union-attr]
    if kind is Binary:
        left = _scalar(node.left, env, functions)  # type: ignore[union-attr]
        right = _scalar(node.right, env, functions)  # type: ignore[union-attr]
        if isinstance(left, ExcelError):
            return left
        if isinstance(right, ExcelError):
            return right
        return _scalar_binary(node.op, left, right)  # type: ignore[union-attr]
    if kind is Unary:
        operand = _scalar(node.operand, env, functions)  # type: ignore[union-attr]
        if isinstance(operand, ExcelError) or node.op == "+":  # type: ignore[union-attr]
            return operand
        return -operand
    if kind is Compare:
        left = _scalar(node.left, env, functions)  # type: ignore[union-attr]
        right = _scalar(node.right, env, functions)  # type: ignore[union-attr]
        if isinstance(left, ExcelError):
            return left
        if isinstance(right, ExcelError):
            return right
        return 1.0 if _SCALAR_COMPARE[node.op](left, right) else 0.0  # type: ignore[union-attr]
    if kind is Call:
        args = [_scalar(arg, env, functions) for arg in node.args]  # type: ignore[union-attr]
        name = node.name  # type: ignore[union-attr]
        if name in BUILTINS:
            return _scalar_builtin(name, args)
        macro = functions[name]
        return _scalar(macro.body, dict(zip(macro.param_names, args, strict=True)), functions)
    raise ExpressionError(f"cannot evaluate {node!r}")


def _scalar_binary(op: str, a: float, b: float) -> float | ExcelError:
    if op == "+":
        value = a + b
    elif op == "-":
        value = a - b
    elif op == "*":
        value = a * b
    elif op == "/":
        if b == 0:
            return DIV0
        value = a / b
    else:
        if a == 0 and b < 0:
            return DIV0
        if a == 0 and b == 0:
            return NUM
        with np.errstate(all="ignore"):
            value = float(np.power(np.asarray(a), np.asarray(b)))
    return value if math.isfinite(value) else NUM


def _scalar_builtin(name: str, args: list[float | ExcelError]) -> float | ExcelError:
    if name == "IF":
        condition, when_true, when_false = args
        if isinstance(condition, ExcelError):
            return condition
        return when_true if condition != 0 else when_false
    for arg in args:
        if isinstance(arg, ExcelError):
            return arg
    if name == "ABS":
        return abs(args[0])  # type: ignore[arg-type]
    if name in ("MIN", "MAX"):
        # numpy's minimum and maximum keep the later operand on ties (0.0 against -0.0).
        value = args[0]
        for arg in args[1:]:
            if name == "MIN":
                value = value if value < arg else arg  # type: ignore[operator]
            else:
                value = value if value > arg else arg  # type: ignore[operator]
        return value
    with np.errstate(all="ignore"):
        return _BUILTIN_FUNCS[name]([Evaluated.of(arg) for arg in args]).scalar()


_SCALAR_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
}


ARRAY_COMPARE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "=": np.equal,
    "<>": np.not_equal,
}


def _first_error(*codes: np.ndarray) -> np.ndarray:
    """Excel reports the first error met, reading left to right."""
    result = codes[-1]
    for code in reversed(codes[:-1]):
        result = np.where(code != 0, code, result)
    return np.asarray(result, dtype=np.int8)


def _binary(op: str, left: Evaluated, right: Evaluated) -> Evaluated:
    a, b = left.values, right.values
    new_error = np.zeros(np.broadcast(a, b).shape, dtype=np.int8)
    if op == "+":
        values = a + b
    elif op == "-":
        values = a - b
    elif op == "*":
        values = a * b
    elif op == "/":
        values = a / b
        new_error = np.where(b == 0, DIV0.code, 0).astype(np.int8)
    else:
        values = np.power(a, b)
        zero_base = a == 0
        new_error = np.where(
            zero_base & (b < 0), DIV0.code, np.where(zero_base & (b == 0), NUM.code, 0)
        ).astype(np.int8)
    overflow = ~np.isfinite(values) & (new_error == 0)
    new_error = np.where(overflow, NUM.code, new_error).astype(np.int8)
    return Evaluated(values, _first_error(left.errors, right.errors, new_error))


def _builtin_if(args: list[Evaluated]) -> Evaluated:
    condition, when_true, when_false = args
    chosen = condition.values != 0
    values = np.where(chosen, when_true.values, when_false.values)
    errors = np.where(chosen, when_true.errors, when_false.errors)
    return Evaluated(values, _first_error(condition.errors, errors))


def _builtin_reduce(function: Callable[..., np.ndarray]) -> Callable[[list[Evaluated]], Evaluated]:
    def reduce(args: list[Evaluated]) -> Evaluated:
        values = args[0].values
        for arg in args[1:]:
            values = function(values, arg.values)
        return Evaluated(values, _first_error(*(arg.errors for arg in args)))

    return reduce


def _builtin_round(args: list[Evaluated]) -> Evaluated:
    """Excel's ROUND: half away from zero, on the decimal the user sees.

    Digits beyond a double's range keep the number as it is (ROUND(x, 400) is x) or
    give 0 (ROUND(x, -400)), as in Excel, instead of overflowing to NaN.
    """
    number, digits = args
    factor = np.power(10.0, np.clip(np.trunc(digits.values), -308, 308))
    scaled = np.round(np.abs(number.values) * factor, 9)
    rounded = np.sign(number.values) * np.floor(scaled + 0.5) / factor
    exact = np.isfinite(number.values) & ~(np.abs(number.values) * factor < 2.0**52)
    values = np.where(exact, number.values, rounded)
    invalid = np.where(np.isfinite(values), 0, NUM.code).astype(np.int8)
    return Evaluated(values, _first_error(number.errors, digits.errors, invalid))


def _builtin_abs(args: list[Evaluated]) -> Evaluated:
    return Evaluated(np.abs(args[0].values), args[0].errors)


_BUILTIN_FUNCS: dict[str, Callable[[list[Evaluated]], Evaluated]] = {
    "MIN": _builtin_reduce(np.minimum),
    "MAX": _builtin_reduce(np.maximum),
    "IF": _builtin_if,
    "ROUND": _builtin_round,
    "ABS": _builtin_abs,
}

# ------------------------------------------------------------ periods


@dataclass(frozen=True)
class _PeriodMacro:
    """What the parser needs to know of a period function: its name and arity."""

    name: str
    param_names: tuple[str, ...]
    body: Node = Num(0.0)


_PERIOD_MACROS: dict[str, Macro] = {
    name: _PeriodMacro(name, tuple(f"arg{i}" for i in range(count)))
    for name, count in PERIOD_BUILTINS.items()
}


def _period_call(name: str, args: list[Evaluated], env: Mapping) -> Evaluated:
    """A period function over arrays whose last axis is the timeline's periods."""
    if PERIOD not in env:
        raise ExpressionError(f"{name}() needs a timeline (no '{PERIOD}' given)")
    period = Evaluated.of(env[PERIOD]).values
    shape = np.broadcast_shapes(args[0].values.shape, period.shape)
    values = np.broadcast_to(args[0].values, shape)
    errors = np.broadcast_to(args[0].errors, shape)
    if name == "CUMSUM":
        failed = np.maximum.accumulate(errors != 0, axis=-1)
        first = np.where(failed, _carry_first_error(errors), 0).astype(np.int8)
        return Evaluated(np.cumsum(np.where(errors != 0, 0.0, values), axis=-1), first)
    if name == "TOTAL":
        error = _carry_first_error(errors)[..., -1:]
        return Evaluated(values.sum(axis=-1, keepdims=True), error.astype(np.int8))
    if name == "IRR":
        rate, ok = irr(values)
        error = np.where(ok, _carry_first_error(errors)[..., -1], NUM.code).astype(np.int8)
        return Evaluated(rate[..., None], error[..., None])
    return _lag(values, errors, args[1], period)


def _carry_first_error(errors: np.ndarray) -> np.ndarray:
    """Each period's first error code met so far, reading from the first period."""
    index = np.where(errors != 0, np.arange(errors.shape[-1]), errors.shape[-1] - 1)
    first = np.minimum.accumulate(np.where(errors != 0, index, errors.shape[-1]), axis=-1)
    taken = np.take_along_axis(errors, np.minimum(first, errors.shape[-1] - 1), axis=-1)
    return np.where(first < errors.shape[-1], taken, 0)


def _lag(values: np.ndarray, errors: np.ndarray, lag: Evaluated, period: np.ndarray) -> Evaluated:
    """The value ``lag`` periods earlier, as IF(p>n, INDEX(spacer..previous, 1, p-n+1), 0).

    The range starts one column before the first period (an empty spacer), so
    index 1 is empty (0) and index k is period k - 1; a lag below 1 points past
    the previous period and is #REF! in Excel, so here too.
    """
    n = lag.values  # per timeline: shape () or (..., 1), like the inputs
    shape = np.broadcast_shapes(values.shape, np.shape(n), period.shape)
    values = np.broadcast_to(values, shape)
    errors = np.broadcast_to(errors, shape)
    after = period > n
    index = np.floor(period - n + 1)  # INDEX truncates; positive wherever it is used
    source = np.clip(index - 2, 0, shape[-1] - 1).astype(int)
    source = np.broadcast_to(source, shape)
    taken = np.take_along_axis(values, source, axis=-1)
    taken_errors = np.take_along_axis(errors, source, axis=-1)
    empty = index < 2
    out = np.where(after, np.where(empty, 0.0, taken), 0.0)
    out_errors = np.where(after & ~empty, taken_errors, 0)
    out_errors = np.where(after & (index > period), REF.code, out_errors)
    return Evaluated(np.broadcast_to(out, shape), _first_error(lag.errors, out_errors))


def irr(flows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rate per period at which the flows' present value is zero, per timeline.

    Bisection between -1 and a very high rate, where the present value changes sign for
    flows that change sign once; refined to the last bit. Only the sign of the present
    value matters, so it is taken scaled by a positive power of (1 + rate) that keeps every
    factor at most 1: no overflow near -100 % or at very high rates. Returns the rates and
    whether each exists (flows of one sign, or a present value of one sign at both ends,
    have none).
    """
    flows = np.asarray(flows, dtype=float)
    periods = np.arange(flows.shape[-1])
    nonzero = flows != 0
    last = (flows.shape[-1] - 1 - np.argmax(nonzero[..., ::-1], axis=-1))[..., None]
    has_sign_change = (flows.min(axis=-1) < 0) & (flows.max(axis=-1) > 0)

    def sign_of_present_value(rate: np.ndarray) -> np.ndarray:
        base = 1.0 + rate[..., None]
        with np.errstate(all="ignore"):
            exponents = np.where(base < 1.0, np.maximum(last - periods, 0), -periods)
            return np.sign(np.sum(flows * np.power(base, exponents), axis=-1))

    low = np.full(flows.shape[:-1], -1.0 + 1e-12)
    high = np.full(flows.shape[:-1], 1e6)
    sign_low = sign_of_present_value(low)
    bracketed = has_sign_change & (sign_low * sign_of_present_value(high) < 0)
    for _ in range(200):
        middle = (low + high) / 2
        same = sign_of_present_value(middle) == sign_low
        new_low = np.where(same, middle, low)
        new_high = np.where(same, high, middle)
        if np.array_equal(new_low, low) and np.array_equal(new_high, high):
            break  # down to the last bit: every further step would leave both as they are
        low, high = new_low, new_high
    rate = (low + high) / 2
    return np.where(bracketed, rate, np.nan), bracketed


# ---------------------------------------------------------------- rendering

# Excel's precedence, loosest first. Unary minus binds tighter than ^ in Excel.
_PRECEDENCE = {"compare": 1, "+": 2, "-": 2, "*": 3, "/": 3, "^": 4, "unary": 5, "atom": 6}


PeriodRenderer = Callable[[Call, Callable[[Node], str]], str]


def to_excel(
    node: Node,
    references: Mapping[str, str],
    functions: Mapping[str, Macro] | None = None,
    periods: PeriodRenderer | None = None,
) -> str:
    """Render as Excel formula text (English syntax, no leading '=').

    ``references`` maps each name to a cell reference or defined name.
    Business functions are written out from their single definition; the period
    functions by ``periods``, which knows where the timeline's rows sit. Without it,
    the text is cached per tree and the references it uses: a template's trees are
    rendered again for every month, column and workbook.
    """
    functions = functions or _NO_FUNCTIONS
    if periods is not None:
        return _render(inline(node, functions), references, periods)
    if len(_RENDERED) >= _CACHE_LIMIT or len(_INLINED) >= _CACHE_LIMIT:
        _INLINED.clear()
        _RENDERED.clear()
    entry = _INLINED.get((id(node), id(functions)))
    if entry is None or entry[0] is not node or entry[1] is not functions:
        inlined = inline(node, functions)
        entry = (node, functions, inlined, tuple(sorted(names(inlined))))
        _INLINED[(id(node), id(functions))] = entry
    used = tuple(references.get(name) for name in entry[3])
    key = (id(node), id(functions), used)
    text = _RENDERED.get(key)
    if text is None:
        text = _render(entry[2], references)
        _RENDERED[key] = text
    return text


# Keyed by id(): each entry holds its tree and functions, so an id cannot be reused while
# its entry lives; trees are immutable, so the text depends only on the references used.
_NO_FUNCTIONS: Mapping[str, Macro] = {}
_CACHE_LIMIT = 20_000
_INLINED: dict[tuple[int, int], tuple[Node, Mapping[str, Macro], Node, tuple[str, ...]]] = {}
_RENDERED: dict[tuple[int, int, tuple[str | None, ...]], str] = {}


def _precedence(node: Node) -> int:
    if isinstance(node, Binary):
        return _PRECEDENCE[node.op]
    if isinstance(node, Compare):
        return _PRECEDENCE["compare"]
    if isinstance(node, Unary):
        return _PRECEDENCE["unary"]
    return _PRECEDENCE["atom"]


def _render(
    node: Node, references: Mapping[str, str], periods: PeriodRenderer | None = None
) -> str:
    if isinstance(node, Num):
        return format_number(node.value)
    if isinstance(node, Ref):
        if node.name not in references:
            raise ExpressionError(f"no cell reference for '{node.name}'")
        return references[node.name]
    if isinstance(node, Unary):
        if isinstance(node.operand, Compare):
            return f"{node.op}{_render_number(node.operand, references, periods)}"
        operand = _render(node.operand, references, periods)
        if _precedence(node.operand) < _PRECEDENCE["atom"]:
            operand = f"({operand})"
        return f"{node.op}{operand}"
    if isinstance(node, (Binary, Compare)):
        return _render_infix(node, references, periods)
    if node.name in PERIOD_BUILTINS:
        if periods is None:
            raise ExpressionError(f"{node.name}() can only be written in a timeline")
        return periods(node, lambda arg: _render_number(arg, references, periods))
    args = ",".join(
        _render(arg, references, periods)
        if node.name == "IF" and index == 0
        else _render_number(arg, references, periods)
        for index, arg in enumerate(node.args)
    )
    return f"{node.name}({args})"


def _render_number(
    node: Node, references: Mapping[str, str], periods: PeriodRenderer | None = None
) -> str:
    """A comparison used as a number is written (a<b)*1.

    Excel's TRUE is not the number 1 everywhere: MAX skips it and TRUE=1 is
    FALSE. Our language treats comparisons as 1 or 0, so we say so in Excel.
    """
    if isinstance(node, Compare):
        return f"({_render(node, references, periods)})*1"
    return _render(node, references, periods)


def _render_infix(
    node: Binary | Compare, references: Mapping[str, str], periods: PeriodRenderer | None = None
) -> str:
    """Bracket so Excel evaluates exactly the tree Python evaluates.

    A right operand of equal precedence is always bracketed: a*(b/c) is not
    a*b/c in floating point, and the cached values must match Excel's.
    """
    mine = _precedence(node)
    if isinstance(node, Compare):
        left = _render_number(node.left, references, periods)
        right = _render_number(node.right, references, periods)
        left_prec = _PRECEDENCE["*"] if isinstance(node.left, Compare) else _precedence(node.left)
        right_prec = (
            _PRECEDENCE["*"] if isinstance(node.right, Compare) else _precedence(node.right)
        )
    else:
        left = _render(node.left, references, periods)
        right = _render(node.right, references, periods)
        left_prec, right_prec = _precedence(node.left), _precedence(node.right)
    if node.op == "^":
        # Excel's ^ is left-associative and -x^2 means (-x)^2: bracket any compound side.
        wrap_left = left_prec < _PRECEDENCE["atom"]
        wrap_right = right_prec < _PRECEDENCE["atom"]
    elif isinstance(node, Compare):
        wrap_left = left_prec <= mine
        wrap_right = right_prec <= mine
    else:
        wrap_left = left_prec < mine
        wrap_right = right_prec <= mine
    if wrap_left:
        left = f"({left})"
    if wrap_right:
        right = f"({right})"
    return f"{left}{node.op}{right}"


def format_number(value: float) -> str:
    """Shortest exact text of a number, as Excel reads it."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value).upper().replace("E+", "E")
