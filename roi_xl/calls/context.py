"""What every step of one analysis shares: the DuckDB connection and the choices made."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from roi_xl.calls.hours import BusinessHours
from roi_xl.calls.logfile import LoadedLog, quote_identifier, quote_literal
from roi_xl.calls.presets import CallMapping

MAX_LISTED = 1000  # rejected rows and invalid numbers listed; all are counted


@dataclass(frozen=True)
class Run:
    """One analysis: its connection (with table ``raw`` loaded) and its settings."""

    con: duckdb.DuckDBPyConnection
    path: Path
    loaded: LoadedLog
    mapping: CallMapping
    columns: dict[str, str]  # field -> the file's column
    zone: str
    hours: BusinessHours
    window_minutes: int
    service_level_seconds: float = 20.0

    def group_fields(self) -> list[str]:
        """The fields that tie the legs of one call together, strongest first."""
        order = ("call_group", "parent_call_id", "leg_id", "call_id")
        return [name for name in order if name in self.columns]

    def customer(self, direction_word: str) -> str:
        """SQL: the customer's number: the callee of an outbound row, else the caller."""
        if "callee" not in self.columns:
            return self.column("caller")
        return (
            f"CASE WHEN {direction_word} = 'outbound' THEN {self.column('callee')} "
            f"ELSE {self.column('caller')} END"
        )

    def column(self, name: str) -> str:
        """SQL: the raw text of a field in ``raw r`` (NULL when the log has no such column)."""
        column = self.columns.get(name)
        return f"CAST(r.{quote_identifier(column)} AS VARCHAR)" if column else "NULL::VARCHAR"


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def sql_list(texts: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(quote_literal(t) for t in texts) + "]" if texts else ""
