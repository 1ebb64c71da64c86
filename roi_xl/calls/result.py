"""What a call-log analysis returns: typed figures per month and for the whole log.

``to_dict()`` is the JSON shape of ``roi-xl calls --json``. Counts are integers, rates
are fractions (0.85, not 85), seconds are floats rounded to the millisecond, and a
figure that cannot exist (an answer speed without answered calls) is ``null``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFINITIONS = {
    "month": "calendar month of the call's start, local time in time_zone",
    "missed": "received - answered (abandoned and voicemail included)",
    "speed_to_answer": "wait of answered calls: median and p90 by linear interpolation "
    "(quantile_cont, as Excel PERCENTILE.INC)",
    "repeat_callers": "callers whose previous call started at most 24 h before a call of this "
    "month (previous call may be in an earlier month)",
    "missed_not_recovered": "callers with a missed call this month not followed by an answered "
    "call from the same number within callback_window_minutes (start to start)",
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
    outcomes: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, SourceCounts] = field(default_factory=dict)
    by_campaign: dict[str, SourceCounts] = field(default_factory=dict)
    missed_by_weekday_hour: Grid = field(default_factory=empty_grid)

    def to_dict(self, grid: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not grid:
            del data["missed_by_weekday_hour"]
        return data


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
    """Everything ``roi-xl calls`` reports, with ``rows_read = rows_counted + rows_rejected``."""

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
            "missed_by_weekday_hour": self.missed_by_weekday_hour,
            "rows_read": self.rows_read,
            "rows_counted": self.rows_counted,
            "rows_rejected": self.rows_rejected,
            "rejected_by_rule": self.rejected_by_rule,
            "rejected": [asdict(row) for row in self.rejected],
            "line_numbers_exact": self.line_numbers_exact,
            "invalid_numbers": self.invalid_numbers,
            "invalid_number_calls": self.invalid_number_calls,
            "invalid_number_list": [asdict(n) for n in self.invalid_number_list],
            "unknown_caller_calls": self.unknown_caller_calls,
            "unmapped_outcomes": self.unmapped_outcomes,
            "definitions": self.definitions,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
