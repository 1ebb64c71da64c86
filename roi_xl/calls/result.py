"""What a call-log analysis returns: typed figures per month and for the whole log.

``to_dict()`` is the JSON shape of ``roi-xl calls --json``. Counts are integers, rates
are fractions (0.85, not 85), seconds are floats rounded to the millisecond, and a
figure that cannot exist (an answer speed without answered calls) is ``null``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFINITIONS = {
    "month": "calendar month of the call's start, local time in time_zone",
    "missed": "received - answered (abandoned and voicemail included)",
    "speed_to_answer": "wait of answered calls: median and p90 by linear interpolation "
    "(quantile_cont, as Excel PERCENTILE.INC)",
    "repeat_callers": "callers whose previous call started at most 24 h before a call of this "
    "month (previous call may be in an earlier month)",
    "received": "inbound calls (a call logged as several legs counts once); outbound calls "
    "are counted apart and only serve to find callbacks",
    "missed_call_loss": "missed_not_recovered valued as the phone-system model values its loss: "
    "MISSEDCALLLOSS(callers, lead_rate, conversion_rate, average_value) at loss_basis's rates; "
    "by_caller_type splits it: a caller is new in a period when one of their calls in it is "
    "a new caller's call",
    "missed_not_recovered": "callers (spam excluded) with a missed call this period not "
    "followed, within callback_window_minutes (start to start), by an answered call from "
    "the same number (retry) or a connected outbound call to it (callback)",
    "recovered": "callers (spam excluded) whose every missed call this period was recovered; "
    "_by_callback / _by_retry: how their last missed call was",
    "spam": "inbound calls with a spam outcome or from a number of --exclude-numbers",
    "answer_rate_excluding_spam": "answered / received, spam calls left out of both",
    "service_level": "calls answered within service_level_seconds / received, spam excluded",
    "first_time_callers": "callers (spam excluded) whose call is flagged first-time by the "
    "export, else whose first inbound call in the log it is and who are not --known-numbers",
    "week": "ISO week (Monday to Sunday) of the call's start, local time",
    "unique_callers": "distinct numbers (E.164, or raw text if invalid); withheld/blank excluded",
    "missed_by_weekday_hour": "7 rows Monday..Sunday x 24 columns hour 0..23, local time",
    "line": "line in the file, header = line 1 (sheet row for .xlsx; row + 1 for Parquet)",
}

Grid = list[list[int]]  # 7 rows Monday..Sunday x 24 columns, hours 0..23 (local time)


def empty_grid() -> Grid:
    return [[0] * 24 for _ in range(7)]


@dataclass(frozen=True)
class SourceCounts:
    """Calls, answered calls and booked outcomes of one source or campaign."""

    calls: int = 0
    answered: int = 0
    booked: int = 0


@dataclass
class PeriodFigures:
    """The KPIs of one calendar month (or of the whole log) in the log's time zone.

    ``missed`` = ``received`` - ``answered``: abandoned calls and voicemails are missed
    calls, and are also counted on their own.
    """

    received: int = 0
    answered: int = 0
    missed: int = 0
    abandoned: int = 0
    voicemail: int = 0
    answer_rate: float | None = None
    abandonment_rate: float | None = None
    speed_to_answer_median_s: float | None = None
    speed_to_answer_p90_s: float | None = None
    unique_callers: int = 0
    repeat_callers: int = 0
    missed_business_hours: int = 0
    missed_after_hours: int = 0
    missed_not_recovered: int = 0
    spam: int = 0
    spam_answered: int = 0
    spam_abandoned: int = 0
    answer_rate_excluding_spam: float | None = None
    service_level: float | None = None
    missed_call_loss: float | None = None  # missed_not_recovered valued at the model's rates
    outbound: int = 0
    outbound_connected: int = 0
    recovered: int = 0
    recovered_by_callback: int = 0
    recovered_by_retry: int = 0
    recovered_calls: int = 0
    missed_not_recovered_calls: int = 0
    first_time_callers: int = 0
    by_caller_type: dict[str, CallerTypeFigures] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, SourceCounts] = field(default_factory=dict)
    by_campaign: dict[str, SourceCounts] = field(default_factory=dict)
    missed_by_weekday_hour: Grid = field(default_factory=empty_grid)
    abandoned_by_weekday_hour: Grid = field(default_factory=empty_grid)
    spam_missed_by_weekday_hour: Grid = field(default_factory=empty_grid)

    @property
    def missed_excluding_spam_by_weekday_hour(self) -> Grid:
        """Missed calls but spam per weekday x hour: the model's basis."""
        return [
            [all_ - spam for all_, spam in zip(row, spam_row, strict=True)]
            for row, spam_row in zip(
                self.missed_by_weekday_hour, self.spam_missed_by_weekday_hour, strict=True
            )
        ]

    def to_dict(self, grid: bool = True) -> dict[str, Any]:
        """The JSON shape; field by field, so the grids left out are never copied."""
        left_out = {"spam_missed_by_weekday_hour"}
        if not grid:
            left_out |= {"missed_by_weekday_hour", "abandoned_by_weekday_hour"}
        data: dict[str, Any] = {}
        for item in fields(self):
            if item.name in left_out:
                continue
            value = getattr(self, item.name)
            if isinstance(value, dict):
                value = {k: asdict(v) if is_dataclass(v) else v for k, v in value.items()}
            elif isinstance(value, list):
                value = [list(row) for row in value]
            data[item.name] = value
        return data


@dataclass(frozen=True)
class CallerTypeFigures:
    """Inbound calls (spam excluded) of new, existing or unknown (withheld) callers."""

    calls: int = 0
    answered: int = 0
    leads: int = 0  # qualified leads and bookings
    lead_rate: float | None = None
    missed_not_recovered: int = 0  # callers
    missed_call_loss: float | None = None


@dataclass
class WindowFigures:
    """A baseline or test window: its local dates (both included) and its figures."""

    first_day: str
    last_day: str
    days: int
    figures: PeriodFigures

    def per_week(self, count: float) -> float:
        return count * 7 / self.days

    def weekly(self) -> dict[str, float]:
        """The counts per week, and the missed-call loss per week when it was valued."""
        f = self.figures
        found = {name: round(self.per_week(getattr(f, name)), 3) for name in WEEKLY_COUNTS}
        if f.missed_call_loss is not None:
            found["missed_call_loss"] = round(self.per_week(f.missed_call_loss), 2)
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_day": self.first_day,
            "last_day": self.last_day,
            "days": self.days,
            "figures": self.figures.to_dict(grid=False),
            "per_week": self.weekly(),
        }


WEEKLY_COUNTS = (
    "received",
    "answered",
    "missed",
    "spam",
    "missed_not_recovered",
    "recovered",
    "first_time_callers",
)
RATES = ("answer_rate", "answer_rate_excluding_spam", "abandonment_rate", "service_level")


@dataclass(frozen=True)
class RejectedRow:
    """A row that was read but not counted: its line (header = line 1), rule and value."""

    line: int
    rule: str
    value: str
    reason: str


@dataclass(frozen=True)
class InvalidNumber:
    """A caller text that is no valid phone number: kept as typed, counted as a caller."""

    number: str
    calls: int
    first_line: int


@dataclass
class CallAnalysis:
    """Everything ``roi-xl calls`` reports.

    ``rows_read = rows_counted + rows_rejected + legs_merged``: a call is counted once
    however many legs (rows) the phone system logged for it.
    """

    file: str
    mapping: str
    time_zone: str
    country: str
    business_hours: str
    callback_window_minutes: int
    months: dict[str, PeriodFigures]
    total: PeriodFigures
    rows_read: int
    rows_counted: int
    rows_rejected: int
    rejected: list[RejectedRow]
    rejected_by_rule: dict[str, int]
    invalid_numbers: int
    invalid_number_calls: int
    invalid_number_list: list[InvalidNumber]
    unknown_caller_calls: int
    unmapped_outcomes: dict[str, int]
    line_numbers_exact: bool = True
    definitions: dict[str, str] = field(default_factory=dict)
    legs_merged: int = 0
    has_outcomes: bool = False  # the log says what came of its calls (an outcome column)
    service_level_seconds: float = 20.0
    weeks: dict[str, PeriodFigures] = field(default_factory=dict)
    windows: dict[str, WindowFigures] = field(default_factory=dict)
    loss_basis: dict[str, Any] | None = None  # the rates missed_call_loss is valued at

    def window_change(self) -> dict[str, float | None] | None:
        """Test minus baseline: counts per week, rates as fractions (None if one is missing)."""
        if "baseline" not in self.windows or "test" not in self.windows:
            return None
        before, after = self.windows["baseline"].weekly(), self.windows["test"].weekly()
        change: dict[str, float | None] = {
            f"{name}_per_week": round(after[name] - before[name], 3)
            for name in after
            if name in before
        }
        before_f, after_f = self.windows["baseline"].figures, self.windows["test"].figures
        for name in (*RATES, "speed_to_answer_median_s"):
            a, b = getattr(after_f, name), getattr(before_f, name)
            change[name] = None if a is None or b is None else round(a - b, 6)
        return change

    @property
    def missed_by_weekday_hour(self) -> Grid:
        """The whole log's 7 x 24 grid of missed calls."""
        return self.total.missed_by_weekday_hour

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "mapping": self.mapping,
            "time_zone": self.time_zone,
            "country": self.country,
            "business_hours": self.business_hours,
            "callback_window_minutes": self.callback_window_minutes,
            "months": {month: figures.to_dict() for month, figures in self.months.items()},
            "total": self.total.to_dict(grid=False),
            "weeks": {week: figures.to_dict(grid=False) for week, figures in self.weeks.items()},
            "missed_by_weekday_hour": self.missed_by_weekday_hour,
            "abandoned_by_weekday_hour": self.total.abandoned_by_weekday_hour,
            "service_level_seconds": self.service_level_seconds,
            "loss_basis": self.loss_basis,
            "rows_read": self.rows_read,
            "rows_counted": self.rows_counted,
            "rows_rejected": self.rows_rejected,
            "legs_merged": self.legs_merged,
            "has_outcomes": self.has_outcomes,
            "rejected_by_rule": self.rejected_by_rule,
            "rejected": [asdict(row) for row in self.rejected],
            "line_numbers_exact": self.line_numbers_exact,
            "invalid_numbers": self.invalid_numbers,
            "invalid_number_calls": self.invalid_number_calls,
            "invalid_number_list": [asdict(n) for n in self.invalid_number_list],
            "unknown_caller_calls": self.unknown_caller_calls,
            "unmapped_outcomes": self.unmapped_outcomes,
            "definitions": self.definitions,
            **(
                {
                    "windows": {k: w.to_dict() for k, w in self.windows.items()},
                    "window_change": self.window_change(),
                }
                if self.windows
                else {}
            ),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
