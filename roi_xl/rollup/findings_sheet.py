"""The Findings sheet: files that could not be read, then every file's audit findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from xlsxwriter.worksheet import Worksheet

from roi_xl.rollup.spool import SpooledFinding
from roi_xl.rollup.styles import Styles
from roi_xl.rollup.summary import Failure
from roi_xl.workbook.printing import wrapped_height

HEADERS = ("File", "Template", "Severity", "Sheet", "Cell", "Rule", "Found", "Expected", "Message")
WIDTHS = (36, 14, 10, 14, 8, 22, 18, 18, 60)
HEADER_ROW = 2
UNREADABLE = "unreadable"


def write_findings_sheet(
    ws: Worksheet,
    styles: Styles,
    failures: Sequence[Failure],
    findings: Iterable[SpooledFinding],
    audit_level: str,
) -> int:
    """Write the sheet top to bottom; return the number of finding rows (failures included)."""
    ws.write_string(0, 0, "Findings", styles.get("title"))
    ws.write_string(
        1,
        0,
        f"Files that could not be read come first ({UNREADABLE}), then each file's findings "
        f"({audit_level} audit; 'roi-xl audit FILE' gives the full one for a single file).",
        styles.get("note"),
    )
    for col, (title, width) in enumerate(zip(HEADERS, WIDTHS, strict=True)):
        ws.write_string(HEADER_ROW, col, title, styles.get("header"))
        ws.set_column(col, col, width)
    row = HEADER_ROW + 1
    text = styles.get("text")
    wrap = styles.get("text_wrap")
    for failure in failures:
        ws.set_row(row, wrapped_height(failure.reason, WIDTHS[-1]))
        for col, value in enumerate((failure.path, "", UNREADABLE, "", "", UNREADABLE, "", "")):
            ws.write_string(row, col, value, text)
        ws.write_string(row, len(HEADERS) - 1, failure.reason, wrap)
        row += 1
    for item in findings:
        f = item.finding
        ws.set_row(row, wrapped_height(f.message, WIDTHS[-1]))
        cells = (item.path, item.template, f.severity, f.sheet, f.cell, f.rule, f.found, f.expected)
        for col, value in enumerate(cells):
            ws.write_string(row, col, value or "", text)
        ws.write_string(row, len(HEADERS) - 1, f.message, wrap)
        row += 1
    ws.freeze_panes(HEADER_ROW + 1, 1)
    ws.autofilter(HEADER_ROW, 0, max(row - 1, HEADER_ROW), len(HEADERS) - 1)
    return row - HEADER_ROW - 1
