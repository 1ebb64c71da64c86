"""Which monthly figure of a workbook each call-log KPI fills (for ``roi-xl import-calls``).

The model counts answered, missed and abandoned calls without spam (its valid calls),
and values only the missed callers that were never recovered; the log's figures are
imported on that same basis, spam on its own row.
"""

from __future__ import annotations

from roi_xl.calls.errors import CallLogError
from roi_xl.calls.result import CallAnalysis, PeriodFigures
from roi_xl.model.template import Template

# Template field -> how to read it off one month of the log.
FIELDS = {
    "calls_received": lambda m: m.received,
    "calls_spam": lambda m: m.spam,
    "calls_answered": lambda m: m.answered - m.spam_answered,
    "calls_missed": lambda m: m.missed - (m.spam - m.spam_answered),
    "calls_abandoned": lambda m: m.abandoned - m.spam_abandoned,
    "missed_not_recovered": lambda m: m.missed_not_recovered,
    # A booked call was qualified first: qualified leads include the bookings.
    "qualified_leads": lambda m: m.outcomes.get("qualified_lead", 0) + m.outcomes.get("booked", 0),
    "bookings": lambda m: m.outcomes.get("booked", 0),
}


def workbook_figures(
    template: Template, analysis: CallAnalysis
) -> tuple[dict[str, dict[str, float]], dict[str, list[list[float]]] | None]:
    """The monthly figures (and missed-call grids) the call log gives this template."""
    keys = {item.key for item in template.monthly.fields}
    fields = {key: read for key, read in FIELDS.items() if key in keys}
    if "calls_received" not in fields:
        raise CallLogError(
            f"template '{template.key}' has no call figures in its monthly tabs; import call logs "
            "into a phone-system workbook"
        )
    figures = {month: _month(fields, figures) for month, figures in analysis.months.items()}
    grids = None
    if template.monthly.heatmap:
        grids = {
            month: [
                [float(v) for v in row] for row in figures.missed_excluding_spam_by_weekday_hour
            ]
            for month, figures in analysis.months.items()
        }
    return figures, grids


def _month(fields: dict, month: PeriodFigures) -> dict[str, float]:
    return {key: float(read(month)) for key, read in fields.items()}
