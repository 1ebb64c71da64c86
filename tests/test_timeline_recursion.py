"""A timeline row that uses its own earlier months gives the same numbers, bit for bit, by
its fast path (parts without the row evaluated once, then one month column at a time) as by
evaluating its whole formula over every month, month after month."""

from __future__ import annotations

import numpy as np
import pytest

from roi_xl.model import engine, expr, timeline
from roi_xl.model import template as templates


def _draws(model: templates.Template, count: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    draws = {}
    for item in model.inputs:
        if item.integer:
            whole = rng.integers(int(item.minimum), int(item.maximum) + 1, size=(count, 1))
            draws[item.key] = whole.astype(float)
        else:
            draws[item.key] = rng.uniform(item.minimum, item.maximum, size=(count, 1))
    return draws


def _same(fast: timeline.TimelineValues, plain: timeline.TimelineValues) -> None:
    assert fast.rows.keys() == plain.rows.keys()
    for key in (*fast.rows, *fast.results):
        a = fast.rows.get(key) or fast.results[key]
        b = plain.rows.get(key) or plain.results[key]
        assert np.shape(a.values) == np.shape(b.values), key
        assert np.array_equal(a.values, b.values, equal_nan=True), key
        assert np.array_equal(a.errors, b.errors), key


@pytest.mark.parametrize("periods", [1, 13, 120])
@pytest.mark.parametrize("name", templates.builtin_names())
def test_recursive_rows_fast_path_is_exact(
    name: str, periods: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = templates.load(name)
    assert model.timeline is not None
    recursive = [row for row in model.timeline.rows if row.key in expr.names(row.node)]
    assert recursive, "every built-in template has a row that uses its earlier months"
    draws = _draws(model, 50, periods)
    outputs = engine.compute_arrays(model, draws)
    base = engine.scenario_inputs(model, "realistic")
    columns = []  # each row the fast path took
    month_by_month = timeline._month_by_month
    with monkeypatch.context() as patch:
        patch.setattr(
            timeline,
            "_month_by_month",
            lambda *args: columns.append(args[1]) or month_by_month(*args),
        )
        fast = [
            timeline.compute_timeline(model, draws, outputs, periods),
            timeline.compute_timeline(model, base, engine.compute(model, base), periods),
        ]
    assert len(columns) == 2 * len(recursive)  # every recursive row, both times
    with monkeypatch.context() as patch:
        patch.setattr(timeline, "_hoisted", lambda node, key, env: node)
        patch.setattr(timeline, "_with_lags_named", lambda node, key, lags: None)
        plain = [
            timeline.compute_timeline(model, draws, outputs, periods),
            timeline.compute_timeline(model, base, engine.compute(model, base), periods),
        ]
    for a, b in zip(fast, plain, strict=True):
        _same(a, b)


@pytest.mark.parametrize("periods", [1, 2, 5, 13])
def test_a_row_with_lags_of_several_lengths_is_exact_a_stretch_at_a_time(
    periods: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shortest lag sets how many months are evaluated together; a longer lag then
    reaches back before month 1 for part of a stretch (0 there, as LAG gives): the numbers
    are those of the row evaluated month after month, bit for bit."""
    node = expr.parse("LAG(r, 2) * 0.5 + LAG(r, 3) / 3 - x * period", periods=True)
    rng = np.random.default_rng(periods)
    period = np.arange(1.0, periods + 1.0)
    env = {"x": rng.uniform(-1e3, 1e3, size=(40, 1)), expr.PERIOD: period}
    widths = []
    lagged = timeline._lagged
    monkeypatch.setattr(
        timeline, "_lagged", lambda *args: widths.append(args[3] - args[2]) or lagged(*args)
    )
    fast = timeline._recursive_row("r", node, dict(env), period)
    assert max(widths) == min(2, periods)  # two months at a time
    monkeypatch.setattr(timeline, "_with_lags_named", lambda node, key, lags: None)
    plain = timeline._recursive_row("r", node, dict(env), period)
    assert fast.values.shape == plain.values.shape == (40, periods)
    assert np.array_equal(fast.values, plain.values)
    assert np.array_equal(fast.errors, plain.errors)
