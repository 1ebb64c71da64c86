"""One template's sheet: a row of values per workbook under a Portfolio row of formulas."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from roi_xl.rollup.columns import (
    ERRORS_COL,
    FILE_COL,
    FIRST_FILE_ROW,
    FIXED,
    GROUP_ROW,
    GROUP_TITLES,
    HOW_ROW,
    KEY_ROW,
    LABEL_ROW,
    MONTHS_COL,
    NAME_COL,
    PORTFOLIO_ROW,
    RANK_COL,
    SCENARIO_COL,
    WARNINGS_COL,
    SheetPlan,
)
from roi_xl.rollup.portfolio import Portfolio, formulas
from roi_xl.rollup.spool import Row
from roi_xl.rollup.styles import Styles
from roi_xl.workbook.context import cached


def write_template_sheet(
    ws: Worksheet, styles: Styles, plan: SheetPlan, portfolio: Portfolio, rows: Iterable[Row]
) -> None:
    """Write the sheet top to bottom (the workbook is in constant-memory mode)."""
    model = plan.template
    ws.write_string(0, 0, f"{model.title.en}: {portfolio.files} workbooks", styles.get("title"))
    ws.write_string(
        1,
        0,
        f"Template {model.key}. Each row holds one workbook's selected scenario as values read "
        "from it; its outputs are recomputed by roi_xl from its inputs. The Portfolio row is "
        "formulas: sums of sizes, ratios recomputed from those sums, and labelled averages.",
        styles.get("note"),
    )
    _headers(ws, styles, plan)
    _portfolio_row(ws, styles, plan, portfolio)
    ranked_col = plan.col(plan.index(plan.headline))
    last = FIRST_FILE_ROW + max(portfolio.files, 1) - 1
    for offset, row in enumerate(rows):
        _file_row(ws, styles, plan, portfolio, FIRST_FILE_ROW + offset, row, ranked_col, last)
    ws.freeze_panes(FIRST_FILE_ROW, NAME_COL + 1)
    ws.set_column(FILE_COL, FILE_COL, 36)
    ws.set_column(NAME_COL, NAME_COL, 22)
    ws.set_column(SCENARIO_COL, RANK_COL, 10)
    ws.set_column(len(FIXED), len(FIXED) + len(plan.columns) - 1, 14)


def _headers(ws: Worksheet, styles: Styles, plan: SheetPlan) -> None:
    ws.write_string(GROUP_ROW, 0, "Workbook", styles.get("group"))
    groups = [column.group for column in plan.columns]
    for index, group in enumerate(groups):
        if index == 0 or groups[index - 1] != group:
            ws.write_string(GROUP_ROW, plan.col(index), GROUP_TITLES[group], styles.get("group"))
    ws.set_row(LABEL_ROW, 45)
    named = [*FIXED, *((c.key, c.label) for c in plan.columns)]
    for row, role, position in ((LABEL_ROW, "header", 1), (KEY_ROW, "key", 0)):
        for col, texts in enumerate(named):  # one row after the other: constant-memory mode
            ws.write_string(row, col, texts[position], styles.get(role))
    ws.set_row(HOW_ROW, 36)
    ws.write_string(HOW_ROW, FILE_COL, "How the Portfolio figure is made", styles.get("how"))
    ws.write_string(HOW_ROW, RANK_COL, f"RANK by {plan.headline}, 1 = highest", styles.get("how"))
    for index, column in enumerate(plan.columns):
        ws.write_string(HOW_ROW, plan.col(index), plan.how(column), styles.get("how"))


def _portfolio_row(ws: Worksheet, styles: Styles, plan: SheetPlan, portfolio: Portfolio) -> None:
    style = styles.get("portfolio")
    last = FIRST_FILE_ROW + max(portfolio.files, 1) - 1
    ws.write_string(PORTFOLIO_ROW, FILE_COL, "Portfolio", style)
    ws.write_string(PORTFOLIO_ROW, NAME_COL, f"{portfolio.files} workbooks", style)
    for col, total in ((ERRORS_COL, portfolio.errors), (WARNINGS_COL, portfolio.warnings)):
        first, end = xl_rowcol_to_cell(FIRST_FILE_ROW, col), xl_rowcol_to_cell(last, col)
        ws.write_formula(PORTFOLIO_ROW, col, f"=SUM({first}:{end})", style, float(total))
    for col in (SCENARIO_COL, MONTHS_COL, RANK_COL):
        ws.write_blank(PORTFOLIO_ROW, col, None, style)
    texts, values = formulas(plan, portfolio.files), portfolio.values()
    for index, column in enumerate(plan.columns):
        kind_style = styles.get("portfolio", column.kind)
        ws.write_formula(
            PORTFOLIO_ROW, plan.col(index), "=" + texts[index], kind_style, cached(values[index])
        )


def _file_row(
    ws: Worksheet,
    styles: Styles,
    plan: SheetPlan,
    portfolio: Portfolio,
    r: int,
    row: Row,
    ranked_col: int,
    last: int,
) -> None:
    text = styles.get("text")
    ws.write_string(r, FILE_COL, row.path, text)
    ws.write_string(r, NAME_COL, Path(row.path).stem, text)
    ws.write_string(r, SCENARIO_COL, row.scenario or "(selector invalid)", text)
    ws.write_number(r, ERRORS_COL, row.errors, text)
    ws.write_number(r, WARNINGS_COL, row.warnings, text)
    ws.write_number(r, MONTHS_COL, row.months, text)
    here = xl_rowcol_to_cell(r, ranked_col)
    first = xl_rowcol_to_cell(FIRST_FILE_ROW, ranked_col, row_abs=True)
    end = xl_rowcol_to_cell(last, ranked_col, row_abs=True)
    ranked = row.values[plan.index(plan.headline)]
    ws.write_formula(
        r,
        RANK_COL,
        f'=IF(ISNUMBER({here}),RANK({here},{first}:{end}),"")',
        text,
        cached(portfolio.rank(ranked)),
    )
    for index, value in enumerate(row.values):
        col = plan.col(index)
        if isinstance(value, float):
            ws.write_number(r, col, value, styles.get("value", plan.columns[index].kind))
        elif isinstance(value, str):
            ws.write_string(r, col, value, text)
