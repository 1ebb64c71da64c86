"""A business function's expression as a nest of calls, for the Python and JavaScript modules.

``(gain - cost) / cost`` becomes ``divide(subtract(gain, cost), cost)``: every operator and
built-in is a call into the runtime the generated module carries (``lite_runtime.py`` or
``functions_runtime.js``), which gives Excel's error semantics. The text is valid in both
languages, so one rendering serves xlwings Lite and Office.js; only names are spelt per language.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Collection

from roi_xl.model import expr

OPERATIONS: dict[str, str] = {
    "+": "add",
    "-": "subtract",
    "*": "multiply",
    "/": "divide",
    "^": "power",
    "<": "less",
    "<=": "less_equal",
    ">": "greater",
    ">=": "greater_equal",
    "=": "equal",
    "<>": "not_equal",
}
UNARY: dict[str, str] = {"-": "negate", "+": "plus"}

Speller = Callable[[str], str]
"""How a parameter's name is written in the generated language."""

BODY_PREFIX = "body_"
"""Each business function's formula is a function ``body_NAME`` of pairs (values, errors)."""

JS_RESERVED = frozenset(
    [
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "let",
        "new",
        "null",
        "return",
        "static",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "yield",
        "await",
        "arguments",
        "eval",
        "undefined",
        "NaN",
        "Infinity",
    ]
)


def calls(node: expr.Node, variable: Speller) -> str:
    """The expression as nested runtime calls; ``variable`` spells a parameter's name."""
    if isinstance(node, expr.Num):
        return f"number({node.value!r})"
    if isinstance(node, expr.Ref):
        return variable(node.name)
    if isinstance(node, expr.Unary):
        return f"{UNARY[node.op]}({calls(node.operand, variable)})"
    if isinstance(node, (expr.Binary, expr.Compare)):
        return f"{OPERATIONS[node.op]}({calls(node.left, variable)}, {calls(node.right, variable)})"
    args = ", ".join(calls(arg, variable) for arg in node.args)
    if node.name in expr.BUILTINS:
        return f'BUILTINS["{node.name}"]({args})'
    return f"{BODY_PREFIX}{node.name}({args})"


def speller(taken: Collection[str], language: str) -> Speller:
    """Parameter names as written, unless one is a keyword or a runtime name: then name_."""
    reserved = set(taken) | (JS_RESERVED if language == "js" else set(keyword.kwlist))

    def spell(name: str) -> str:
        return f"{name}_" if name in reserved or name.startswith(BODY_PREFIX) else name

    return spell
