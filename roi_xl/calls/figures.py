"""The figures of the counted calls: per month, for the whole log, per source, per hour."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from roi_xl.calls.context import MAX_LISTED, Run, scalar
from roi_xl.calls.logfile import quote_literal
from roi_xl.calls.presets import OUTCOMES, UNSPECIFIED
from roi_xl.calls.result import (
    DEFINITIONS,
    CallAnalysis,
    CallerTypeFigures,
    InvalidNumber,
    PeriodFigures,
    SourceCounts,
    WindowFigures,
    empty_grid,
)
from roi_xl.calls.rows import rejected_rows

REPEAT_WINDOW_SECONDS = 24 * 3600
NO_SOURCE = "(none)"


def aggregate(
    run: Run, region: str, windows: dict[str, tuple[str, str]] | None = None
) -> CallAnalysis:
    """Every figure of the counted calls, per month, per ISO week and for the whole log.

    Rows read (the loaded rows and the malformed ones) = calls counted + rows rejected +
    legs merged into calls: each count comes from its own table.
    """
    con = run.con
    _flag_calls(run)
    windows = windows or {}
    found, total = _periods(run, windows)
    months, weeks = found["month"], found["week"]
    _by_group(run, "source", months, total, "by_source")
    _by_group(run, "campaign", months, total, "by_campaign")
    _grids(run, months, total)
    window_figures = {
        label: WindowFigures(
            first,
            last,
            (_date(last) - _date(first)).days + 1,
            found["win"].get(label, PeriodFigures()),
        )
        for label, (first, last) in windows.items()
    }

    rejected, by_rule = rejected_rows(run)
    counted = scalar(con, "SELECT count(*) FROM counted")
    legs_merged = scalar(con, "SELECT count(*) FROM calls WHERE rule IS NULL") - counted
    invalid = con.execute(
        """
        SELECT i.caller, count(*), min(c.line)
        FROM counted c JOIN invalid_callers i ON i.cid = c.cid
        WHERE c.invalid GROUP BY i.caller ORDER BY 3, 1
        """
    ).fetchall()
    unmapped = con.execute(
        "SELECT outcome_unmapped, count(*) FROM counted WHERE outcome_unmapped IS NOT NULL "
        "GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    rows_rejected = sum(by_rule.values())
    return CallAnalysis(
        file=str(run.path),
        mapping=run.mapping.describe(),
        time_zone=run.zone,
        country=region,
        business_hours=run.hours.text,
        callback_window_minutes=run.window_minutes,
        months=dict(sorted(months.items())),
        total=total,
        rows_read=run.loaded.rows + len(run.loaded.malformed),
        rows_counted=counted,
        rows_rejected=rows_rejected,
        rejected=rejected,
        rejected_by_rule=by_rule,
        invalid_numbers=len(invalid),
        invalid_number_calls=sum(int(n) for _, n, _ in invalid),
        invalid_number_list=[
            InvalidNumber(str(number), int(n), int(line))
            for number, n, line in invalid[:MAX_LISTED]
        ],
        unknown_caller_calls=scalar(con, "SELECT count(*) FROM counted WHERE cid IS NULL"),
        unmapped_outcomes={str(text): int(n) for text, n in unmapped},
        line_numbers_exact=run.loaded.lines_exact,
        definitions=dict(DEFINITIONS),
        legs_merged=legs_merged,
        has_outcomes="outcome" in run.columns,
        service_level_seconds=run.service_level_seconds,
        weeks=dict(sorted(weeks.items())),
        windows=window_figures,
    )


def _flag_calls(run: Run) -> None:
    """``counted``: every call, with how each missed inbound call was recovered, if it was.

    A missed inbound call is recovered by a retry (a later inbound call from the same
    number that was answered) or by a callback (a later outbound call to it that
    connected), whichever came first within the callback window (start to start).
    A withheld or blank number is nobody's: its missed calls are never recovered (an
    answered call from another withheld number is not the same caller calling back).
    A caller is new when the export flags the call as a first-time call; without such
    a flag, when this is the number's first inbound call in the log and the number is
    not on the --known-numbers list. An inbound call is a repeat call when the same
    number's previous inbound call started at most a day before it.

    One window over each caller's calls in time order finds all three: the next answered
    retry, the next connected callback and the previous inbound call; ``seq`` numbers
    the caller's calls in that order.
    """
    window = run.window_minutes * 60
    run.con.execute(
        f"""
        CREATE TABLE counted AS
        WITH nexts AS (
            SELECT *,
                min(t) FILTER (WHERE inbound AND answered) OVER later AS next_retry,
                min(t) FILTER (WHERE NOT inbound AND answered) OVER later AS next_callback,
                max(t) FILTER (WHERE inbound) OVER earlier AS previous_inbound,
                row_number() OVER by_caller AS seq
            FROM merged
            WINDOW by_caller AS (PARTITION BY cid ORDER BY t, line),
                later AS (by_caller ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING),
                earlier AS (by_caller ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
        )
        SELECT * EXCLUDE (next_retry, next_callback, previous_inbound, first_time, known),
            cid IS NOT NULL AND inbound AND t - previous_inbound <= {REPEAT_WINDOW_SECONDS}
                AS repeat,
            CASE WHEN cid IS NULL OR NOT inbound THEN NULL
                WHEN first_time IS NOT NULL THEN first_time
                ELSE previous_inbound IS NULL AND NOT known END AS new_caller,
            CASE WHEN inbound AND NOT answered AND cid IS NOT NULL THEN CASE
                WHEN next_retry - t <= {window}
                    AND (next_callback IS NULL OR next_callback - t > {window}
                        OR next_retry <= next_callback) THEN 'retry'
                WHEN next_callback - t <= {window} THEN 'callback' END END AS recovery
        FROM nexts
        """
    )


# The kinds of period, each a grouping set of one aggregation: its key (SQL of the
# call's local ``day``) and its label.
_KINDS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "month": ("year(day) * 100 + month(day)", lambda value: _month(value)),
    "week": ("isoyear(day) * 100 + week(day)", lambda value: _week(value)),
    "win": ("", str),
}
# Caller types: new, existing (an earlier call or a known number), unknown (withheld).
_TYPES = {"new": "new_caller", "existing": "NOT new_caller", "unknown": "new_caller IS NULL"}
_MISSED = "inbound AND NOT answered AND NOT spam"  # a missed call that may be a lost caller
# Calls counted per period: name -> the calls it counts.
_CALL_COUNTS = {
    "received": "inbound",
    "answered": "inbound AND answered",
    "abandoned": "inbound AND status = 'abandoned'",
    "voicemail": "inbound AND status = 'voicemail'",
    "missed_business": "inbound AND NOT answered AND business",
    "missed_after": "inbound AND NOT answered AND NOT business",
    "spam": "inbound AND spam",
    "spam_answered": "inbound AND answered AND spam",
    "spam_abandoned": "inbound AND status = 'abandoned' AND spam",
    "within_level": "inbound AND answered AND NOT spam AND wait <= {level}",
    "waits": "inbound AND answered AND wait IS NOT NULL",
    "outbound": "NOT inbound",
    "outbound_connected": "NOT inbound AND answered",
    "recovered_calls": "inbound AND NOT answered AND recovery IS NOT NULL",
    "missed_not_recovered_calls": f"{_MISSED} AND recovery IS NULL",
    **{f"outcome_{o}": f"inbound AND outcome = '{o}'" for o in (*OUTCOMES, UNSPECIFIED)},
    **{
        f"{name}_{figure}": f"inbound AND NOT spam AND {when}{extra}"
        for name, when in _TYPES.items()
        for figure, extra in (
            ("calls", ""),
            ("answered", " AND answered"),
            ("leads", " AND outcome IN ('qualified_lead', 'booked')"),
        )
    },
}
# Callers counted per period: name -> the calls of which a caller needs one to count.
_CALLER_COUNTS = {
    "unique_callers": "inbound",
    "repeat_callers": "repeat",
    "missed": _MISSED,
    "not_recovered": f"{_MISSED} AND recovery IS NULL",
    "first_time": "new_caller AND NOT spam",
    # a caller is new in a period when one of their calls in it is a new caller's call:
    # one type per caller, so the types split the lost callers (and their loss)
    "new_call": "inbound AND NOT spam AND new_caller",
}


def _periods(
    run: Run, windows: dict[str, tuple[str, str]]
) -> tuple[dict[str, dict[str, PeriodFigures]], PeriodFigures]:
    """PeriodFigures per month, ISO week and window (by kind), and for all calls.

    Calls are counted per local day once, then summed per period (a grouping set per
    kind). Callers are counted from one aggregation per caller and period: each call
    sets the bits of the caller figures it makes the caller count in, and the caller's
    calls are OR-ed together; the last missed call says how the caller was recovered.
    """
    kinds = [kind for kind in _KINDS if kind != "win" or windows]
    keys = ", ".join(kinds)
    sets = ", ".join([f"({kind})" for kind in kinds] + ["()"])
    caller_sets = ", ".join([f"({kind}, cid)" for kind in kinds] + ["(cid)"])
    win = (
        "CASE "
        + " ".join(
            f"WHEN day BETWEEN DATE {quote_literal(first)} AND DATE {quote_literal(last)} "
            f"THEN {quote_literal(label)}"
            for label, (first, last) in windows.items()
        )
        + " END"
    )
    period_sql = ", ".join(
        f"{win if kind == 'win' else _KINDS[kind][0]} AS {kind}" for kind in kinds
    )
    level = run.service_level_seconds
    daily = ", ".join(
        f"count(*) FILTER (WHERE {when.format(level=level)}) AS {name}"
        for name, when in _CALL_COUNTS.items()
    )
    summed = ", ".join(f"sum({name}) AS {name}" for name in _CALL_COUNTS)
    bits = " | ".join(
        f"(CASE WHEN {when} THEN {1 << i} ELSE 0 END)"
        for i, when in enumerate(_CALLER_COUNTS.values())
    )
    callers = ", ".join(
        f"count(*) FILTER (WHERE bits & {1 << i} <> 0) AS {name}"
        for i, name in enumerate(_CALLER_COUNTS)
    )
    same = "".join(f" AND {{0}}.{k} IS NOT DISTINCT FROM f.{k}" for k in kinds)
    rows = run.con.execute(
        f"""
        WITH daily AS (
            SELECT day, {daily} FROM counted GROUP BY day
        ), figures AS (
            SELECT grouping({keys}) AS sets, {keys}, {summed}
            FROM (SELECT *, {period_sql} FROM daily)
            GROUP BY GROUPING SETS ({sets})
        ), speed AS (
            SELECT grouping({keys}) AS sets, {keys}, quantile_cont(wait, [0.5, 0.9]) AS speed
            FROM (SELECT wait, {period_sql} FROM counted WHERE inbound AND answered)
            GROUP BY GROUPING SETS ({sets})
        ), per_caller AS (
            SELECT grouping({keys}) AS sets, {keys}, bit_or(bits) AS bits,
                arg_max(recovery, seq) FILTER (WHERE {_MISSED}) AS how
            FROM (SELECT *, {bits} AS bits, {period_sql} FROM counted WHERE cid IS NOT NULL)
            GROUP BY GROUPING SETS ({caller_sets})
        ), caller_counts AS (
            SELECT sets, {keys}, {callers},
                count(*) FILTER (WHERE bits & {_caller_bit("missed")} <> 0
                    AND bits & {_caller_bit("not_recovered")} = 0 AND how = 'callback')
                    AS by_callback,
                count(*) FILTER (WHERE bits & {_caller_bit("missed")} <> 0
                    AND bits & {_caller_bit("not_recovered")} = 0 AND how = 'retry') AS by_retry,
                count(*) FILTER (WHERE bits & {_caller_bit("not_recovered")} <> 0
                    AND bits & {_caller_bit("new_call")} <> 0) AS new_lost,
                count(*) FILTER (WHERE bits & {_caller_bit("not_recovered")} <> 0
                    AND bits & {_caller_bit("new_call")} = 0) AS existing_lost,
                0 AS unknown_lost
            FROM per_caller GROUP BY ALL
        )
        SELECT f.*, s.speed, c.* EXCLUDE (sets, {keys})
        FROM figures f
        LEFT JOIN speed s ON s.sets = f.sets{same.format("s")}
        LEFT JOIN caller_counts c ON c.sets = f.sets{same.format("c")}
        """
    )
    names = [d[0] for d in rows.description]
    found: dict[str, dict[str, PeriodFigures]] = {kind: {} for kind in _KINDS}
    total = PeriodFigures(outcomes={o: 0 for o in (*OUTCOMES, UNSPECIFIED)})
    for values in rows.fetchall():
        row = dict(zip(names, values, strict=True))
        figures = _figures(row)
        grouped = [
            kind for kind in kinds if not row["sets"] & (1 << (len(kinds) - 1 - kinds.index(kind)))
        ]
        if not grouped:
            total = figures
        elif row[grouped[0]] is not None:
            found[grouped[0]][_KINDS[grouped[0]][1](row[grouped[0]])] = figures
    return found, total


def _caller_bit(name: str) -> int:
    return 1 << list(_CALLER_COUNTS).index(name)


def _by_group(
    run: Run, name: str, months: dict[str, PeriodFigures], total: PeriodFigures, attr: str
) -> None:
    """Calls, answered and booked per source (or campaign), names trimmed."""
    if name not in run.columns:
        return
    rows = run.con.execute(
        f"""
        SELECT grouping(month), month, coalesce(nullif(trim({name}), ''), '{NO_SOURCE}') AS grp,
            count(*), count(*) FILTER (WHERE answered),
            count(*) FILTER (WHERE outcome = 'booked')
        FROM (SELECT *, {_KINDS["month"][0]} AS month FROM counted WHERE inbound)
        GROUP BY GROUPING SETS ((month, grp), (grp))
        ORDER BY 4 DESC, 3
        """
    ).fetchall()
    for is_total, month, group, calls, answered, booked in rows:
        target = total if is_total else months[_month(month)]
        counts = SourceCounts(int(calls), int(answered), int(booked))
        getattr(target, attr)[str(group)] = counts


def _grids(run: Run, months: dict[str, PeriodFigures], total: PeriodFigures) -> None:
    """Missed and abandoned inbound calls per weekday x local hour."""
    for figures in (total, *months.values()):
        figures.missed_by_weekday_hour = empty_grid()
        figures.abandoned_by_weekday_hour = empty_grid()
        figures.spam_missed_by_weekday_hour = empty_grid()
    rows = run.con.execute(
        f"""
        SELECT grouping(month), month, dow, hour, count(*),
            count(*) FILTER (WHERE status = 'abandoned'), count(*) FILTER (WHERE spam)
        FROM (SELECT *, {_KINDS["month"][0]} AS month FROM counted WHERE inbound AND NOT answered)
        GROUP BY GROUPING SETS ((month, dow, hour), (dow, hour))
        """
    ).fetchall()
    for is_total, month, dow, hour, count, abandoned, spam in rows:
        target = total if is_total else months[_month(month)]
        target.missed_by_weekday_hour[int(dow) - 1][int(hour)] = int(count)
        target.abandoned_by_weekday_hour[int(dow) - 1][int(hour)] = int(abandoned)
        target.spam_missed_by_weekday_hour[int(dow) - 1][int(hour)] = int(spam)


def _figures(row: dict[str, Any]) -> PeriodFigures:
    """One period's figures from its row of the aggregation (columns by name)."""

    def count(name: str) -> int:  # a period without calls sums to NULL
        return int(row[name] or 0)

    received, answered = count("received"), count("answered")
    spam, abandoned = count("spam"), count("abandoned")
    clean, clean_answered = received - spam, answered - count("spam_answered")
    by_callback, by_retry = count("by_callback"), count("by_retry")
    speed = row["speed"]
    types = {}
    for name in _TYPES:
        calls, leads = count(f"{name}_calls"), count(f"{name}_leads")
        if calls:
            types[name] = CallerTypeFigures(
                calls=calls,
                answered=count(f"{name}_answered"),
                leads=leads,
                lead_rate=leads / calls,
                missed_not_recovered=count(f"{name}_lost"),
            )
    return PeriodFigures(
        spam=spam,
        spam_answered=count("spam_answered"),
        spam_abandoned=count("spam_abandoned"),
        answer_rate_excluding_spam=clean_answered / clean if clean else None,
        service_level=count("within_level") / clean if clean and row["waits"] else None,
        outbound=count("outbound"),
        outbound_connected=count("outbound_connected"),
        recovered=by_callback + by_retry,
        recovered_by_callback=by_callback,
        recovered_by_retry=by_retry,
        recovered_calls=count("recovered_calls"),
        missed_not_recovered_calls=count("missed_not_recovered_calls"),
        first_time_callers=count("first_time"),
        received=received,
        answered=answered,
        missed=received - answered,
        abandoned=abandoned,
        voicemail=count("voicemail"),
        answer_rate=answered / received if received else None,
        abandonment_rate=abandoned / received if received else None,
        speed_to_answer_median_s=_seconds_value(speed[0] if speed else None),
        speed_to_answer_p90_s=_seconds_value(speed[1] if speed else None),
        unique_callers=count("unique_callers"),
        repeat_callers=count("repeat_callers"),
        missed_business_hours=count("missed_business"),
        missed_after_hours=count("missed_after"),
        missed_not_recovered=count("not_recovered"),
        outcomes={name: count(f"outcome_{name}") for name in (*OUTCOMES, UNSPECIFIED)},
        by_caller_type=types,
    )


def _week(value: Any) -> str:
    """202602 -> "2026-W02" (ISO week)."""
    return f"{int(value) // 100:04d}-W{int(value) % 100:02d}"


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _month(value: Any) -> str:
    """202603 -> "2026-03"."""
    return f"{int(value) // 100:04d}-{int(value) % 100:02d}"


def _seconds_value(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)
