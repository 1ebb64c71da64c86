"""The raw material of a read: a workbook's two views (values and formulas) and its layout.

The reader loads it; the audit checks it. Neither needs the other to describe it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine

from roi_xl.inspect.findings import Finding
from roi_xl.inspect.formula_book import FormulaBook, read_formula_book
from roi_xl.inspect.guard import PackageScan, UnreadableFileError
from roi_xl.model.excel_errors import from_text
from roi_xl.model.template import Template
from roi_xl.workbook.layout import Layout, cell

Grid = list[list[Any]]


@dataclass
class LoadedWorkbook:
    """The raw material of a read: both views of the file and the expected layout."""

    path: Path
    package: PackageScan
    formulas: FormulaBook
    values: dict[str, Grid]
    template: Template
    layout: Layout
    sheet_names: dict[str, str]  # expected name -> name found in the file
    rows: dict[str, dict[str, int]]  # expected sheet -> key -> row found
    findings: list[Finding] = field(default_factory=list)

    def value(self, sheet: str, row: int, col: int) -> Any:
        """The value of a cell (by expected sheet name), "" when empty or absent."""
        actual = self.sheet_names.get(sheet)
        grid = self.values.get(actual or "")
        if grid is None or row >= len(grid) or col >= len(grid[row]):
            return ""
        value = grid[row][col]
        if value == "" and actual:
            part = self.package.sheet(actual)
            if part and cell(row, col) in part.error_cells:
                return from_text(part.error_cells[cell(row, col)])
        return value


def load_formulas(path: Path, package: PackageScan) -> FormulaBook:
    """Formulas, number formats, names and properties, read as openpyxl reads them;
    refused with a message when damaged."""
    return read_formula_book(path, package)


def load_values(
    path: Path, sheets: Collection[str] | None = None, formulas: FormulaBook | None = None
) -> dict[str, Grid]:
    """The values of every sheet, or of ``sheets`` only, as grids anchored at A1
    (python-calamine), but for the sheets the formula reader already read from their shape
    and numbers; a sheet whose shape waits for its values gets it."""
    known = formulas.grids if formulas is not None else {}
    drafts = formulas.drafts if formulas is not None else {}
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        grids: dict[str, Grid] = {}
        for name in book.sheet_names:
            if sheets is not None and name not in sheets:
                continue
            grid = known.get(name)
            if grid is None:
                rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
                grid = [list(row) for row in rows]
                if name in drafts:
                    drafts.pop(name).complete(grid)
            grids[name] = grid
        book.close()
        return grids
    except Exception as exc:  # calamine raises its own error types on damaged files
        raise UnreadableFileError(f"{path}: the values cannot be read ({exc})") from None
