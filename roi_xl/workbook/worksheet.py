"""A worksheet that prepares formulas in one pass instead of thirty.

XlsxWriter's ``_prepare_formula`` runs one regular-expression substitution per
Excel 365 function name on every formula, though the generated formulas use
none of them: on the Sensitivity sheet that is most of the writing time. This
subclass checks once, with a single pattern matching whatever any of those
substitutions would touch, and hands the formula to XlsxWriter's own code
whenever that check fires, so the file is byte for byte what XlsxWriter writes.

The same holds for the two commonest cells, a formula with a number cached and
a number, both with a format: they are written in one step, and any other cell
(or one whose text needs XML escapes) goes through XlsxWriter's own code. A
formula that has passed ``write_formula``'s checks once is stored again without
them (the same formulas come back along a row, in every month's tab and in every
workbook of a batch), and runs of formulas along a row (the Timeline's months)
are stored in one go.

Each cell holding a text (a string, or a formula whose cached value is one) is also
kept in ``text_cells`` as it is stored, so the column fitting need not look through
every cell of the sheet for the few that hold texts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from math import isfinite
from typing import Any, NamedTuple

from xlsxwriter.format import Format
from xlsxwriter.sharedstrings import SharedStringTable
from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import (
    CellFormulaTuple,
    CellNumberTuple,
    CellStringTuple,
    Worksheet,
    re_dynamic_function,
)
from xlsxwriter.xmlwriter import xml_escapes

from roi_xl.model.excel_errors import ERROR_TEXTS, from_text

# Every name XlsxWriter's dynamic-function substitutions look for, each followed by "(".
# SINGLE is matched after any non-space character, as XlsxWriter's own pattern does.
_DYNAMIC_NAMES = (
    "ANCHORARRAY",
    "BYCOL",
    "BYROW",
    "CHOOSECOLS",
    "CHOOSEROWS",
    "DROP",
    "EXPAND",
    "FILTER",
    "HSTACK",
    "LAMBDA",
    "MAKEARRAY",
    "MAP",
    "RANDARRAY",
    "REDUCE",
    "SCAN",
    "SEQUENCE",
    "SORT",
    "SORTBY",
    "SWITCH",
    "TAKE",
    "TEXTSPLIT",
    "TOCOL",
    "TOROW",
    "UNIQUE",
    "VSTACK",
    "WRAPCOLS",
    "WRAPROWS",
    "XLOOKUP",
)
_NEEDS_XLSXWRITER = re.compile(r"\b(?:" + "|".join(_DYNAMIC_NAMES) + r")\(|\SINGLE\(|_xlfn\.")


_PREPARED: dict[str, str] = {}  # formula -> as stored, for formulas XlsxWriter leaves alone
_CLEAN: set[str] = set()  # formulas as stored that need no XML escape
_PREPARED_LIMIT = 50_000
_new_tuple = tuple.__new__  # what a namedtuple's own __new__ calls


TextCell = tuple[int, int, CellStringTuple | CellFormulaTuple, str]  # row, col, cell, text
TEXT_FIELDS = 5  # each text cell kept as its row, column, cell, text and format, in a row


class FastWorksheet(Worksheet):
    """XlsxWriter's worksheet with a single-pass check before its formula rewriting, which
    keeps each text cell it stores in ``text_cells``: its row, column, cell, text and format
    one after the other (a flat list: sliced by field in one step), in the order stored. A
    cell written over stays listed, and is no longer the one in ``table``."""

    def __init__(self) -> None:
        super().__init__()
        self.text_cells: list[Any] = []

    def write_formula_run(
        self,
        row: int,
        first_col: int,
        formulas: Sequence[str],
        cell_format: Format,
        values: Sequence[float | str],
    ) -> None:
        """``write_formula`` for each formula from ``first_col`` on along ``row``, with what
        that would store; a formula it would treat specially goes through it."""
        last_col = first_col + len(formulas) - 1
        if self._check_dimensions(row, first_col) or self._check_dimensions(row, last_col):
            raise IndexError(f"row {row}, columns {first_col}-{last_col}: outside the sheet")
        cells = self.table[row]
        for col, formula, value in zip(
            range(first_col, last_col + 1), formulas, values, strict=True
        ):
            stored = _PREPARED.get(formula)
            if stored is None or self.use_future_functions or self.constant_memory:
                self._write_formula(row, col, formula, cell_format, value)
                continue
            cell = cells[col] = _new_tuple(CellFormulaTuple, (stored, cell_format, value))
            if isinstance(value, str):
                self.text_cells += (row, col, cell, value, cell_format)

    def _write_formula(
        self,
        row: int,
        col: int,
        formula: str,
        cell_format: Format | None = None,
        value: object = 0,
    ) -> int:
        """XlsxWriter's own, except that a formula it has stored unchanged before (but for
        its "=") is stored again without its checks: a workbook's formulas repeat across its
        rows and across the workbooks of a batch."""
        stored = _PREPARED.get(formula)
        if stored is None or self.use_future_functions or self.constant_memory:
            result = super()._write_formula(row, col, formula, cell_format, value)
            if result != 0:
                return result
            cell = self.table[row][col]
            if type(cell) is not CellFormulaTuple:
                return result  # an array formula
            if not self.use_future_functions and _plain(formula):
                _remember(formula, cell.formula)
            if isinstance(value, str):
                self.text_cells += (row, col, cell, value, cell_format)
            return result
        if self._check_dimensions(row, col):
            return -1
        cell = self.table[row][col] = _new_tuple(CellFormulaTuple, (stored, cell_format, value))
        if isinstance(value, str):
            self.text_cells += (row, col, cell, value, cell_format)
        return 0

    def _write_string(
        self, row: int, col: int, string: str, cell_format: Format | None = None
    ) -> int:
        """XlsxWriter's own, the cell kept in ``text_cells`` too; a string long enough to be
        cut to Excel's limit (or any in constant memory) is stored by XlsxWriter itself."""
        if self.constant_memory or len(string) > self.xls_strmax // 2:
            result = super()._write_string(row, col, string, cell_format)
            if result != -1 and not self.constant_memory:
                cell = self.table[row][col]
                text = _shared(self.str_table, cell.string)
                self.text_cells += (row, col, cell, text, cell_format)
            return result
        if self._check_dimensions(row, col):
            return -1
        index = self.str_table._get_shared_string_index(string)
        cell = self.table[row][col] = _new_tuple(CellStringTuple, (index, cell_format))
        self.text_cells += (row, col, cell, string, cell_format)
        return 0

    def _write_cell(self, row: int, col: int, cell: object) -> None:
        kind = type(cell)
        if kind is CellFormulaTuple and cell.format is not None:  # type: ignore[attr-defined]
            value = cell.value  # type: ignore[attr-defined]
            formula = cell.formula  # type: ignore[attr-defined]
            if type(value) is float and (formula in _CLEAN or not xml_escapes.search(formula)):
                index = cell.format._get_xf_index()  # type: ignore[attr-defined]
                self.fh.write(
                    f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{index}">'
                    f"<f>{formula}</f><v>{value}</v></c>"
                )
                return
        elif kind is CellNumberTuple and cell.format is not None:  # type: ignore[attr-defined]
            index = cell.format._get_xf_index()  # type: ignore[attr-defined]
            self.fh.write(
                f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{index}">'
                f"<v>{cell.number:.16G}</v></c>"  # type: ignore[attr-defined]
            )
            return
        super()._write_cell(row, col, cell)

    def _calculate_spans(self) -> None:
        """XlsxWriter's spans (each block of 16 rows: its first and last column used), from
        each row's first and last cell instead of a look-up of every column of every row."""
        rows, cols = (self.dim_rowmin, self.dim_rowmax), (self.dim_colmin, self.dim_colmax)
        if self.comments or None in rows or None in cols:
            super()._calculate_spans()
            return
        blocks: dict[int, tuple[int, int]] = {}
        for row, cells in self.table.items():
            if not cells or not rows[0] <= row <= rows[1]:
                continue
            first, last = min(cells), max(cells)
            if first < cols[0] or last > cols[1]:
                super()._calculate_spans()
                return
            block = blocks.get(row // 16)
            if block is not None:
                first, last = min(first, block[0]), max(last, block[1])
            blocks[row // 16] = (first, last)
        self.row_spans = {
            index: f"{first + 1}:{last + 1}" for index, (first, last) in sorted(blocks.items())
        }

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        if (
            expand_future_functions
            or self.use_future_functions
            or _NEEDS_XLSXWRITER.search(formula)
        ):
            return super()._prepare_formula(formula, expand_future_functions)
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula


def _shared(table: SharedStringTable, index: int) -> str:
    """The shared string at ``index``."""
    return next(text for text, at in table.string_table.items() if at == index)


def _remember(formula: str, stored: str) -> None:
    """Keep how ``formula`` is stored, and whether it needs XML escapes."""
    if len(_PREPARED) >= _PREPARED_LIMIT:
        _PREPARED.clear()
        _CLEAN.clear()
    _PREPARED[formula] = stored
    if not xml_escapes.search(stored):
        _CLEAN.add(stored)


def _plain(formula: str) -> bool:
    """True when ``write_formula`` stores the formula with only its "=" stripped: no dynamic
    array function, no array braces, nothing XlsxWriter rewrites."""
    return not (
        re_dynamic_function.search(formula)
        or _NEEDS_XLSXWRITER.search(formula)
        or formula.startswith("{")
        or formula.endswith("}")
    )


class ReferenceCell(NamedTuple):
    """A cell as the generator writes it: its formula (or None), its value and number format
    (a named tuple: a workbook holds about 16,000, made on every read)."""

    formula: str | None
    value: object
    number_format: str | int = "General"  # XlsxWriter's code, or the index of a built-in one


def _ignored(*args: object, **kwargs: object) -> int:
    """A worksheet method whose effect a reference does not hold."""
    return 0


class ReferenceWorksheet(FastWorksheet):
    """A worksheet never written to a file: each formula, number, text and formatted blank
    cell is stored as the reader's ``ReferenceCell`` directly, in XlsxWriter's own table
    (so in its order), without the shared strings and cell tuples a file needs. Anything
    else (dates, array formulas, a number that is not finite...) is stored by XlsxWriter.
    What a reference never holds (validations, conditional formats, widths, charts,
    printing, protection) is not even built: it is compared cell by cell and name by name."""

    conditional_format = data_validation = freeze_panes = insert_chart = _ignored
    protect = set_column = set_footer = set_row = _ignored

    # The writers address cells by row and column: past XlsxWriter's A1-notation wrapper.
    def write_formula(self, row: int | str, *args: Any, **kwargs: Any) -> int:
        if row.__class__ is int:
            return self._write_formula(row, *args, **kwargs)  # type: ignore[arg-type]
        return super().write_formula(row, *args, **kwargs)  # type: ignore[arg-type]

    def write_number(self, row: int | str, *args: Any, **kwargs: Any) -> int:
        if row.__class__ is int:
            return self._write_number(row, *args, **kwargs)  # type: ignore[arg-type]
        return super().write_number(row, *args, **kwargs)  # type: ignore[arg-type]

    def write_string(self, row: int | str, *args: Any, **kwargs: Any) -> int:
        if row.__class__ is int:
            return self._write_string(row, *args, **kwargs)  # type: ignore[arg-type]
        return super().write_string(row, *args, **kwargs)  # type: ignore[arg-type]

    def write_blank(self, row: int | str, *args: Any, **kwargs: Any) -> int:
        if row.__class__ is int:
            return self._write_blank(row, *args, **kwargs)  # type: ignore[arg-type]
        return super().write_blank(row, *args, **kwargs)  # type: ignore[arg-type]

    def write_formula_run(
        self,
        row: int,
        first_col: int,
        formulas: Sequence[str],
        cell_format: Format,
        values: Sequence[float | str],
    ) -> None:
        last_col = first_col + len(formulas) - 1
        if self._check_dimensions(row, first_col) or self._check_dimensions(row, last_col):
            raise IndexError(f"row {row}, columns {first_col}-{last_col}: outside the sheet")
        cells = self.table[row]
        number_format = _number_format(cell_format)
        for col, formula, value in zip(
            range(first_col, last_col + 1), formulas, values, strict=True
        ):
            stored = _PREPARED.get(formula)
            if stored is None or self.use_future_functions or value.__class__ is str:
                self._write_formula(row, col, formula, cell_format, value)
            else:
                cells[col] = ReferenceCell(stored, value, number_format)

    def _write_formula(
        self,
        row: int,
        col: int,
        formula: str,
        cell_format: Format | None = None,
        value: object = 0,
    ) -> int:
        stored = _PREPARED.get(formula)
        if stored is None or self.use_future_functions:
            if (
                not formula
                or re_dynamic_function.search(formula)
                or (formula.startswith("{") and formula.endswith("}"))
            ):
                return super()._write_formula(row, col, formula, cell_format, value)
            stored = self._prepare_formula(formula)
            if not self.use_future_functions and _plain(formula):
                _remember(formula, stored)
        if self._check_dimensions(row, col):
            return -1
        if value.__class__ is str and value in ERROR_TEXTS:
            value = from_text(value)  # type: ignore[arg-type]
        self.table[row][col] = ReferenceCell(stored, value, _number_format(cell_format))
        return 0

    def _write_number(
        self, row: int, col: int, number: float, cell_format: Format | None = None
    ) -> int:
        if type(number) not in (float, int) or not isfinite(number):
            return super()._write_number(row, col, number, cell_format)
        if self._check_dimensions(row, col):
            return -1
        self.table[row][col] = ReferenceCell(None, number, _number_format(cell_format))
        return 0

    def _write_string(
        self, row: int, col: int, string: str, cell_format: Format | None = None
    ) -> int:
        if self._check_dimensions(row, col):
            return -1
        self.table[row][col] = ReferenceCell(None, None, _number_format(cell_format))
        return 0

    def _write_blank(self, row: int, col: int, _: object, cell_format: Format | None = None) -> int:
        if cell_format is None:
            return 0  # as XlsxWriter: a blank cell without a format is not stored
        if self._check_dimensions(row, col):
            return -1
        self.table[row][col] = ReferenceCell(None, None, _number_format(cell_format))
        return 0


def _number_format(cell_format: Format | None) -> str | int:
    """The number format a cell of this format shows: XlsxWriter's code or a built-in index."""
    code = getattr(cell_format, "num_format", 0) if cell_format is not None else 0
    return code or "General"
