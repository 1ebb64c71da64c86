"""Table ``merged``: one row per call, however many legs (rows) the phone system logged.

A call that rang several extensions or a queue is logged as several rows sharing an id
(Asterisk: linkedid, else uniqueid; Twilio: the child legs' parent_call_sid is the
parent's sid; RingCentral: telephonySessionId). Its legs count as one call: it starts
when its first leg starts and takes that leg's direction, customer number, time and
line; it is answered if any leg was answered, and its wait runs from the first leg's
start to the first answer. A parent call with child legs (Twilio ``<Dial>``) is
"completed" as soon as the phone system picks it up to dial: such a call is answered
only if a child leg was. ``legs_merged`` = counted rows - calls.
"""

from __future__ import annotations

from roi_xl.calls.context import Run, scalar
from roi_xl.calls.presets import UNSPECIFIED

_FIRST = (
    "line", "inbound", "cid", "invalid", "outcome_unmapped", "source", "campaign",
    "month", "week", "dow", "hour", "business", "day", "known",
)  # fmt: skip


def merge_legs(run: Run) -> int:
    """Create ``merged`` from the counted rows of ``calls``; return the legs merged."""
    con = run.con
    multi = scalar(
        con,
        "SELECT count(*) - count(DISTINCT grp) FROM calls WHERE rule IS NULL",
    )
    if not multi:
        con.execute(
            "CREATE VIEW merged AS SELECT * EXCLUDE (rule, grp) FROM calls WHERE rule IS NULL"
        )
        return 0
    firsts = ",\n".join(f"arg_min({name}, (t, line)) AS {name}" for name in _FIRST)
    con.execute(
        f"""
        CREATE TABLE merged AS
        WITH legs AS (
            SELECT * EXCLUDE (answered),
                answered AND (child OR NOT bool_or(child) OVER (PARTITION BY grp)) AS answered
            FROM calls WHERE rule IS NULL
        )
        SELECT min(rid) AS rid, min(t) AS t,
            CASE WHEN bool_or(answered) THEN 'answered'
                WHEN arg_min(status, (t, line)) = 'answered' THEN 'missed'
                ELSE arg_min(status, (t, line)) END AS status,
            bool_or(answered) AS answered,
            min(t + wait) FILTER (WHERE answered) - min(t) AS wait,
            coalesce(min(outcome) FILTER (WHERE outcome <> '{UNSPECIFIED}'), '{UNSPECIFIED}')
                AS outcome,
            bool_or(spam) AS spam, bool_or(first_time) AS first_time,
            {firsts}
        FROM legs
        GROUP BY grp
        """
    )
    return multi
