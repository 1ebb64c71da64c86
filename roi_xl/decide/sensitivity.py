"""Sensitivity: which assumptions move a result most (a tornado).

Each input is moved alone, by -20 %, -10 %, +10 % and +20 % of its base value
(kept within its allowed range) and to its prudent and optimistic values, while
every other input keeps its base value. All moves of all inputs are computed in
one vectorised pass of the engine, so the tornado costs one evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from roi_xl.model import engine, expr
from roi_xl.model.excel_errors import ERROR_CODES, ExcelError
from roi_xl.model.template import Input, Template

STEPS: tuple[float, ...] = (-0.2, -0.1, 0.1, 0.2)
MOVES: tuple[str, ...] = ("-20%", "-10%", "+10%", "+20%", "prudent", "optimistic")


@dataclass(frozen=True)
class Bar:
    """One input's effect on one output: the input's moved values and the outputs they give."""

    input: str
    base_input: float
    inputs: dict[str, float]  # move -> input value
    outputs: dict[str, engine.Value]  # move -> output value

    @property
    def low(self) -> float | None:
        """The lowest numeric output over the moves (None when every move is an error)."""
        numbers = _numbers(self.outputs.values())
        return min(numbers) if numbers else None

    @property
    def high(self) -> float | None:
        numbers = _numbers(self.outputs.values())
        return max(numbers) if numbers else None

    @property
    def swing(self) -> float:
        """How far the output travels over all the moves: the length of the tornado bar."""
        numbers = _numbers(self.outputs.values())
        return max(numbers) - min(numbers) if numbers else 0.0


@dataclass(frozen=True)
class Tornado:
    """One output's bars, largest swing first."""

    metric: str
    base: engine.Value
    bars: tuple[Bar, ...]


def sensitivity(
    model: Template,
    scenarios: Mapping[str, Mapping[str, float]],
    base: str = "realistic",
    metrics: Sequence[str] | None = None,
) -> dict[str, Tornado]:
    """A tornado per output (the template's headline by default) around ``scenarios[base]``."""
    keys = tuple(metrics or model.headline)
    base_inputs = {k: float(v) for k, v in scenarios[base].items()}
    moved = [_moves(item, base_inputs[item.key], scenarios) for item in model.inputs]
    width = len(MOVES)
    arrays = {}
    for index, item in enumerate(model.inputs):
        column = np.full(len(moved) * width, base_inputs[item.key])
        column[index * width : (index + 1) * width] = moved[index]
        arrays[item.key] = column
    results = engine.compute_arrays(model, arrays)
    base_outputs = engine.compute(model, base_inputs)
    tornados = {}
    for key in keys:
        values = _as_values(results[key], len(moved) * width)
        bars = [
            Bar(
                input=item.key,
                base_input=base_inputs[item.key],
                inputs=dict(zip(MOVES, moved[index], strict=True)),
                outputs=dict(zip(MOVES, values[index * width : (index + 1) * width], strict=True)),
            )
            for index, item in enumerate(model.inputs)
        ]
        keys = sort_keys([bar.swing for bar in bars])
        order = sorted(range(len(bars)), key=lambda i: -keys[i])
        bars = [bars[i] for i in order]
        tornados[key] = Tornado(metric=key, base=base_outputs[key], bars=tuple(bars))
    return tornados


SORT_DIGITS = 12


def sort_keys(swings: Sequence[engine.Value]) -> list[float]:
    """What the tornado is sorted on: each swing over the largest, to 12 decimals.

    Swings that differ only in their last binary digit (x*1.2*y against
    x*(y*1.2)) then tie, and ties keep the template's order, in Python as in
    the workbook's RANK formulas. 0 for all when any swing is an error.
    """
    if any(isinstance(v, ExcelError) for v in swings):
        return [0.0] * len(swings)
    largest = max(swings, default=0.0)
    if largest == 0:
        return [0.0] * len(swings)
    # All at once: ROUND's digits are one number here, and its other steps (products,
    # rint, floor) round alike in numpy's array loops and one by one.
    shares = expr.evaluate(_ROUNDED_SHARE, {"s": np.array(swings, dtype=float), "m": largest})
    return np.broadcast_to(shares.values, (len(swings),)).astype(float).tolist()


_ROUNDED_SHARE = expr.Call(
    "ROUND", (expr.Binary("/", expr.Ref("s"), expr.Ref("m")), expr.Num(SORT_DIGITS))
)


def _moves(item: Input, value: float, scenarios: Mapping[str, Mapping[str, float]]) -> list[float]:
    steps = [min(max(value * (1 + step), item.minimum), item.maximum) for step in STEPS]
    return [*steps, float(scenarios["prudent"][item.key]), float(scenarios["optimistic"][item.key])]


def _as_values(evaluated: expr.Evaluated, size: int) -> list[engine.Value]:
    """Per-element floats or Excel errors, broadcast to ``size`` (a metric may be constant)."""
    values = np.broadcast_to(evaluated.values, (size,))
    errors = np.broadcast_to(evaluated.errors, (size,))
    return [
        ERROR_CODES[int(code)] if code else float(value)
        for value, code in zip(values, errors, strict=True)
    ]


def _numbers(values: Iterable[engine.Value]) -> list[float]:
    return [v for v in values if isinstance(v, float)]
