"""Break-even: the value of a key driver at which the net ROI is exactly 0.

Solved numerically on the engine, so it follows the template's definitions
whatever they are: the driver's allowed range is scanned in one vectorised pass
for a change of sign, and the bracket nearest the base value is bisected down to
adjacent floating-point numbers. When the ROI keeps one sign over the whole
range, the answer says so instead of inventing a value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from roi_xl.decide.nan_arrays import NanCurve, nan_compiled
from roi_xl.decide.sensitivity import sensitivity
from roi_xl.errors import InputError
from roi_xl.model import engine, expr
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import SCENARIOS, Template

Curve = Callable[[np.ndarray], np.ndarray]

# The drivers a CFO asks about, per built-in template, and the figures that make
# the answer concrete (recovered calls, cost per meeting...). Other templates
# use their headline ROI's most sensitive input.
KEY_DRIVERS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "phone-system": (("answer_rate_after", ("recovered_calls", "added_outcomes")),),
    "crm": (
        ("conversion_rate_current", ("deals_current",)),
        ("hours_saved_per_user_month", ("hours_saved_per_year",)),
    ),
    "phoning-b2b": (
        ("win_rate", ("deals_won", "cac")),
        ("caller_hourly_cost", ("total_cost", "cost_per_meeting")),
    ),
}
SCAN_POINTS = 2001
SPLIT = 65  # points per narrowing round: 64 slices, 6 bits of the answer each
MAX_ROUNDS = 40


@dataclass(frozen=True)
class BreakEven:
    """Where ``metric`` crosses 0 as ``driver`` moves within its allowed range.

    ``value`` is None when there is no crossing; ``sign`` then says whether the
    metric stays above (1) or below (-1) zero over the whole range (0 if it is
    an error throughout). ``companions`` are other metrics at the break-even.
    """

    metric: str
    driver: str
    base_value: float
    value: float | None
    sign: int
    minimum: float
    maximum: float
    companions: dict[str, engine.Value]
    base_companions: dict[str, engine.Value]

    @property
    def found(self) -> bool:
        return self.value is not None


def key_drivers(model: Template) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The drivers to solve for: the template's own, or the ROI's most sensitive input.

    The fallback is judged on the template's own defaults, not on edited inputs,
    so a workbook keeps the same break-even rows however its inputs change.
    """
    if model.key in KEY_DRIVERS:
        return KEY_DRIVERS[model.key]
    roi = model.headline[0]
    defaults = {s: {item.key: item.defaults[s] for item in model.inputs} for s in SCENARIOS}
    tornado = sensitivity(model, defaults, "realistic", (roi,))[roi]
    return ((tornado.bars[0].input, ()),)


def break_even(
    model: Template,
    inputs: Mapping[str, float],
    driver: str,
    metric: str | None = None,
    companions: Sequence[str] = (),
) -> BreakEven:
    """The value of ``driver`` at which ``metric`` (the headline ROI by default) is 0."""
    metric = metric or model.headline[0]
    try:
        item = model.input(driver)
    except KeyError:
        raise InputError(f"'{driver}' is not an input of template '{model.key}'") from None
    base = {k: float(v) for k, v in inputs.items()}
    roi = _curve(model, metric, driver, base)

    grid = np.linspace(item.minimum, item.maximum, SCAN_POINTS)
    scanned = roi(grid)
    root = _nearest_root(grid, scanned, base[driver], roi)
    at_base = engine.compute(model, base)
    at_root = engine.compute(model, {**base, driver: root}) if root is not None else {}
    return BreakEven(
        metric=metric,
        driver=driver,
        base_value=base[driver],
        value=root,
        sign=0 if root is not None else _constant_sign(scanned),
        minimum=item.minimum,
        maximum=item.maximum,
        companions={key: at_root[key] for key in companions} if at_root else {},
        base_companions={key: at_base[key] for key in companions},
    )


def _curve(model: Template, metric: str, driver: str, base: Mapping[str, float]) -> Curve:
    """``metric`` as ``driver`` alone moves: NaN where it is an error.

    The metric's parts the driver does not reach are worked out once (``Split``); only the
    rest goes through numpy at each point, with the same operations on the same numbers
    as the whole engine: the same curve, a fraction of the work per point."""
    split = split_metric(model, metric, driver)
    fixed: dict[str, engine.Value | np.ndarray] = dict(split.fixed(base))
    if split.curve is not None:
        numbers = {k: np.nan if isinstance(v, ExcelError) else v for k, v in fixed.items()}
        curve = split.curve

        def on_numbers(values: np.ndarray) -> np.ndarray:
            with np.errstate(all="ignore"):
                found = curve({**numbers, driver: values})
            return np.broadcast_to(found, values.shape).astype(float)

        return on_numbers

    def roi(values: np.ndarray) -> np.ndarray:
        result = expr.evaluate(split.spine, {**fixed, driver: values}, FUNCTIONS)
        numbers = np.broadcast_to(result.values, values.shape).astype(float)
        return np.where(np.broadcast_to(result.errors, values.shape) == 0, numbers, np.nan)

    return roi


@dataclass(frozen=True)
class Split:
    """A metric written out (``engine.expanded``) as one input moves: each largest part the
    input does not reach is named ``#0``, ``#1``... in ``spine`` and compiled in ``parts``.

    Worked out once for given inputs (``fixed``), the parts give what the engine gives
    them (``expr.compile_scalar``, the same values and errors); the spine then repeats only
    the operations around the moving input, on the same numbers as the whole tree would:
    a solver's many points, or a sheet's solver steps, for a fraction of the work."""

    spine: expr.Node
    parts: tuple[tuple[str, Callable[[Mapping[str, float]], engine.Value]], ...]
    run: Callable[[Mapping[str, object]], engine.Value]  # the spine compiled, on numbers
    curve: NanCurve | None  # the spine compiled on arrays, errors as NaN (None: not possible)

    def fixed(self, inputs: Mapping[str, float]) -> dict[str, engine.Value]:
        """The parts' values and the spine's other inputs, for ``inputs``."""
        values: dict[str, engine.Value] = {name: run(inputs) for name, run in self.parts}
        values.update((name, inputs[name]) for name in expr.names(self.spine) if name in inputs)
        return values


# (template id, metric, driver) -> (template, split); the template is held so its id
# cannot be reused while the entry lives.
_SPLIT: dict[tuple[int, str, str], tuple[Template, Split]] = {}
_SPLIT_LIMIT = 256


def split_metric(model: Template, metric: str, driver: str) -> Split:
    """``metric`` split around ``driver``; made once per template, metric and driver."""
    key = (id(model), metric, driver)
    kept = _SPLIT.get(key)
    if kept is not None and kept[0] is model:
        return kept[1]
    parts: list[tuple[str, Callable[[Mapping[str, float]], engine.Value]]] = []

    def cut(node: expr.Node) -> expr.Node:
        if isinstance(node, (expr.Num, expr.Ref)):
            return node
        if driver not in expr.names(node):
            name = f"#{len(parts)}"
            parts.append((name, expr.compile_scalar(node, FUNCTIONS)))
            return expr.Ref(name)
        if isinstance(node, expr.Unary):
            return expr.Unary(node.op, cut(node.operand))
        if isinstance(node, expr.Binary):
            return expr.Binary(node.op, cut(node.left), cut(node.right))
        if isinstance(node, expr.Compare):
            return expr.Compare(node.op, cut(node.left), cut(node.right))
        assert isinstance(node, expr.Call)
        return expr.Call(node.name, tuple(cut(arg) for arg in node.args))

    spine = cut(engine.expanded(model, metric))
    split = Split(spine, tuple(parts), expr.compile_scalar(spine, FUNCTIONS), nan_compiled(spine))
    if len(_SPLIT) >= _SPLIT_LIMIT:
        _SPLIT.clear()
    _SPLIT[key] = (model, split)
    return split


def _constant_sign(scanned: np.ndarray) -> int:
    """1 or -1 when every computable point has that sign; 0 otherwise."""
    finite = scanned[np.isfinite(scanned)]
    if finite.size and (finite > 0).all():
        return 1
    if finite.size and (finite < 0).all():
        return -1
    return 0


def _nearest_root(grid: np.ndarray, scanned: np.ndarray, base: float, roi: Curve) -> float | None:
    """Bisect the sign change nearest ``base``; None when the metric never changes sign."""
    exact = np.flatnonzero(scanned == 0)
    left = scanned[:-1]
    right = scanned[1:]
    crossing = np.flatnonzero(np.isfinite(left) & np.isfinite(right) & (left * right < 0))
    candidates = [float(grid[i]) for i in exact]
    for i in crossing:
        candidates.append(_bisect(float(grid[i]), float(grid[i + 1]), roi))
    if not candidates:
        return None
    return min(candidates, key=lambda x: abs(x - base))


def _bisect(low: float, high: float, roi: Curve) -> float:
    """Narrow [low, high] until its ends are adjacent floats; the end nearer to 0 wins.

    Each round evaluates SPLIT points of the bracket in one vectorised pass and
    keeps the slice where the sign changes: about ten rounds instead of sixty
    one-point halvings, for the same answer.
    """
    f_low = float(roi(np.array([low]))[0])
    for _ in range(MAX_ROUNDS):
        points = np.unique(np.linspace(low, high, SPLIT))
        if points.size <= 2:
            break
        values = roi(points)
        zeros = np.flatnonzero(values == 0)
        if zeros.size:
            return float(points[zeros[0]])
        changed = np.flatnonzero(np.sign(values) != np.sign(f_low))
        first = int(changed[0])  # the far end keeps the other sign, so there is one
        low, f_low, high = float(points[first - 1]), float(values[first - 1]), float(points[first])
    f_high = float(roi(np.array([high]))[0])
    return low if abs(f_low) <= abs(f_high) else high
