"""Compute a template: the reference engine behind every number roi_xl shows.

The same evaluation serves one scenario (floats), all three, or thousands of
draws at once (numpy arrays), so the CLI, the workbook's cached values and
the Excel functions can never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from roi_xl.errors import InputError
from roi_xl.model import expr, timeline
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import SCENARIOS, Template

Value = float | ExcelError


@dataclass(frozen=True)
class ScenarioResult:
    """Inputs used and outputs computed for one scenario."""

    inputs: dict[str, float]
    outputs: dict[str, Value]


def scenario_inputs(
    template: Template, scenario: str, overrides: Mapping[str, float] | None = None
) -> dict[str, float]:
    """The template's defaults for ``scenario`` with ``overrides`` applied and checked."""
    if scenario not in SCENARIOS:
        raise InputError(f"unknown scenario '{scenario}' (choose {', '.join(SCENARIOS)})")
    values = {item.key: item.defaults[scenario] for item in template.inputs}
    for key, value in (overrides or {}).items():
        values[key] = value
    validate_inputs(template, values)
    return values


def validate_inputs(template: Template, values: Mapping[str, float]) -> None:
    """Refuse unknown keys, missing keys, non-numbers, values outside their range and a
    fraction where a whole number is asked (a number of months)."""
    known = set(template.input_keys)
    for key in values:
        if key not in known:
            hint = _closest(key, known)
            raise InputError(
                f"'{key}' is not an input of template '{template.key}'"
                + (f" (did you mean '{hint}'?)" if hint else "")
            )
    for item in template.inputs:
        if item.key not in values:
            raise InputError(f"no value for input '{item.key}'")
        value = values[item.key]
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise InputError(f"input '{item.key}': {value!r} is not a number")
        if not item.minimum <= value <= item.maximum:
            hint = ""
            if item.kind == "percent" and 1 < value <= 100:
                hint = f" (a percentage is a fraction: {value:g} % is {value / 100:g})"
            raise InputError(
                f"input '{item.key}' must be between {item.minimum:g} and {item.maximum:g}; "
                f"got {value:g}{hint}"
            )
        if item.integer and value != int(value):
            raise InputError(
                f"input '{item.key}' must be a whole number of {item.unit}; got {value:g}"
            )


def _closest(key: str, known: Iterable[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(key, sorted(known), n=1)
    return matches[0] if matches else None


def compute(template: Template, inputs: Mapping[str, float]) -> dict[str, Value]:
    """Every metric for one set of inputs: a float or an Excel error value each."""
    env: dict[str, float | Value] = dict(inputs)
    results: dict[str, Value] = {}
    for key, evaluate in _compiled_metrics(template):
        result = evaluate(env)
        env[key] = result
        results[key] = result
    return results


def _compiled_metrics(
    template: Template,
) -> list[tuple[str, Callable[[Mapping[str, object]], Value]]]:
    """Each metric's tree compiled once per template (``expr.compile_scalar``: the values
    ``evaluate_scalar`` gives, a few times faster), in the template's order."""
    entry = _COMPILED.get(id(template))
    if entry is not None and entry[0] is template:
        return entry[1]
    compiled = [
        (metric.key, expr.compile_scalar(metric.node, FUNCTIONS)) for metric in template.metrics
    ]
    if len(_COMPILED) >= _COMPILED_LIMIT:
        _COMPILED.clear()
    _COMPILED[id(template)] = (template, compiled)
    return compiled


def compute_arrays(
    template: Template, inputs: Mapping[str, float | np.ndarray], wanted: str | None = None
) -> dict[str, expr.Evaluated]:
    """Every metric over numpy arrays of inputs (broadcast together), errors per element;
    with ``wanted``, only that metric and the metrics it uses (a solver asks for one)."""
    needed = None if wanted is None else metrics_used(template, wanted)
    env: dict[str, float | np.ndarray | expr.Evaluated] = dict(inputs)
    results: dict[str, expr.Evaluated] = {}
    for metric in template.metrics:
        if needed is not None and metric.key not in needed:
            continue
        result = expr.evaluate(metric.node, env, FUNCTIONS)
        env[metric.key] = result
        results[metric.key] = result
    return results


def metrics_used(template: Template, key: str) -> frozenset[str]:
    """``key`` and every metric its formula uses, directly or through other metrics."""
    entry = _USED.get((id(template), key))
    if entry is not None and entry[0] is template:
        return entry[1]
    metrics = set(template.metric_keys)
    used = {key}
    todo = [key]
    while todo:
        for name in expr.names(template.metric(todo.pop()).node) & metrics:
            if name not in used:
                used.add(name)
                todo.append(name)
    if len(_USED) >= _EXPANDED_LIMIT:
        _USED.clear()
    _USED[(id(template), key)] = (template, frozenset(used))
    return frozenset(used)


def expanded(template: Template, key: str) -> expr.Node:
    """A metric's formula with every metric it uses written out, down to the inputs.

    One cell can then re-evaluate the metric with one input replaced (a flexed
    value, a break-even candidate) from the template's single definition. Made once per
    template and metric: the same tree each time, so the formulas rendered from it are
    cached too.
    """
    entry = _EXPANDED.get((id(template), key))
    if entry is not None and entry[0] is template:
        return entry[1]
    metrics = set(template.metric_keys)
    node = template.metric(key).node
    used = expr.names(node) & metrics
    tree = expr.substitute(node, {name: expanded(template, name) for name in used})
    if len(_EXPANDED) >= _EXPANDED_LIMIT:
        _EXPANDED.clear()
    _EXPANDED[(id(template), key)] = (template, tree)
    return tree


# (template id, metric) -> (template, tree); the template is held so its id cannot be
# reused while the entry lives.
_EXPANDED: dict[tuple[int, str], tuple[Template, expr.Node]] = {}
_USED: dict[tuple[int, str], tuple[Template, frozenset[str]]] = {}
_EXPANDED_LIMIT = 4096
# template id -> (template, its metrics compiled): a few templates are in use at a time.
_COMPILED: dict[
    int, tuple[Template, list[tuple[str, Callable[[Mapping[str, object]], Value]]]]
] = {}
_COMPILED_LIMIT = 32


def calculate(
    template: Template,
    scenarios: Iterable[str] = SCENARIOS,
    overrides: Mapping[str, float] | None = None,
) -> dict[str, ScenarioResult]:
    """Inputs and outputs of each scenario, ``overrides`` applied to all of them."""
    results = {}
    for scenario in scenarios:
        inputs = scenario_inputs(template, scenario, overrides)
        results[scenario] = ScenarioResult(inputs=inputs, outputs=compute(template, inputs))
    return results


def scenario_payload(template: Template, result: ScenarioResult) -> dict[str, object]:
    """One scenario as JSON: inputs, outputs (the timeline's figures among them, null where
    a figure does not exist) and the monthly timeline itself."""
    outputs: dict[str, object] = {k: as_displayed(v) for k, v in result.outputs.items()}
    payload: dict[str, object] = {"inputs": result.inputs, "outputs": outputs}
    if template.timeline is not None:
        series, figures = timeline.scenario_figures(template, result.inputs, result.outputs)
        outputs.update({k: None if v is None else as_displayed(v) for k, v in figures.items()})
        payload["timeline"] = {
            key: [v if isinstance(v, int) else as_displayed(v) for v in values]
            for key, values in series.items()
        }
    return payload


def require_defined(template: Template, overrides: Mapping[str, float] | None = None) -> None:
    """Refuse inputs that leave a figure undefined (an Excel error value) in any scenario.

    A workbook written from them would show #DIV/0! and fail its own audit: no deal
    signed leaves the cost per deal undefined, no cost leaves the ROI undefined. The
    message names the scenario, the figure and the inputs at 0 it depends on.
    """
    for scenario, result in calculate(template, overrides=overrides).items():
        for key, value in {**result.outputs, **planned_kpis(template, result)}.items():
            if not isinstance(value, ExcelError):
                continue
            used = sorted(_inputs_used(template, key) & set(result.inputs))
            zeros = [name for name in used if result.inputs[name] == 0]
            culprits = ", ".join(f"{name} = 0" for name in zeros) or ", ".join(used)
            raise InputError(
                f"these inputs leave '{key}' undefined in the {scenario} scenario "
                f"({value.text}, the workbook would show an error value); it depends on "
                f"{culprits}"
            )


def planned_kpis(template: Template, result: ScenarioResult) -> dict[str, Value]:
    """The monthly tabs' KPIs over the month's plan, as the Actuals sheet shows them."""
    live: dict[str, object] = {**result.inputs, **result.outputs}
    local = {
        field.key: expr.evaluate(field.plan, live, FUNCTIONS).scalar()
        for field in template.monthly.fields
        if field.plan is not None
    }
    kpis: dict[str, Value] = {}
    for kpi in template.monthly.kpis:
        if expr.names(kpi.node) & set(local) != expr.names(kpi.node) & {
            f.key for f in template.monthly.fields
        }:
            continue  # a figure with no plan: the plan column leaves the KPI blank
        value = expr.evaluate(kpi.node, {**live, **local, **kpis}, FUNCTIONS).scalar()
        kpis[kpi.key] = value
    return kpis


def _inputs_used(template: Template, key: str) -> set[str]:
    """The inputs a metric or a monthly KPI (through its fields' plans) depends on."""
    if key in template.metric_keys:
        return expr.names(expanded(template, key))
    kpi = next(k for k in template.monthly.kpis if k.key == key)
    names = set(expr.names(kpi.node))
    for field in template.monthly.fields:
        if field.key in names and field.plan is not None:
            names |= expr.names(field.plan)
    found: set[str] = set()
    for name in names:
        found |= expr.names(expanded(template, name)) if name in template.metric_keys else {name}
    return found


def as_displayed(value: Value) -> float | str:
    """A value as Excel shows it: 15 significant digits, errors as their text.

    120 x 0.4 x 0.37 x 850 is 15095.999999999998 in binary floating point;
    Excel, which keeps 15 significant digits, shows 15096, and so do we.
    """
    if isinstance(value, ExcelError):
        return value.text
    shown = float(f"{value:.15g}")
    return 0.0 if shown == 0 else shown
