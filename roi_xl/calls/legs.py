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
    run.con.execute(
        f"""
        CREATE VIEW merged AS
        WITH groups AS (
            SELECT arg_min(rid, (t, line)) AS first, min(t) AS t0,
                bool_or(child) AS has_child,
                bool_or(answered AND child) AS child_answered,
                bool_or(answered) AS any_answered,
                min(t + wait) FILTER (WHERE answered AND child) AS child_answer_t,
                min(t + wait) FILTER (WHERE answered) AS answer_t,
                min(outcome) FILTER (WHERE outcome <> '{UNSPECIFIED}') AS known_outcome,
                bool_or(spam) AS any_spam, bool_or(first_time) AS any_first_time
            FROM calls WHERE rule IS NULL
            GROUP BY grp
        ), judged AS (
            SELECT *, CASE WHEN has_child THEN child_answered ELSE any_answered END AS ok,
                CASE WHEN has_child THEN child_answer_t ELSE answer_t END AS ok_t
            FROM groups
        )
        SELECT c.* EXCLUDE (rule, grp, child, rid) REPLACE (
            CAST(CASE WHEN g.ok THEN 'answered' WHEN c.status = 'answered' THEN 'missed'
                ELSE c.status END AS {STATUS}) AS status,
            g.ok AS answered,
            g.ok_t - g.t0 AS wait,
            CAST(coalesce(g.known_outcome, '{UNSPECIFIED}') AS {OUTCOME}) AS outcome,
            g.any_spam AS spam,
            g.any_first_time AS first_time
        )
        FROM judged g JOIN calls c ON c.rid = g.first
        """
    )
