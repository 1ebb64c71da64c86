"""Table ``calls``: every row read, parsed, with the rule it breaks, and why in words.

Rules, tried in this order (the first broken one is reported): ``start_missing``,
``start_invalid`` (``infinity`` too), ``start_out_of_range`` (``epoch``: before 1990 or
after 2099), ``start_in_dst_gap`` (a local time the clocks skipped), ``status_missing``,
``status_unknown``, ``answered_at_invalid``, ``direction_unknown``, ``wait_invalid``,
``wait_negative``, ``wait_too_long``, ``wait_end_invalid``, ``wait_end_before_start``,
``duration_invalid``, ``duration_negative``, ``duration_too_long`` (over a day), then
``call_id_duplicate`` (a later row with the call id of a counted row); ``row_malformed``
comes from the CSV reader (the row does not fit the header).
"""

from __future__ import annotations

from typing import Any

from roi_xl.calls.context import MAX_LISTED, Run, scalar, sql_list
from roi_xl.calls.logfile import quote_literal
from roi_xl.calls.presets import OUTCOMES, STATUSES, UNSPECIFIED, normalise_word
from roi_xl.calls.result import RejectedRow

EPOCH_SECONDS = "%s"  # a timestamp format: Unix seconds
MAX_SECONDS = 24 * 3600  # a wait or a call longer than a day is a broken row
FIRST_YEAR, LAST_YEAR = 1990, 2099
_OFFSET = r"\d:\d\d(:\d\d([.,]\d+)?)?\s*(Z|z|[+-]\d\d(:?\d\d)?|UTC|GMT)$"
# Status and outcome as ENUMs (one byte a call instead of a string: the calls are sorted
# per caller with them), their words in alphabetical order so min() still means the first
# word alphabetically.
STATUS = f"ENUM({', '.join(map(quote_literal, sorted(STATUSES)))})"
OUTCOME = f"ENUM({', '.join(map(quote_literal, sorted((*OUTCOMES, UNSPECIFIED))))})"
_TRUE = ("true", "yes", "y", "1", "t", "x", "first-time caller", "new")


def judge(run: Run) -> None:
    """Table ``calls``: every row read, parsed, with the rule it breaks (NULL if counted)."""
    _word_map(run, "status_map", "status", run.mapping.statuses)
    _word_map(run, "outcome_map", "outcome", run.mapping.outcomes)
    _word_map(run, "direction_map", "direction", run.mapping.directions)
    col = run.column
    business = run.hours.sql("dow", "minute_of_day")
    direction = "coalesce(dm.word, 'inbound')" if "direction" in run.columns else "'inbound'"
    first_time = (
        f"CASE WHEN nullif(trim({col('first_time')}), '') IS NULL THEN NULL "
        f"ELSE lower(trim({col('first_time')})) IN ({', '.join(map(quote_literal, _TRUE))}) END"
        if "first_time" in run.columns
        else "NULL::BOOLEAN"
    )
    child = (
        f"nullif(trim({col('parent_call_id')}), '') IS NOT NULL"
        if "parent_call_id" in run.columns
        else "FALSE"
    )
    group = (
        "coalesce("
        + ", ".join(
            [f"nullif(trim({col(f)}), '')" for f in run.group_fields()] + ["'#' || r.rowid"]
        )
        + ")"
    )
    run.con.execute(
        f"""
        CREATE TABLE calls AS
        WITH parsed AS (
            SELECT r.rowid AS rid, {run.loaded.line_sql} AS line,
                {col("started_at")} AS start_raw,
                try_cast({col("started_at")} AS TIMESTAMPTZ) AS start_iso,
                {col("direction")} AS direction_raw, dm.word AS direction_word,
                {direction} AS direction, {first_time} AS first_time, {group} AS grp,
                {child} AS child,
                {col("status")} AS status_raw, sm.word AS status_word,
                {col("answered_at")} AS answered_raw,
                try_cast({col("answered_at")} AS TIMESTAMPTZ) AS answered_iso,
                {col("wait_seconds")} AS wait_raw, {_seconds(col("wait_seconds"))} AS wait_s,
                {col("wait_ends_at")} AS wait_end_raw,
                try_cast({col("wait_ends_at")} AS TIMESTAMPTZ) AS wait_end_iso,
                {col("duration_seconds")} AS duration_raw,
                {_seconds(col("duration_seconds"))} AS duration_s,
                om.word AS outcome, {col("outcome")} AS outcome_raw,
                {col("source")} AS source, {col("campaign")} AS campaign,
                c.cid, c.invalid, c.listed, c.known
            FROM raw r {run.loaded.line_join}
            LEFT JOIN direction_map dm ON dm.raw = {col("direction")}
            JOIN caller_ids c ON c.raw = coalesce({run.customer("dm.word")}, '')
            LEFT JOIN status_map sm ON sm.raw = {col("status")}
            LEFT JOIN outcome_map om ON om.raw = {col("outcome")}
        ), stamped AS (
            SELECT *, {_timestamp(run, "started_at", "start_raw", "start_iso")} AS ts,
                {_naive(run, "started_at", "start_raw", "start_iso")} AS naive,
                {_timestamp(run, "wait_ends_at", "wait_end_raw", "wait_end_iso")} AS wait_end,
                {_timestamp(run, "answered_at", "answered_raw", "answered_iso")} AS answered_ts
            FROM parsed
        ), timed AS (
            SELECT *, timezone({quote_literal(run.zone)}, ts) AS local, {_status(run)} AS status
            FROM stamped
        )
        SELECT rid, line, epoch(ts) AS t, CAST(status AS {STATUS}) AS status,
            status = 'answered' AS answered,
            direction = 'inbound' AS inbound, grp, child, first_time,
            coalesce(known, FALSE) AS known,
            coalesce(wait_s, epoch(wait_end) - epoch(ts)) AS wait,
            CAST(coalesce(outcome, '{UNSPECIFIED}') AS {OUTCOME}) AS outcome,
            coalesce(outcome = 'spam', FALSE) OR coalesce(listed, FALSE) AS spam,
            CAST(local AS DATE) AS day,
            CASE WHEN outcome IS NULL THEN nullif(trim(outcome_raw), '') END
                AS outcome_unmapped,
            source, campaign, cid, invalid,
            CAST(isodow(local) AS UTINYINT) AS dow, CAST(hour(local) AS UTINYINT) AS hour,
            {business.replace("minute_of_day", "(hour(local) * 60 + minute(local))")}
                AS business,
            CASE
                WHEN ts IS NULL THEN CASE WHEN nullif(trim(start_raw), '') IS NULL
                    THEN 'start_missing' ELSE 'start_invalid' END
                WHEN NOT isfinite(ts) THEN 'start_invalid'
                WHEN year(local) < {FIRST_YEAR} OR year(local) > {LAST_YEAR}
                    THEN 'start_out_of_range'
                WHEN naive IS NOT NULL AND CAST(local AS TIMESTAMP) <> naive
                    AND NOT regexp_matches(trim(start_raw), {quote_literal(_OFFSET)})
                    THEN 'start_in_dst_gap'
                WHEN status IS NULL THEN CASE WHEN nullif(trim(status_raw), '') IS NULL
                    THEN 'status_missing' ELSE 'status_unknown' END
                WHEN answered_ts IS NULL AND nullif(trim(answered_raw), '') IS NOT NULL
                    THEN 'answered_at_invalid'
                WHEN direction_word IS NULL AND nullif(trim(direction_raw), '') IS NOT NULL
                    THEN 'direction_unknown'
                WHEN wait_s IS NULL AND nullif(trim(wait_raw), '') IS NOT NULL
                    THEN 'wait_invalid'
                WHEN wait_s < 0 THEN 'wait_negative'
                WHEN wait_s > {MAX_SECONDS} THEN 'wait_too_long'
                WHEN wait_end IS NULL AND nullif(trim(wait_end_raw), '') IS NOT NULL
                    THEN 'wait_end_invalid'
                WHEN NOT isfinite(wait_end) THEN 'wait_end_invalid'
                WHEN wait_end < ts THEN 'wait_end_before_start'
                WHEN epoch(wait_end) - epoch(ts) > {MAX_SECONDS} THEN 'wait_too_long'
                WHEN duration_s IS NULL AND nullif(trim(duration_raw), '') IS NOT NULL
                    THEN 'duration_invalid'
                WHEN duration_s < 0 THEN 'duration_negative'
                WHEN duration_s > {MAX_SECONDS} THEN 'duration_too_long'
            END AS rule
        FROM timed
        """
    )
    _duplicates(run)


def _duplicates(run: Run) -> None:
    """Reject the rows whose call id a counted row on an earlier line already has."""
    run.con.execute("CREATE TABLE duplicates (id VARCHAR, first_line BIGINT)")
    if "call_id" not in run.columns:
        return
    call_id = run.column("call_id")
    # Cheap test first: no id repeated, none with spaces around it -> nothing to do.
    suspect = scalar(
        run.con,
        f"""
        SELECT (SELECT count(*) FROM (SELECT {call_id} AS id FROM raw r
                WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1))
            + (SELECT count(*) FROM raw r
                WHERE {call_id} LIKE ' %' OR {call_id} LIKE '% ' )
        """,
    )
    if not suspect:
        return
    run.con.execute(
        f"""
        INSERT INTO duplicates
        SELECT trim({call_id}) AS id, min(c.line) FROM calls c JOIN raw r ON r.rowid = c.rid
        WHERE c.rule IS NULL AND nullif(trim({call_id}), '') IS NOT NULL
        GROUP BY 1 HAVING count(*) > 1
        """
    )
    run.con.execute(
        f"""
        UPDATE calls SET rule = 'call_id_duplicate'
        FROM raw r, duplicates d
        WHERE r.rowid = calls.rid AND calls.rule IS NULL AND trim({call_id}) = d.id
            AND calls.line > d.first_line
        """
    )


def _word_map(run: Run, table: str, name: str, synonyms: dict[str, str]) -> None:
    """A table raw text -> canonical word for every distinct text of one field."""
    rows = run.con.execute(f"SELECT DISTINCT {run.column(name)} FROM raw r").fetchall()
    raws = [str(row[0]) for row in rows if row[0] is not None]
    words = [synonyms.get(normalise_word(raw)) for raw in raws]
    run.con.execute(
        f"CREATE TABLE {table} AS SELECT unnest(?::VARCHAR[]) AS raw, unnest(?::VARCHAR[]) AS word",
        [raws, words],
    )


def _status(run: Run) -> str:
    """SQL: the canonical status of a row.

    With an ``answered_at`` column (Aircall, 3CX) a call was answered when that time is
    there; otherwise the status column says why it was not, a blank one meaning missed.
    """
    if "answered_at" not in run.columns:
        return "status_word"
    return (
        "CASE WHEN answered_ts IS NOT NULL THEN 'answered' "
        "WHEN nullif(trim(status_raw), '') IS NULL THEN 'missed' "
        "WHEN status_word = 'answered' THEN 'missed' ELSE status_word END"
    )


def _timestamp(run: Run, field: str, text: str, iso: str) -> str:
    """SQL: TIMESTAMPTZ from text; ISO 8601 first (``iso``: the text cast), then the formats.

    The format ``%s`` stands for Unix seconds (an absolute time, as APIs give it). A
    time without an offset is local time in ``--tz``, or UTC when the mapping says
    ``naive_times = "utc"`` (3CX writes its CDR times in UTC).
    """
    if field not in run.columns:
        return "NULL::TIMESTAMPTZ"
    utc = run.mapping.naive_times == "utc"
    if utc:  # without an offset, the ISO text is UTC, not local time
        iso = (
            f"CASE WHEN regexp_matches(trim({text}), {quote_literal(_OFFSET)}) THEN {iso} "
            f"ELSE timezone('UTC', try_cast({text} AS TIMESTAMP)) END"
        )
    tries = [iso]
    formats = [f for f in run.mapping.timestamp_formats if f != EPOCH_SECONDS]
    if EPOCH_SECONDS in run.mapping.timestamp_formats:
        tries.append(
            f"CASE WHEN regexp_full_match(trim({text}), '[0-9]{{1,11}}') "
            f"THEN to_timestamp(CAST(trim({text}) AS BIGINT)) END"
        )
    local = [f for f in formats if "%z" not in f.lower()]
    offset = [f for f in formats if "%z" in f.lower()]
    if local:
        naive = f"try_strptime(trim({text}), {sql_list(local)})"
        tries.append(f"timezone('UTC', {naive})" if utc else f"CAST({naive} AS TIMESTAMPTZ)")
    if offset:
        tries.append(f"try_strptime(trim({text}), {sql_list(offset)})")
    return f"coalesce({', '.join(tries)})"


def _naive(run: Run, field: str, text: str, iso: str) -> str:
    """SQL: the wall-clock time the text gives, ignoring any offset (to find DST gaps).

    Read the way ``_timestamp`` reads it: DuckDB's TIMESTAMP cast alone would also take
    '2026-03-07 08:00 PM' as 08:00.
    """
    if field not in run.columns or run.mapping.naive_times == "utc":
        return "NULL::TIMESTAMP"  # UTC has no clock change, no gap to find
    local = [f for f in run.mapping.timestamp_formats if "%z" not in f.lower()]
    local = [f for f in local if f != EPOCH_SECONDS]
    fallback = f"try_strptime(trim({text}), {sql_list(local)})" if local else "NULL::TIMESTAMP"
    return f"CASE WHEN {iso} IS NOT NULL THEN try_cast({text} AS TIMESTAMP) ELSE {fallback} END"


def _seconds(text: str) -> str:
    """SQL: seconds from text: a number (12, 12.5) or [-][h:]mm:ss; NULL when unreadable."""
    if text == "NULL::VARCHAR":
        return "NULL::DOUBLE"
    number = f"try_cast({text} AS DOUBLE)"
    clock = (
        f"epoch(try_cast(CASE WHEN {text} LIKE '%:%:%' THEN {text} "
        f"WHEN {text} LIKE '%:%' THEN '0:' || trim({text}) END AS INTERVAL))"
    )
    return f"(CASE WHEN isfinite({number}) THEN {number} ELSE {clock} END)"


def rejected_rows(run: Run) -> tuple[list[RejectedRow], dict[str, int]]:
    """The first MAX_LISTED rejected rows with their reason, and the count per rule."""
    by_rule = {
        str(rule): int(n)
        for rule, n in run.con.execute(
            "SELECT rule, count(*) FROM calls WHERE rule IS NOT NULL GROUP BY rule"
        ).fetchall()
    }
    if run.loaded.malformed:
        by_rule["row_malformed"] = len(run.loaded.malformed)
    col = run.column
    rows = run.con.execute(
        f"""
        WITH listed AS (
            SELECT rid, line, rule FROM calls WHERE rule IS NOT NULL
            ORDER BY line LIMIT {MAX_LISTED}
        )
        SELECT l.line, l.rule, CASE
                WHEN l.rule LIKE 'start%' THEN {col("started_at")}
                WHEN l.rule LIKE 'status%' THEN {col("status")}
                WHEN l.rule LIKE 'answered%' THEN {col("answered_at")}
                WHEN l.rule LIKE 'direction%' THEN {col("direction")}
                WHEN l.rule LIKE 'wait_end%' THEN {col("wait_ends_at")}
                WHEN l.rule LIKE 'wait%' THEN {col("wait_seconds")}
                WHEN l.rule LIKE 'duration%' THEN {col("duration_seconds")}
                ELSE {col("call_id")} END AS value,
            {col("started_at")}, d.first_line
        FROM listed l JOIN raw r ON r.rowid = l.rid
        LEFT JOIN duplicates d ON d.id = trim({col("call_id")})
        ORDER BY l.line
        """
    ).fetchall()
    listed = [
        RejectedRow(int(line), str(rule), str(value or ""), _reason(run, rule, value, start, first))
        for line, rule, value, start, first in rows
    ]
    listed += [
        RejectedRow(line, "row_malformed", "", f"the row does not fit the header: {message}")
        for line, message in run.loaded.malformed
    ]
    listed.sort(key=lambda row: row.line)
    return listed[:MAX_LISTED], dict(sorted(by_rule.items()))


def _reason(run: Run, rule: str, value: Any, start: Any, first_line: Any) -> str:
    column = {
        "start": run.columns.get("started_at"),
        "status": run.columns.get("status"),
        "wait_end": run.columns.get("wait_ends_at"),
        "wait": run.columns.get("wait_seconds") or run.columns.get("wait_ends_at"),
        "duration": run.columns.get("duration_seconds"),
    }
    formats = ", ".join(run.mapping.timestamp_formats)
    accepted = f"ISO 8601 or {formats}" if formats else "ISO 8601, e.g. 2026-01-31 14:05:00"
    reasons = {
        "start_missing": f"no start time in column '{column['start']}'",
        "start_invalid": f"start time {value!r} is not a date and time ({accepted})",
        "start_out_of_range": (
            f"start time {value!r} is not a real call time (before {FIRST_YEAR} or after "
            f"{LAST_YEAR})"
        ),
        "start_in_dst_gap": (
            f"start time {value!r} does not exist in {run.zone}: the clocks skipped it "
            "(daylight saving time began)"
        ),
        "direction_unknown": (
            f"unknown direction {value!r}: the mapping {run.mapping.describe()} has no such "
            "synonym (add it under [directions] of a mapping file)"
        ),
        "wait_too_long": f"wait {value!r} is longer than a day",
        "duration_too_long": f"duration {value!r} is longer than a day",
        "status_missing": f"no status in column '{column['status']}'",
        "status_unknown": (
            f"unknown status {value!r}: the mapping {run.mapping.describe()} has no such "
            "synonym (add it under [statuses] of a mapping file)"
        ),
        "answered_at_invalid": (
            f"answer time {value!r} is not a date and time ({accepted}); blank if unanswered"
        ),
        "wait_invalid": f"wait {value!r} is not a number of seconds or [h:]mm:ss",
        "wait_negative": f"negative wait {value!r}",
        "wait_end_invalid": f"end of wait {value!r} is not a date and time ({accepted})",
        "wait_end_before_start": f"the wait ends ({value!r}) before the call starts ({start!r})",
        "duration_invalid": f"duration {value!r} is not a number of seconds or [h:]mm:ss",
        "duration_negative": f"negative duration {value!r}",
        "call_id_duplicate": f"duplicate call id {value!r}: first counted on line {first_line}",
    }
    return reasons.get(rule, rule)
