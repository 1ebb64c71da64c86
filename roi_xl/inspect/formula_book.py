"""Every cell's formula (or typed value) and number format, read in one streaming pass.

The audit compares each cell of a workbook with what the generator writes. Loading
the whole file into openpyxl's object model for that costs more than the rest of
the audit together; this reader walks each sheet's XML once with expat and keeps
only what the audit looks at, reading it exactly as ``openpyxl.load_workbook``
does: a formula as ``"=" + its text`` (XML escapes decoded), a shared formula
(``<f t="shared" ref=... si=...>``, as Excel and LibreOffice write them) expanded
through openpyxl's own Translator from the first cell of its group that holds the
text, an array formula as an ``ArrayFormula``, numbers as int or float, dates
under a date format as datetimes, cells covered by a merge (but the first) empty,
and the defined names split between the workbook and its sheets as openpyxl
splits them. The package guard has already checked the file is safe to parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from defusedxml import ElementTree as SafeXml
from openpyxl.formula.translate import Translator
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import (
    CALENDAR_MAC_1904,
    CALENDAR_WINDOWS_1900,
    from_excel,
    from_ISO8601,
)
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from roi_xl.errors import RoiXlError
from roi_xl.inspect import sheet_shapes
from roi_xl.inspect.guard import (
    NS_MAIN,
    PackageScan,
    UnreadableFileError,
    custom_properties,
)
from roi_xl.inspect.sheet_shapes import Draft, Grid, PlainCell, Shape

_MAIN = NS_MAIN[1:-1] + "}"  # expat's "namespace}local" spelling
_C, _F, _V, _ROW, _IS, _R, _T = (_MAIN + tag for tag in ("c", "f", "v", "row", "is", "r", "t"))
_MERGE = _MAIN + "mergeCell"
_RPH = _MAIN + "rPh"
_COORDINATE = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_RESERVED = re.compile(
    r"^_xlnm\.(Print_Area|Print_Titles|Criteria|_FilterDatabase|Extract|Consolidate_Area"
    r"|Sheet_Title)"
)
_GLOBAL_SKIPPED = ("_xlnm.Print_Titles", "_xlnm.Print_Area", "_xlnm._FilterDatabase")
_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
GENERAL = "General"
Key = tuple[int, int]  # zero-based (row, column)
Cell = tuple[Any, str]  # the value as openpyxl gives it, and the number format


@dataclass
class FormulaSheet:
    """One worksheet: each written cell's value as openpyxl gives it, and its number format."""

    title: str
    cells: dict[Key, Cell] = field(default_factory=dict)
    defined_names: dict[str, str] = field(default_factory=dict)  # sheet-level name -> target
    # The shape it was read from (roi_xl.inspect.sheet_shapes), None when read in full: its
    # cells are then the shape's, but for the numbers of its value cells.
    shape: Shape | None = field(default=None, repr=False, compare=False)

    def value(self, row: int, col: int) -> Any:
        """The cell's formula (``"=..."``) or typed value; None when empty (zero-based)."""
        found = self.cells.get((row, col))
        return None if found is None else found[0]

    def number_format(self, row: int, col: int) -> str:
        found = self.cells.get((row, col))
        return GENERAL if found is None else found[1]


@dataclass
class FormulaBook:
    """The formula view of a workbook: sheets in order, names, custom properties."""

    sheets: dict[str, FormulaSheet]
    names: dict[str, str]  # workbook-level defined name -> its target, as written
    properties: dict[str, str]
    # The values view of the sheets read from a remembered shape (roi_xl.inspect.sheet_shapes),
    # and the sheets read in full whose shape waits for their values.
    grids: dict[str, Grid] = field(default_factory=dict, repr=False, compare=False)
    drafts: dict[str, Draft] = field(default_factory=dict, repr=False, compare=False)

    @property
    def sheetnames(self) -> list[str]:
        return list(self.sheets)


def read_formula_book(path: Path, package: PackageScan) -> FormulaBook:
    """The formula view of ``path`` (already scanned); UnreadableFileError when damaged."""
    try:
        return _read(path, package)
    except RoiXlError:
        raise
    except Exception as exc:  # damaged XML, a bad index or reference: as openpyxl refuses
        raise UnreadableFileError(f"{path}: the workbook cannot be opened ({exc})") from None


def _read(path: Path, package: PackageScan) -> FormulaBook:
    """Every part as the guard inflated it (read again, within its limits, if it kept none);
    a sheet met before under the same shared parts read from its shape and numbers."""
    names = package.names

    def read(part: str) -> bytes:
        return package.read(path, part)

    workbook = SafeXml.fromstring(read("xl/workbook.xml"))
    shared = _shared_parts(package, read)
    strings, styles = shared.strings, shared.styles
    typer = styles.number
    sheets: dict[str, FormulaSheet] = {}
    grids: dict[str, Grid] = {}
    drafts: dict[str, Draft] = {}
    for part in package.sheets:
        if part.part not in names:
            continue
        sheet = FormulaSheet(part.name)
        sheets[part.name] = sheet
        key = (shared.token, part.name, part.part)
        split = package.numbers.get(part.part) if shared.token is not None else None
        reading = None if split is None else sheet_shapes.recall(key, split, typer)
        if reading is not None:
            sheet.cells, sheet.shape, grids[part.name] = reading.cells, reading.shape, reading.grid
            continue
        text = _read_sheet(read(part.part), sheet, strings, styles)
        if text is not None and split is not None and sheet_shapes.met_before(key):
            cells = _plain_cells(text)
            drafts[part.name] = Draft(key, split, text, cells, sheet.cells, styles.plain, typer)
    global_names = _defined_names(workbook, list(sheets.values()))
    properties = custom_properties(path, package)
    return FormulaBook(sheets, global_names, properties, grids, drafts)


@dataclass(frozen=True)
class _SharedParts:
    """What the parts every sheet is read with give: the shared strings and the styles, and
    the token sheets are remembered under (None when they are not)."""

    token: object
    strings: list[str]
    styles: _Styles
    strings_part: str | None
    strings_bytes: bytes | None


# The parts the two views of a sheet depend on besides its own: the workbook (sheets, date
# system), relationships, content types, and the shared strings and styles where the formula
# reader and python-calamine look for them.
_SHARED = (
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "[Content_Types].xml",
    "_rels/.rels",
    "xl/sharedStrings.xml",
    "xl/styles.xml",
)
_KEPT_SHARED: dict[tuple[object, ...], _SharedParts] = {}
_KEPT_SHARED_LIMIT = 8


def _shared_parts(package: PackageScan, read: Callable[[str], bytes]) -> _SharedParts:
    """The shared strings and styles, read once per set of shared parts of the same bytes
    (workbooks of one template repeat them); a package whose shared parts were not all kept
    by the guard is read afresh, and its sheets are not remembered."""
    held = [package.parts.get(part) for part in _SHARED]
    complete = all(
        data is not None or part not in package.names
        for part, data in zip(_SHARED, held, strict=True)
    )
    key = (*held, package.names) if complete else None
    known = _KEPT_SHARED.get(key) if key is not None else None  # type: ignore[arg-type]
    if known is not None and (
        known.strings_part is None or package.parts.get(known.strings_part) == known.strings_bytes
    ):
        return known
    strings_part = _strings_part(read)
    strings = _shared_strings(read, strings_part)
    formats, dates, durations, plain = _cell_formats(
        read,
        "xl/styles.xml" if "xl/styles.xml" in package.names else None,  # where openpyxl looks
    )
    workbook = SafeXml.fromstring(read("xl/workbook.xml"))
    properties_node = workbook.find(f"{NS_MAIN}workbookPr")
    date1904 = properties_node is not None and properties_node.get("date1904", "") in (
        "1",
        "true",
    )
    epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
    styles = _Styles(formats, dates, durations, epoch, plain)
    strings_bytes = None if strings_part is None else package.parts.get(strings_part)
    token = None if key is None or (strings_part and strings_bytes is None) else object()
    shared = _SharedParts(token, strings, styles, strings_part, strings_bytes)
    if key is not None:
        if len(_KEPT_SHARED) >= _KEPT_SHARED_LIMIT:
            del _KEPT_SHARED[next(iter(_KEPT_SHARED))]  # the oldest
        _KEPT_SHARED[key] = shared
    return shared


def _strings_part(read: Callable[[str], bytes]) -> str | None:
    """The shared-string table, found as openpyxl finds it: through the content types."""
    types = SafeXml.fromstring(read("[Content_Types].xml"))
    for item in types.iter(f"{_TYPES}Override"):
        if item.get("ContentType") == _STRINGS_TYPE:
            return item.get("PartName", "")[1:]
    return None


def _shared_strings(read: Callable[[str], bytes], part: str | None) -> list[str]:
    """The shared-string table: each item's plain text and runs, phonetic runs left out."""
    if part is None:
        return []
    texts: list[str] = []
    for item in SafeXml.fromstring(read(part)).iter(f"{NS_MAIN}si"):
        texts.append(_text_content(item).replace("x005F_", ""))
    return texts


def _text_content(node: Any) -> str:
    """What openpyxl's Text gives: the ``<t>`` child, then each run's ``<t>``."""
    snippets = []
    plain = node.find(f"{NS_MAIN}t")
    if plain is not None and plain.text is not None:
        snippets.append(plain.text)
    for run in node.findall(f"{NS_MAIN}r"):
        text = run.find(f"{NS_MAIN}t")
        if text is not None and text.text is not None:
            snippets.append(text.text)
    return "".join(snippets)


def _cell_formats(
    read: Callable[[str], bytes], part: str | None
) -> tuple[list[str], set[int], set[int], frozenset[int]]:
    """Each cell style's number format, which styles show dates or durations, and which
    show a number as a number to every reader (see ``_may_show_a_date``)."""
    if part is None:
        return [GENERAL], set(), set(), frozenset({0})
    root = SafeXml.fromstring(read(part))
    custom = {}
    numbers = root.find(f"{NS_MAIN}numFmts")
    for item in [] if numbers is None else numbers.findall(f"{NS_MAIN}numFmt"):
        custom[int(item.get("numFmtId"))] = item.get("formatCode")
    formats: list[str] = []
    dates: set[int] = set()
    durations: set[int] = set()
    plain: set[int] = set()
    cell_xfs = root.find(f"{NS_MAIN}cellXfs")
    for index, xf in enumerate([] if cell_xfs is None else cell_xfs.findall(f"{NS_MAIN}xf")):
        number = int(xf.get("numFmtId", 0))
        code = custom[number] if number in custom else BUILTIN_FORMATS.get(number)
        formats.append(code if code is not None else GENERAL)
        if is_date_format(code):
            dates.add(index)
        if is_timedelta_format(code):
            durations.add(index)
        if index not in dates and index not in durations and not _may_show_a_date(number, code):
            plain.add(index)
    if not formats:
        return [GENERAL], dates, durations, frozenset({0})
    return formats, dates, durations, frozenset(plain)


# Built-in formats python-calamine reads as dates or durations (14-22, 45-47), and the East
# Asian date formats other readers do (27-36, 50-58).
_DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])


def _may_show_a_date(number: int, code: str | None) -> bool:
    """Whether python-calamine could read a number in this format as a date or a duration,
    taken wide: by its built-in number, or by a date letter (d, m, h, y, s), an "a" before
    a "p", "m" or "/", or an elapsed time ([h], [m], [s]) outside quotes and backslash
    escapes, in any section (the characters after "_" and "*" count: some versions read
    them)."""
    if number in _DATE_FORMAT_IDS:
        return True
    escaped = quoted = after_a = False
    depth = 0
    previous = ""
    for char in code or "":
        if escaped:
            escaped = False
        elif quoted:
            quoted = char != '"'
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = True
        elif char == "[":
            depth += 1
        elif char == "]":
            depth = max(depth - 1, 0)
        elif depth:
            if previous == "[" and char in "hmsHMS":
                return True  # an elapsed time
        elif char in "dmhysDMHYS" or (after_a and char in "pP/"):
            return True
        elif char in "aA":
            after_a = True
        previous = char
    return False


@dataclass(frozen=True)
class _Styles:
    formats: list[str]
    dates: set[int]
    durations: set[int]
    epoch: Any
    plain: frozenset[int]  # styles every reader shows a number in as that number
    by_text: dict[str, str] = field(init=False)  # s="3" -> its format; s absent -> the first
    settled: dict[_Cell, tuple[Key, Cell]] = field(init=False)  # see _typed_cells

    def __post_init__(self) -> None:
        by_text = {str(index): code for index, code in enumerate(self.formats)}
        by_text[""] = self.formats[0]
        object.__setattr__(self, "by_text", by_text)
        object.__setattr__(self, "settled", _settled_for(self.formats))

    def number(self, style: int, raw: str) -> Any:
        """A number cell's ``<v>`` as openpyxl types it: int or float, or a date."""
        number = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
        if style in self.dates:
            try:
                return from_excel(number, self.epoch, timedelta=style in self.durations)
            except (OverflowError, ValueError):
                return "#VALUE!"
        return number


def _defined_names(workbook: Any, sheets: list[FormulaSheet]) -> dict[str, str]:
    """Workbook-level names; a name with a sheet index goes to that sheet (print areas,
    titles and filters aside), as openpyxl binds them."""
    global_names: dict[str, str] = {}
    holder = workbook.find(f"{NS_MAIN}definedNames")
    for node in [] if holder is None else holder.findall(f"{NS_MAIN}definedName"):
        name = node.get("name")
        text = node.text or ""
        local = node.get("localSheetId")
        if local is None:
            if name not in _GLOBAL_SKIPPED:
                global_names[name] = text
            continue
        try:
            sheet = sheets[int(local)]
        except IndexError:
            continue
        if not _RESERVED.match(name):
            sheet.defined_names[name] = text
    return global_names


class _SheetReader:
    """expat handlers gathering each cell's type, style, value and formula."""

    def __init__(self, sheet: FormulaSheet, strings: list[str], styles: _Styles) -> None:
        self.sheet = sheet
        self.strings = strings
        self.styles = styles
        self.shared: dict[str, Translator] = {}
        self.row = 0
        self.col = 0
        self.cell: dict[str, str] | None = None
        self.formula: dict[str, str] | None = None
        self.value: list[str] | None = None
        self.formula_text: list[str] | None = None
        self.texts: list[str] | None = None
        self.inline: list[str] | None = None
        self.depth: list[str] = []
        self.merges: list[str] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth.append(name)
        if name == _C:
            self.cell = attrs
            self.formula = self.value = self.inline = None
        elif self.cell is not None:
            self._start_in_cell(name, attrs)
        elif name == _ROW:
            self.row = int(attrs["r"]) if "r" in attrs else self.row + 1
            self.col = 0
        elif name == _MERGE and "ref" in attrs:
            self.merges.append(attrs["ref"])

    def _start_in_cell(self, name: str, attrs: dict[str, str]) -> None:
        parent = self.depth[-2]
        if name == _F and parent == _C and self.formula is None:
            self.formula, self.formula_text = attrs, []
        elif name == _V and parent == _C and self.value is None:
            self.value = []
        elif name == _IS and parent == _C and self.inline is None:
            self.inline = []
        elif name == _T and parent in (_IS, _R) and self.inline is not None:
            self.texts = []

    def end(self, name: str) -> None:
        self.depth.pop()
        if name == _C and self.cell is not None:
            self._finish_cell()
            self.cell = None
        elif name == _T and self.texts is not None:
            if self.inline is not None:
                self.inline.append("".join(self.texts))
            self.texts = None

    def text(self, data: str) -> None:
        if self.texts is not None:
            self.texts.append(data)
        elif self.cell is None:
            return
        elif self.depth[-1] == _F and self.formula_text is not None:
            self.formula_text.append(data)
        elif self.depth[-1] == _V and self.value is not None:
            self.value.append(data)

    def _finish_cell(self) -> None:
        attrs = self.cell
        assert attrs is not None
        coordinate = attrs.get("r")
        if coordinate:
            row, col = _coordinate(coordinate)
            self.col = col
        else:
            self.col += 1
            row, col = self.row, self.col
        style = int(attrs.get("s", 0) or 0)
        kind = attrs.get("t", "n")
        if self.formula is not None:
            text = "=" + "".join(self.formula_text or [])
            value: Any = self.formula_value(self.formula, text, coordinate)
        elif kind == "inlineStr":
            value = None if self.inline is None else "".join(self.inline)
        else:
            raw = None if self.value is None else "".join(self.value) or None
            value = self.typed_value(kind, style, raw)
        self.sheet.cells[(row - 1, col - 1)] = (value, self.styles.formats[style])

    def formula_value(self, attrs: dict[str, str], text: str, coordinate: str | None) -> Any:
        """A formula as openpyxl gives it; a shared one expanded from its group's first."""
        kind = attrs.get("t")
        if kind == "array":
            return ArrayFormula(ref=attrs.get("ref"), text=text)
        if kind == "shared":
            group = attrs.get("si")
            if group in self.shared:
                return self.shared[group].translate_formula(coordinate)
            if text != "=":
                self.shared[group] = Translator(text, coordinate)  # type: ignore[index]
            return text
        if kind == "dataTable":
            return DataTableFormula(**attrs)
        return text

    def typed_value(self, kind: str, style: int, raw: str | None) -> Any:
        """A value cell's ``<v>`` as openpyxl types it (int or float, date, text, bool)."""
        if raw is None:
            return None
        if kind == "n":
            return self.styles.number(style, raw)
        if kind == "s":
            return self.strings[int(raw)]
        if kind == "b":
            return bool(int(raw))
        if kind == "d":
            return from_ISO8601(raw)
        return raw


def _read_sheet(
    data: bytes, sheet: FormulaSheet, strings: list[str], styles: _Styles
) -> str | None:
    """Check the part is well-formed XML (expat, no handlers: fast), then read its cells with
    the tight patterns when it is written plainly (returning its text), else with expat's
    handlers (returning None)."""
    checker = expat.ParserCreate()
    checker.StartDoctypeDeclHandler = _refuse
    checker.EntityDeclHandler = _refuse
    checker.Parse(data, True)
    reader = _SheetReader(sheet, strings, styles)
    text: str | None = data.decode("utf-8")
    try:
        _read_plain(text, reader)  # type: ignore[arg-type]
    except _NotPlain:
        text = None
        sheet.cells.clear()
        reader = _SheetReader(sheet, strings, styles)
        _read_with_handlers(data, reader)
    _merge(sheet, reader.merges)
    return text


def _plain_cells(text: str) -> list[PlainCell]:
    """Where each cell of a sheet read plainly lies, with its place, style, type and whether
    it holds a formula (for its shape, see roi_xl.inspect.sheet_shapes)."""
    first = text.find("<sheetData")
    last = text.find("</sheetData>", first)
    return [
        PlainCell(
            match.start(),
            match.end(),
            _PLACES[match.group(1)],
            int(match.group(2) or 0),
            match.group(3) or "",
            bool(match.group(4)),
        )
        for match in _PLAIN_CELL.finditer(text, first, last)
    ]


def _refuse(*_: object) -> None:
    raise UnreadableFileError("the XML declares a DTD or entities; refusing it")


class _NotPlain(Exception):
    """The part uses XML the tight patterns do not cover: read it with the handlers."""


_ANY_CELL = re.compile(r"<c[\s>/]")
# A cell as XlsxWriter, Excel and LibreOffice write it: r, then s and t, then a formula
# and a value; any other spelling sends the whole part to the handlers. A formula's cached
# value is matched but not captured, and quantifiers are possessive where what follows can
# never match what they took: the substrings taken, not the matching, are what costs.
_PLAIN_CELL = re.compile(
    r'<c r="([A-Z]{1,3}+[0-9]{1,7}+)"(?: s="([0-9]{1,9}+)")?+(?: t="([a-zA-Z]{1,9}+)")?+'
    r"(?:/>|>(?:<(f)((?: [^<>]*?)?)(?:/>|>([^<]*+)</f>)(?:<v>[^<]*+</v>)?|(?:<v>([^<]*+)</v>)?)"
    r"</c>)"
)
_PLAIN_MERGE = re.compile(r"<mergeCell\b([^>]*?)/?>")
_ATTRIBUTE = re.compile(r"\s+([\w:]+)\s*=\s*(?:\"([^\"<&\t\n]*)\"|'([^'<&\t\n]*)')")
_ESCAPE = re.compile(r"&(lt|gt|amp|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);")
_ESCAPED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_NAMED_ESCAPES = tuple(
    (f"&{name};", _ESCAPED[name]) for name in ("lt", "gt", "quot", "apos", "amp")
)
_DEFAULT_MAIN = 'xmlns="' + NS_MAIN[1:-1] + '"'
_Cell = tuple[str, str, str, str, str, str, str]


def _read_plain(text: str, reader: _SheetReader) -> None:
    """The sheet's cells by one pattern: only for a part in the default main namespace
    whose every cell is written plainly (see _PLAIN_CELL), with no CDATA, comment or
    carriage return (which XML would rewrite); anything else raises _NotPlain."""
    if (
        text.count("xmlns=") != 1
        or _DEFAULT_MAIN not in text
        or any(mark in text for mark in ("<![CDATA[", "<!--", "\r"))
    ):
        raise _NotPlain
    first = text.find("<sheetData")
    last = text.find("</sheetData>", first)
    if first < 0 or last < 0 or text.find("<sheetData", first + 1) >= 0:
        raise _NotPlain  # none, or empty (<sheetData/>), or twice: the handlers judge
    body = text[first:last]
    cells = _PLAIN_CELL.findall(body)
    # Every "<c" opening a plain cell settles it at once; else count the cells as such.
    if len(cells) != body.count("<c") and len(cells) != len(_ANY_CELL.findall(body)):
        raise _NotPlain
    _typed_cells(cells, reader)
    for merge in _PLAIN_MERGE.finditer(text, last):
        ref = _attributes(merge.group(1).rstrip("/")).get("ref")
        if ref is not None:
            reader.merges.append(ref)


def _typed_cells(cells: list[_Cell], reader: _SheetReader) -> None:
    """Each cell's value and format, those already settled for this table of formats
    taken as they are (all at once when every cell of the sheet is one of them)."""
    settled = reader.styles.settled
    known = list(map(settled.get, cells))
    store = reader.sheet.cells
    if None not in known:
        store.update(known)  # in document order: of two cells at one place, the last stands
        return
    if len(settled) > _SETTLED_CELLS:
        settled.clear()
    formats = reader.styles.formats
    by_text = reader.styles.by_text
    for match, hit in zip(cells, known, strict=True):
        if hit is not None:
            store[hit[0]] = hit[1]
            continue
        ref, style_text, kind, has_formula, f_attrs, f_text, raw = match
        value: Any
        if has_formula and not f_attrs:  # a plain formula, by far the commonest cell
            value = "=" + (_unescape(f_text) if "&" in f_text else f_text)
        elif has_formula:
            value = reader.formula_value(_attributes(f_attrs), "=" + _unescape(f_text), ref)
        else:
            style = int(style_text) if style_text else 0
            value = reader.typed_value(kind or "n", style, _unescape(raw) or None)
        number_format = by_text.get(style_text)
        if number_format is None:  # an index outside the table, or spelled "03"
            number_format = formats[int(style_text)]
        place = _PLACES[ref]
        store[place] = cell = (value, number_format)
        if not f_attrs and (has_formula or not raw):  # read from its own text alone
            settled[match] = (place, cell)


# Cells read from their own text alone (a plain formula, whose cached value the pattern
# does not take, or an empty cell), by table of number formats: workbooks of one template
# repeat them by the thousand. Bounded (about half a kilobyte a cell): four tables of at
# most thirty thousand cells, a workbook of twelve months holding fourteen thousand.
_SETTLED: dict[tuple[str, ...], dict[_Cell, tuple[Key, Cell]]] = {}
_SETTLED_TABLES = 4
_SETTLED_CELLS = 30_000


def _settled_for(formats: list[str]) -> dict[_Cell, tuple[Key, Cell]]:
    key = tuple(formats)
    settled = _SETTLED.get(key)
    if settled is None:
        if len(_SETTLED) >= _SETTLED_TABLES:
            del _SETTLED[next(iter(_SETTLED))]  # the oldest table
        settled = _SETTLED[key] = {}
    return settled


class _Places(dict[str, Key]):
    """Zero-based (row, column) of each A1 reference met, worked out once per process
    (bounded: a workbook of a template uses the same few thousand)."""

    LIMIT = 100_000

    def __missing__(self, ref: str) -> Key:
        if len(self) >= self.LIMIT:
            self.clear()
        letters = ref.rstrip("0123456789")
        place = self[ref] = (int(ref[len(letters) :]) - 1, _column(letters) - 1)
        return place


_PLACES = _Places()


def _column(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _attributes(text: str) -> dict[str, str]:
    """Attributes of a start tag written plainly (quoted, no escape, no tab or newline)."""
    attrs: dict[str, str] = {}
    end = 0
    for match in _ATTRIBUTE.finditer(text):
        if match.start() != end:
            raise _NotPlain
        value = match.group(2) if match.group(2) is not None else match.group(3)
        attrs.setdefault(match.group(1), value)
        end = match.end()
    if text[end:].strip():
        raise _NotPlain
    return attrs


def _unescape(text: str) -> str:
    """XML's five named escapes and character references decoded, as a parser does: the
    named ones by plain replacement when there is no character reference ("&amp;" last,
    so "&amp;lt;" stays "&lt;")."""
    if "&" not in text:
        return text
    if "&#" in text:
        return _ESCAPE.sub(_escaped, text)
    for escape, character in _NAMED_ESCAPES:
        if escape in text:
            text = text.replace(escape, character)
    return text


def _escaped(match: re.Match[str]) -> str:
    name = match.group(1)
    if name[0] != "#":
        return _ESCAPED[name]
    return chr(int(name[2:], 16) if name[1] == "x" else int(name[1:]))


def _read_with_handlers(data: bytes, reader: _SheetReader) -> None:
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    parser.Parse(data, True)


def _merge(sheet: FormulaSheet, ranges: list[str]) -> None:
    """Every cell a merge covers, but its first, reads empty and in the General format."""
    for ref in ranges:
        first, _, last = ref.partition(":")
        top, left = _coordinate(first)
        bottom, right = _coordinate(last) if last else (top, left)
        for row in range(top, bottom + 1):
            for col in range(left, right + 1):
                if (row, col) != (top, left):
                    sheet.cells[(row - 1, col - 1)] = (None, GENERAL)


def _coordinate(text: str) -> tuple[int, int]:
    """One-based (row, column) of an A1 reference; ValueError when it is not one."""
    match = _COORDINATE.match(text)
    if not match:
        raise ValueError(f"invalid cell coordinates ({text})")
    number = 0
    for letter in match.group(1).upper():
        number = number * 26 + ord(letter) - 64
    return int(match.group(2)), number
