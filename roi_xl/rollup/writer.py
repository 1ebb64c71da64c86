"""Write the roll-up workbook atomically, in XlsxWriter's constant-memory mode.

Like ``roi-xl new``, the file is written under a temporary name beside the
target and renamed when complete, and an existing file is only replaced when
the caller says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import xlsxwriter

from roi_xl import __version__
from roi_xl.files import replacing
from roi_xl.rollup.columns import FILE_COL, NAME_COL, TITLE_ROWS
from roi_xl.rollup.findings_sheet import HEADER_ROW, write_findings_sheet
from roi_xl.rollup.overview_sheet import TemplateSheet, write_overview
from roi_xl.rollup.spool import Spool
from roi_xl.rollup.styles import Styles
from roi_xl.rollup.summary import ROLLUP_PROPERTY, Failure
from roi_xl.rollup.template_sheet import write_template_sheet
from roi_xl.workbook.printing import print_setup
from roi_xl.workbook.worksheet import FastWorksheet
from roi_xl.workbook.writer import check_target

OVERVIEW, FINDINGS = "Overview", "Findings"
# The roll-up speaks English whatever its workbooks' locales.
PAPER, PAGE_TEXT = "Letter", "Page {page} of {pages}"
MAX_SHEET_NAME = 31

_OPTIONS = {
    "constant_memory": True,
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
}


def check_output(output: Path, force: bool) -> None:
    """Refuse a target that is not .xlsx, exists without ``force`` or has no folder."""
    check_target(output, force)


def sheet_names(templates: Sequence[str]) -> dict[str, str]:
    """A sheet name per template key: at most 31 characters, unique whatever the case."""
    taken = {OVERVIEW.casefold(), FINDINGS.casefold()}
    names = {}
    for key in templates:
        name, number = key[:MAX_SHEET_NAME], 1
        while name.casefold() in taken:
            number += 1
            suffix = f" ({number})"
            name = key[: MAX_SHEET_NAME - len(suffix)] + suffix
        taken.add(name.casefold())
        names[key] = name
    return names


def write_rollup(
    output: Path,
    sheets: Sequence[TemplateSheet],
    spool: Spool,
    failures: Sequence[Failure],
    *,
    force: bool,
    audit_level: str,
) -> int:
    """Write the roll-up to ``output``; return the number of rows on the Findings sheet."""
    check_output(output, force)
    with replacing(output) as temporary:
        workbook = xlsxwriter.Workbook(str(temporary), _OPTIONS)
        styles = Styles(workbook)
        overview = workbook.add_worksheet(OVERVIEW, worksheet_class=FastWorksheet)
        pages = [
            workbook.add_worksheet(sheet.name, worksheet_class=FastWorksheet) for sheet in sheets
        ]
        findings = workbook.add_worksheet(FINDINGS, worksheet_class=FastWorksheet)
        subtitle = (
            f"Made by roi_xl {__version__} on {dt.date.today().isoformat()}, {audit_level} audit. "
            f"{len(failures)} file(s) could not be read: see {FINDINGS}."
        )
        write_overview(workbook, overview, styles, sheets, subtitle)
        print_setup(overview, PAPER, PAGE_TEXT)
        for page, sheet in zip(pages, sheets, strict=True):
            rows = spool.rows(sheet.plan.template.key)
            write_template_sheet(page, styles, sheet.plan, sheet.portfolio, rows)
            print_setup(page, PAPER, PAGE_TEXT, title_rows=TITLE_ROWS, fit_width=False)
            page.repeat_columns(FILE_COL, NAME_COL)
        count = write_findings_sheet(findings, styles, failures, spool.findings(), audit_level)
        print_setup(findings, PAPER, PAGE_TEXT, title_rows=(HEADER_ROW, HEADER_ROW))
        workbook.set_properties({"title": "roi_xl roll-up", "author": "roi_xl"})
        workbook.set_custom_property(ROLLUP_PROPERTY, __version__)
        overview.activate()
        workbook.close()
    return count
