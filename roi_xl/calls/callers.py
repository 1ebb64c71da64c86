"""Table ``callers``: every distinct caller text of the log, as a caller or an unknown one.

A caller is the E.164 number (``phones``), or the text of a number that is not valid;
blank and withheld numbers ("anonymous", "private"...) are no caller at all.
"""

from __future__ import annotations

from collections.abc import Callable

from roi_xl.calls import phones
from roi_xl.calls.context import Run, scalar, sql_list

CALLER_HASH = "hash({})"  # SQL: a caller's 64-bit id (hash(NULL) is not NULL: guard it)


def build_callers(
    run: Run,
    region: str,
    on_chunk: Callable[[int, int], None],
    lists: dict[str, list[str]] | None = None,
) -> None:
    """Table ``callers``: each distinct caller text -> caller (E.164 or the text), invalid, cid.

    ``caller_ids`` keeps what the calls need of it: raw text -> cid, invalid, and whether
    the number is on the --exclude-numbers (``listed``) or --known-numbers list.

    The lookup keys are worked out in DuckDB, North American ones checked there too
    (``phones.fast_e164_sql``); only the keys it cannot settle go to phonenumbers.
    """
    lists = lists or {}
    listed = sorted({text for texts in lists.values() for text in texts})
    withheld = sql_list(sorted(run.mapping.withheld_callers)) or "[]::VARCHAR[]"
    run.con.execute(
        f"""
        CREATE TABLE caller_keys AS
        WITH texts AS (
            SELECT raw, nullif(trim(raw), '') AS text
            FROM (SELECT DISTINCT coalesce({run.column("caller")}, '') AS raw FROM raw r
                UNION SELECT DISTINCT coalesce({run.column("callee")}, '') FROM raw r
                UNION SELECT unnest(?::VARCHAR[]))
        ), keys AS (
            SELECT raw, text, CASE WHEN text IS NULL OR list_contains({withheld}, lower(text))
                THEN NULL ELSE {phones.key_sql("text")} END AS key
            FROM texts
        )
        SELECT raw, text, {phones.canonical_key_sql("key", region)} AS key FROM keys
        """,
        [listed],
    )
    run.con.execute(
        f"""
        CREATE TABLE numbers AS
        SELECT key, {phones.fast_e164_sql("key", region)} AS e164
        FROM (SELECT DISTINCT key FROM caller_keys WHERE key IS NOT NULL)
        """
    )
    rest = [
        str(row[0])
        for row in run.con.execute("SELECT key FROM numbers WHERE e164 IS NULL").fetchall()
    ]
    found = phones.normalise_keys(rest, region, on_chunk)
    pairs = [(key, e164) for key, e164 in zip(rest, found, strict=True) if e164]
    if pairs:
        run.con.execute(
            "CREATE TABLE found AS SELECT unnest(?::VARCHAR[]) AS key, "
            "unnest(?::VARCHAR[]) AS e164",
            [[k for k, _ in pairs], [e for _, e in pairs]],
        )
        run.con.execute(
            "UPDATE numbers SET e164 = found.e164 FROM found WHERE numbers.key = found.key"
        )
    _name_callers(run)
    for table in ("excluded_numbers", "known_numbers"):
        texts = lists.get(table, [])
        run.con.execute(
            f"CREATE TABLE {table} AS SELECT DISTINCT caller FROM callers "
            "WHERE caller IS NOT NULL AND raw IN (SELECT unnest(?::VARCHAR[]))",
            [texts],
        )
    run.con.execute(
        """
        CREATE TABLE caller_ids AS
        SELECT raw, cid, invalid,
            coalesce(caller IN (SELECT caller FROM excluded_numbers), FALSE) AS listed,
            coalesce(caller IN (SELECT caller FROM known_numbers), FALSE) AS known
        FROM callers
        """
    )


def _name_callers(run: Run) -> None:
    """``callers``: raw text -> caller, invalid, cid (an integer per caller, for speed).

    ``cid`` is the 64-bit hash of the caller, checked to be collision-free among this
    log's callers; should two callers ever share one, they are numbered by rank instead.
    ``invalid_callers`` lists the (few) callers whose number is not valid, with their cid.
    """
    named = """
        SELECT c.raw,
            CASE WHEN c.key IS NOT NULL THEN coalesce(n.e164, c.text) END AS caller,
            c.key IS NOT NULL AND n.e164 IS NULL AS invalid
        FROM caller_keys c LEFT JOIN numbers n ON n.key = c.key
    """
    run.con.execute(
        """
        CREATE TABLE invalid_texts AS SELECT DISTINCT c.text AS caller
        FROM caller_keys c LEFT JOIN numbers n ON n.key = c.key
        WHERE c.key IS NOT NULL AND n.e164 IS NULL
        """
    )
    hashed = CALLER_HASH.format("caller")
    collisions = scalar(
        run.con,
        f"""
        WITH ids AS (
            SELECT e164 AS caller FROM numbers WHERE e164 IS NOT NULL
            UNION SELECT caller FROM invalid_texts
        )
        SELECT count(*) - count(DISTINCT {hashed}) FROM ids
        """,
    )
    if collisions == 0:
        run.con.execute(
            "CREATE VIEW callers AS SELECT *, "
            f"CASE WHEN caller IS NOT NULL THEN {hashed} END AS cid FROM ({named})"
        )
        run.con.execute(
            f"CREATE TABLE invalid_callers AS SELECT caller, {hashed} AS cid FROM invalid_texts"
        )
    else:
        run.con.execute(
            "CREATE TABLE callers AS SELECT *, CASE WHEN caller IS NOT NULL "
            f"THEN dense_rank() OVER (ORDER BY caller) END AS cid FROM ({named})"
        )
        run.con.execute(
            "CREATE TABLE invalid_callers AS SELECT DISTINCT caller, cid FROM callers WHERE invalid"
        )
