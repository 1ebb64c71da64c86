"""Sheet data written once per shape, then only the numbers change.

The workbooks of a batch share their template, locale and period: their sheets
hold the same cells, formats and formulas, and differ in the numbers (values
typed and values cached for formulas). A sheet's cell XML is kept as fixed
text with a hole for each number, keyed by everything else that XlsxWriter's
row writer reads (cells, their formats' indices, formulas, strings, row
attributes). Each workbook whose sheet has that shape gets its numbers spliced
into the holes, formatted as XlsxWriter formats them. A value-dependent number
format gives another shape, hence another skeleton; a shape never met is
written by XlsxWriter itself, and kept only when splicing that workbook's own
numbers into it gives the very text XlsxWriter wrote. A sheet's conditional
formats and data validations, made from nothing but their options, are written
as they were for equal options.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Hashable

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import CellFormulaTuple, CellNumberTuple, RowInfo

from roi_xl.workbook.worksheet import FastWorksheet

MARK = "\x00"  # a hole while a skeleton is made: never in a sheet's XML otherwise
_SKELETONS: dict[tuple[Hashable, ...], list[str]] = {}
_UNSPLICEABLE: set[tuple[Hashable, ...]] = set()
# What a process keeps, at most: a few skeletons per sheet and format pattern fit, and a batch
# meeting more patterns than that starts again rather than growing with its rows.
_BUDGET_CHARS = 16_000_000  # of fixed text (a Timeline sheet's skeleton holds about 0.9 M)
_KEPT = {"chars": 0}
_UNSPLICEABLE_KEPT = 64
# Sheets written each way in this process, and the times the skeletons kept were dropped.
STATS = {"spliced": 0, "made": 0, "plain": 0, "dropped": 0}
# Conditional formats and data validations, as XML, by the options they were written from.
_SECTIONS: dict[Hashable, str] = {}
_SECTIONS_KEPT = 512
SECTION_STATS = {"reused": 0, "written": 0}


class SplicingWorksheet(FastWorksheet):
    """A FastWorksheet whose cell XML comes from a skeleton of its shape when there is one."""

    _marking = False

    def _write_rows(self) -> None:
        if self.constant_memory or self.comments:
            STATS["plain"] += 1
            super()._write_rows()
            return
        self._calculate_spans()
        shape, numbers = self._shape()
        pieces = _SKELETONS.get(shape)
        if pieces is None:
            self._make(shape, numbers)
            return
        STATS["spliced"] += 1
        self.fh.write(_splice(pieces, numbers))

    def _write_conditional_formats(self) -> None:
        self._write_section("conditional", self.cond_formats, super()._write_conditional_formats)

    def _write_data_validations(self) -> None:
        self._write_section("validations", self.validations, super()._write_data_validations)

    def _write_section(self, kind: str, options: object, write: Callable[[], None]) -> None:
        """Write a section made only from ``options`` (XlsxWriter's own dicts and lists of
        plain values) as written before for equal options, else as XlsxWriter writes it."""
        key = _frozen((kind, self.use_future_functions, options))
        text = _SECTIONS.get(key) if key is not None else None
        if text is not None:
            SECTION_STATS["reused"] += 1
            self.fh.write(text)
            return
        handle, self.fh = self.fh, io.StringIO()
        try:
            write()
            text = self.fh.getvalue()
        finally:
            self.fh = handle
        self.fh.write(text)
        SECTION_STATS["written"] += 1
        if key is not None:
            if len(_SECTIONS) >= _SECTIONS_KEPT:
                _SECTIONS.clear()
            _SECTIONS[key] = text

    def _shape(self) -> tuple[tuple[Hashable, ...], list[str]]:
        """Everything the row writer reads except the numbers; and the numbers as text."""
        shape: list[Hashable] = [
            self.default_row_height,
            self.original_row_height,
            self.excel_version,
            self.dim_colmin,
            self.dim_colmax,
            tuple((col, _index(info.column_format)) for col, info in sorted(self.col_info.items())),
        ]
        numbers: list[str] = []
        table, row_info, spans = self.table, self.row_info, self.row_spans
        add, add_number = shape.append, numbers.append
        # number_text, written out: this loop meets every cell of every sheet
        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            info = row_info.get(row)
            cells = table.get(row)
            if info is None and not cells:
                continue
            add(("row", row, spans.get(row // 16), info and _row(info)))
            if not cells:
                continue
            for col in sorted(cells):
                cell = cells[col]
                kind = type(cell)
                if kind is CellFormulaTuple:
                    formula, style, value = cell
                    if style is not None and type(value) is float:
                        add_number(f"{value}")
                        add(("hole", col, style._get_xf_index(), formula))
                        continue
                elif kind is CellNumberTuple:
                    number, style = cell
                    if style is not None:
                        add_number(f"{number:.16G}")
                        add(("hole", col, style._get_xf_index(), None))
                        continue
                add(("cell", col, kind.__name__, *_plain(cell)))
        return tuple(shape), numbers

    def _make(self, shape: tuple[Hashable, ...], numbers: list[str]) -> None:
        """Write the sheet's rows as XlsxWriter does, and keep the skeleton of ``shape`` made
        from them when splicing this sheet's numbers into it gives the same text."""
        plain = self._rows_text(marking=False)
        self.fh.write(plain)
        if shape in _UNSPLICEABLE:
            STATS["plain"] += 1
            return
        pieces = self._rows_text(marking=True).split(MARK)
        if len(pieces) != len(numbers) + 1 or _splice(pieces, numbers) != plain:
            if len(_UNSPLICEABLE) >= _UNSPLICEABLE_KEPT:
                _UNSPLICEABLE.clear()
            _UNSPLICEABLE.add(shape)
            STATS["plain"] += 1
            return
        size = sum(map(len, pieces))
        if _KEPT["chars"] + size > _BUDGET_CHARS:
            _SKELETONS.clear()
            _UNSPLICEABLE.clear()
            _KEPT["chars"] = 0
            STATS["dropped"] += 1
        _SKELETONS[shape] = pieces
        _KEPT["chars"] += size
        STATS["made"] += 1

    def _rows_text(self, marking: bool) -> str:
        """What XlsxWriter's row writer writes, holes marked or not."""
        handle, self.fh = self.fh, io.StringIO()
        self._marking = marking
        try:
            super()._write_rows()
            return self.fh.getvalue()
        finally:
            self.fh, self._marking = handle, False

    def _write_cell(self, row: int, col: int, cell: object) -> None:
        if not self._marking or number_text(cell) is None:
            super()._write_cell(row, col, cell)
            return
        index = cell.format._get_xf_index()  # type: ignore[attr-defined]
        formula = getattr(cell, "formula", None)
        inner = f"<f>{self._escape_data(formula)}</f>" if formula is not None else ""
        self.fh.write(
            f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{index}">{inner}<v>{MARK}</v></c>'
        )


def number_text(cell: object) -> str | None:
    """A cell's number as the row writer writes it, for a formula with a number cached and a
    number, both with a format; None for any other cell (its value is part of the shape)."""
    kind = type(cell)
    if kind is CellFormulaTuple:
        value = cell.value  # type: ignore[attr-defined]
        if cell.format is not None and type(value) is float:  # type: ignore[attr-defined]
            return f"{value}"
        return None
    if kind is CellNumberTuple and cell.format is not None:  # type: ignore[attr-defined]
        return f"{cell.number:.16G}"  # type: ignore[attr-defined]
    return None


_PLAIN_TYPES = (str, int, bool, type(None))


def _frozen(value: object) -> Hashable | None:
    """``value`` (dicts, lists and tuples of plain values) as a key equal only for values
    written alike: each value with its type (1, 1.0 and True are equal in Python, not in
    XML), a float as its repr (0.0 and -0.0), dicts in their order; None for anything else,
    which is then never reused."""
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return (kind, value)
    if kind is float:
        return (kind, repr(value))
    if kind is dict:
        items = []
        for key, item in value.items():  # type: ignore[attr-defined]
            frozen = _frozen(item)
            if frozen is None or type(key) is not str:
                return None
            items.append((key, frozen))
        return (kind, tuple(items))
    if kind is list or kind is tuple:
        frozen_items = tuple(map(_frozen, value))  # type: ignore[call-overload]
        return None if None in frozen_items else (kind, frozen_items)
    return None


def _splice(pieces: list[str], numbers: list[str]) -> str:
    parts = [""] * (2 * len(pieces) - 1)
    parts[0::2] = pieces
    parts[1::2] = numbers
    return "".join(parts)


def _index(style: Format | None) -> int | None:
    return None if style is None else style._get_xf_index()


def _row(info: RowInfo) -> tuple[Hashable, ...]:
    """What the row writer reads of a row's attributes, its format as its index."""
    return (info.height, _index(info.row_format), info.hidden, info.level, info.collapsed)


def _plain(fields: tuple[object, ...]) -> tuple[Hashable, ...]:
    """A cell's or row's fields with each format as its index in the file."""
    return tuple(_index(f) if isinstance(f, Format) else f for f in fields)  # type: ignore[misc]
