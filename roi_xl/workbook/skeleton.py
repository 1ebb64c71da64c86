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
import pickle
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from operator import is_, itemgetter
from types import SimpleNamespace

from xlsxwriter.format import Format
from xlsxwriter.worksheet import (
    CellBlankTuple,
    CellFormulaTuple,
    CellNumberTuple,
    CellStringTuple,
    RowInfo,
)

from roi_xl.workbook.worksheet import FastWorksheet
from roi_xl.workbook.xml_text import written

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

    __slots__ = ("col_set", "cols", "pick", "token")

    def __init__(self, cols: tuple[int, ...]) -> None:
        if not cols or list(cols) != sorted(set(cols)):
            raise ValueError(f"a run's columns must ascend: {cols}")
        self.cols = cols
        self.col_set = frozenset(cols)
        self.token = next(_TOKENS)
        # A row's cells in these columns, as a tuple, in one call (KeyError when one is not)
        self.pick: Callable[[dict[int, object]], tuple[object, ...]] = (
            itemgetter(*cols) if len(cols) > 1 else lambda cells: (cells[cols[0]],)
        )


@dataclass(frozen=True)
class Run:
    """Cells of one row put in together: their columns, the cells themselves, their numbers
    as the row writer writes them, and the formats they use (in the order they first use
    them)."""

    columns: RunColumns
    cells: list[CellFormulaTuple]
    numbers: list[str]
    formats: tuple[Format, ...]


class NumbersUnescaped:
    """An XML writer's attributes and data escaped as XlsxWriter escapes them, a number
    taken as it is without the error XlsxWriter's escaping raises and catches for each (a
    sheet's parts hold thousands: column widths and indices, margins, cached results)."""

    def _escape_attributes(self, attribute: object) -> object:
        kind = type(attribute)
        if kind is int or kind is float:
            return attribute
        return super()._escape_attributes(attribute)  # type: ignore[misc]

    def _escape_data(self, data: object) -> object:
        kind = type(data)
        if kind is int or kind is float:
            return data
        return super()._escape_data(data)  # type: ignore[misc]


class SplicingWorksheet(NumbersUnescaped, FastWorksheet):
    """A FastWorksheet whose cell XML comes from a skeleton of its shape when there is one."""

    _cutting: _Cutting | None = None  # while a skeleton is cut from the rows written

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
        shape, numbers = self._shape()
        pieces = _SKELETONS.get(shape)
        if pieces is None:
            self._make(shape, numbers)
            return
        STATS["spliced"] += 1
        self.fh.write(_splice(pieces, numbers))

    def _write_cols(self) -> None:
        """The sheet's columns as written before for equal columns: each with its fields,
        its format's index, and which of the sheet's formats it is (XlsxWriter joins
        neighbours holding the very same format, not an equal one). The indices are asked
        for in the order XlsxWriter asks, so formats are numbered as it numbers them."""
        if not self.col_info:
            return
        formats: dict[Format, int] = {}
        columns = []
        for col in sorted(self.col_info):
            info = self.col_info[col]
            style = info.column_format
            which = index = None
            if style is not None:
                which = formats.setdefault(style, len(formats))
                index = style._get_xf_index()
            fields = (info.width, info.hidden, info.level, info.collapsed, info.autofit)
            columns.append((col, which, index, fields))
        written = (self.default_col_width, self.max_digit_width, columns)
        self._write_section("cols", written, super()._write_cols)

    def _write_conditional_formats(self) -> None:
        self._write_section("conditional", self.cond_formats, super()._write_conditional_formats)

    def _write_data_validations(self) -> None:
        self._write_section("validations", self.validations, super()._write_data_validations)

    def _write_section(self, kind: str, options: object, write: Callable[[], None]) -> None:
        """Write a section made only from ``options`` (XlsxWriter's own dicts and lists of
        plain values) as written before for equal options, else as XlsxWriter writes it."""
        key = frozen((kind, self.use_future_functions, options))
        text = _SECTIONS.get(key) if key is not None else None
        if text is not None:
            SECTION_STATS["reused"] += 1
            self.fh.write(text)
            return
        text = written(self, write)
        self.fh.write(text)
        SECTION_STATS["written"] += 1
        if key is not None:
            if len(_SECTIONS) >= _SECTIONS_KEPT:
                _SECTIONS.clear()
            _SECTIONS[key] = text

    def _shape(self) -> tuple[tuple[Hashable, ...], list[str]]:
        """Everything the row writer reads except the numbers, as one flat tuple (its items
        hash once each: a tuple's hash is never cached, and a tuple per cell would be hashed
        anew on every look-up); and the numbers as text. Each entry starts with its tag, and
        a tag fixes how many items follow, so two shapes are equal only for equal entries.
        The rows' spans are left out: they follow from where the cells are, which the shape
        holds, so the row writer works them out only when a shape is met first."""
        shape: list[Hashable] = [
            self.default_row_height,
            self.original_row_height,
            self.excel_version,
            self.dim_colmin,
            self.dim_colmax,
            tuple((col, _index(info.column_format)) for col, info in sorted(self.col_info.items())),
        ]
        numbers: list[str] = []
        table, row_info, runs = self.table, self.row_info, self.runs
        add, extend = shape.append, shape.extend
        indices: dict[Format, int] = {}
        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            info = row_info.get(row)
            cells = table.get(row)
            if info is None and not cells:
                continue
            extend((_ROW, row, info and _row(info)))
            if not cells:
                continue
            run = runs.get(row)
            around = _around(cells, run) if run is not None else None
            if run is None or around is None:
                _walk(cells, sorted(cells), shape, numbers, indices)
                continue
            before, after = around
            _walk(cells, before, shape, numbers, indices)
            formats = run.formats
            extend((_RUN, run.columns.token, len(formats)))
            for style in formats:
                index = style.xf_index
                add(style._get_xf_index() if index is None else index)
            numbers.extend(run.numbers)
            _walk(cells, after, shape, numbers, indices)
        return tuple(shape), numbers

    def _make(self, shape: tuple[Hashable, ...], numbers: list[str]) -> None:
        """Write the sheet's rows as XlsxWriter does, and keep the skeleton of ``shape`` cut
        from that very text: each number's cell, as the row writer wrote it, must end with
        the number (as ``numbers`` holds it) and what closes the cell, and splicing this
        sheet's numbers back must give the same text."""
        if shape in _UNSPLICEABLE:
            STATS["plain"] += 1
            super()._write_rows()
            return
        cutting = self._cutting = _Cutting()
        handle, self.fh = self.fh, SimpleNamespace(write=cutting.parts.append)
        try:
            super()._write_rows()
        finally:
            self.fh, self._cutting = handle, None
        plain = "".join(cutting.parts)
        self.fh.write(plain)
        pieces = cutting.pieces()
        if pieces is None or len(pieces) != len(numbers) + 1 or _splice(pieces, numbers) != plain:
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

    def _write_cell(self, row: int, col: int, cell: object) -> None:
        cutting = self._cutting
        if cutting is None:
            super()._write_cell(row, col, cell)
            return
        text = number_text(cell)
        parts = cutting.parts
        start = len(parts)
        super()._write_cell(row, col, cell)
        if text is not None:
            cutting.holes.append((start, len(parts), text))


class _Cutting:
    """The text the row writer writes while a skeleton is cut, and where its numbers are:
    for each, the parts its cell was written in, and the number as text."""

    __slots__ = ("holes", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.holes: list[tuple[int, int, str]] = []

    def pieces(self) -> list[str] | None:
        """The text around the numbers; None when a number's cell does not end with it and
        what closes the cell (``number_tail``)."""
        parts, pieces = self.parts, []
        head, after = "", 0
        for start, end, text in self.holes:
            cell = parts[start] if end == start + 1 else "".join(parts[start:end])
            tail = number_tail(text)
            if not cell.endswith(tail):
                return None
            cut = len(cell) - len(tail) + len("<v>")
            pieces.append(head + "".join(parts[after:start]) + cell[:cut])
            head, after = cell[cut + len(text) :], end
        pieces.append(head + "".join(parts[after:]))
        return pieces


def number_tail(text: str) -> str:
    """How the row writer ends the cell of a number written as ``text``."""
    return f"<v>{text}</v></c>"


def _around(cells: dict[int, object], run: Run) -> tuple[list[int], list[int]] | None:
    """The row's other columns before the run and after it, when the row still holds the
    run's very cells and no other cell stands between its first and last; else None (the
    row is then read cell by cell)."""
    columns = run.columns
    try:
        held = columns.pick(cells)
    except KeyError:
        return None
    if not all(map(is_, held, run.cells)):
        return None
    if len(cells) == len(columns.cols):
        return [], []
    others = cells.keys() - columns.col_set
    first, last = columns.cols[0], columns.cols[-1]
    before = sorted(col for col in others if col < first)
    after = sorted(col for col in others if col > last)
    if len(before) + len(after) != len(others):
        return None
    return before, after


def _walk(
    cells: dict[int, object],
    cols: list[int],
    shape: list[Hashable],
    numbers: list[str],
    indices: dict[Format, int],
) -> None:
    """Add the shape of the cells in ``cols`` (ascending) and their numbers: number_text
    and each format's index written out, as this loop meets most cells of every sheet.
    A format equal to one made before has no index of its own: XlsxWriter works out its
    key again on each call for it, so its index is kept in ``indices``."""
    extend, add_number = shape.extend, numbers.append
    for col in cols:
        cell = cells[col]
        kind = type(cell)
        if kind is CellFormulaTuple or kind is CellNumberTuple or kind is CellStringTuple:
            style = cell[1]  # each of these holds its format second
            index = None
            if style is not None:
                index = style.xf_index
                if index is None:
                    index = indices.get(style)
                    if index is None:
                        index = indices[style] = style._get_xf_index()
            if kind is CellStringTuple:
                extend((_STRING, col, cell[0], index))
                continue
            if kind is CellNumberTuple and style is not None:
                add_number(f"{cell[0]:.16G}")
                extend((_NUMBER, col, index))
                continue
            if kind is CellFormulaTuple and style is not None:
                formula, _, value = cell
                if type(value) is float:
                    add_number(f"{value}")
                    extend((_HOLE, col, index, formula))
                else:  # its value in the shape with its type: 1, 1.0 and True are written apart
                    extend((_VALUED, col, index, formula, type(value), value))
                continue
        elif kind is CellBlankTuple:
            (style,) = cell
            extend((_BLANK, col, _index(style)))
            continue
        extend((_CELL, col, kind, _plain(cell)))


# The tags of a flat shape's entries; each fixes how many items follow it.
_ROW, _RUN, _HOLE, _VALUED, _NUMBER, _STRING, _BLANK, _CELL = (
    "row",
    "run",
    "hole",
    "valued",
    "number",
    "string",
    "blank",
    "cell",
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


class _NotPlain(Exception):
    """A value that is not a plain one: its section is never reused."""


class _PlainPickler(pickle.Pickler):
    """A pickler of plain values only. Its C loop writes None, bools, ints, floats, strings,
    bytes, and exact dicts, lists, tuples and sets itself and asks ``reducer_override``
    about anything else, refused here."""

    def reducer_override(self, obj: object) -> object:
        raise _NotPlain


def frozen(value: object) -> bytes | None:
    """``value`` (dicts, lists and tuples of plain values) as a key equal only for values
    written alike: pickled, so each value keeps its type (1, 1.0 and True are equal in
    Python, not in XML), a float its bits (0.0 and -0.0), a dict its order, and equal bytes
    unpickle to equal values; None for anything else, which is then never reused."""
    buffer = io.BytesIO()
    try:
        _PlainPickler(buffer, pickle.HIGHEST_PROTOCOL).dump(value)
    except (_NotPlain, RecursionError):
        return None
    return buffer.getvalue()


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
    """A cell's fields, each with its type (1, 1.0 and True are equal in Python, not in
    XML), a format as its index in the file."""
    return tuple(
        (Format, _index(f)) if isinstance(f, Format) else (type(f), f)  # type: ignore[misc]
        for f in fields
    )
