"""Compute a template's monthly timeline and the finance figures read from it.

The timeline is one column per month; each row is one expression evaluated
over numpy arrays whose last axis is the months, so one scenario, three, or
thousands of draws (inputs shaped ``(n, 1)``) cost one pass per row. The
workbook writes the same rows as formulas identical across the month columns.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from roi_xl.model import expr
from roi_xl.model.excel_errors import ALL_ERROR_CODES, ExcelError
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import Template, Timeline

Value = float | ExcelError
SCALAR_SETS = 8  # up to this many timelines at once, recursive rows go in plain Python


@dataclass(frozen=True)
class TimelineValues:
    """Every row (last axis: months) and every result of one or many timelines."""

    periods: int
    rows: dict[str, expr.Evaluated]
    results: dict[str, expr.Evaluated]

    def row(self, key: str) -> list[Value]:
        """One timeline's row, month by month."""
        return list(self.rows[key].to_objects().reshape(-1))

    def result(self, key: str) -> Value:
        return self.results[key].scalar()


def periods_of(template: Template, inputs: Mapping[str, float]) -> int:
    """The number of months of one scenario's timeline: its horizon input."""
    timeline = _timeline(template)
    return int(inputs[timeline.horizon])


def compute_timeline(
    template: Template,
    inputs: Mapping[str, float | np.ndarray],
    outputs: Mapping[str, Value | expr.Evaluated | np.ndarray],
    periods: int,
    wanted: Collection[str] | None = None,
) -> TimelineValues:
    """Rows and results over ``periods`` months (months past the horizon are the template's
    to zero, with its horizon flag), for inputs and metric outputs of one or many scenarios.

    ``wanted``: only these results and the results they use (thousands of draws need the
    NPV, not the IRR's bisection); every result by default.
    """
    timeline = _timeline(template)
    needed = _results_needed(timeline, wanted)
    period = np.arange(1.0, periods + 1.0)
    env: dict[str, object] = {**inputs, **outputs, expr.PERIOD: period}
    rows: dict[str, expr.Evaluated] = {}
    for row in timeline.rows:
        if row.key in expr.names(row.node):
            evaluated = _recursive_row(row.key, row.node, env, period)
        else:
            evaluated = _broadcast(expr.evaluate(row.node, env, FUNCTIONS), period)
        env[row.key] = evaluated
        rows[row.key] = evaluated
    results: dict[str, expr.Evaluated] = {}
    for result in timeline.results:
        if result.key not in needed:
            continue
        evaluated = expr.evaluate(result.node, env, FUNCTIONS)
        env[result.key] = evaluated
        results[result.key] = evaluated
    return TimelineValues(periods=periods, rows=rows, results=results)


def compute_many(
    template: Template,
    inputs: Sequence[Mapping[str, float]],
    outputs: Sequence[Mapping[str, Value]],
    periods: int,
) -> list[TimelineValues]:
    """One timeline per set of inputs and outputs, all computed in a single pass (each input
    a column of shape ``(n, 1)``), then cut apart: each equals ``compute_timeline`` of its own
    set, element for element, while a hundred cost about what one does alone."""
    count = len(inputs)
    if count == 0:
        return []
    columns = {key: np.array([one[key] for one in inputs]).reshape(count, 1) for key in inputs[0]}
    stacked_outputs = {key: _stacked([one[key] for one in outputs]) for key in outputs[0]}
    together = compute_timeline(template, columns, stacked_outputs, periods)
    rows = {key: _per_set(value, (count, periods)) for key, value in together.rows.items()}
    results = {key: _per_set(value, (count, 1)) for key, value in together.results.items()}
    return [
        TimelineValues(
            periods=periods,
            rows={key: parts[index] for key, parts in rows.items()},
            results={key: parts[index] for key, parts in results.items()},
        )
        for index in range(count)
    ]


def _stacked(column: list[Value]) -> expr.Evaluated:
    """One output of every set as a column of shape ``(n, 1)``: plain floats put in as they
    are (what ``expr.stacked`` makes of them), anything else through it."""
    if all(type(value) is float for value in column):
        values = np.array(column, dtype=float)
        errors = np.zeros(len(column), dtype=np.int8)
    else:
        together = expr.stacked(column)
        values, errors = together.values, together.errors
    return expr.Evaluated(values.reshape(-1, 1), errors.reshape(-1, 1))


def _per_set(value: expr.Evaluated, shape: tuple[int, int]) -> list[expr.Evaluated]:
    """Each set's slice of a value computed for all sets (a row that depends on no input
    has no set axis, so it is broadcast first)."""
    values = np.broadcast_to(value.values, shape)
    errors = np.broadcast_to(value.errors, shape)
    return list(map(expr.Evaluated, values, errors))


def _results_needed(timeline: Timeline, wanted: Collection[str] | None) -> set[str]:
    """The results ``wanted`` and, transitively, the results their formulas use."""
    every = {result.key: result for result in timeline.results}
    if wanted is None:
        return set(every)
    needed: set[str] = set()
    todo = list(wanted)
    while todo:
        key = todo.pop()
        if key in needed:
            continue
        needed.add(key)
        todo.extend(name for name in expr.names(every[key].node) if name in every)
    return needed


def _recursive_row(
    key: str, node: expr.Node, env: dict[str, object], period: np.ndarray
) -> expr.Evaluated:
    """A row that uses its own earlier months (LAG(row, n), n >= 1): month after month.

    The parts of its formula that do not use the row are evaluated once, before the months,
    and stand in the tree as names: each month then repeats only the arithmetic around the
    row's own earlier values (the same operations on the same numbers, so the same results).
    """
    env = dict(env)
    node = _hoisted(node, key, env)
    lags: dict[int, str] = {}
    column_node = _with_lags_named(node, key, lags)
    if column_node is not None:
        return _month_by_month(column_node, lags, env, period)
    current = _broadcast(expr.Evaluated.of(0.0), period)
    for month in range(period.size):
        env[key] = current
        step = _broadcast(expr.evaluate(node, env, FUNCTIONS), period)
        values = current.values.copy()
        errors = current.errors.copy()
        values = np.broadcast_to(values, np.broadcast_shapes(values.shape, step.values.shape))
        values = values.copy()
        errors = np.broadcast_to(errors, values.shape).copy()
        values[..., month] = step.values[..., month]
        errors[..., month] = step.errors[..., month]
        current = expr.Evaluated(values, errors)
    return current


def _with_lags_named(node: expr.Node, key: str, lags: dict[int, str]) -> expr.Node | None:
    """The tree with each ``LAG(key, n)`` (n a whole number of months, at least 1) replaced by
    a name, kept in ``lags`` by n; None when the row is used in any other way, or the tree
    calls anything that is not element by element (a period or business function)."""
    if isinstance(node, expr.Num):
        return node
    if isinstance(node, expr.Ref):
        return None if node.name == key else node
    if isinstance(node, expr.Unary):
        operand = _with_lags_named(node.operand, key, lags)
        return None if operand is None else expr.Unary(node.op, operand)
    if isinstance(node, (expr.Binary, expr.Compare)):
        left = _with_lags_named(node.left, key, lags)
        right = _with_lags_named(node.right, key, lags)
        if left is None or right is None:
            return None
        return type(node)(node.op, left, right)
    assert isinstance(node, expr.Call)
    if node.name == "LAG":
        target, lag = node.args
        whole = isinstance(lag, expr.Num) and lag.value >= 1 and lag.value == int(lag.value)
        if not (whole and isinstance(target, expr.Ref) and target.name == key):
            return None
        n = int(lag.value)  # type: ignore[union-attr]
        return expr.Ref(lags.setdefault(n, f"\x00lag{n}"))
    if node.name not in expr.BUILTINS:
        return None
    args = [_with_lags_named(arg, key, lags) for arg in node.args]
    if any(arg is None for arg in args):
        return None
    return expr.Call(node.name, tuple(args))  # type: ignore[arg-type]


def _month_by_month(
    node: expr.Node, lags: dict[int, str], env: dict[str, object], period: np.ndarray
) -> expr.Evaluated:
    """The row evaluated a month (or a stretch of months) at a time, each ``LAG(row, n)`` read
    from the months already filled: what LAG gives there (the value n months earlier, 0
    before month n + 1)."""
    parts = {
        name: expr.Evaluated.of(env[name]) for name in expr.names(node) if name not in lags.values()
    }
    shape = np.broadcast_shapes(
        period.shape,
        *(np.shape(p.values) for p in parts.values()),
        *(np.shape(p.errors) for p in parts.values()),
    )
    if math.prod(shape[:-1]) <= SCALAR_SETS and _elementwise_exactly(node):
        return _month_by_month_scalar(node, lags, parts, shape)
    values = np.zeros(shape)
    errors = np.zeros(shape, dtype=np.int8)
    # Month m uses months m - n and earlier: the months of a stretch as long as the shortest
    # lag use only months before it, so a stretch is evaluated at once where that gives the
    # same numbers (the four operations, comparisons, IF, MIN, MAX, ABS: each element on its
    # own, correctly rounded however many are computed together).
    width = min(lags, default=1) if _elementwise_exactly(node) else 1
    local: dict[str, object] = {}
    for start in range(0, period.size, width):
        stop = min(start + width, period.size)
        for name, part in parts.items():
            local[name] = expr.Evaluated(
                _columns(part.values, start, stop), _columns(part.errors, start, stop)
            )
        for n, name in lags.items():
            local[name] = _lagged(values, errors, start, stop, n)
        step = expr.evaluate(node, local, FUNCTIONS)
        span = (*shape[:-1], stop - start)
        values[..., start:stop] = np.broadcast_to(step.values, span)
        errors[..., start:stop] = np.broadcast_to(step.errors, span)
    return expr.Evaluated(values, errors)


def _lagged(
    values: np.ndarray, errors: np.ndarray, start: int, stop: int, n: int
) -> expr.Evaluated:
    """What ``LAG(row, n)`` gives in months ``start`` to ``stop`` (excluded), from the row's
    months filled so far: the value ``n`` months earlier, 0 before month ``n + 1``."""
    if stop <= n:
        return expr.Evaluated.of(0.0)
    if start >= n:
        return expr.Evaluated(values[..., start - n : stop - n], errors[..., start - n : stop - n])
    lead = (*values.shape[:-1], n - start)
    return expr.Evaluated(
        np.concatenate([np.zeros(lead), values[..., : stop - n]], axis=-1),
        np.concatenate([np.zeros(lead, dtype=np.int8), errors[..., : stop - n]], axis=-1),
    )


def _month_by_month_scalar(
    node: expr.Node,
    lags: dict[int, str],
    parts: dict[str, expr.Evaluated],
    shape: tuple[int, ...],
) -> expr.Evaluated:
    """``_month_by_month`` for a few timelines at once (the three scenarios of a workbook):
    each month of each timeline evaluated on plain floats by the tree compiled once, where
    numpy would spend more on each operation's overhead than on its arithmetic. The same
    IEEE operations on the same numbers, the same errors (an error's value is never read)."""
    sets, months = math.prod(shape[:-1]), shape[-1]
    run = expr.compile_scalar(node)
    columns = {name: _as_objects(part, shape, sets, months) for name, part in parts.items()}
    results: list[list[Value]] = [[0.0] * months for _ in range(sets)]
    for month in range(months):
        for index in range(sets):
            local: dict[str, Value] = {name: rows[index][month] for name, rows in columns.items()}
            done = results[index]
            for n, name in lags.items():
                local[name] = done[month - n] if month >= n else 0.0
            done[month] = run(local)
    values = [[math.nan if v.__class__ is ExcelError else v for v in row] for row in results]
    errors = [[v.code if v.__class__ is ExcelError else 0 for v in row] for row in results]  # type: ignore[union-attr]
    return expr.Evaluated(
        np.array(values, dtype=float).reshape(shape),
        np.array(errors, dtype=np.int8).reshape(shape),
    )


def _as_objects(
    part: expr.Evaluated, shape: tuple[int, ...], sets: int, months: int
) -> list[list[Value]]:
    """A value broadcast to ``shape``, as rows of floats and Excel errors (one per set)."""
    values = np.broadcast_to(part.values, shape).reshape(sets, months).tolist()
    errors = np.broadcast_to(part.errors, shape).reshape(sets, months).tolist()
    return [
        [ALL_ERROR_CODES[code] if code else value for value, code in zip(vs, es, strict=True)]
        for vs, es in zip(values, errors, strict=True)
    ]


def _elementwise_exactly(node: expr.Node) -> bool:
    """Whether plain-Python floats give exactly numpy's results for this tree: only the
    four operations, comparisons, IF, MIN, MAX and ABS (power and ROUND go through numpy,
    whose results on arrays may differ from one number's in the last digit)."""
    if isinstance(node, (expr.Num, expr.Ref)):
        return True
    if isinstance(node, expr.Binary) and node.op == "^":
        return False
    if isinstance(node, expr.Call) and node.name not in ("IF", "MIN", "MAX", "ABS"):
        return False
    return all(_elementwise_exactly(child) for child in expr.children(node))


def _columns(array: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Months ``start`` to ``stop`` (excluded) of an array whose last axis is the months (or
    broadcasts over it)."""
    return array[..., start:stop] if np.ndim(array) and np.shape(array)[-1] != 1 else array


def _hoisted(node: expr.Node, key: str, env: dict[str, object]) -> expr.Node:
    """``node`` with each largest subtree that does not use ``key`` evaluated into ``env``
    and replaced by a name for its value."""
    if isinstance(node, (expr.Num, expr.Ref)):
        return node
    if key not in expr.names(node):
        name = f"\x00part{len(env)}"  # no template name holds a NUL
        env[name] = expr.evaluate(node, env, FUNCTIONS)
        return expr.Ref(name)
    if isinstance(node, expr.Unary):
        return expr.Unary(node.op, _hoisted(node.operand, key, env))
    if isinstance(node, expr.Binary):
        return expr.Binary(node.op, _hoisted(node.left, key, env), _hoisted(node.right, key, env))
    if isinstance(node, expr.Compare):
        return expr.Compare(node.op, _hoisted(node.left, key, env), _hoisted(node.right, key, env))
    assert isinstance(node, expr.Call)
    return expr.Call(node.name, tuple(_hoisted(arg, key, env) for arg in node.args))


def _broadcast(value: expr.Evaluated, period: np.ndarray) -> expr.Evaluated:
    """A row with a month axis even when its formula does not depend on the month."""
    shape = np.broadcast_shapes(value.values.shape, value.errors.shape, period.shape)
    return expr.Evaluated(
        np.broadcast_to(value.values, shape), np.broadcast_to(value.errors, shape)
    )


def _timeline(template: Template) -> Timeline:
    if template.timeline is None:
        raise ValueError(f"template '{template.key}' has no timeline")
    return template.timeline


def present(template: Template, values: TimelineValues, key: str) -> Value | None:
    """A result as a reader gets it: None where the figure does not exist (no IRR, no payback)."""
    result = _timeline(template).result(key)
    if result.absent_when and values.result(result.absent_when) == 0:
        return None
    return values.result(key)


def scenario_figures(
    template: Template, inputs: Mapping[str, float], outputs: Mapping[str, Value]
) -> tuple[dict[str, object], dict[str, Value | None]]:
    """One scenario's timeline (months, cash flow, cumulative) and its finance figures."""
    timeline = _timeline(template)
    values = compute_timeline(template, inputs, outputs, periods_of(template, inputs))
    months = list(range(1, values.periods + 1))
    series = {
        "months": months,
        "cash_flow": values.row(timeline.cash_flow),
        "cumulative": values.row(timeline.cumulative),
    }
    figures = {result.key: present(template, values, result.key) for result in timeline.results}
    return series, figures
