"""Analyse an inbound call log with DuckDB: monthly KPIs, rejected rows, missed-call grids.

Definitions (also in ``CallAnalysis.definitions``):

- Every figure is per calendar month of the call's start in the log's time zone
  (``--tz``): a start without an offset is local time there, one with an offset is
  converted to it. A local time skipped by a DST change (02:30 on the spring-forward day)
  is read as if the clock had not moved yet (= 03:30 daylight time); a repeated one (01:30
  on the fall-back day) as the second, standard-time occurrence (DuckDB/ICU rules).
- received: every counted call; answered: status answered (by a person, IVR or agent);
  missed = received - answered, so abandoned calls and voicemails are missed calls that
  are also counted on their own; rates are fractions of received.
- speed to answer: the wait of answered calls with a wait, median and 90th percentile by
  linear interpolation between closest ranks (DuckDB ``quantile_cont``, the same as Excel's
  PERCENTILE.INC and numpy's default): p at position (n - 1) x p of the sorted waits.
- business hours: a missed call is "during business hours" when its local start falls in
  ``--business-hours`` (start included, end excluded), else "after hours".
- callers: a caller is the E.164 number, or the raw text of a number that is not valid.
  Blank and withheld numbers ("anonymous", "private"...) are unknown callers: their calls
  count everywhere except in the caller figures (unique, repeat, not recovered).
- repeat_callers: callers with at least one repeat call in the month; a call is a repeat
  call when the same caller's previous call (any status, in the log) started at most
  24 hours before it. The repeat counts in the month of the repeat call, even when the
  previous call was in the month before.
- missed_not_recovered: callers with at least one missed call in the month that was not
  followed, within ``--callback-window`` minutes of its start, by an answered call from
  the same number (start to start). A miss near the end of the log may be unrecoverable.
- outcomes: every counted call has one: a synonym of the mapping, else ``unspecified``.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from roi_xl.calls import phones
from roi_xl.calls.callers import build_callers
from roi_xl.calls.context import Run
from roi_xl.calls.errors import CallLogError
from roi_xl.calls.figures import aggregate
from roi_xl.calls.hours import DEFAULT_BUSINESS_HOURS, parse_business_hours
from roi_xl.calls.logfile import load_log, quote_literal
from roi_xl.calls.presets import CallMapping, detect_preset, load_mapping
from roi_xl.calls.result import CallAnalysis
from roi_xl.calls.rows import judge

DEFAULT_COUNTRY = "US"
DEFAULT_TIME_ZONE = "UTC"
DEFAULT_CALLBACK_WINDOW = 60

ProgressCallback = Callable[[str, float], None]
"""Called with a phase name and the fraction of the whole analysis done (0 to 1)."""


@dataclass(frozen=True)
class CallOptions:
    """How to read and count a log; the defaults are the command line's."""

    mapping: str | Path | CallMapping | None = None  # None: the preset the header fits
    country: str = DEFAULT_COUNTRY
    time_zone: str = DEFAULT_TIME_ZONE
    business_hours: str = DEFAULT_BUSINESS_HOURS
    callback_window_minutes: int = DEFAULT_CALLBACK_WINDOW


def analyse_calls(
    path: str | Path,
    options: CallOptions | None = None,
    on_progress: ProgressCallback | None = None,
) -> CallAnalysis:
    """Read the call log at ``path`` and compute every KPI; bad rows are rejected, not fatal."""
    options = options or CallOptions()
    path = Path(path)
    report = on_progress or (lambda phase, done: None)
    region = phones.check_region(options.country)
    hours = parse_business_hours(options.business_hours)
    zone = _check_time_zone(options.time_zone)
    window = _check_window(options.callback_window_minutes)
    mapping = options.mapping if isinstance(options.mapping, CallMapping) else None
    if options.mapping is not None and mapping is None:
        mapping = load_mapping(options.mapping)

    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET TimeZone = {quote_literal(zone)}")
        report("reading", 0.0)
        chosen: dict[str, Any] = {}

        def choose(header: list[str]) -> list[str]:
            found = mapping or detect_preset(path, header)
            chosen["mapping"], chosen["columns"] = found, found.resolve(path, header)
            return sorted(set(chosen["columns"].values()))

        loaded = load_log(con, path, choose, mapping.encoding if mapping else "utf-8")
        mapping, columns = chosen["mapping"], chosen["columns"]
        # ``raw`` keeps file order (rowid); later tables carry their line, not their order
        con.execute("SET preserve_insertion_order = false")
        run = Run(con, path, loaded, mapping, columns, zone, hours, window)
        report("normalising numbers", 0.3)
        build_callers(
            run, region, lambda done, total: report("normalising numbers", 0.3 + 0.2 * done / total)
        )
        report("checking rows", 0.5)
        judge(run)
        report("aggregating", 0.7)
        result = aggregate(run, region)
        report("done", 1.0)
        return result
    finally:
        con.close()


def _check_time_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CallLogError(
            f"--tz {name!r}: not an IANA time zone; use a name such as America/New_York, "
            "Europe/Paris or UTC"
        ) from None
    return name


def _check_window(minutes: int) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise CallLogError(
            f"--callback-window {minutes!r}: expected a whole number of minutes above 0 (e.g. 60)"
        )
    return minutes
