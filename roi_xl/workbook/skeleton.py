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

A writer that knows a row's cells before they are stored (the Timeline's block
rows, whose formulas are the same in every workbook of a batch) puts them in as
a run: its cells, their numbers as text and a token standing for their columns
and formulas. The shape then holds the token and the formats' indices instead
of one entry per cell, and the numbers are taken as they are, as long as the
row still holds those very cells when the sheet is written.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from operator import is_

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import CellFormulaTuple, CellNumberTuple, CellStringTuple, RowInfo

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


_TOKENS = itertools.count()  # a run's token is never given twice in a process


class RunColumns:
    """The columns of a run (ascending) and its token: with the indices of the run's
    formats, the token stands for all the row writer reads of its cells but their numbers.
    One is made for each set of columns, formulas and use of the formats."""

    __slots__ = ("col_set", "cols", "token")

    def __init__(self, cols: tuple[int, ...]) -> None:
        if not cols or list(cols) != sorted(set(cols)):
            raise ValueError(f"a run's columns must ascend: {cols}")
        self.cols = cols
        self.col_set = frozenset(cols)
        self.token = next(_TOKENS)


@dataclass(frozen=True)
class Run:
    """Cells of one row put in together: their columns, the cells themselves, their numbers
    as the row writer writes them, and the formats they use (in the order they first use
    them)."""

    columns: RunColumns
    cells: list[CellFormulaTuple]
    numbers: list[str]
    formats: tuple[Format, ...]


class SplicingWorksheet(FastWorksheet):
    """A FastWorksheet whose cell XML comes from a skeleton of its shape when there is one."""

    _marking = False

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[int, Run] = {}

    def put_run(
        self,
        row: int,
        columns: RunColumns,
        cells: list[CellFormulaTuple],
        numbers: Sequence[str],
        formats: tuple[Format, ...],
    ) -> None:
        """Store ``cells`` (formulas with a format and a float cached, ``numbers`` their
        values as text) in the ``columns`` of ``row``: their token and ``formats`` (in the
        order the cells first use them, the order the file numbers them in) stand for them
        in the sheet's shape. The caller vouches that one ``columns`` always comes with the
        same formulas and use of its formats."""
        cols = columns.cols
        if self._check_dimensions(row, cols[0]) or self._check_dimensions(row, cols[-1]):
            raise IndexError(f"row {row}, columns {cols[0]}-{cols[-1]}: outside the sheet")
        self.table[row].update(zip(cols, cells, strict=True))
        self.runs[row] = Run(columns, cells, list(numbers), formats)

    def _write_rows(self) -> None:
        try:
            self._write_spliced()
        finally:
            self.runs.clear()  # their cells are written: nothing keeps them alive longer

    def _write_spliced(self) -> None:
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
        table, row_info, spans, runs = self.table, self.row_info, self.row_spans, self.runs
        add = shape.append
        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            info = row_info.get(row)
            cells = table.get(row)
            if info is None and not cells:
                continue
            add(("row", row, spans.get(row // 16), info and _row(info)))
            if not cells:
                continue
            run = runs.get(row)
            around = _around(cells, run) if run is not None else None
            if run is None or around is None:
                _walk(cells, sorted(cells), shape, numbers)
                continue
            before, after = around
            _walk(cells, before, shape, numbers)
            add(("run", run.columns.token, *[style._get_xf_index() for style in run.formats]))
            numbers.extend(run.numbers)
            _walk(cells, after, shape, numbers)
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


def _around(cells: dict[int, object], run: Run) -> tuple[list[int], list[int]] | None:
    """The row's other columns before the run and after it, when the row still holds the
    run's very cells and no other cell stands between its first and last; else None (the
    row is then read cell by cell)."""
    columns = run.columns
    if not all(map(is_, map(cells.get, columns.cols), run.cells)):
        return None
    others = cells.keys() - columns.col_set
    if not others:
        return [], []
    first, last = columns.cols[0], columns.cols[-1]
    before = sorted(col for col in others if col < first)
    after = sorted(col for col in others if col > last)
    if len(before) + len(after) != len(others):
        return None
    return before, after


def _walk(
    cells: dict[int, object], cols: list[int], shape: list[Hashable], numbers: list[str]
) -> None:
    """Add the shape of the cells in ``cols`` (ascending) and their numbers: number_text
    written out, as this loop meets most cells of every sheet."""
    add, add_number = shape.append, numbers.append
    for col in cols:
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
        elif kind is CellStringTuple:  # _plain's entry, without its generic walk
            string, style = cell
            add(("cell", col, "String", string, None if style is None else style._get_xf_index()))
            continue
        add(("cell", col, kind.__name__, *_plain(cell)))


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
    # Below, a plain item is frozen in place: most items are, and they are many.
    if kind is dict:
        items = []
        for key, item in value.items():  # type: ignore[attr-defined]
            item_kind = type(item)
            frozen = (item_kind, item) if item_kind in _PLAIN_TYPES else _frozen(item)
            if frozen is None or type(key) is not str:
                return None
            items.append((key, frozen))
        return (kind, tuple(items))
    if kind is list or kind is tuple:
        frozen_items = tuple(
            [
                (item_kind, item) if (item_kind := type(item)) in _PLAIN_TYPES else _frozen(item)
                for item in value  # type: ignore[attr-defined]
            ]
        )
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
