"""Risk range: how the headline is spread when every assumption is uncertain at once.

Each input is drawn from a triangular distribution between its prudent and
optimistic values (whichever is lower is the lower bound, since for a cost the
prudent value is the higher one), with its mode at the realistic value; a range
of width zero is a constant.

Inputs do not move alone: a market that answers fewer calls also books fewer
meetings. Inputs of one group (a section of the Inputs sheet: the funnel rates,
the costs, the value of a deal...) are drawn with a correlation, ``DEFAULT_CORRELATION``
unless told otherwise per group, through a Gaussian copula: correlated normal
scores, turned into uniform ranks (Iman-Conover), each rank read on its input's
triangle in the scenario direction (a low rank is towards the prudent value, for
a cost as for a rate). With every input of a group leaning prudent together, the
prudent scenario is a place the simulation visits, and its percentile on the
distribution is reported beside P10, P50 and P90, as is the optimistic one's.

All draws go through the engine in one vectorised pass (the monthly timeline in
slices of draws), and a seeded numpy Generator makes every run with the same seed
give the same numbers. The figure is the business case over its horizon: the
discounted ROI over the horizon, a loss being a horizon NPV below zero, so the
range, the chance of a loss and the scenarios placed on it are all of that one
figure, never of a single period.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from roi_xl.errors import InputError
from roi_xl.model import engine, expr, timeline
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.template import Template, Text

DRAWS = 10_000
# Every draw holds each input and each figure of the model in memory at once, about 2 KB a
# draw for the phoning model: 200,000 draws stay under about 400 MiB.
MAX_DRAWS = 200_000
MAX_SEED = 2**63 - 1
PERCENTILES: tuple[int, ...] = (10, 50, 90)
# The prudent and optimistic values of an input are its 1-in-10 cases: TAIL of its
# distribution lies below the lower of the two and TAIL above the higher.
TAIL = 0.1
# Pairwise correlation of the inputs of one group (a section of the Inputs sheet), in the
# scenario direction: 0.5, inputs of a group share half their uncertainty (one market, one
# team, one offer). ACROSS_GROUPS: the correlation of inputs of different groups, since a
# prudent year tends to be prudent everywhere.
DEFAULT_CORRELATION = 0.5
# What the range is of, for a template with a business case: the ROI over the horizon
# (discounted, one-off costs in), and a loss is a horizon NPV below zero (the same draws,
# since that ROI is below zero exactly when the NPV is, the costs being positive).
HORIZON_METRIC = "roi_horizon"
LOSS_MEASURE = "npv"
# Months x draws of one slice of the timeline: every row of a slice is in memory at once.
TIMELINE_CELLS = 250_000
ACROSS = "across"
DEFAULT_ACROSS = 0.25


@dataclass(frozen=True)
class RiskRange:
    """Percentiles of ``metric`` over the draws, and the share of draws that lose money
    (``loss_measure`` below zero).

    Draws where the metric is an Excel error (a division by zero) are left out
    of the percentiles and counted in ``errors``; they are not "below zero".
    ``prudent_percentile`` and ``optimistic_percentile`` place those scenarios'
    own values on the distribution: the share of computable draws at or below
    them, from 0 to 100 (None when the scenario's value is an error).
    """

    metric: str
    loss_measure: str  # the figure whose value below zero is a loss: the horizon NPV
    draws: int
    seed: int
    p10: float | None
    p50: float | None
    p90: float | None
    probability_below_zero: float
    errors: int
    deterministic: engine.Value  # the metric for the realistic inputs, for comparison
    correlation: dict[str, float]  # group (input section) -> pairwise correlation
    prudent: engine.Value
    optimistic: engine.Value
    prudent_percentile: float | None
    optimistic_percentile: float | None
    values: np.ndarray = field(compare=False, repr=False)  # the computable draws


def triangular_from(
    u: np.ndarray, low: np.ndarray, mode: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """Inverse triangular CDF of ``u`` (one row per input); low == high gives low."""
    width = high - low
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = np.where(width > 0, (mode - low) / width, 0.0)[:, None]
    rising = low[:, None] + np.sqrt(u * (width * (mode - low))[:, None])
    falling = high[:, None] - np.sqrt((1 - u) * (width * (high - mode))[:, None])
    drawn = np.where(u < cut, rising, falling)
    return np.where((width > 0)[:, None], drawn, low[:, None])


def trigen(
    bottom: np.ndarray, mode: np.ndarray, top: np.ndarray, share: float = TAIL
) -> tuple[np.ndarray, np.ndarray]:
    """The triangle (low, high) around ``mode`` with ``share`` of its mass below ``bottom``
    and ``share`` above ``top`` (a "trigen"); bottom == top gives that constant.

    Solved by bisection on the low end: for a low end L, the mass below ``bottom`` fixes the
    width, and the mass above ``top`` decreases as L falls.
    """
    spread = np.maximum(top - bottom, 0.0)
    low_end = bottom - 100 * spread - 1e-300
    high_end = bottom.copy()
    for _ in range(200):
        low = (low_end + high_end) / 2
        width, high = _from_low(low, bottom, mode, share)
        with np.errstate(divide="ignore", invalid="ignore"):
            above = np.where(top < high, (high - top) ** 2 / (width * (high - mode)), 0.0)
        too_much = above > share  # the high end is too far: the low end must come up
        low_end = np.where(too_much, low, low_end)
        high_end = np.where(too_much, high_end, low)
    low = (low_end + high_end) / 2
    _, high = _from_low(low, bottom, mode, share)
    constant = spread == 0
    return np.where(constant, bottom, low), np.where(constant, top, high)


def _from_low(
    low: np.ndarray, bottom: np.ndarray, mode: np.ndarray, share: float
) -> tuple[np.ndarray, np.ndarray]:
    """Width and high end of the triangle from its low end, with ``share`` below ``bottom``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.where(mode > bottom, (bottom - low) ** 2 / (share * (mode - low)), 0.0)
        width = np.where(mode > bottom, width, (bottom - low) / share)
    return width, low + width


def triangular(
    rng: np.random.Generator, low: np.ndarray, mode: np.ndarray, high: np.ndarray, draws: int
) -> np.ndarray:
    """Independent draws (one row per input) by inverting the triangular CDF."""
    return triangular_from(rng.random((low.size, draws)), low, mode, high)


def correlations(model: Template, given: Mapping[str, float] | None = None) -> dict[str, float]:
    """Each group of inputs (a section with two inputs or more), its correlation, and
    ``ACROSS`` for inputs of different groups.

    ``given`` sets groups by name, "*" every group at once, ``ACROSS`` the rest. Refuses an
    unknown group, a value outside -1..1, or a set no random draw can have (a group
    correlated more weakly than the groups are with each other), naming the group, the rule
    and the value.
    """
    sizes: dict[str, int] = {}
    for item in model.inputs:
        sizes[item.section] = sizes.get(item.section, 0) + 1
    groups = [section for section, size in sizes.items() if size > 1]
    chosen = dict(given or {})
    for group, value in chosen.items():
        if group not in ("*", ACROSS) and group not in sizes:
            raise InputError(
                f"--correlation: '{group}' is not a group of inputs of '{model.key}' "
                f"(groups: {', '.join([*groups, ACROSS])})"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1 <= value <= 1:
            name = "" if group == "*" else f"{group}="
            raise InputError(
                f"--correlation {name}{value!r}: a correlation must be between -1 and 1"
            )
    every = chosen.get("*", DEFAULT_CORRELATION)
    result = {group: float(chosen.get(group, every)) for group in groups}
    result[ACROSS] = float(chosen.get(ACROSS, DEFAULT_ACROSS))
    sections = [item.section for item in model.inputs]
    if np.linalg.eigvalsh(correlation_matrix(sections, result)).min() < -1e-9:
        shown = ", ".join(f"{k}={v:g}" for k, v in result.items())
        raise InputError(
            f"--correlation {shown}: no set of inputs can be correlated this way (each group "
            f"needs a correlation at least the '{ACROSS}' one, and not too negative)"
        )
    return result


def correlation_matrix(sections: list[str], correlation: Mapping[str, float]) -> np.ndarray:
    """Input x input: 1 on the diagonal, the group's value within a group, ACROSS outside."""
    same = np.array(sections)[:, None] == np.array(sections)[None, :]
    within = np.array([correlation.get(section, 1.0) for section in sections])
    matrix = np.where(same, within[:, None], correlation[ACROSS])
    np.fill_diagonal(matrix, 1.0)
    return matrix


def correlated_uniforms(
    rng: np.random.Generator, sections: list[str], correlation: Mapping[str, float], draws: int
) -> np.ndarray:
    """Uniform ranks in (0, 1), one row per input, with the Gaussian copula's correlations."""
    eigenvalues, vectors = np.linalg.eigh(correlation_matrix(sections, correlation))
    root = vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))  # a perfect correlation: singular
    scores = root @ rng.standard_normal((len(sections), draws))
    ranks = np.argsort(np.argsort(scores, axis=1, kind="stable"), axis=1, kind="stable")
    return (ranks + 0.5) / draws


def risk_range(
    model: Template,
    scenarios: Mapping[str, Mapping[str, float]],
    metric: str | None = None,
    draws: int = DRAWS,
    seed: int = 0,
    correlation: Mapping[str, float] | None = None,
) -> RiskRange:
    """Monte Carlo of ``metric`` over the scenarios: the horizon ROI of the business case
    by default (the headline where a template has no timeline); a loss is a horizon NPV
    below zero."""
    check_draws(draws, seed)
    metric = metric or (HORIZON_METRIC if model.timeline is not None else model.headline[0])
    loss = LOSS_MEASURE if model.timeline is not None else metric
    chosen = correlations(model, correlation)
    keys = model.input_keys
    prudent = np.array([scenarios["prudent"][k] for k in keys], dtype=float)
    realistic = np.array([scenarios["realistic"][k] for k in keys], dtype=float)
    optimistic = np.array([scenarios["optimistic"][k] for k in keys], dtype=float)
    # A realistic value outside [prudent, optimistic] widens the range rather than failing.
    bottom = np.minimum(np.minimum(prudent, optimistic), realistic)
    top = np.maximum(np.maximum(prudent, optimistic), realistic)
    low, high = trigen(bottom, realistic, top)
    sections = [item.section for item in model.inputs]
    u = correlated_uniforms(np.random.default_rng(seed), sections, chosen, draws)
    # A low rank leans prudent: for an input whose prudent value is the higher one (a
    # cost), that is the top of its range.
    u = np.where((prudent > optimistic)[:, None], 1 - u, u)
    minimum = np.array([item.minimum for item in model.inputs], dtype=float)[:, None]
    maximum = np.array([item.maximum for item in model.inputs], dtype=float)[:, None]
    sample = np.clip(triangular_from(u, low, realistic, high), minimum, maximum)
    # A whole number of months (or of anything counted whole) is drawn as one.
    whole = np.array([item.integer for item in model.inputs])[:, None]
    sample = np.where(whole, np.round(sample), sample)
    figures = figures_of(model, sample, (metric, loss))
    good = np.sort(figures[metric].values[figures[metric].errors == 0])
    losing = (figures[loss].errors == 0) & (figures[loss].values < 0)
    p10, p50, p90 = (
        (float(v) for v in np.percentile(good, PERCENTILES)) if good.size else (None,) * 3
    )
    shown = figures_of(model, np.stack([prudent, realistic, optimistic], axis=1), (metric,))
    at = dict(zip(("prudent", "realistic", "optimistic"), shown[metric].to_objects(), strict=True))
    return RiskRange(
        metric=metric,
        loss_measure=loss,
        draws=draws,
        seed=seed,
        p10=p10,
        p50=p50,
        p90=p90,
        probability_below_zero=float(np.count_nonzero(losing)) / draws,
        errors=int(draws - good.size),
        deterministic=at["realistic"],
        correlation=chosen,
        prudent=at["prudent"],
        optimistic=at["optimistic"],
        prudent_percentile=percentile_of(good, at["prudent"]),
        optimistic_percentile=percentile_of(good, at["optimistic"]),
        values=good,
    )


def figures_of(
    model: Template, sample: np.ndarray, keys: tuple[str, ...]
) -> dict[str, expr.Evaluated]:
    """Each figure named (a metric, or a result of the timeline) for every column of
    ``sample`` (one row per input), one value or error per column.

    The timeline runs over the longest horizon drawn, in slices of draws that keep every
    row of a slice under about ``TIMELINE_CELLS`` cells; months past a draw's own horizon
    are zero, by the template's horizon flag.
    """
    draws = sample.shape[1]
    inputs = dict(zip(model.input_keys, sample, strict=True))
    outputs = {
        key: _flat(value, draws) for key, value in engine.compute_arrays(model, inputs).items()
    }
    found = {key: outputs[key] for key in keys if key in outputs}
    wanted = tuple(dict.fromkeys(key for key in keys if key not in found))
    if not wanted:
        return found
    assert model.timeline is not None, f"'{wanted[0]}' is not a figure of '{model.key}'"
    periods = int(np.max(inputs[model.timeline.horizon]))
    step = max(1, TIMELINE_CELLS // periods)
    parts: dict[str, list[expr.Evaluated]] = {key: [] for key in wanted}
    for start in range(0, draws, step):
        part = slice(start, min(start + step, draws))
        column = {key: values[part, None] for key, values in inputs.items()}
        metrics = {
            key: expr.Evaluated(value.values[part, None], value.errors[part, None])
            for key, value in outputs.items()
        }
        results = timeline.compute_timeline(model, column, metrics, periods, wanted).results
        for key in wanted:
            parts[key].append(_flat(results[key], part.stop - part.start))
    for key in wanted:
        found[key] = expr.Evaluated(
            np.concatenate([p.values for p in parts[key]]),
            np.concatenate([p.errors for p in parts[key]]),
        )
    return found


def _flat(value: expr.Evaluated, size: int) -> expr.Evaluated:
    """One value per draw, whatever the shape the evaluation left (a constant, a column)."""
    return expr.Evaluated(
        np.broadcast_to(value.values, (size, 1) if value.values.ndim > 1 else (size,)).reshape(
            size
        ),
        np.broadcast_to(value.errors, (size, 1) if value.errors.ndim > 1 else (size,)).reshape(
            size
        ),
    )


def label_and_kind(model: Template, key: str) -> tuple[Text, str]:
    """A figure's label and kind, whether a metric or a result of the timeline."""
    if key in model.metric_keys:
        metric = model.metric(key)
        return metric.label, metric.kind
    assert model.timeline is not None
    result = model.timeline.result(key)
    return result.label, result.kind


def percentile_of(ordered: np.ndarray, value: engine.Value) -> float | None:
    """Share of the sorted draws at or below ``value``, in percent (None for an error)."""
    if isinstance(value, ExcelError) or not ordered.size:
        return None
    return 100.0 * float(np.searchsorted(ordered, value, side="right")) / ordered.size


def parse_correlations(texts: list[str]) -> dict[str, float]:
    """``--correlation`` values: "0.6" for every group, "funnel=0.8" or "across=0.3"."""
    chosen: dict[str, float] = {}
    for text in texts:
        group, _, number = text.rpartition("=")
        try:
            value = float(number)
        except ValueError:
            raise InputError(f"--correlation {text}: '{number}' is not a number") from None
        if not math.isfinite(value):
            raise InputError(f"--correlation {text}: '{number}' is not a number")
        chosen[group.strip() or "*"] = value
    return chosen


def check_draws(draws: int, seed: int) -> None:
    """Refuse a number of draws the machine cannot hold and a seed numpy cannot take."""
    if not 1 <= draws <= MAX_DRAWS:
        raise InputError(
            f"--draws must be between 1 and {MAX_DRAWS:,}; got {draws:,} (every draw holds "
            "each input and figure in memory)"
        )
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"--seed must be a whole number from 0 to {MAX_SEED}; got {seed}")
