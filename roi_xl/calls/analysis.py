"""Analyse an inbound call log with DuckDB: monthly KPIs, rejected rows, missed-call grids.

Definitions (also in ``CallAnalysis.definitions``):

- Every figure is per calendar month of the call's start in the log's time zone
  (``--tz``): a start without an offset is local time there, one with an offset is
  converted to it. A local time skipped by a DST change (02:30 on the spring-forward day)
  is read as if the clock had not moved yet (= 03:30 daylight time); a repeated one (01:30
  on the fall-back day) as the second, standard-time occurrence (DuckDB/ICU rules).
- a call logged as several legs (rows sharing a linkedid, parent call sid...) is one call:
  answered if any leg was, waiting from its first leg's start to its first answer.
- received: every counted inbound call; answered: status answered (by a person, IVR or agent);
  missed = received - answered, so abandoned calls and voicemails are missed calls that
  are also counted on their own; rates are fractions of received.
- speed to answer: the wait of answered calls with a wait, median and 90th percentile by
  linear interpolation between closest ranks (DuckDB ``quantile_cont``, the same as Excel's
  PERCENTILE.INC and numpy's default): p at position (n - 1) x p of the sorted waits.
- business hours: a missed call is "during business hours" when its local start falls in
  ``--business-hours`` (start included, end excluded), else "after hours".
- callers: a caller is the E.164 number, or the raw text of a number that is not valid.
  Blank and withheld numbers ("anonymous", "private"...) are unknown callers: their calls
  count everywhere except in the caller figures (unique, repeat, not recovered), and
  their missed calls are never recovered (another withheld call is not the same caller).
- repeat_callers: callers with at least one repeat call in the month; a call is a repeat
  call when the same caller's previous call (any status, in the log) started at most
  24 hours before it. The repeat counts in the month of the repeat call, even when the
  previous call was in the month before.
- missed_not_recovered: callers (spam excluded) with at least one missed call in the month
  that was not followed, within ``--callback-window`` minutes of its start, by an answered
  call from the same number (a retry) or a connected outbound call to it (a callback).
  A miss near the end of the log may be unrecoverable. This, not every missed call, is
  what a missed-call loss may value.
- outcomes: every counted call has one: a synonym of the mapping, else ``unspecified``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
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
from roi_xl.calls.legs import merge_legs
from roi_xl.calls.logfile import CSV_SUFFIXES, first_record, load_log, quote_literal
from roi_xl.calls.presets import (
    CallMapping,
    detect_preset,
    headerless_presets,
    load_mapping,
    normalise_word,
)
from roi_xl.calls.result import CallAnalysis
from roi_xl.calls.rows import judge
from roi_xl.calls.valuation import DEFAULT_SCENARIO, template_rates, value_losses, workbook_rates

DEFAULT_COUNTRY = "US"
DEFAULT_TIME_ZONE = "UTC"
DEFAULT_CALLBACK_WINDOW = 60
DEFAULT_SERVICE_LEVEL = 20.0
MAX_LIST_BYTES = 64 * 1024 * 1024
MEMORY_LIMIT = "800MB"  # DuckDB's own (tables, hash tables, sorts); Python's comes on top

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")

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
    service_level_seconds: float = DEFAULT_SERVICE_LEVEL
    exclude_numbers: Path | None = None  # spam and wrong numbers, one number a line
    known_numbers: Path | None = None  # existing customers, one number a line
    baseline: str | None = None  # "2026-01-05..2026-02-01", local dates, both included
    test: str | None = None
    scenario: str = DEFAULT_SCENARIO  # whose default rates value the loss, without value_from
    value_from: Path | None = None  # a phone-system workbook: its selected scenario's rates


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
    level = _check_level(options.service_level_seconds)
    windows = {
        label: parse_window(flag, text)
        for label, flag, text in (
            ("baseline", "--baseline", options.baseline),
            ("test", "--test", options.test),
        )
        if text
    }
    lists = {
        table: read_number_list(file, flag)
        for table, flag, file in (
            ("excluded_numbers", "--exclude-numbers", options.exclude_numbers),
            ("known_numbers", "--known-numbers", options.known_numbers),
        )
        if file is not None
    }
    rates = (
        workbook_rates(options.value_from)
        if options.value_from is not None
        else template_rates(options.scenario)
    )
    mapping = options.mapping if isinstance(options.mapping, CallMapping) else None
    if options.mapping is not None and mapping is None:
        mapping = load_mapping(options.mapping)
    names = _headerless(path, mapping)
    if names is not None:
        mapping, names = names

    spill = tempfile.TemporaryDirectory(prefix="roi-xl-calls-")
    con = _connect(Path(spill.name))
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET TimeZone = {quote_literal(zone)}")
        report("reading", 0.0)
        chosen: dict[str, Any] = {}

        def choose(header: list[str]) -> list[str]:
            found = mapping or detect_preset(path, header)
            chosen["mapping"], chosen["columns"] = found, found.resolve(path, header)
            return sorted(set(chosen["columns"].values()))

        loaded = load_log(
            con, path, choose, mapping.encoding if mapping else "utf-8", names or None
        )
        mapping, columns = chosen["mapping"], chosen["columns"]
        # ``raw`` keeps file order (rowid); later tables carry their line, not their order
        con.execute("SET preserve_insertion_order = false")
        run = Run(con, path, loaded, mapping, columns, zone, hours, window, level)
        report("normalising numbers", 0.3)
        build_callers(
            run,
            region,
            lambda done, total: report("normalising numbers", 0.3 + 0.2 * done / total),
            lists,
        )
        report("checking rows", 0.5)
        judge(run)
        report("merging the legs of each call", 0.6)
        merge_legs(run)
        report("aggregating", 0.7)
        result = aggregate(run, region, windows)
        report("valuing the missed-call loss", 0.95)
        value_losses(result, rates)
        report("done", 1.0)
        return result
    finally:
        con.close()
        spill.cleanup()


def _connect(spill: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB on the CPUs this process may use, its memory capped.

    Past ``MEMORY_LIMIT`` DuckDB writes what does not fit to ``spill`` (a temporary
    folder of its own, never the current one) instead of growing: a million calls
    stay well under 1 GiB, and a log far larger is still read.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return duckdb.connect(
        config={
            "threads": max(1, cpus),
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": str(spill),
        }
    )


def _headerless(path: Path, mapping: CallMapping | None) -> tuple[CallMapping, list[str]] | None:
    """The mapping and column names of a CSV file without a header line, else None.

    A file is taken as headerless when a headerless preset (or the one forced) fits the
    shape of its first line: as many fields as such a file has, a start time where the
    start goes and a known status where the status goes.
    """
    if path.suffix.lower() not in CSV_SUFFIXES or not path.is_file():
        return None
    if mapping is not None and not mapping.headerless:
        return None
    try:
        first = first_record(path, mapping.encoding if mapping else "utf-8")
    except OSError:
        return None
    for candidate in [mapping] if mapping else headerless_presets():
        names = candidate.headerless_names(len(first))
        if names and (mapping is not None or _looks_like(candidate, names, first)):
            return candidate, names
    if mapping is not None:
        widths = ", ".join(map(str, mapping.headerless_widths))
        raise CallLogError(
            f"{path}, line 1: {len(first)} field(s); a {mapping.name} file has no header and "
            f"{widths} fields a line"
        )
    return None


def _looks_like(mapping: CallMapping, names: list[str], fields: list[str]) -> bool:
    row = dict(zip(names, fields, strict=True))
    start = row.get(mapping.columns["started_at"], "")
    status = normalise_word(row.get(mapping.columns["status"], ""))
    known = status in mapping.statuses or (not status and "answered_at" in mapping.columns)
    return _is_time(start, mapping.timestamp_formats) and known


def _is_time(text: str, formats: tuple[str, ...]) -> bool:
    """``YYYY-MM-DD HH:MM:SS``, or a time in one of the mapping's own formats."""
    for form in formats:
        try:
            dt.datetime.strptime(text, form)
        except ValueError:
            continue
        return True
    return bool(_DATE_TIME.match(text))


def parse_window(flag: str, text: str) -> tuple[str, str]:
    """``2026-01-05..2026-02-01`` -> the two ISO dates (first <= last), else a clear error."""
    first, sep, last = text.partition("..")
    try:
        if not sep:
            raise ValueError
        a, b = dt.date.fromisoformat(first.strip()), dt.date.fromisoformat(last.strip())
    except ValueError:
        raise CallLogError(
            f"{flag} {text!r}: expected two dates FIRST..LAST, e.g. 2026-01-05..2026-02-01"
        ) from None
    if b < a:
        raise CallLogError(f"{flag} {text!r}: the window ends before it starts")
    return a.isoformat(), b.isoformat()


def read_number_list(path: Path, flag: str) -> list[str]:
    """The numbers of a list file: one a line (a CSV's first column); blanks and # skipped."""
    try:
        if path.stat().st_size > MAX_LIST_BYTES:
            raise CallLogError(f"{flag} {path}: larger than {MAX_LIST_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CallLogError(f"{flag} {path}: cannot be read ({exc})") from None
    numbers = []
    for line in text.splitlines():
        cell = line.split(",", 1)[0].strip().strip('"').strip()
        if cell and not cell.startswith("#"):
            numbers.append(cell)
    return numbers


def _check_level(seconds: float) -> float:
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not (0 < seconds <= 3600)
    ):
        raise CallLogError(
            f"--service-level-seconds {seconds!r}: expected seconds above 0 (e.g. 20)"
        )
    return float(seconds)


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
