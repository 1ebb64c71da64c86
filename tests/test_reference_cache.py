"""What the reference and the values keep from one workbook to the next changes nothing.

The reader's reference refills the Timeline from a frame kept per template, locale, period
and start; cell programs keep each cell's formula and compiled tree per template and
layout, and the engine each template's metrics compiled; a few timelines' recursive rows
are computed on plain floats; IRR's bisection stops once settled. Each is held here to
what the uncached, numpy way gives, on random inputs, and the caches to their bounds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import numpy as np
import pytest
from test_fast_generation import SCALAR_CASES, _numpy_compiled, _numpy_scalar
from test_formula_book import _random_inputs
from test_reference_build import _typed, assert_same_reference

from roi_xl.demo import missed_call_grid, sample_actuals
from roi_xl.model import engine, expr, timeline
from roi_xl.model import template as templates
from roi_xl.model.excel_errors import DIV0
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import MAX_HORIZON_MONTHS, SCENARIOS, Template
from roi_xl.workbook import (
    Reference,
    WorkbookOptions,
    build_reference,
    sensitivity_cells,
    timeline_frame,
)

START = dt.date(2026, 4, 1)


def _draws(model: Template, locale: str, count: int) -> list[WorkbookOptions]:
    """Default inputs first (the one that keeps the caches), then random ones."""
    rng = random.Random(f"{model.key}-{locale}-cache")
    plain = WorkbookOptions(locale=locale, start=START, months=12)
    draws = [plain]
    for _ in range(count):
        actuals = sample_actuals(model.key)[: rng.randint(0, 6)]
        draws.append(
            dataclasses.replace(
                plain,
                overrides=_random_inputs(model, rng),
                scenario=rng.choice(SCENARIOS),
                actuals=actuals,
                heatmaps=[missed_call_grid(25)] * len(actuals) if model.monthly.heatmap else (),
            )
        )
    return draws


def _flat(reference: Reference) -> dict[str, list[tuple[object, ...]]]:
    return {
        sheet: [(at, c.formula, _typed(c.value), c.number_format) for at, c in cells.items()]
        for sheet, cells in reference.cells.items()
    }


def _uncached(
    model: Template, options: WorkbookOptions, monkeypatch: pytest.MonkeyPatch
) -> Reference:
    """The reference built with nothing kept from before, and nothing kept after."""
    with monkeypatch.context() as patch:
        patch.setattr(timeline_frame, "_FRAMES", {})
        patch.setattr(timeline_frame, "_SEEN", {})
        patch.setattr(sensitivity_cells, "_MADE", {})
        patch.setattr(engine, "_COMPILED", {})
        patch.setattr(timeline_frame, "fill", lambda *args: False)
        patch.setattr(timeline, "SCALAR_SETS", 0)
        patch.setattr(expr, "compile_scalar", _numpy_compiled)
        return build_reference(model, options)


@pytest.mark.parametrize("locale", ["en-US", "fr-FR"])
@pytest.mark.parametrize("name", templates.builtin_names())
def test_the_cached_reference_is_the_uncached_one(
    name: str, locale: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = templates.load(name)
    filled = []
    fill = timeline_frame.fill

    def spied(*args: object) -> bool:
        filled.append(fill(*args))  # type: ignore[arg-type]
        return filled[-1]

    monkeypatch.setattr(timeline_frame, "fill", spied)
    monkeypatch.setattr(timeline_frame, "_FRAMES", {})
    monkeypatch.setattr(timeline_frame, "_SEEN", {})
    for options in _draws(model, locale, 4):
        cached = build_reference(model, options)
        uncached = _uncached(model, options, monkeypatch)
        assert _flat(cached) == _flat(uncached)
        assert cached.names == uncached.names
    # the first two written (the frame kept the second time), every later one refilled
    assert filled == [False, False, True, True, True]


@pytest.mark.parametrize("name", templates.builtin_names())
def test_the_reference_from_a_frame_is_the_written_workbook(name: str) -> None:
    model = templates.load(name)
    for options in _draws(model, "fr-FR", 2):
        assert_same_reference(model, options)


def test_the_kept_frames_and_programs_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timeline_frame, "_FRAMES", {})
    monkeypatch.setattr(timeline_frame, "_FRAMES_LIMIT", 3)
    monkeypatch.setattr(timeline_frame, "_SEEN", {})
    monkeypatch.setattr(timeline_frame, "_SEEN_LIMIT", 4)
    monkeypatch.setattr(sensitivity_cells, "_MADE", {})
    monkeypatch.setattr(sensitivity_cells, "_MADE_LIMIT", 2)
    model = templates.load("crm")
    for month in range(1, 7):
        options = WorkbookOptions(start=dt.date(2026, month, 1), months=3)
        build_reference(model, options)
        assert dt.date(2026, month, 1) not in [key[-1] for key in timeline_frame._FRAMES]
        build_reference(model, options)  # met twice: kept
        assert len(timeline_frame._FRAMES) <= 3
        assert len(timeline_frame._SEEN) <= 4
        assert len(sensitivity_cells._MADE) <= 2
    assert [key[-1] for key in timeline_frame._FRAMES] == [
        dt.date(2026, month, 1) for month in (4, 5, 6)
    ]  # the oldest dropped first


@pytest.mark.parametrize(("text", "env", "expected"), SCALAR_CASES)
def test_a_compiled_tree_evaluates_as_evaluate_scalar(
    text: str, env: dict, expected: object
) -> None:
    node = expr.parse(text, FUNCTIONS)
    compiled = expr.compile_scalar(node, FUNCTIONS)
    assert repr(compiled(env)) == repr(expr.evaluate_scalar(node, env, FUNCTIONS))
    assert repr(compiled(env)) == repr(_numpy_scalar(node, env, FUNCTIONS))


@pytest.mark.parametrize("name", templates.builtin_names())
def test_compiled_metric_trees_match_numpy_on_random_inputs(name: str) -> None:
    model = templates.load(name)
    rng = random.Random(f"{name}-compiled")
    trees = [engine.expanded(model, metric.key) for metric in model.metrics]
    for _ in range(20):
        env = _random_inputs(model, rng)
        for key in rng.sample(sorted(env), 3):
            env[key] = 0.0  # divisions by zero: errors through every path
        for tree in trees:
            found = expr.compile_scalar(tree, FUNCTIONS)(env)
            assert repr(found) == repr(_numpy_scalar(tree, env, FUNCTIONS))


@pytest.mark.parametrize("name", templates.builtin_names())
def test_timelines_on_plain_floats_match_numpy(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model = templates.load(name)
    rng = random.Random(f"{name}-timelines")
    for _ in range(4):
        inputs = [
            {**engine.scenario_inputs(model, s, {}), **_random_inputs(model, rng)}
            for s in SCENARIOS
        ]
        if rng.random() < 0.5:
            inputs[0] = {key: 0.0 if rng.random() < 0.3 else v for key, v in inputs[0].items()}
        outputs = [engine.compute(model, one) for one in inputs]
        fast = timeline.compute_many(model, inputs, outputs, MAX_HORIZON_MONTHS)
        monkeypatch.setattr(timeline, "SCALAR_SETS", 0)
        slow = timeline.compute_many(model, inputs, outputs, MAX_HORIZON_MONTHS)
        monkeypatch.undo()
        for one, other in zip(fast, slow, strict=True):
            for key in other.rows:
                assert list(map(repr, one.row(key))) == list(map(repr, other.row(key))), key
            for key in other.results:
                assert repr(one.result(key)) == repr(other.result(key)), key


def _irr_every_step(flows: np.ndarray) -> np.ndarray:
    """``expr.irr`` with all of its 200 bisection steps, none skipped."""
    flows = np.asarray(flows, dtype=float)
    periods = np.arange(flows.shape[-1])
    nonzero = flows != 0
    last = (flows.shape[-1] - 1 - np.argmax(nonzero[..., ::-1], axis=-1))[..., None]

    def sign(rate: np.ndarray) -> np.ndarray:
        base = 1.0 + rate[..., None]
        with np.errstate(all="ignore"):
            exponents = np.where(base < 1.0, np.maximum(last - periods, 0), -periods)
            return np.sign(np.sum(flows * np.power(base, exponents), axis=-1))

    low = np.full(flows.shape[:-1], -1.0 + 1e-12)
    high = np.full(flows.shape[:-1], 1e6)
    sign_low = sign(low)
    for _ in range(200):
        middle = (low + high) / 2
        same = sign(middle) == sign_low
        low, high = np.where(same, middle, low), np.where(same, high, middle)
    return (low + high) / 2


def test_irr_stops_only_where_every_further_step_changes_nothing() -> None:
    rng = np.random.default_rng(7)
    for case in range(200):
        flows = rng.normal(size=(int(rng.integers(1, 4)), 60)) * rng.choice([1e-3, 1.0, 1e6])
        flows[:, : int(rng.integers(1, 30))] -= rng.uniform(0, 20)
        if case % 5 == 0:
            flows[:, 40:] = 0.0
        rates, exists = expr.irr(flows)
        expected = _irr_every_step(flows)
        assert np.array_equal(rates[exists], expected[exists])


def test_a_timeline_row_holding_errors_refills_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """No built-in template's timeline rows give errors for inputs within their bounds, so
    errors are put into one row of each scenario: the frame's refill must write them as the
    sheet does (the error in its months, the first error in the totals)."""
    model = templates.load("phone-system")
    options = WorkbookOptions(locale="en-US", start=START, months=12)
    build_reference(model, options)
    build_reference(model, options)  # keeps the frame
    compute_many = timeline.compute_many
    assert model.timeline is not None
    flow = next(row.key for row in model.timeline.rows if row.is_flow)

    def with_errors(*args: object, **kwargs: object) -> list[timeline.TimelineValues]:
        computed = compute_many(*args, **kwargs)  # type: ignore[arg-type]
        for index, one in enumerate(computed):
            row = one.rows[flow]
            errors = np.array(np.broadcast_to(row.errors, row.values.shape))
            errors[5 + index * 13 : 9 + index * 13] = DIV0.code
            one.rows[flow] = expr.Evaluated(row.values, errors)
        return computed

    monkeypatch.setattr(timeline, "compute_many", with_errors)
    filled = []
    fill = timeline_frame.fill
    monkeypatch.setattr(
        timeline_frame, "fill", lambda *args: filled.append(fill(*args)) or filled[-1]
    )
    assert_same_reference(model, options)
    assert filled == [True]
    cells = build_reference(model, options).cells["Timeline"]
    assert any(cell.value == DIV0 for cell in cells.values())


def test_the_engine_compiled_is_the_engine_evaluated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "_COMPILED", {})
    monkeypatch.setattr(engine, "_COMPILED_LIMIT", 2)
    for name in templates.builtin_names():
        model = templates.load(name)
        rng = random.Random(f"{name}-engine")
        for _ in range(10):
            inputs = {
                **engine.scenario_inputs(model, "realistic", {}),
                **_random_inputs(model, rng),
            }
            for key in rng.sample(sorted(inputs), 2):
                inputs[key] = 0.0
            env: dict[str, object] = dict(inputs)
            expected = {}
            for metric in model.metrics:
                env[metric.key] = expected[metric.key] = expr.evaluate_scalar(
                    metric.node, env, FUNCTIONS
                )
            found = engine.compute(model, inputs)
            assert list(found) == list(expected)
            assert [repr(v) for v in found.values()] == [repr(v) for v in expected.values()]
        assert len(engine._COMPILED) <= 2
