"""Business hours: when a missed call was missed "during business hours" or "after hours".

The syntax is a comma- or semicolon-separated list of ``DAYS TIME-TIME [TIME-TIME ...]``:

    mon-fri 09:00-18:00
    mon-fri 08:30-12:30 13:30-18:00, sat 09:00-12:00
    mon,wed,fri 09:00-17:00; tue-thu 10:00-20:00
    none                       (no business hours: every call is after hours)

Days are mon tue wed thu fri sat sun (a range may wrap: fri-mon); times are HH:MM, the
start included and the end excluded (18:00 is after hours), ``24:00`` ends at midnight.
A span crossing midnight is written as two: ``fri 22:00-24:00, sat 00:00-02:00``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from roi_xl.calls.errors import CallLogError

DEFAULT_BUSINESS_HOURS = "mon-fri 09:00-18:00"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class BusinessHours:
    """Open spans per ISO weekday (1 = Monday), in minutes after local midnight, end excluded."""

    text: str
    spans: tuple[tuple[int, int, int], ...]  # (isodow, start minute, end minute)

    def sql(self, isodow: str, minute: str) -> str:
        """A SQL condition true when the call's local weekday and minute of day are open."""
        if not self.spans:
            return "FALSE"
        terms = [
            f"({isodow} = {day} AND {minute} >= {start} AND {minute} < {end})"
            for day, start, end in self.spans
        ]
        return "(" + " OR ".join(terms) + ")"

    def is_open(self, isodow: int, minute: int) -> bool:
        return any(d == isodow and s <= minute < e for d, s, e in self.spans)


def parse_business_hours(text: str) -> BusinessHours:
    """Parse ``--business-hours``; an unreadable part is refused with what was expected."""
    cleaned = " ".join(text.split()).lower()
    if cleaned in ("none", "never", "closed"):
        return BusinessHours(text=cleaned, spans=())
    if not cleaned:
        raise _error(text, "it is empty")
    spans: list[tuple[int, int, int]] = []
    # a part ends at ';' or at a ',' after a time, so "mon,wed 09:00-12:00, sat ..." splits once
    for part in re.split(r";|(?<=\d)\s*,", cleaned):
        words = part.replace(",", " , ").split()
        first_time = next((i for i, w in enumerate(words) if w[0].isdigit()), len(words))
        day_spec, times = "".join(words[:first_time]), words[first_time:]
        if not day_spec or not times:
            raise _error(text, f"'{part.strip()}' needs days and at least one TIME-TIME")
        days = _days(text, day_spec)
        for span in times:
            start, end = _span(text, span)
            spans.extend((day, start, end) for day in days)
    return BusinessHours(text=cleaned, spans=tuple(sorted(set(spans))))


def _days(text: str, spec: str) -> list[int]:
    days: list[int] = []
    for item in spec.split(","):
        first, sep, last = item.partition("-")
        if first not in DAYS or (sep and last not in DAYS):
            raise _error(text, f"'{item}' is not a day or day range such as mon-fri")
        start = DAYS.index(first)
        stop = DAYS.index(last) if sep else start
        count = (stop - start) % 7 + 1
        days.extend((start + i) % 7 + 1 for i in range(count))
    return days


def _span(text: str, span: str) -> tuple[int, int]:
    first, sep, last = span.partition("-")
    if not sep:
        raise _error(text, f"'{span}' is not a time span such as 09:00-18:00")
    start, end = _minute(text, first), _minute(text, last)
    if end <= start:
        raise _error(
            text,
            f"'{span}' ends before it starts; split a span across midnight in two "
            "(fri 22:00-24:00, sat 00:00-02:00)",
        )
    return start, end


def _minute(text: str, clock: str) -> int:
    match = _TIME.match(clock)
    if match:
        hours, minutes = int(match.group(1)), int(match.group(2))
        if (hours < 24 and minutes < 60) or (hours == 24 and minutes == 0):
            return hours * 60 + minutes
    raise _error(text, f"'{clock}' is not a time HH:MM between 00:00 and 24:00")


def _error(text: str, problem: str) -> CallLogError:
    return CallLogError(
        f"--business-hours {text!r}: {problem} (e.g. 'mon-fri 09:00-18:00, sat 10:00-14:00')"
    )
