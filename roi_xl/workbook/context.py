"""What every sheet writer needs: the workbook, its layout, styles and values.

The writers store cells through XlsxWriter's undecorated ``_write_*`` methods: they address
cells by row and column already, and the public methods' A1-notation wrapper, which does
nothing else, costs a third of each of the thousands of writes a workbook makes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from roi_xl.errors import TemplateError
from roi_xl.locale import Locale
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.expr import EXCEL_MAX_FORMULA_CHARS
from roi_xl.model.template import Template
from roi_xl.workbook.layout import Layout, cell
from roi_xl.workbook.printing import print_setup
from roi_xl.workbook.styles import Styles
from roi_xl.workbook.values import Cell, WorkbookValues
from roi_xl.workbook.worksheet import FastWorksheet


@dataclass
class Context:
    workbook: Workbook
    template: Template
    locale: Locale
    layout: Layout
    styles: Styles
    values: WorkbookValues
    password: str
    kept: dict[str, object] = field(default_factory=dict)  # what the workbook's sheets share

    @property
    def language(self) -> str:
        return self.locale.language

    def sheet(self, name: str) -> Worksheet:
        """The worksheet called ``name`` (added in flow order by the writer)."""
        worksheet = self.workbook.get_worksheet_by_name(name)
        if worksheet is None:
            raise KeyError(name)
        return worksheet

    def heading(self, worksheet: Worksheet, name: str) -> None:
        """Title (the template's, then the sheet's) and the line saying what to do here."""
        title = f"{self.template.title[self.language]} - {self.locale[name + '_title']}"
        worksheet._write_string(0, 0, title, self.styles.get("title"))
        help_text = self.locale.text.get(name + "_help")
        if help_text:
            worksheet._write_string(1, 0, help_text, self.styles.get("subtitle"))

    def headers(self, worksheet: Worksheet, row: int, texts: list[str]) -> None:
        """A header row, tall enough for wrapped titles."""
        worksheet.set_row(row, 30)
        for col, text in enumerate(texts):
            worksheet._write_string(row, col, text, self.styles.get("header"))

    def protect(self, worksheet: Worksheet) -> None:
        """Protect the sheet (no password unless asked): formulas locked, inputs open."""
        worksheet.protect(
            self.password,
            {
                "select_locked_cells": True,
                "select_unlocked_cells": True,
                "format_columns": True,
                "format_rows": True,
            },
        )

    def print_setup(
        self,
        worksheet: Worksheet,
        title_rows: tuple[int, int] | None = None,
        landscape: bool = True,
        fit_width: bool = True,
    ) -> None:
        """The locale's paper, one page wide (unless ``fit_width`` is off), ``title_rows`` on
        every page, the footer."""
        print_setup(
            worksheet,
            self.locale.paper,
            self.locale["footer_page"],
            title_rows=title_rows,
            landscape=landscape,
            fit_width=fit_width,
        )

    def formula(
        self, worksheet: Worksheet, row: int, col: int, formula: str, style: Format, value: Cell
    ) -> None:
        """Write a formula with the value the engine computed for it; never one Excel refuses."""
        if len(formula) >= EXCEL_MAX_FORMULA_CHARS:
            raise TemplateError(
                f"{self.template.path}: the formula of {worksheet.get_name()}!{cell(row, col)} "
                f"would be {len(formula) + 1:,} characters long; Excel allows "
                f"{EXCEL_MAX_FORMULA_CHARS:,}"
            )
        worksheet._write_formula(
            row, col, "=" + formula, style, value if value.__class__ is float else cached(value)
        )

    def define_name(self, name: str, formula: str) -> None:
        """``workbook.define_name`` of a workbook-level name: a name XlsxWriter has taken
        once (its checks read the name alone) is stored again without them."""
        if name in _GLOBAL_NAMES:
            self.workbook.defined_names.append([name, -1, formula.lstrip("="), False])
            return
        before = len(self.workbook.defined_names)
        self.workbook.define_name(name, formula)
        if "!" not in name and len(self.workbook.defined_names) == before + 1:
            if len(_GLOBAL_NAMES) >= _GLOBAL_NAMES_LIMIT:
                _GLOBAL_NAMES.clear()
            _GLOBAL_NAMES.add(name)

    def formula_run(
        self,
        worksheet: Worksheet,
        row: int,
        first_col: int,
        formulas: Sequence[str],
        style: Format,
        values: Sequence[Cell],
    ) -> None:
        """``formula`` for each of ``formulas`` from ``first_col`` on along ``row``, stored in
        one go when the worksheet can (the fast one the writer adds)."""
        if not isinstance(worksheet, FastWorksheet):
            for offset, (formula, value) in enumerate(zip(formulas, values, strict=True)):
                self.formula(worksheet, row, first_col + offset, formula, style, value)
            return
        for offset, formula in enumerate(formulas):
            if len(formula) >= EXCEL_MAX_FORMULA_CHARS:
                self.formula(worksheet, row, first_col + offset, formula, style, 0.0)  # refuses
        worksheet.write_formula_run(
            row, first_col, ["=" + f for f in formulas], style, [cached(v) for v in values]
        )


_GLOBAL_NAMES: set[str] = set()  # workbook-level names XlsxWriter has taken
_GLOBAL_NAMES_LIMIT = 20_000

# (template id, locale, sheet names, what) -> (template, formula); the template is held so
# its id cannot be reused while the entry lives.
_MADE: dict[tuple[object, ...], tuple[object, str]] = {}
_MADE_LIMIT = 20_000


def made_once(ctx: Context, what: tuple[object, ...], make: Callable[[], str]) -> str:
    """A formula the same for every workbook of one template, locale and period (which the
    sheet names spell), ``what`` saying which: rendered for the first, then reused."""
    key = (id(ctx.template), ctx.locale.code, _sheet_names(ctx.layout), *what)
    kept = _MADE.get(key)
    if kept is not None and kept[0] is ctx.template:
        return kept[1]
    if len(_MADE) >= _MADE_LIMIT:
        _MADE.clear()
    formula = make()
    _MADE[key] = (ctx.template, formula)
    return formula


_SHEET_NAMES: dict[int, tuple[Layout, tuple[str, ...]]] = {}  # id(layout) -> it, its sheets
_SHEET_NAMES_LIMIT = 64


def _sheet_names(layout: Layout) -> tuple[str, ...]:
    """The layout's sheet names in order, made once per layout (held, so that its id names
    it): ``made_once`` asks for them with every formula."""
    kept = _SHEET_NAMES.get(id(layout))
    if kept is not None and kept[0] is layout:
        return kept[1]
    if len(_SHEET_NAMES) >= _SHEET_NAMES_LIMIT:
        _SHEET_NAMES.clear()
    names = tuple(layout.sheet_order)
    _SHEET_NAMES[id(layout)] = (layout, names)
    return names


def cached(value: Cell | None) -> float | str:
    """The cached value as XlsxWriter wants it: number, error text or ""."""
    if value is None:
        return ""
    if isinstance(value, ExcelError):
        return value.text
    return value
