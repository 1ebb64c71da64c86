"""Load a call log (CSV, .xlsx or Parquet) into a DuckDB table, every value as text.

The table ``raw`` keeps the file's columns; ``LoadedLog.line_sql`` gives each of its rows
(``rowid`` is file order) the line it came from, header = line 1, so a rejected row can be
found in a text editor or in Excel. CSV records that do not even split into the
header's columns are kept aside as ``malformed`` rows, with their line and DuckDB's reason.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import python_calamine

from roi_xl.calls.errors import CallLogError
from roi_xl.inspect import guard as xlsx_guard

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
CHUNK = 1024 * 1024


@dataclass
class LoadedLog:
    """What the loader learnt: the header, the malformed records, how lines were found."""

    header: list[str]
    rows: int  # rows in ``raw``
    line_sql: str = "r.rowid + 2"  # the line of a row of ``raw r``...
    line_join: str = ""  # ... with this join, if any
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    lines_exact: bool = True


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


ColumnChooser = Callable[[list[str]], list[str]]
"""Given the file's header, the columns worth loading (and the place to refuse the file)."""


def load_log(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    choose: ColumnChooser,
    encoding: str = "utf-8",
    names: list[str] | None = None,
) -> LoadedLog:
    """Create ``raw`` in ``con`` from the file at ``path``, and say how to find each row's line.

    Only the columns ``choose`` returns are loaded from a CSV or Parquet file: a
    call-tracking export has dozens, the analysis needs a handful. ``names`` reads a CSV
    file that has no header line (Asterisk's Master.csv) with these column names.
    """
    if not path.exists():
        raise CallLogError(f"{path}: no such file")
    if not path.is_file():
        raise CallLogError(f"{path}: not a file")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _load_xlsx(con, path, choose)
    if suffix in PARQUET_SUFFIXES:
        return _load_parquet(con, path, choose)
    if suffix in (".xls", ".xlsb", ".ods", ".xlsm"):
        raise CallLogError(
            f"{path}: a {suffix} file cannot be read; save it as .xlsx or CSV (UTF-8)"
        )
    return _load_csv(con, path, choose, encoding, names)


def first_record(path: Path, encoding: str = "utf-8") -> list[str]:
    """The fields of the first non-blank line of a CSV file (to recognise a headerless one)."""
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        for line in iter(lambda: handle.readline(CHUNK), ""):
            if line.strip("\r\n\ufeff"):
                return next(csv.reader([line.lstrip("\ufeff")]), [])
    return []


# ------------------------------------------------------------------ CSV


def _load_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    choose: ColumnChooser,
    encoding: str,
    names: list[str] | None = None,
) -> LoadedLog:
    _check_not_empty(path)
    header_lines = 0 if names else 1
    shape = (
        f"header = false, names = [{', '.join(quote_literal(n) for n in names)}], quote = '\"'"
        if names
        else "header = true"
    )
    source = (
        f"read_csv({quote_literal(str(path))}, {shape}, all_varchar = true, "
        f"store_rejects = true, encoding = '{encoding}')"
    )
    try:
        header = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        wanted = ", ".join(quote_identifier(name) for name in choose(header))
        con.execute(f"CREATE TABLE raw AS SELECT {wanted} FROM {source}")
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise CallLogError(f"{path}: cannot be read as CSV ({first})") from None
    rows = _count(con, "raw")
    rejects = con.execute(
        "SELECT min(byte_position), min(line), string_agg(error_message, '; ') "
        "FROM reject_errors GROUP BY scan_id, file_id, line ORDER BY 1"
    ).fetchall()
    physical = _physical_lines(path) if encoding != "utf-16" else None
    exact, line_sql, line_join = True, "l.line", "JOIN raw_line l ON l.rid = r.rowid"
    first = 1 + header_lines
    if physical == header_lines + rows + len(rejects):
        # One record per line, no blank line: record k is on line k + header_lines.
        reject_lines = [int(line) for _, line, _ in rejects]
        if reject_lines:
            con.execute(
                "CREATE TABLE raw_line AS SELECT row_number() OVER (ORDER BY l) - 1 AS rid, "
                f"l AS line FROM range({first}, {rows + len(rejects) + first}) t(l) "
                "WHERE l NOT IN (SELECT unnest(?::BIGINT[]))",
                [reject_lines],
            )
        else:
            line_sql, line_join = f"r.rowid + {first}", ""
    else:
        # Blank lines or values spanning lines: find where each record starts.
        quote, escape = con.execute(
            "SELECT quote, escape FROM reject_scans LIMIT 1"
        ).fetchone() or (
            '"',
            '"',
        )
        starts = _record_starts(path, encoding, _char(quote, '"'), _char(escape, '"'))
        reject_lines = _lines_at(path, [int(pos) for pos, _, _ in rejects], encoding)
        if reject_lines is None:
            reject_lines = [int(line) for _, line, _ in rejects]
        taken = set(reject_lines)
        lines = [line for line in starts[header_lines:] if line not in taken]
        if len(lines) != rows:
            exact = False
            lines = [rid + first for rid in range(rows)]
        con.execute(
            "CREATE TABLE raw_line AS SELECT unnest(range(len(l))) AS rid, unnest(l) AS line "
            "FROM (SELECT ?::BIGINT[] AS l)",
            [lines],
        )
    malformed = [
        (line, _hint(str(message)))
        for line, (_, _, message) in zip(reject_lines, rejects, strict=True)
    ]
    return LoadedLog(header, rows, line_sql, line_join, malformed, exact)


def _hint(message: str) -> str:
    """DuckDB's reason for a malformed row, with what to do when it is the encoding."""
    if "not utf-8 encoded" in message.lower():
        return message + ' Save the file as UTF-8, or set encoding = "latin-1" in a mapping file'
    return message


def _check_not_empty(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(CHUNK)
    if not head.strip(b" \t\r\n\xef\xbb\xbf\x00\xff\xfe"):
        raise CallLogError(
            f"{path}: the file is empty; a call log needs a header line naming its columns "
            "(e.g. started_at,caller,status)"
        )


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _char(value: Any, default: str) -> str:
    text = str(value or "")
    return text if len(text) == 1 else default


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _physical_lines(path: Path) -> int:
    """Lines in the file as an editor counts them (a last line without newline counts)."""
    count, last = 0, b"\n"
    for chunk in _chunks(path):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    return count + (last != b"\n")


def _lines_at(path: Path, positions: list[int], encoding: str) -> list[int] | None:
    """The line of each byte position (sorted ascending); None where bytes are not lines."""
    if encoding == "utf-16":
        return None
    lines, seen, offset, index = [], 0, 0, 0
    for chunk in _chunks(path):
        while index < len(positions) and positions[index] < offset + len(chunk):
            lines.append(1 + seen + chunk.count(b"\n", 0, positions[index] - offset))
            index += 1
        seen += chunk.count(b"\n")
        offset += len(chunk)
    lines.extend(1 + seen for _ in positions[index:])
    return lines


def _record_starts(path: Path, encoding: str, quote: str, escape: str) -> list[int]:
    """The line on which each CSV record starts (header first), skipping blank lines."""
    starts: list[int] = []
    inside = False
    escaped_quote = escape + quote if escape != quote else None
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if not inside:
                if not line.strip("\r\n\ufeff"):
                    continue
                starts.append(number)
            body = line.replace(escaped_quote, "") if escaped_quote else line
            if body.count(quote) % 2:
                inside = not inside
    return starts


# ------------------------------------------------------------------ Parquet


def _load_parquet(con: duckdb.DuckDBPyConnection, path: Path, choose: ColumnChooser) -> LoadedLog:
    source = f"read_parquet({quote_literal(str(path))}, file_row_number = true)"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        header = [row[0] for row in described if row[0] != "file_row_number"]
        wanted = "".join(quote_identifier(name) + ", " for name in choose(header))
        con.execute(f"CREATE TABLE raw AS SELECT {wanted}file_row_number AS __row FROM {source}")
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise CallLogError(f"{path}: cannot be read as Parquet ({first})") from None
    return LoadedLog(header, _count(con, "raw"), line_sql="r.__row + 2")


# ------------------------------------------------------------------ .xlsx


def _load_xlsx(con: duckdb.DuckDBPyConnection, path: Path, choose: ColumnChooser) -> LoadedLog:
    """The first visible sheet; its first non-empty row is the header; blank rows are skipped."""
    try:
        scan = xlsx_guard.scan(path)
    except xlsx_guard.UnreadableFileError as exc:
        if f"more than {xlsx_guard.MAX_SHEET_ROWS:,} rows" in str(exc):
            raise CallLogError(
                f"{path}: an .xlsx call log is read up to {xlsx_guard.MAX_SHEET_ROWS:,} rows; "
                "export a longer log as CSV or Parquet"
            ) from None
        raise
    visible = [sheet.name for sheet in scan.sheets if sheet.state == "visible"]
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        name = visible[0] if visible else book.sheet_names[0]
        grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        book.close()
    except Exception as exc:  # calamine raises its own error types on damaged files
        raise CallLogError(f"{path}: the sheet cannot be read ({exc})") from None
    rows = [(number, [_cell_text(v) for v in row]) for number, row in enumerate(grid, start=1)]
    rows = [(number, cells) for number, cells in rows if any(c is not None for c in cells)]
    if not rows:
        raise CallLogError(
            f"{path}: sheet '{name}' is empty; a call log needs a header row naming its columns"
        )
    header = _header([c or "" for c in rows[0][1]])
    choose(header)
    data = rows[1:]
    columns = [
        [cells[i] if i < len(cells) else None for _, cells in data] for i in range(len(header))
    ]
    selects = ", ".join(f"unnest(?::VARCHAR[]) AS {quote_identifier(name)}" for name in header)
    con.execute(
        f"CREATE TABLE raw AS SELECT {selects}, unnest(?::BIGINT[]) AS __row",
        [*columns, [number for number, _ in data]],
    )
    return LoadedLog(header, len(data), line_sql="r.__row")


def _header(names: list[str]) -> list[str]:
    """Column names as given, blanks named columnN and repeats numbered, as DuckDB does."""
    header: list[str] = []
    for number, name in enumerate(names, start=1):
        text = name.strip() or f"column{number}"
        candidate, n = text, 1
        while candidate in header:
            candidate, n = f"{text}_{n}", n + 1
        header.append(candidate)
    return header


def _cell_text(value: Any) -> str | None:
    """A cell as the text a CSV export would hold (dates ISO 8601, durations in seconds)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return repr(value.total_seconds())
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)
