"""The recommendation of the report's first page, by a rule stated on the page itself.

Conservative, so finance can trust it: the base scenario must pay back after
risk adjustment, and the prudent scenario must not lose money, before the whole
budget is recommended. When only the first holds, a test window comes first,
with the break-even of the key driver as the figure to measure in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from roi_xl.decide.break_even import BreakEven
from roi_xl.report.facts import Facts

APPROVE = "approve"
TEST_FIRST = "test_first"
REJECT = "reject"
FIX_FIRST = "fix_first"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Recommendation:
    """What to decide, and the figures that decide it (None where they do not exist)."""

    verdict: str
    npv_adjusted: float | None = None
    prudent_npv: float | None = None
    threshold: BreakEven | None = None  # the key driver to measure in a test window
    at_least: bool = True  # the driver must reach the threshold (False: stay below it)
    errors: int = 0


def recommend(f: Facts) -> Recommendation:
    """Approve, test first, reject; or fix the workbook first, or no figures to judge."""
    errors = sum(x.severity == "error" for x in f.read.findings)
    if errors:
        return Recommendation(FIX_FIRST, errors=errors)
    base, prudent = f.timeline(f.base), f.timeline("prudent")
    if base is None or prudent is None:
        return Recommendation(UNKNOWN)
    adjusted, prudent_npv = base[1]["npv_risk_adjusted"], prudent[1]["npv"]
    if not isinstance(adjusted, float) or not isinstance(prudent_npv, float):
        return Recommendation(UNKNOWN)
    if adjusted < 0:
        return Recommendation(REJECT, adjusted, prudent_npv)
    if prudent_npv >= 0:
        return Recommendation(APPROVE, adjusted, prudent_npv)
    threshold = next((b for b in f.breakevens if b.value is not None), None)
    at_least = True
    if threshold is not None and threshold.value is not None:
        base_roi = (f.outputs(f.base) or {}).get(f.roi)
        positive = not isinstance(base_roi, float) or base_roi >= 0
        # The base value sits on the side of the break-even where the ROI has its sign.
        at_least = (threshold.base_value > threshold.value) == positive
    return Recommendation(TEST_FIRST, adjusted, prudent_npv, threshold, at_least)
