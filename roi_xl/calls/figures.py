"""The figures of the counted calls: per month, for the whole log, per source, per hour."""

from __future__ import annotations

from typing import Any

from roi_xl.calls.context import MAX_LISTED, Run, scalar
from roi_xl.calls.presets import OUTCOMES, UNSPECIFIED
from roi_xl.calls.result import (
    DEFINITIONS,
    CallAnalysis,
    InvalidNumber,
    PeriodFigures,
    SourceCounts,
    empty_grid,
)
from roi_xl.calls.rows import rejected_rows

REPEAT_WINDOW_SECONDS = 24 * 3600
NO_SOURCE = "(none)"


def aggregate(run: Run, region: str) -> CallAnalysis:
    """Every figure of the counted calls, per month and for the whole log."""
    con = run.con
    con.execute("CREATE VIEW counted AS SELECT * FROM calls WHERE rule IS NULL")
    outcome_sql = ",\n".join(
        f"count(*) FILTER (WHERE outcome = '{name}') AS outcome_{name}"
        for name in (*OUTCOMES, UNSPECIFIED)
    )
    rows = con.execute(
        f"""
        WITH figures AS (
            SELECT grouping(month) AS is_total, month,
                count(*) AS received,
                count(*) FILTER (WHERE answered) AS answered,
                count(*) FILTER (WHERE status = 'abandoned') AS abandoned,
                count(*) FILTER (WHERE status = 'voicemail') AS voicemail,
                quantile_cont(wait, 0.5) FILTER (WHERE answered) AS median,
                quantile_cont(wait, 0.9) FILTER (WHERE answered) AS p90,
                count(*) FILTER (WHERE NOT answered AND business) AS missed_business,
                count(*) FILTER (WHERE NOT answered AND NOT business) AS missed_after,
                {outcome_sql}
            FROM counted
            GROUP BY GROUPING SETS ((month), ())
        ), flagged AS (
            SELECT month, cid,
                t - lag(t) OVER by_caller <= {REPEAT_WINDOW_SECONDS} AS repeat,
                NOT answered AND coalesce(
                    min(CASE WHEN answered THEN t END) OVER (
                        by_caller ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
                    ) - t > {run.window_minutes * 60}, TRUE) AS unrecovered
            FROM counted WHERE cid IS NOT NULL
            WINDOW by_caller AS (PARTITION BY cid ORDER BY t, line)
        ), per_caller AS (
            SELECT grouping(month) AS is_total, month, cid,
                bool_or(repeat) AS repeat, bool_or(unrecovered) AS unrecovered
            FROM flagged
            GROUP BY GROUPING SETS ((month, cid), (cid))
        ), callers AS (
            SELECT is_total, month, count(*) AS unique_callers,
                count(*) FILTER (WHERE repeat) AS repeat_callers,
                count(*) FILTER (WHERE unrecovered) AS not_recovered
            FROM per_caller GROUP BY is_total, month
        )
        SELECT f.*, coalesce(c.unique_callers, 0), coalesce(c.repeat_callers, 0),
            coalesce(c.not_recovered, 0)
        FROM figures f LEFT JOIN callers c
            ON c.is_total = f.is_total AND c.month IS NOT DISTINCT FROM f.month
        """
    ).fetchall()
    months: dict[str, PeriodFigures] = {}
    total = PeriodFigures(outcomes={name: 0 for name in (*OUTCOMES, UNSPECIFIED)})
    for row in rows:
        figures = _figures(row)
        if row[0]:
            total = figures
        else:
            months[_month(row[1])] = figures
    _by_group(run, "source", months, total, "by_source")
    _by_group(run, "campaign", months, total, "by_campaign")
    _grids(run, months, total)

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
        rows_read=counted + rows_rejected,
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
    )


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
        FROM counted
        GROUP BY GROUPING SETS ((month, grp), (grp))
        ORDER BY 4 DESC, 3
        """
    ).fetchall()
    for is_total, month, group, calls, answered, booked in rows:
        target = total if is_total else months[_month(month)]
        counts = SourceCounts(int(calls), int(answered), int(booked))
        getattr(target, attr)[str(group)] = counts


def _grids(run: Run, months: dict[str, PeriodFigures], total: PeriodFigures) -> None:
    total.missed_by_weekday_hour = empty_grid()
    for figures in months.values():
        figures.missed_by_weekday_hour = empty_grid()
    rows = run.con.execute(
        """
        SELECT grouping(month), month, dow, hour, count(*)
        FROM counted WHERE NOT answered
        GROUP BY GROUPING SETS ((month, dow, hour), (dow, hour))
        """
    ).fetchall()
    for is_total, month, dow, hour, count in rows:
        target = total if is_total else months[_month(month)]
        target.missed_by_weekday_hour[int(dow) - 1][int(hour)] = int(count)


def _figures(row: tuple[Any, ...]) -> PeriodFigures:
    (_, _, received, answered, abandoned, voicemail, median, p90, business, after) = row[:10]
    outcomes = row[10 : 10 + len(OUTCOMES) + 1]
    unique, repeat, not_recovered = row[-3:]
    received, answered = int(received), int(answered)
    return PeriodFigures(
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


def _month(value: Any) -> str:
    """202603 -> "2026-03"."""
    return f"{int(value) // 100:04d}-{int(value) % 100:02d}"


def _seconds_value(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)
