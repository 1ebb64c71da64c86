"""The roll-up's parts: per-file summaries, honest totals, and the consolidated workbook."""

from roi_xl.rollup_workbook.columns import plan_sheet
from roi_xl.rollup_workbook.overview_sheet import TemplateSheet
from roi_xl.rollup_workbook.portfolio import Portfolio
from roi_xl.rollup_workbook.spool import Row, Spool
from roi_xl.rollup_workbook.summary import AUDITS, FAST, FULL, Failure, FileSummary, summarise
from roi_xl.rollup_workbook.writer import check_output, sheet_names, write_rollup

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
