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
    run: Run, region: str, legs_merged: int = 0, windows: dict[str, tuple[str, str]] | None = None
) -> CallAnalysis:
    """Every figure of the counted calls, per month, per ISO week and for the whole log."""
    con = run.con
    _flag_calls(run)
    months, total = _periods(run, "month", _month)
    weeks, _ = _periods(run, "week", _week)
    _by_group(run, "source", months, total, "by_source")
    _by_group(run, "campaign", months, total, "by_campaign")
    _grids(run, months, total)
    window_figures = _windows(run, windows or {})

    rejected, by_rule = rejected_rows(run)
    counted = scalar(con, "SELECT count(*) FROM counted")
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
        rows_read=counted + rows_rejected + legs_merged,
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
    A caller is new when the export flags the call as a first-time call; without such
    a flag, when this is the number's first inbound call in the log and the number is
    not on the --known-numbers list.
    """
    window = run.window_minutes * 60
    run.con.execute(
        f"""
        CREATE TABLE counted AS
        WITH nexts AS (
            SELECT *,
                min(CASE WHEN inbound AND answered THEN t END) OVER later AS next_retry,
                min(CASE WHEN NOT inbound AND answered THEN t END) OVER later AS next_callback,
                t - lag(t) OVER by_caller_in AS since_previous,
                row_number() OVER by_caller_in AS nth_inbound
            FROM merged
            WINDOW by_caller AS (PARTITION BY cid ORDER BY t, line),
                later AS (by_caller ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING),
                by_caller_in AS (PARTITION BY cid, inbound ORDER BY t, line)
        )
        SELECT * EXCLUDE (next_retry, next_callback, since_previous, nth_inbound),
            cid IS NOT NULL AND since_previous <= {REPEAT_WINDOW_SECONDS} AS repeat,
            CASE WHEN cid IS NULL OR NOT inbound THEN NULL
                WHEN first_time IS NOT NULL THEN first_time
                ELSE nth_inbound = 1 AND NOT known END AS new_caller,
            CASE WHEN inbound AND NOT answered THEN CASE
                WHEN next_retry - t <= {window}
                    AND (next_callback IS NULL OR next_callback - t > {window}
                        OR next_retry <= next_callback) THEN 'retry'
                WHEN next_callback - t <= {window} THEN 'callback' END END AS recovery
        FROM nexts
        """
    )


def _periods(
    run: Run, key: str, name: Callable[[Any], str]
) -> tuple[dict[str, PeriodFigures], PeriodFigures]:
    """PeriodFigures per value of the ``key`` column of ``counted`` and for all calls."""
    outcome_sql = ",\n".join(
        f"count(*) FILTER (WHERE inbound AND outcome = '{o}') AS outcome_{o}"
        for o in (*OUTCOMES, UNSPECIFIED)
    )
    level = run.service_level_seconds
    rows = run.con.execute(
        f"""
        WITH figures AS (
            SELECT grouping({key}) AS is_total, {key} AS period,
                count(*) FILTER (WHERE inbound) AS received,
                count(*) FILTER (WHERE inbound AND answered) AS answered,
                count(*) FILTER (WHERE inbound AND status = 'abandoned') AS abandoned,
                count(*) FILTER (WHERE inbound AND status = 'voicemail') AS voicemail,
                quantile_cont(wait, 0.5) FILTER (WHERE inbound AND answered) AS median,
                quantile_cont(wait, 0.9) FILTER (WHERE inbound AND answered) AS p90,
                count(*) FILTER (WHERE inbound AND NOT answered AND business) AS missed_business,
                count(*) FILTER (WHERE inbound AND NOT answered AND NOT business) AS missed_after,
                count(*) FILTER (WHERE inbound AND spam) AS spam,
                count(*) FILTER (WHERE inbound AND answered AND spam) AS spam_answered,
                count(*) FILTER (WHERE inbound AND status = 'abandoned' AND spam) AS spam_abandoned,
                count(*) FILTER (WHERE inbound AND answered AND NOT spam AND wait <= {level})
                    AS within_level,
                count(wait) FILTER (WHERE inbound AND answered) AS waits,
                count(*) FILTER (WHERE NOT inbound) AS outbound,
                count(*) FILTER (WHERE NOT inbound AND answered) AS outbound_connected,
                count(*) FILTER (WHERE inbound AND NOT answered AND recovery IS NOT NULL)
                    AS recovered_calls,
                count(*) FILTER (WHERE inbound AND NOT answered AND NOT spam
                    AND recovery IS NULL) AS missed_not_recovered_calls,
                {outcome_sql}
            FROM counted
            GROUP BY GROUPING SETS (({key}), ())
        ), per_caller AS (
            SELECT grouping({key}) AS is_total, {key} AS period, cid,
                bool_or(inbound) AS inbound, bool_or(repeat AND inbound) AS repeat,
                bool_or(inbound AND NOT answered AND NOT spam) AS missed,
                bool_or(inbound AND NOT answered AND NOT spam AND recovery IS NULL)
                    AS not_recovered,
                arg_max(recovery, (t, line))
                    FILTER (WHERE inbound AND NOT answered AND NOT spam) AS how,
                bool_or(new_caller AND NOT spam) AS new
            FROM counted WHERE cid IS NOT NULL
            GROUP BY GROUPING SETS (({key}, cid), (cid))
        ), callers AS (
            SELECT is_total, period, count(*) FILTER (WHERE inbound) AS unique_callers,
                count(*) FILTER (WHERE repeat) AS repeat_callers,
                count(*) FILTER (WHERE not_recovered) AS not_recovered,
                count(*) FILTER (WHERE missed AND NOT not_recovered AND how = 'callback')
                    AS by_callback,
                count(*) FILTER (WHERE missed AND NOT not_recovered AND how = 'retry')
                    AS by_retry,
                count(*) FILTER (WHERE new) AS first_time
            FROM per_caller GROUP BY is_total, period
        )
        SELECT f.*, coalesce(c.unique_callers, 0), coalesce(c.repeat_callers, 0),
            coalesce(c.not_recovered, 0), coalesce(c.by_callback, 0), coalesce(c.by_retry, 0),
            coalesce(c.first_time, 0)
        FROM figures f LEFT JOIN callers c
            ON c.is_total = f.is_total AND c.period IS NOT DISTINCT FROM f.period
        """
    ).fetchall()
    periods: dict[str, PeriodFigures] = {}
    total = PeriodFigures(outcomes={o: 0 for o in (*OUTCOMES, UNSPECIFIED)})
    types = _caller_types(run, key, name)
    for row in rows:
        figures = _figures(row)
        label = "" if row[0] else name(row[1])
        figures.by_caller_type = types.get(label, {})
        if row[0]:
            total = figures
        else:
            periods[label] = figures
    return periods, total


def _caller_types(
    run: Run, key: str, name: Callable[[Any], str]
) -> dict[str, dict[str, CallerTypeFigures]]:
    """Per period ("" for all): calls, leads and missed callers of new and existing callers."""
    rows = run.con.execute(
        f"""
        WITH typed AS (
            SELECT *, CASE WHEN new_caller THEN 'new' WHEN new_caller IS NULL THEN 'unknown'
                ELSE 'existing' END AS caller_type
            FROM counted WHERE inbound AND NOT spam
        ), per_caller AS (
            SELECT grouping({key}) AS is_total, {key} AS period, caller_type, cid,
                bool_or(NOT answered AND recovery IS NULL) AS not_recovered
            FROM typed WHERE cid IS NOT NULL
            GROUP BY GROUPING SETS (({key}, caller_type, cid), (caller_type, cid))
        ), lost AS (
            SELECT is_total, period, caller_type,
                count(*) FILTER (WHERE not_recovered) AS not_recovered
            FROM per_caller GROUP BY ALL
        ), calls AS (
            SELECT grouping({key}) AS is_total, {key} AS period, caller_type,
                count(*) AS calls, count(*) FILTER (WHERE answered) AS answered,
                count(*) FILTER (WHERE outcome IN ('qualified_lead', 'booked')) AS leads
            FROM typed GROUP BY GROUPING SETS (({key}, caller_type), (caller_type))
        )
        SELECT c.is_total, c.period, c.caller_type, c.calls, c.answered, c.leads,
            coalesce(l.not_recovered, 0)
        FROM calls c LEFT JOIN lost l ON l.is_total = c.is_total
            AND l.period IS NOT DISTINCT FROM c.period AND l.caller_type = c.caller_type
        """
    ).fetchall()
    found: dict[str, dict[str, CallerTypeFigures]] = {}
    for is_total, period, kind, calls, answered, leads, not_recovered in rows:
        label = "" if is_total else name(period)
        found.setdefault(label, {})[str(kind)] = CallerTypeFigures(
            calls=int(calls),
            answered=int(answered),
            leads=int(leads),
            lead_rate=int(leads) / int(calls) if calls else None,
            missed_not_recovered=int(not_recovered),
        )
    return found


def _windows(run: Run, windows: dict[str, tuple[str, str]]) -> dict[str, WindowFigures]:
    """The baseline and test windows' figures (local dates, both ends included)."""
    if not windows:
        return {}
    cases = " ".join(
        f"WHEN day BETWEEN DATE {quote_literal(first)} AND DATE {quote_literal(last)} "
        f"THEN {quote_literal(label)}"
        for label, (first, last) in windows.items()
    )
    run.con.execute("ALTER TABLE counted ADD COLUMN win VARCHAR")
    run.con.execute(f"UPDATE counted SET win = CASE {cases} END")
    found, _ = _periods(run, "win", lambda value: "" if value is None else str(value))
    result: dict[str, WindowFigures] = {}
    for label, (first, last) in windows.items():
        days = (_date(last) - _date(first)).days + 1
        result[label] = WindowFigures(first, last, days, found.get(label, PeriodFigures()))
    return result


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
        FROM counted WHERE inbound
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
        """
        SELECT grouping(month), month, dow, hour, count(*),
            count(*) FILTER (WHERE status = 'abandoned'), count(*) FILTER (WHERE spam)
        FROM counted WHERE inbound AND NOT answered
        GROUP BY GROUPING SETS ((month, dow, hour), (dow, hour))
        """
    ).fetchall()
    for is_total, month, dow, hour, count, abandoned, spam in rows:
        target = total if is_total else months[_month(month)]
        target.missed_by_weekday_hour[int(dow) - 1][int(hour)] = int(count)
        target.abandoned_by_weekday_hour[int(dow) - 1][int(hour)] = int(abandoned)
        target.spam_missed_by_weekday_hour[int(dow) - 1][int(hour)] = int(spam)


def _figures(row: tuple[Any, ...]) -> PeriodFigures:
    (_, _, received, answered, abandoned, voicemail, median, p90, business, after) = row[:10]
    (spam, spam_answered, spam_abandoned, within, waits, outbound, connected) = row[10:17]
    recovered_calls, lost_calls = row[17:19]
    outcomes = row[19 : 19 + len(OUTCOMES) + 1]
    unique, repeat, not_recovered, by_callback, by_retry, first_time = row[-6:]
    received, answered = int(received), int(answered)
    clean, clean_answered = received - int(spam), answered - int(spam_answered)
    return PeriodFigures(
        spam=int(spam),
        spam_answered=int(spam_answered),
        spam_abandoned=int(spam_abandoned),
        answer_rate_excluding_spam=clean_answered / clean if clean else None,
        service_level=int(within) / clean if clean and waits else None,
        outbound=int(outbound),
        outbound_connected=int(connected),
        recovered=int(by_callback) + int(by_retry),
        recovered_by_callback=int(by_callback),
        recovered_by_retry=int(by_retry),
        recovered_calls=int(recovered_calls),
        missed_not_recovered_calls=int(lost_calls),
        first_time_callers=int(first_time),
        received=received,
        answered=answered,
        missed=received - answered,
        abandoned=int(abandoned),
        voicemail=int(voicemail),
        answer_rate=answered / received if received else None,
        abandonment_rate=int(abandoned) / received if received else None,
        speed_to_answer_median_s=_seconds_value(median),
        speed_to_answer_p90_s=_seconds_value(p90),
        unique_callers=int(unique),
        repeat_callers=int(repeat),
        missed_business_hours=int(business),
        missed_after_hours=int(after),
        missed_not_recovered=int(not_recovered),
        outcomes={name: int(n) for name, n in zip((*OUTCOMES, UNSPECIFIED), outcomes, strict=True)},
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
