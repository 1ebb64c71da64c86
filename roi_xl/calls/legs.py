"""Table ``merged``: one row per call, however many legs (rows) the phone system logged.

A call that rang several extensions or a queue is logged as several rows sharing an id
(Asterisk: linkedid, else uniqueid; Twilio: the child legs' parent_call_sid is the
parent's sid; RingCentral: telephonySessionId). Its legs count as one call: it starts
when its first leg starts and takes that leg's direction, customer number, time and
line; it is answered if any leg was answered, and its wait runs from the first leg's
start to the first answer. A parent call with child legs (Twilio ``<Dial>``) is
"completed" as soon as the phone system picks it up to dial: such a call is answered
only if a child leg was. ``legs_merged`` = rows not rejected - calls.
"""

from __future__ import annotations

from roi_xl.calls.context import Run
from roi_xl.calls.presets import UNSPECIFIED
from roi_xl.calls.rows import OUTCOME, STATUS


def merge_legs(run: Run) -> None:
    """Create the view ``merged`` of the counted rows of ``calls``, one row per call.

    Each group's figures are aggregated, then joined to its first leg's row (by rid):
    one pass over the legs and one join, whatever the number of columns. A view: the
    next step reads it once, so no table of a million calls is written in between.
    """
    if not run.group_fields() and "parent_call_id" not in run.columns:
        run.con.execute(
            "CREATE VIEW merged AS SELECT * EXCLUDE (rule, grp, child, rid) "
            "FROM calls WHERE rule IS NULL"
        )
        return
    children = "parent_call_id" in run.columns
    # (aggregate, name): a figure only where the log has its field; without it the
    # first leg's own value is already right (no child legs, no outcome, no flag)
    figures = [
        # the first leg by start, then by line: microseconds and the row id (which
        # grows with the line) in one 128-bit integer, cheaper to compare than a pair
        ("arg_min(rid, (CAST(round(t * 1000000) AS HUGEINT) << 40) + rid)", "first"),
        ("min(t)", "t0"),
        ("bool_or(answered)", "ok"),
        ("min(t + wait) FILTER (WHERE answered)", "ok_t"),
        ("bool_or(spam)", "spam"),
    ]
    if children:  # a parent with child legs is answered only if a child leg was
        figures[2:4] = [
            (
                "CASE WHEN bool_or(child) THEN bool_or(answered AND child) "
                "ELSE bool_or(answered) END",
                "ok",
            ),
            (
                "CASE WHEN bool_or(child) THEN min(t + wait) FILTER (WHERE answered AND child) "
                "ELSE min(t + wait) FILTER (WHERE answered) END",
                "ok_t",
            ),
        ]
    replaced = ["g.spam AS spam"]
    if "outcome" in run.columns:
        figures.append((f"min(outcome) FILTER (WHERE outcome <> '{UNSPECIFIED}')", "outcome"))
        replaced.append(f"CAST(coalesce(g.outcome, '{UNSPECIFIED}') AS {OUTCOME}) AS outcome")
    if "first_time" in run.columns:
        figures.append(("bool_or(first_time)", "first_time"))
        replaced.append("g.first_time AS first_time")
    aggregates = ", ".join(f"{sql} AS {name}" for sql, name in figures)
    run.con.execute(
        f"""
        CREATE VIEW merged AS
        WITH groups AS (
            SELECT {aggregates} FROM calls WHERE rule IS NULL GROUP BY grp
        )
        SELECT c.* EXCLUDE (rule, grp, child, rid) REPLACE (
            CAST(CASE WHEN g.ok THEN 'answered' WHEN c.status = 'answered' THEN 'missed'
                ELSE c.status END AS {STATUS}) AS status,
            g.ok AS answered,
            g.ok_t - g.t0 AS wait,
            {", ".join(replaced)}
        )
        FROM groups g JOIN calls c ON c.rid = g.first
        """
    )
