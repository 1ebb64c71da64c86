"""The Overview sheet: each template's counts and headline portfolio figures, and charts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from roi_xl.rollup.additivity import SUM
from roi_xl.rollup.columns import (
    ERRORS_COL,
    FILE_COL,
    FIRST_FILE_ROW,
    NAME_COL,
    PORTFOLIO_ROW,
    WARNINGS_COL,
    SheetPlan,
)
from roi_xl.rollup.portfolio import Portfolio
from roi_xl.rollup.styles import DEFAULT_FORMAT, NUMBER_FORMATS, Styles
from roi_xl.workbook import chart_text
from roi_xl.workbook.context import cached

COUNT_HEADERS = (
    "Template",
    "Title",
    "Sheet",
    "Workbooks",
    "With errors",
    "Errors",
    "Warnings",
    "Locales (several: amounts may mix currencies)",
)
HEADLINE_HEADERS = ("Template", "Headline figure", "Portfolio", "How it is made")
CHART_ROWS = 18


@dataclass(frozen=True)
class TemplateSheet:
    """A template's plan, totals and the name of its sheet."""

    name: str
    plan: SheetPlan
    portfolio: Portfolio


def write_overview(
    workbook: Workbook,
    ws: Worksheet,
    styles: Styles,
    sheets: Sequence[TemplateSheet],
    subtitle: str,
) -> None:
    files = sum(sheet.portfolio.files for sheet in sheets)
    ws.write_string(0, 0, f"Roll-up of {files} workbooks", styles.get("title"))
    ws.write_string(1, 0, subtitle, styles.get("note"))
    row = _counts(ws, styles, sheets, 3)
    row = _headlines(ws, styles, sheets, row + 1)
    for sheet in sheets:
        _charts(workbook, ws, sheet, row + 1)
        row += CHART_ROWS
    for col, width in enumerate((16, 40, 16, 12, 12, 10, 10, 24)):
        ws.set_column(col, col, width)


def _counts(ws: Worksheet, styles: Styles, sheets: Sequence[TemplateSheet], row: int) -> int:
    for col, title in enumerate(COUNT_HEADERS):
        ws.write_string(row, col, title, styles.get("header"))
    text = styles.get("text")
    for sheet in sheets:
        row += 1
        portfolio = sheet.portfolio
        quoted = quote_sheetname(sheet.name)
        ws.write_string(row, 0, sheet.plan.template.key, text)
        ws.write_string(row, 1, sheet.plan.template.title.en, text)
        ws.write_url(row, 2, f"internal:{quoted}!A1", string=sheet.name)
        names = _cells(sheet, FILE_COL)
        errors = _cells(sheet, ERRORS_COL)
        ws.write_formula(row, 3, f"=COUNTA({names})", text, portfolio.files)
        ws.write_formula(row, 4, f'=COUNTIF({errors},">0")', text, portfolio.files_with_errors)
        for col, source, value in (
            (5, ERRORS_COL, portfolio.errors),
            (6, WARNINGS_COL, portfolio.warnings),
        ):
            ref = f"{quoted}!{xl_rowcol_to_cell(PORTFOLIO_ROW, source)}"
            ws.write_formula(row, col, f"={ref}", text, value)
        ws.write_string(row, 7, ", ".join(sorted(portfolio.locales)), text)
    return row + 1


def _headlines(ws: Worksheet, styles: Styles, sheets: Sequence[TemplateSheet], row: int) -> int:
    for col, title in enumerate(HEADLINE_HEADERS):
        ws.write_string(row, col, title, styles.get("header"))
    text = styles.get("text")
    for sheet in sheets:
        plan, values = sheet.plan, sheet.portfolio.values()
        for key in plan.template.headline:
            row += 1
            index = plan.index(key)
            column = plan.columns[index]
            cell = xl_rowcol_to_cell(PORTFOLIO_ROW, plan.col(index))
            ref = f"{quote_sheetname(sheet.name)}!{cell}"
            ws.write_string(row, 0, plan.template.key, text)
            ws.write_string(row, 1, column.label, text)
            ws.write_formula(
                row, 2, f"={ref}", styles.get("portfolio", column.kind), cached(values[index])
            )
            ws.write_string(row, 3, plan.how(column), text)
    return row + 1


def _charts(workbook: Workbook, ws: Worksheet, sheet: TemplateSheet, row: int) -> None:
    """The ranked metric by workbook and, beside it, the first headline size by workbook."""
    plan = sheet.plan
    sizes = [k for k in plan.template.headline if plan.columns[plan.index(k)].totalling.how == SUM]
    last = FIRST_FILE_ROW + max(sheet.portfolio.files, 1) - 1
    for offset, key in enumerate([plan.headline, *sizes[:1]]):
        col = plan.col(plan.index(key))
        column = plan.columns[plan.index(key)]
        chart = workbook.add_chart({"type": "column"})
        chart_text.add_series(
            chart,
            {
                "name": column.label,
                "categories": [sheet.name, FIRST_FILE_ROW, NAME_COL, last, NAME_COL],
                "values": [sheet.name, FIRST_FILE_ROW, col, last, col],
            },
        )
        title = f"{plan.template.key}: {column.key} by workbook"
        chart_text.set_title(chart, title)
        chart.set_y_axis({"num_format": NUMBER_FORMATS.get(column.kind, DEFAULT_FORMAT)})
        chart.set_legend({"none": True})
        chart.set_size({"width": 620, "height": 320})
        ws.insert_chart(row, offset * 5, chart)


def _cells(sheet: TemplateSheet, col: int) -> str:
    last = FIRST_FILE_ROW + max(sheet.portfolio.files, 1) - 1
    first, end = xl_rowcol_to_cell(FIRST_FILE_ROW, col), xl_rowcol_to_cell(last, col)
    return f"{quote_sheetname(sheet.name)}!{first}:{end}"
