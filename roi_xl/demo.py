"""``roi-xl demo``: a ready example of every built-in template, in both locales.

The first three months carry sample actuals (and, for the phone system, a
weekday x hour grid of missed calls), so the Actuals sheet and the charts show
what a filled workbook looks like.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from roi_xl.errors import InputError
from roi_xl.locale import LOCALES
from roi_xl.model import template
from roi_xl.workbook import WorkbookOptions, write_workbook

DEMO_START = dt.date(2026, 1, 1)

# Relative weight of missed calls by weekday (Mon..Sun) and hour: peaks late
# morning and mid-afternoon, some after hours, little at night.
_DAY_WEIGHTS = [1.2, 1.0, 1.0, 1.0, 1.3, 0.5, 0.2]
_HOUR_WEIGHTS = [
    0,
    0,
    0,
    0,
    0,
    0,
    0.2,
    0.5,
    1.5,
    2.5,
    3,
    2.5,
    1.5,
    1.8,
    2.5,
    2.5,
    2,
    1.5,
    1,
    0.6,
    0.3,
    0.2,
    0.1,
    0,
]


def sample_actuals(template_key: str) -> list[dict[str, float]]:
    """The sample months of a built-in template ([] for others)."""
    raw = resources.files("roi_xl").joinpath("demo_actuals.toml").read_text("utf-8")
    return tomllib.loads(raw).get(template_key, {}).get("months", [])


def missed_call_grid(missed: int) -> list[list[float]]:
    """Spread ``missed`` calls over a 7 x 24 grid by the weights above, summing exactly."""
    weights = [d * h for d in _DAY_WEIGHTS for h in _HOUR_WEIGHTS]
    total = sum(weights)
    shares = [missed * w / total for w in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: shares[i] - counts[i], reverse=True)
    for i in by_remainder[: missed - sum(counts)]:
        counts[i] += 1
    return [[float(c) for c in counts[day * 24 : (day + 1) * 24]] for day in range(7)]


def write_demo(
    folder: Path, force: bool = False, on_written: Callable[[Path], None] | None = None
) -> list[Path]:
    """Write every built-in template in every locale into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    written = []
    for model in template.load_all():
        actuals = sample_actuals(model.key)
        heatmaps = (
            [missed_call_grid(int(month["calls_missed"])) for month in actuals]
            if model.monthly.heatmap
            else []
        )
        for locale in LOCALES:
            path = folder / f"{model.key}-{locale}.xlsx"
            options = WorkbookOptions(
                locale=locale, start=DEMO_START, force=force, actuals=actuals, heatmaps=heatmaps
            )
            written.append(write_workbook(model, path, options))
            if on_written:
                on_written(path)
    return written
