"""Which figures of a template add up across workbooks, and how the others are totalled.

A roll-up must never add up a price or a rate. Each figure gets a *degree*: 1 when it grows
with the size of a branch (calls, costs, revenue), 0 when it does not (rates, prices, ROI).
Count inputs are sizes, unless their unit is a count per something (calls/h, a pace);
percents, years, days, seconds and scores are not. Whether a currency
or hours input is a size (a cost) or a per-unit figure (an average deal value, an hourly cost)
is inferred from the template's formulas: ``deals_won * average_deal_value`` is a size only if
the price is not one, ``gross_margin - total_cost`` needs both sides of one degree, and
``ROI(gain, cost)`` compares like with like. What the formulas leave open (a response time
only ever subtracted from another) is treated as not additive. A metric's degree is its
formula's.

Each input and metric is then totalled one way:

- ``sum``: a size, the SUM of the files;
- ``ratio``: the metric's own formula over the portfolio's totals (ROI of the summed margin
  and the summed cost, never the average of the ROIs); a size times a per-file figure
  (``deals_won * ltv``) is summed per file with SUMPRODUCT;
- ``weighted``: a per-unit figure averaged with the size it multiplies in the model
  (an average deal value weighted by deals won);
- ``average``: anything else, a plain average of the files, labelled as such.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from roi_xl.model import expr
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import Template

SUM, RATIO, WEIGHTED, AVERAGE = "sum", "ratio", "weighted", "average"
SIZE_KINDS = frozenset({"count"})
MAYBE_SIZE_KINDS = frozenset({"currency", "hours"})
TOTAL = "TOTAL:"  # Ref(TOTAL + key): the portfolio cell of a column
PRODUCT = "SUMPRODUCT:"  # Ref(PRODUCT + "a,b"): the sum over files of a * b

Form = dict[str, float]  # degree as a linear form: variable -> coefficient, "" -> constant
Degree = Callable[[expr.Node], "float | None"]


@dataclass(frozen=True)
class Totalling:
    """How one column's portfolio figure is formed."""

    how: str
    node: expr.Node | None = None  # RATIO: the formula over TOTAL / SUMPRODUCT references
    weight: str | None = None  # WEIGHTED: the size it is weighted by


def plan_totals(template: Template) -> dict[str, Totalling]:
    """Input and metric key -> how the roll-up totals it."""
    trees = {m.key: expr.inline(m.node, FUNCTIONS) for m in template.metrics}
    degrees = _degrees(template, trees)

    def degree(node: expr.Node) -> float | None:
        form = _form(node, degrees, None)
        return None if form is None else _value(form, {})

    plan: dict[str, Totalling] = {}
    for item in template.inputs:
        plan[item.key] = Totalling(SUM if degrees[item.key] == {"": 1.0} else AVERAGE)
    for metric in template.metrics:
        own = degree(trees[metric.key])
        if own == 1:
            plan[metric.key] = Totalling(SUM)
            continue
        rewritten = _portfolio(trees[metric.key], degree, plan) if own == 0 else None
        plan[metric.key] = Totalling(RATIO, rewritten) if rewritten else Totalling(AVERAGE)
    for key, totalling in plan.items():
        if totalling.how == AVERAGE:
            weight = _weight(key, trees.values(), degree)
            if weight:
                plan[key] = Totalling(WEIGHTED, weight=weight)
    return plan


def product_factors(name: str) -> list[str]:
    """The column keys of a SUMPRODUCT reference."""
    return name.removeprefix(PRODUCT).split(",")


# ------------------------------------------------------------------ degrees


def is_per_unit(unit: str) -> bool:
    """A unit such as "calls/h": a pace, not a quantity a branch holds."""
    return "/" in unit


def _degrees(template: Template, trees: Mapping[str, expr.Node]) -> dict[str, Form]:
    """Every input's and metric's degree, the open ones solved from the formulas' constraints."""
    forms: dict[str, Form] = {}
    for item in template.inputs:
        if item.kind in SIZE_KINDS and not is_per_unit(item.unit):
            forms[item.key] = {"": 1.0}
        elif item.kind in MAYBE_SIZE_KINDS:
            forms[item.key] = {item.key: 1.0}
        else:
            forms[item.key] = {"": 0.0}
    equal: list[Form] = []
    bounded: list[Form] = []
    for metric in template.metrics:
        forms[metric.key] = _form(trees[metric.key], forms, equal) or {"": 0.0}
        bounded.append(forms[metric.key])
    known = _solve(equal, bounded)
    return {key: {"": _value(form, known)} for key, form in forms.items()}


def _form(node: expr.Node, forms: Mapping[str, Form], equal: list[Form] | None) -> Form | None:
    """The degree of a tree (None for a bare number, which fits any degree); constraints that
    two sides be of one degree are appended to ``equal`` when given."""

    def same(a: Form | None, b: Form | None) -> Form | None:
        if a is None or b is None:
            return a if b is None else b
        if equal is not None:
            equal.append(_combine(a, b, -1))
        return a

    def walk(node: expr.Node) -> Form | None:
        if isinstance(node, expr.Num):
            return None
        if isinstance(node, expr.Ref):
            return forms[node.name]
        if isinstance(node, expr.Unary):
            return walk(node.operand)
        if isinstance(node, expr.Compare):
            same(walk(node.left), walk(node.right))
            return {"": 0.0}
        if isinstance(node, expr.Binary):
            left, right = walk(node.left), walk(node.right)
            if node.op in "+-":
                return same(left, right)
            if node.op == "*":
                return _combine(left or {}, right or {}, 1)
            if node.op == "/":
                return _combine(left or {}, right or {}, -1)
            if isinstance(node.right, expr.Num):
                return {k: v * node.right.value for k, v in (left or {}).items()}
            same(left, {"": 0.0})
            same(right, {"": 0.0})
            return {"": 0.0}
        args = [walk(arg) for arg in node.args]  # type: ignore[union-attr]
        if node.name == "IF":  # type: ignore[union-attr]
            return same(args[1], args[2])
        if node.name == "ROUND":  # type: ignore[union-attr]
            return args[0]
        result = args[0]
        for arg in args[1:]:
            result = same(result, arg)
        return result

    return walk(node)


def _combine(a: Form, b: Form, sign: int) -> Form:
    out = dict(a)
    for key, coefficient in b.items():
        out[key] = out.get(key, 0.0) + sign * coefficient
    return out


def _value(form: Form, known: Mapping[str, float]) -> float:
    """The form's number, an unresolved variable counting as 0 (not a size)."""
    return round(sum(c * (1.0 if k == "" else known.get(k, 0.0)) for k, c in form.items()), 9)


def _solve(equal: list[Form], bounded: list[Form]) -> dict[str, float]:
    """Propagate until nothing moves: an equation with one unknown fixes it, and so does a
    metric whose degree can be 0 or 1 for only one value of its last unknown."""
    known: dict[str, float] = {}
    changed = True
    while changed:
        changed = False
        for form, exact in [(f, True) for f in equal] + [(f, False) for f in bounded]:
            open_terms = {k: c for k, c in form.items() if k and k not in known and c}
            if len(open_terms) != 1:
                continue
            variable, coefficient = next(iter(open_terms.items()))
            rest = _value({k: c for k, c in form.items() if k != variable}, known)
            targets = (0.0,) if exact else (0.0, 1.0)
            fits = [v for v in (0.0, 1.0) if round(rest + coefficient * v, 9) in targets]
            if len(fits) == 1:
                known[variable] = fits[0]
                changed = True
    return known


# ---------------------------------------------------------------- rewriting


def _portfolio(node: expr.Node, degree: Degree, plan: Mapping[str, Totalling]) -> expr.Node | None:
    """The tree over portfolio totals, or None when it needs a per-file figure."""
    if isinstance(node, expr.Num):
        return node
    if isinstance(node, expr.Ref):
        known = plan.get(node.name)
        return expr.Ref(TOTAL + node.name) if known and known.how in (SUM, RATIO) else None
    if _is_summed_product(node, degree):
        return _summed_product(node, degree)  # type: ignore[arg-type]
    if isinstance(node, expr.Unary):
        operand = _portfolio(node.operand, degree, plan)
        return None if operand is None else expr.Unary(node.op, operand)
    if isinstance(node, (expr.Binary, expr.Compare)):
        left = _portfolio(node.left, degree, plan)
        right = _portfolio(node.right, degree, plan)
        if left is None or right is None:
            return None
        return type(node)(node.op, left, right)
    args = [_portfolio(arg, degree, plan) for arg in node.args]
    if any(arg is None for arg in args):
        return None
    return expr.Call(node.name, tuple(args))  # type: ignore[arg-type]


def _is_summed_product(node: expr.Node, degree: Degree) -> bool:
    """A size times per-file figures: summed file by file, not formed over totals."""
    if not (isinstance(node, expr.Binary) and node.op == "*" and degree(node) == 1):
        return False
    return sum(not isinstance(f, expr.Num) for f in _factors(node)) > 1


def _summed_product(node: expr.Binary, degree: Degree) -> expr.Node | None:
    """A size times per-file figures and numbers: numbers x SUMPRODUCT of the columns."""
    factors = _factors(node)
    numbers = [f for f in factors if isinstance(f, expr.Num)]
    columns = [f for f in factors if not isinstance(f, expr.Num)]
    if not all(isinstance(f, expr.Ref) for f in columns):
        return None
    sizes = [f for f in columns if degree(f) == 1]
    if len(sizes) != 1:
        return None
    names = [f.name for f in columns]  # type: ignore[union-attr]
    summed: expr.Node = expr.Ref(TOTAL + names[0] if len(names) == 1 else PRODUCT + ",".join(names))
    for number in numbers:
        summed = expr.Binary("*", summed, number)
    return summed


def _factors(node: expr.Node) -> list[expr.Node]:
    if isinstance(node, expr.Binary) and node.op == "*":
        return _factors(node.left) + _factors(node.right)
    return [node]


def _weight(key: str, trees: Iterable[expr.Node], degree: Degree) -> str | None:
    """The size ``key`` multiplies in the first product of the model that has exactly one."""
    for tree in trees:
        for product in _products(tree):
            factors = _factors(product)
            refs = [f.name for f in factors if isinstance(f, expr.Ref)]
            sizes = [f.name for f in factors if isinstance(f, expr.Ref) and degree(f) == 1]
            if key in refs and key not in sizes and len(sizes) == 1:
                return sizes[0]
    return None


def _products(node: expr.Node) -> list[expr.Node]:
    """Every maximal product inside a tree, outermost first."""
    if isinstance(node, expr.Binary) and node.op == "*":
        return [node, *(p for f in _factors(node) for p in _products(f))]
    children: tuple[expr.Node, ...] = ()
    if isinstance(node, expr.Unary):
        children = (node.operand,)
    elif isinstance(node, (expr.Binary, expr.Compare)):
        children = (node.left, node.right)
    elif isinstance(node, expr.Call):
        children = node.args
    return [p for child in children for p in _products(child)]
