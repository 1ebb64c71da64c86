"""Many workbooks into one: per-file summaries read in worker processes, honest totals, and
the consolidated workbook (``consolidate.rollup`` runs it all)."""

from roi_xl.rollup.columns import plan_sheet
from roi_xl.rollup.overview_sheet import TemplateSheet
from roi_xl.rollup.portfolio import Portfolio
from roi_xl.rollup.spool import Row, Spool
from roi_xl.rollup.summary import AUDITS, FAST, FULL, Failure, FileSummary, summarise
from roi_xl.rollup.writer import check_output, sheet_names, write_rollup

__all__ = [
    "AUDITS",
    "FAST",
    "FULL",
    "Failure",
    "FileSummary",
    "Portfolio",
    "Row",
    "Spool",
    "TemplateSheet",
    "check_output",
    "plan_sheet",
    "sheet_names",
    "summarise",
    "write_rollup",
]
