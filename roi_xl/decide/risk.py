"""Risk range: how the net ROI is spread when every assumption is uncertain at once.

Each input is drawn from a triangular distribution between its prudent and
optimistic values (whichever is lower is the lower bound, since for a cost the
prudent value is the higher one), with its mode at the realistic value; a range
of width zero is a constant. Inputs are drawn independently. All draws go
through the engine in one vectorised pass, and a seeded numpy Generator makes
every run with the same seed give the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from roi_xl.model import engine
from roi_xl.model.template import Template

DRAWS = 10_000
PERCENTILES: tuple[int, ...] = (10, 50, 90)


@dataclass(frozen=True)
class RiskRange:
    """Percentiles of ``metric`` over the draws, and the share of draws below zero.

    Draws where the metric is an Excel error (a division by zero) are left out
    of the percentiles and counted in ``errors``; they are not "below zero".
    """

    metric: str
    draws: int
    seed: int
    p10: float | None
    p50: float | None
    p90: float | None
    probability_below_zero: float
    errors: int
    deterministic: engine.Value  # the metric for the realistic inputs, for comparison
    values: np.ndarray = field(compare=False, repr=False)  # the computable draws


def triangular(
    rng: np.random.Generator, low: np.ndarray, mode: np.ndarray, high: np.ndarray, draws: int
) -> np.ndarray:
    """Draws (one row per input) by inverting the triangular CDF; low == high gives low."""
    u = rng.random((low.size, draws))
    width = high - low
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = np.where(width > 0, (mode - low) / width, 0.0)[:, None]
    rising = low[:, None] + np.sqrt(u * (width * (mode - low))[:, None])
    falling = high[:, None] - np.sqrt((1 - u) * (width * (high - mode))[:, None])
    drawn = np.where(u < cut, rising, falling)
    return np.where((width > 0)[:, None], drawn, low[:, None])


def risk_range(
    model: Template,
    scenarios: Mapping[str, Mapping[str, float]],
    metric: str | None = None,
    draws: int = DRAWS,
    seed: int = 0,
) -> RiskRange:
    """Monte Carlo of ``metric`` (the headline ROI by default) over the scenarios' ranges."""
    metric = metric or model.headline[0]
    keys = model.input_keys
    prudent = np.array([scenarios["prudent"][k] for k in keys], dtype=float)
    realistic = np.array([scenarios["realistic"][k] for k in keys], dtype=float)
    optimistic = np.array([scenarios["optimistic"][k] for k in keys], dtype=float)
    # A realistic value outside [prudent, optimistic] widens the range rather than failing.
    low = np.minimum(np.minimum(prudent, optimistic), realistic)
    high = np.maximum(np.maximum(prudent, optimistic), realistic)
    sample = triangular(np.random.default_rng(seed), low, realistic, high, draws)
    result = engine.compute_arrays(model, dict(zip(keys, sample, strict=True)))[metric]
    values = np.broadcast_to(result.values, (draws,))
    ok = np.broadcast_to(result.errors, (draws,)) == 0
    good = values[ok]
    p10, p50, p90 = (
        (float(v) for v in np.percentile(good, PERCENTILES)) if good.size else (None,) * 3
    )
    return RiskRange(
        metric=metric,
        draws=draws,
        seed=seed,
        p10=p10,
        p50=p50,
        p90=p90,
        probability_below_zero=float(np.count_nonzero(good < 0)) / draws,
        errors=int(draws - good.size),
        deterministic=engine.compute(model, dict(zip(keys, realistic.tolist(), strict=True)))[
            metric
        ],
        values=good,
    )
