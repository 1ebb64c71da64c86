"""Rows and findings parked on disk while files are read, so memory stays flat.

The Portfolio row sits above the file rows and XlsxWriter's constant-memory mode
writes rows in order, so every file must be read before the first row is
written: each file's row and findings wait here, one JSON line each.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from roi_xl.inspect.findings import Finding
from roi_xl.rollup.portfolio import RowValue


@dataclass(frozen=True)
class Row:
    """One workbook's line on its template's sheet."""

    path: str
    scenario: str | None
    errors: int
    warnings: int
    months: int
    values: list[RowValue]  # aligned with the sheet plan's columns


@dataclass(frozen=True)
class SpooledFinding:
    path: str
    template: str
    finding: Finding


class Spool:
    """A temporary folder of JSON lines: one file per template, one for all findings."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="roi_xl-rollup-")
        self._rows: dict[str, IO[str]] = {}
        self._findings = self._open("findings")

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for handle in [*self._rows.values(), self._findings]:
            handle.close()
        self._folder.cleanup()

    def add(self, template: str, row: Row, findings: list[Finding]) -> None:
        if template not in self._rows:
            self._rows[template] = self._open(f"rows-{len(self._rows)}")
        self._rows[template].write(json.dumps(vars(row)) + "\n")  # fields of plain values
        for finding in findings:
            line = {"path": row.path, "template": template, "finding": finding.to_dict()}
            self._findings.write(json.dumps(line) + "\n")

    def rows(self, template: str) -> Iterator[Row]:
        """The rows of one template, in the order they were added."""
        for line in self._replay(self._rows[template]):
            yield Row(**line)

    def findings(self) -> Iterator[SpooledFinding]:
        for line in self._replay(self._findings):
            yield SpooledFinding(line["path"], line["template"], Finding(**line["finding"]))

    def _open(self, name: str) -> IO[str]:
        return (Path(self._folder.name) / f"{name}.jsonl").open("w+", encoding="utf-8")

    @staticmethod
    def _replay(handle: IO[str]) -> Iterator[dict]:
        handle.flush()
        handle.seek(0)
        for line in handle:
            yield json.loads(line)
        handle.seek(0, 2)
