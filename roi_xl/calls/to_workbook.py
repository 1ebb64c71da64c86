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

OUTCOME_FIELDS = {"qualified_leads", "bookings"}


def workbook_figures(
    template: Template, analysis: CallAnalysis
) -> tuple[dict[str, dict[str, float]], dict[str, list[list[float]]] | None]:
    """The monthly figures (and missed-call grids) the call log gives this template."""
    keys = {item.key for item in template.monthly.fields}
    if not analysis.has_outcomes:
        keys -= OUTCOME_FIELDS  # a log that says nothing of outcomes leaves them to be typed
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


def window_inputs(template: Template, analysis: CallAnalysis) -> dict[str, float]:
    """The model's before / after inputs the baseline and test windows measure.

    Rates on the model's basis (spam excluded): the answer rate and the abandonment rate;
    and the median speed to answer. Only inputs the template has, and only figures the
    windows can give (a window without a spam-free call, or without waits, gives none).
    """
    if set(analysis.windows) != {"baseline", "test"}:
        raise CallLogError("--windows needs both --baseline FIRST..LAST and --test FIRST..LAST")
    keys = {item.key for item in template.inputs}
    found: dict[str, float] = {}
    for window, suffix in (("baseline", "before"), ("test", "after")):
        figures = analysis.windows[window].figures
        clean = figures.received - figures.spam
        rates = {
            "answer_rate": figures.answer_rate_excluding_spam,
            "abandonment_rate": (figures.abandoned - figures.spam_abandoned) / clean
            if clean
            else None,
            "speed_to_answer": figures.speed_to_answer_median_s,
        }
        for name, value in rates.items():
            key = f"{name}_{suffix}"
            if key in keys and value is not None:
                found[key] = value
    if not found:
        raise CallLogError(
            f"template '{template.key}' has no answer or abandonment rate inputs the windows "
            "could set, or the windows hold no call"
        )
    return found


def _month(fields: dict, month: PeriodFigures) -> dict[str, float]:
    return {key: float(read(month)) for key, read in fields.items()}
