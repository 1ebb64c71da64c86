"""Read ``KEY=VALUE`` overrides typed on the command line."""

from __future__ import annotations

import datetime as dt
import math
import re

from roi_xl.errors import InputError

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_overrides(settings: list[str]) -> dict[str, float]:
    """``["reach_rate=4%", "calls_made=8000"]`` -> ``{"reach_rate": 0.04, "calls_made": 8000.0}``.

    A trailing % divides by 100, so 37% is 0.37; anything else must be a plain number.
    """
    values: dict[str, float] = {}
    for setting in settings:
        key, sep, raw = setting.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key:
            raise InputError(f"--set {setting!r}: expected KEY=VALUE, e.g. --set calls_made=8000")
        values[key] = parse_number(raw, f"--set {key}")
    return values


def parse_number(raw: str, where: str) -> float:
    """A plain decimal number, or a percentage such as 37% (-> 0.37)."""
    text = raw.replace("_", "")
    percent = text.endswith("%")
    if percent:
        text = text[:-1].strip()
    if not _NUMBER.match(text):
        raise InputError(f"{where}: {raw!r} is not a number")
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"{where}: {raw!r} is not a finite number")
    return value / 100 if percent else value


FIRST_YEAR, LAST_YEAR = 1900, 9990  # Excel's dates, with room for five years of monthly tabs


def month_of(text: str) -> dt.date | None:
    """``2026-01`` -> the first day of that month; None unless a month Excel can show."""
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", text)
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR or not 1 <= month <= 12:
        return None
    return dt.date(year, month, 1)


def parse_month(text: str) -> dt.date:
    """``2026-01`` -> the first day of that month."""
    month = month_of(text.strip())
    if month is None:
        raise InputError(
            f"--start {text!r}: expected a month as YYYY-MM, e.g. 2026-01 "
            f"(years {FIRST_YEAR} to {LAST_YEAR})"
        )
    return month
