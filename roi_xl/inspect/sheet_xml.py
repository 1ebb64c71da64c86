"""Read a sheet's XML as byte spans, so that a patch can touch only the bytes it means to.

Writing a parsed tree back out changes bytes nobody asked to change (namespace
prefixes, quoting, whitespace, the declaration) and drops whatever the parser does
not keep. This reader therefore never re-serialises XML: expat parses the bytes
only to record where each element's start tag, content and end tag begin and end,
so a caller can replace exactly those byte ranges and copy everything else
unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from xml.parsers import expat

from roi_xl.errors import RoiXlError
from roi_xl.inspect.guard import NS_MAIN

_SPACE = b" \t\r\n"


class SheetXmlError(RoiXlError):
    """A part is not XML this reader accepts (malformed, a DTD, a broken row or cell)."""


@dataclass
class Node:
    """An element of a part, with its byte positions: [start, tag_end) is the start tag,
    [close, end) the end tag (empty for a self-closing element)."""

    name: str  # "{namespace}local"
    qname: bytes  # the name as written, with its prefix
    attrs: dict[str, str]
    start: int
    tag_end: int
    empty: bool
    close: int = 0
    end: int = 0
    texts: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The element's own character data (a <v> or <t> holds nothing else)."""
        return "".join(self.texts)

    @property
    def prefix(self) -> bytes:
        """The namespace prefix as written ("x:" or empty), for new elements to match it."""
        colon = self.qname.find(b":")
        return self.qname[: colon + 1] if colon >= 0 else b""

    def child(self, local: str) -> Node | None:
        """The first child named ``local`` in the main spreadsheet namespace, if any."""
        return next((c for c in self.children if c.name == NS_MAIN + local), None)


@dataclass
class Part:
    """A part's bytes with its root element: every span in the tree indexes ``data``."""

    data: bytes
    root: Node


def parse_part(data: bytes, where: str) -> Part:
    """Parse with expat, recording every element's byte span; DTDs and entities refused."""
    parser = expat.ParserCreate(namespace_separator="}")
    stack: list[Node] = []
    roots: list[Node] = []

    def refuse(*_: object) -> None:
        raise SheetXmlError(f"{where}: the XML declares a DTD or entities; refusing it")

    def start(name: str, attrs: dict[str, str]) -> None:
        position = parser.CurrentByteIndex
        qname, tag_end, empty, _ = read_start_tag(data, position)
        full = "{" + name if "}" in name else name
        node = Node(full, qname, attrs, position, tag_end, empty)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_: str) -> None:
        node = stack.pop()
        if node.empty:
            node.close = node.end = node.tag_end
        else:
            node.close = parser.CurrentByteIndex
            node.end = data.index(b">", node.close) + 1

    def text(chunk: str) -> None:
        if stack:
            stack[-1].texts.append(chunk)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise SheetXmlError(f"{where}: not valid XML ({exc})") from None
    return Part(data, roots[0])


def read_start_tag(data: bytes, start: int) -> tuple[bytes, int, bool, list[tuple[str, int, int]]]:
    """Name, end, self-closing flag and attributes (name, first byte, end of value) of the
    well-formed start tag at ``start``; quoted values may hold ">" or "/", so they are
    skipped whole. The spans let a caller copy, drop or replace single attributes."""
    i = start + 1
    while data[i] not in _SPACE and data[i] not in b"/>":
        i += 1
    name = data[start + 1 : i]
    attrs: list[tuple[str, int, int]] = []
    while True:
        first = i
        while data[i] in _SPACE:
            i += 1
        if data[i] == ord(">"):
            return name, i + 1, False, attrs
        if data[i] == ord("/"):
            return name, i + 2, True, attrs
        equals = data.index(b"=", i)
        attr = data[i:equals].strip().decode()
        quote = equals + 1
        while data[quote] in _SPACE:
            quote += 1
        closing = data.index(data[quote : quote + 1], quote + 1)
        attrs.append((attr, first, closing + 1))
        i = closing + 1


class SheetXml:
    """A worksheet's rows and cells, by zero-based number, with their byte spans."""

    def __init__(self, part: Part, where: str) -> None:
        self.part = part
        self.where = where
        data = part.root.child("sheetData")
        if data is None:
            raise SheetXmlError(f"{where}: no <sheetData>; not a worksheet")
        self.sheet_data = data
        self.rows: dict[int, tuple[Node, dict[int, Node]]] = {}
        self.row_order: list[tuple[int, Node]] = []
        # Positions may be implicit (no r=): inserting beside such rows or cells would move them.
        self.implicit = False
        try:
            self._index(data)
            self.col_styles = _column_styles(part.root)
        except (KeyError, ValueError) as exc:
            raise SheetXmlError(f"{where}: a row, cell or column is malformed ({exc})") from None

    def _index(self, data: Node) -> None:
        number = -1
        for row in data.children:
            if row.name != NS_MAIN + "row":
                continue
            self.implicit |= "r" not in row.attrs
            number = int(row.attrs["r"]) - 1 if "r" in row.attrs else number + 1
            cells: dict[int, Node] = {}
            col = -1
            for node in row.children:
                if node.name == NS_MAIN + "c":
                    self.implicit |= "r" not in node.attrs
                    col = _column(node.attrs["r"]) if "r" in node.attrs else col + 1
                    cells.setdefault(col, node)
            self.rows.setdefault(number, (row, cells))
            self.row_order.append((number, row))

    def cell(self, row: int, col: int) -> Node | None:
        """The cell element at zero-based ``row`` and ``col``; None when the sheet has none."""
        found = self.rows.get(row)
        return found[1].get(col) if found else None

    def keys(self, col: int, strings: SharedStrings) -> dict[str, int]:
        """Text in column ``col`` -> its first row (the key columns the reader goes by)."""
        keys: dict[str, int] = {}
        for number, (_, cells) in sorted(self.rows.items()):
            node = cells.get(col)
            value = None if node is None else cell_value(node, strings, self.where)
            if isinstance(value, str):
                keys.setdefault(value, number)
        return keys


def _column(ref: str) -> int:
    """Zero-based column of an A1 reference."""
    number = 0
    for letter in ref:
        if not letter.isalpha():
            break
        number = number * 26 + ord(letter.upper()) - 64
    return number - 1


def _column_styles(root: Node) -> dict[int, str]:
    styles: dict[int, str] = {}
    cols = root.child("cols")
    for col in cols.children if cols else []:
        if "style" in col.attrs:
            for index in range(int(col.attrs["min"]) - 1, int(col.attrs["max"])):
                styles[index] = col.attrs["style"]
    return styles


class SharedStrings:
    """The shared-string table, read only if a cell needs it.

    ``load`` returns the table's texts in order; finding and reading the part is the
    package's business, so the caller supplies it.
    """

    def __init__(self, load: Callable[[], list[str]]) -> None:
        self._load = load
        self._texts: list[str] | None = None

    def __getitem__(self, index: int) -> str:
        """The text at ``index``; "" for an index outside the table."""
        if self._texts is None:
            self._texts = self._load()
        return self._texts[index] if 0 <= index < len(self._texts) else ""


def cell_value(node: Node, strings: SharedStrings, where: str) -> object:
    """What the cell shows (its cached value for a formula); None when blank."""
    kind = node.attrs.get("t", "n")
    if kind == "inlineStr":
        inline = node.child("is")
        text = "" if inline is None else _inline_text(inline)
        return text or None
    value = node.child("v")
    raw = "" if value is None else value.text
    if raw == "":
        return None
    if kind == "s":
        try:
            return strings[int(raw)] or None
        except ValueError:
            raise SheetXmlError(
                f"{where}: cell {node.attrs.get('r')} points to shared string {raw!r}"
            ) from None
    if kind == "b":
        return raw.strip() in ("1", "true")
    if kind in ("str", "e", "d"):
        return raw
    try:
        return float(raw)
    except ValueError:
        return raw


def _inline_text(inline: Node) -> str:
    runs = [inline, *(c for c in inline.children if c.name == NS_MAIN + "r")]
    return "".join(t.text for run in runs for t in run.children if t.name == NS_MAIN + "t")
