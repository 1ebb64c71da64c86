"""Look inside a file before trusting it: is it really an .xlsx, and is it safe to load?

Runs before any spreadsheet library touches the file. It refuses, with a
message that says what to do, files of the wrong kind (.xls, .xlsb, .ods, a
password-protected workbook), damaged files, zip bombs, XML with entity
declarations and absurdly large sheets; it streams every part with bounded
memory. On the way it collects what the value reader (python-calamine) cannot
give: which cells hold Excel error values, hidden sheets, external links.
"""

from __future__ import annotations

import dataclasses
import re
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from defusedxml import ElementTree as SafeXml

from roi_xl.errors import RoiXlError
from roi_xl.inspect.judged import JudgedParts, Judgement, split_numbers, without_numbers
from roi_xl.inspect.part_bytes import PartBytes

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 5_000
MAX_PART_BYTES = 100 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, for parts above 1 MiB
MAX_SHEET_ROWS = 100_000
MAX_SHEET_CELLS = 1_000_000  # rows x columns of a sheet's used area, read as a dense grid
MAX_GRID_CELLS = 2_000_000  # the same, all sheets together
MAX_CELLS = 200_000  # cells written in all sheets (a 60-month roi_xl workbook has ~21,000)
MAX_ELEMENTS = 500_000  # XML elements in all parts (a 60-month roi_xl workbook has ~44,000)
MAX_SHEETS = 256
MAX_STRINGS = 1_000_000  # a shared-string table's declared count, which readers allocate
MAX_RANGE_CELLS = 100_000  # one range a sheet declares (merged cells, hyperlinks, ...)
MAX_RANGES_CELLS = 500_000  # all declared ranges together, which openpyxl may expand
MAX_CARRY = 8 * 1024 * 1024  # an unfinished tag longer than this is not a spreadsheet
CHUNK = 1024 * 1024
KEPT_BYTES = 16 * 1024 * 1024  # parts handed on to the readers (a roi_xl workbook: ~1.5 MiB)

OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

_DANGEROUS = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")
_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_PLAIN_ROW = re.compile(rb"<row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})(\d+)"')
_PLAIN_CELL_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})(\d+)"')
_CELL_OR_ROW_START = re.compile(rb"<(?:\w+:)?(?:c|row)[\s>/]")
_EXTERNAL_LINK = re.compile(r"xl/externalLinks/[^/]+\.xml")
_ENCODING = re.compile(rb'encoding="([^"]+)"')
_ERROR_CELL = re.compile(
    rb'<(?:\w+:)?c\b(?=[^>]*\bt="e")[^>]*\br="([A-Z]{1,3}\d+)"[^>]*>(.*?)</(?:\w+:)?c>', re.S
)
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_CELL_START = re.compile(rb"<(?:\w+:)?c[\s>/]")
_PLAIN_CELL_START = re.compile(rb"<c[\s>/]")
_SST = re.compile(rb"<(?:\w+:)?sst\b([^>]*)>")
_COUNT_ATTRIBUTE = re.compile(rb'\b((?:unique)?[cC]ount)\s*=\s*["\']\s*([^"\']*)["\']')
_RANGE_ATTRIBUTE = re.compile(rb'\b(?:sqref|ref)\s*=\s*["\']([^"\']*)["\']')
_RANGE_ELEMENT = re.compile(rb"<(?:\w+:)?sqref>([^<]*)<")
_RANGE = re.compile(r"\$?([A-Z]{1,3})?\$?([0-9]{1,7})?(?::\$?([A-Z]{1,3})?\$?([0-9]{1,7})?)?")
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
_LONGEST_RANGE = 40  # a range token is at most 25 characters ("$AAA$9999999:$AAA$9999999")


class UnreadableFileError(RoiXlError):
    """The file cannot be read as a workbook at all (exit code 2)."""


Split = tuple[bytes, list[bytes]]  # a sheet's bytes, numbers taken out, and those numbers


@dataclass
class SheetPart:
    name: str
    part: str
    state: str  # "visible", "hidden" or "veryHidden"
    rows: int = 0
    columns: int = 0
    error_cells: dict[str, str] = field(default_factory=dict)


@dataclass
class _Totals:
    """What the scan has counted so far across the whole package."""

    cells: int = 0
    elements: int = 0
    range_cells: int = 0


@dataclass
class PackageScan:
    """What the scan learnt about a workbook package."""

    sheets: list[SheetPart]
    external_links: list[str]
    has_macros: bool
    names: frozenset[str] = frozenset()  # the package's entries
    # The parts the scan read whole, as it inflated them, so the readers after it need not
    # open and inflate them again; up to KEPT_BYTES in all, the others are read from the file.
    parts: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)
    # Each sheet part read whole, split into its bytes without the plain numbers of its <v>
    # elements and those numbers in order (roi_xl.inspect.judged.split_numbers).
    numbers: dict[str, Split] = field(default_factory=dict, repr=False, compare=False)

    def sheet(self, name: str) -> SheetPart | None:
        return next((s for s in self.sheets if s.name == name), None)

    def read(self, path: Path, part: str) -> bytes:
        """A part's bytes: as the scan kept them, or read again with the same limits."""
        data = self.parts.get(part)
        if data is None:
            with zipfile.ZipFile(path) as archive:
                data = _read_bounded(path, archive, part)
        return data


def scan(path: Path) -> PackageScan:
    """Check ``path`` is a safe, well-formed .xlsx and scan it; raise UnreadableFileError if not."""
    _check_kind(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return _scan_archive(path, archive)
    except zipfile.BadZipFile as exc:
        raise UnreadableFileError(
            f"{path}: the file is damaged or truncated ({exc}); take a fresh copy or re-save it "
            "from Excel"
        ) from None
    except (zlib.error, EOFError, OSError) as exc:
        raise UnreadableFileError(
            f"{path}: the file is damaged or truncated ({exc}); take a fresh copy or re-save it "
            "from Excel"
        ) from None


def _check_kind(path: Path) -> None:
    if not path.exists():
        raise UnreadableFileError(f"{path}: no such file")
    if not path.is_file():
        raise UnreadableFileError(f"{path}: not a file")
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFileError(f"{path}: the file is empty")
    if size > MAX_FILE_BYTES:
        raise UnreadableFileError(
            f"{path}: {size / 1024 / 1024:.0f} MiB is too large for a roi_xl workbook "
            f"(limit {MAX_FILE_BYTES // 1024 // 1024} MiB)"
        )
    with path.open("rb") as handle:
        head = handle.read(8)
    suffix = path.suffix.lower()
    if head == OLE2_MAGIC:
        if suffix == ".xls":
            raise UnreadableFileError(
                f"{path}: this is an old-style .xls workbook; open it in Excel and save it as "
                "Excel Workbook (.xlsx)"
            )
        raise UnreadableFileError(
            f"{path}: the workbook is password-protected (encrypted); open it in Excel, remove the "
            "password (File > Info > Protect Workbook > Encrypt with Password) and save a copy"
        )
    if not head.startswith(ZIP_MAGIC):
        raise UnreadableFileError(
            f"{path}: not an Excel workbook: an .xlsx file is a zip package and this is not one"
        )


def _scan_archive(path: Path, archive: zipfile.ZipFile) -> PackageScan:
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise UnreadableFileError(f"{path}: {len(infos)} parts in the package is not a workbook")
    total = 0
    for info in infos:
        total += info.file_size
        too_big = info.file_size > MAX_PART_BYTES or total > MAX_TOTAL_BYTES
        ratio = info.file_size / max(info.compress_size, 1)
        if too_big or (info.file_size > CHUNK and ratio > MAX_RATIO):
            raise UnreadableFileError(
                f"{path}: part {info.filename} would expand to {info.file_size:,} bytes "
                f"(ratio {ratio:.0f}:1); refusing a possible zip bomb"
            )
    names = _check_entry_names(path, infos)
    _check_package_kind(path, archive, names)
    read: dict[str, bytes] = {}  # the parts read whole so far
    sheets = _sheet_parts(path, archive, names, read)
    if len(sheets) > MAX_SHEETS:
        raise UnreadableFileError(
            f"{path}: {len(sheets):,} sheets; a roi_xl workbook has at most 70 (limit {MAX_SHEETS})"
        )
    by_part = {sheet.part: sheet for sheet in sheets}
    totals = _Totals()
    kept: dict[str, bytes] = {}
    splits: dict[str, Split] = {}
    held = 0
    for info in infos:
        if info.filename.endswith((".xml", ".rels", ".vml")):
            sheet = by_part.get(info.filename)
            whole = read.get(info.filename) if info.file_size <= CHUNK else None
            if whole is not None and len(whole) <= CHUNK:
                split = _scan_whole(path, info, whole, sheet, totals)
            else:
                whole, split = _scan_part(path, archive, info, sheet, totals)
            if whole is not None and held + len(whole) <= KEPT_BYTES:
                kept[info.filename] = whole
                held += len(whole)
            if split is not None:
                splits[info.filename] = split
    grid = sum(sheet.rows * sheet.columns for sheet in sheets)
    if grid > MAX_GRID_CELLS:
        raise UnreadableFileError(
            f"{path}: the sheets' used areas add up to {grid:,} cells, read as grids (limit "
            f"{MAX_GRID_CELLS:,}); a roi_xl workbook is far smaller: clear the far-away cells "
            "or check this is the right file"
        )
    external = sorted(n for n in names if _EXTERNAL_LINK.fullmatch(n))
    macros = any(n.lower().endswith("vbaproject.bin") for n in names)
    return PackageScan(sheets, external, macros, frozenset(names), kept, splits)


def _check_entry_names(path: Path, infos: list[zipfile.ZipInfo]) -> set[str]:
    """Refuse a package whose entries could be confused or written outside a folder: the
    same name twice (readers disagree on which one counts), absolute or ``..`` names."""
    names: set[str] = set()
    for info in infos:
        name = info.filename
        pieces = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in pieces:
            raise UnreadableFileError(
                f"{path}: the package holds an entry named {name[:80]!r}, outside the package "
                "(an absolute or '..' name); refusing it as unsafe"
            )
        if name.casefold() in names:
            raise UnreadableFileError(
                f"{path}: the package holds two entries named {name[:80]!r}; readers would not "
                "agree on which one is the workbook, so it is refused as unsafe"
            )
        names.add(name.casefold())
    return {info.filename for info in infos}


def _check_package_kind(path: Path, archive: zipfile.ZipFile, names: set[str]) -> None:
    if "mimetype" in names and b"opendocument" in _head(archive, "mimetype"):
        raise UnreadableFileError(
            f"{path}: this is an OpenDocument spreadsheet (.ods); open it and save it as "
            "Excel 2007-365 (.xlsx)"
        )
    if "xl/workbook.bin" in names:
        raise UnreadableFileError(
            f"{path}: this is a binary workbook (.xlsb); open it in Excel and save it as "
            "Excel Workbook (.xlsx)"
        )
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise UnreadableFileError(
            f"{path}: a zip file, but not an Excel workbook (no xl/workbook.xml inside)"
        )


def _head(archive: zipfile.ZipFile, part: str, size: int = 200) -> bytes:
    """The first bytes of a part, without decompressing the rest."""
    with archive.open(part) as stream:
        return stream.read(size)


def _parse(
    path: Path, archive: zipfile.ZipFile, part: str, read: dict[str, bytes] | None = None
) -> SafeXml.Element:
    """A part parsed (its bytes left in ``read``); never to be changed by the caller."""
    data = _read_bounded(path, archive, part)
    if read is not None:
        read[part] = data
    return _parsed(path, part, data)


def _parsed(path: Path, part: str, data: bytes) -> SafeXml.Element:
    """``data`` parsed with entities refused; a tree is shared by every part of the same
    bytes (workbooks of one template repeat their workbook, relationship and property parts),
    so it is never to be changed."""
    tree = _TREES.get(data) if len(data) <= _TREE_BYTES else None
    if tree is None:
        try:
            tree = SafeXml.fromstring(data)
        except Exception as exc:  # defusedxml raises several types for hostile or broken XML
            raise UnreadableFileError(f"{path}: part {part} is not valid XML ({exc})") from None
        if len(data) <= _TREE_BYTES:
            if len(_TREES) >= _TREES_KEPT:
                _TREES.clear()
            _TREES[data] = tree
    return tree


_TREES: dict[bytes, SafeXml.Element] = {}
_TREES_KEPT, _TREE_BYTES = 64, 64 * 1024


def _read_bounded(path: Path, archive: zipfile.ZipFile, part: str) -> bytes:
    info = archive.getinfo(part)
    if info.file_size > MAX_PART_BYTES:
        raise UnreadableFileError(f"{path}: part {part} is too large")
    data = archive.read(part)
    if any(marker in data for marker in _DANGEROUS):
        raise UnreadableFileError(
            f"{path}: part {part} declares XML entities (a DOCTYPE); refusing it as unsafe"
        )
    return data


def _sheet_parts(
    path: Path, archive: zipfile.ZipFile, names: set[str], read: dict[str, bytes]
) -> list[SheetPart]:
    """Sheet names, their XML parts and visibility, from workbook.xml and its relationships
    (whose bytes are left in ``read`` for the scan)."""
    workbook = _parse(path, archive, "xl/workbook.xml", read)
    targets: dict[str, str] = {}
    if "xl/_rels/workbook.xml.rels" in names:
        rels = _parse(path, archive, "xl/_rels/workbook.xml.rels", read)
        for rel in rels.iter(f"{NS_PKG_REL}Relationship"):
            target = rel.get("Target", "")
            if target.startswith("/"):
                part = target.lstrip("/")
            else:
                part = str(PurePosixPath("xl") / target)
            targets[rel.get("Id", "")] = part_name(part)
    sheets = []
    for node in workbook.iter(f"{NS_MAIN}sheet"):
        rel_id = node.get(f"{NS_REL}id", "")
        sheets.append(
            SheetPart(
                name=node.get("name", ""),
                part=targets.get(rel_id, ""),
                state=node.get("state", "visible"),
            )
        )
    return sheets


NS_CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"
_CUSTOM_REL = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
)


def custom_properties(path: Path, source: zipfile.ZipFile | PackageScan) -> dict[str, str]:
    """The package's custom document properties (roi_xl records its template and period there).

    The part is found through the package relationships, as Office does, and
    read with the same size and entity limits as every other part: from the open
    ``source`` archive, or from the parts a scan of the package kept.
    """
    if isinstance(source, PackageScan):
        names: Collection[str] = source.names

        def read(part: str) -> SafeXml.Element:
            return _parsed(path, part, source.read(path, part))
    else:
        names = set(source.namelist())

        def read(part: str) -> SafeXml.Element:
            return _parse(path, source, part)

    part = "docProps/custom.xml"
    if "_rels/.rels" in names:
        for rel in read("_rels/.rels").iter(f"{NS_PKG_REL}Relationship"):
            if rel.get("Type", "") == _CUSTOM_REL:
                part = part_name(rel.get("Target", ""))
                break
    if part not in names:
        return {}
    return {
        node.get("name", ""): "".join(node.itertext())
        for node in read(part).iter(f"{NS_CUSTOM}property")
    }


def part_name(part: str) -> str:
    """A zip entry name from a relationship target ("xl/./a/../b.xml" -> "xl/b.xml")."""
    pieces: list[str] = []
    for piece in part.split("/"):
        if piece == "..":
            if pieces:
                pieces.pop()
        elif piece not in ("", "."):
            pieces.append(piece)
    return "/".join(pieces)


def _scan_part(
    path: Path,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    sheet: SheetPart | None,
    totals: _Totals,
) -> tuple[bytes | None, Split | None]:
    """Stream one XML part: refuse entity declarations and foreign encodings; for a sheet,
    measure its used area and note its error cells. Returns the part's bytes when it was
    read whole, and for a sheet read whole its split (see ``_scan_whole``).

    A part of at most one chunk (nearly all of them) is read whole and scanned at
    once. A larger one is read chunk by chunk, each processed up to its last
    complete tag; the rest is carried over, so nothing is seen twice or split in two.
    """
    carry = b""
    first = True
    with archive.open(info) as stream:
        if info.file_size <= CHUNK:
            whole = stream.read(CHUNK + 1)
            if len(whole) <= CHUNK:  # the size the directory gives is not trusted
                return whole, _scan_whole(path, info, whole, sheet, totals)
            carry, first = whole, False
            _check_encoding(path, info.filename, whole)
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            if first:
                _check_encoding(path, info.filename, chunk)
                first = False
            buffer = carry + chunk
            cut = _last_boundary(buffer, sheet is not None)
            ready, carry = buffer[:cut], buffer[cut:]
            if len(carry) > MAX_CARRY:
                raise UnreadableFileError(f"{path}: part {info.filename} is not a valid sheet")
            _scan_text(path, info.filename, ready, sheet, totals)
    _scan_text(path, info.filename, carry, sheet, totals)
    return None, None


def _scan_whole(
    path: Path, info: zipfile.ZipInfo, data: bytes, sheet: SheetPart | None, totals: _Totals
) -> Split | None:
    """Scan a part read whole, or add what a part of the same bytes (numbers aside, see
    ``roi_xl.inspect.judged``) added when it was judged safe. Returns a sheet's bytes
    without its numbers, and those numbers, for the formula reader (None for other parts).

    A remembered judgement is only replayed when no count can cross its limit now; else
    the part is scanned, so a refusal is always the scan's own, with its own message."""
    _check_encoding(path, info.filename, data)
    is_sheet = sheet is not None
    split = split_numbers(data) if is_sheet else None
    bare = split[0] if split is not None else without_numbers(data)
    known = _JUDGED.find(is_sheet, bare)
    if (
        known is not None
        and totals.elements + known.elements <= MAX_ELEMENTS
        and totals.range_cells + known.range_cells <= MAX_RANGES_CELLS
        and totals.cells + known.cells <= MAX_CELLS
    ):
        totals.elements += known.elements
        totals.range_cells += known.range_cells
        totals.cells += known.cells
        if sheet is not None:
            sheet.rows, sheet.columns = known.rows, known.columns
            sheet.error_cells = dict(known.error_cells)
        return split
    before = dataclasses.replace(totals)
    may_hold_errors = _scan_text(path, info.filename, data, sheet, totals)
    if may_hold_errors:  # an error cell's value is read: only the same bytes are alike
        bare = data
    judgement = Judgement(
        bare,
        elements=totals.elements - before.elements,
        range_cells=totals.range_cells - before.range_cells,
        cells=totals.cells - before.cells,
        rows=sheet.rows if sheet else 0,
        columns=sheet.columns if sheet else 0,
        error_cells=tuple(sheet.error_cells.items()) if sheet else (),
    )
    _JUDGED.keep(is_sheet, judgement)
    return split


_JUDGED = JudgedParts(max_bytes=8 * 1024 * 1024, max_part=CHUNK)


def _last_boundary(buffer: bytes, is_sheet: bool) -> int:
    """Where the complete part of a buffer ends: before the last row or cell that starts in
    it (sheets, so no cell is cut in two), or before the last tag (other parts)."""
    if not is_sheet:
        start = buffer.rfind(b"<")
        return start if start > 0 else len(buffer)
    for offset in (max(len(buffer) - 65536, 0), 0):
        starts = [m.start() for m in _CELL_OR_ROW_START.finditer(buffer, offset)]
        if starts:
            return starts[-1]
    return 0


def _check_encoding(path: Path, part: str, head: bytes) -> None:
    """Excel and LibreOffice write UTF-8; anything else is refused rather than misread."""
    declared = _ENCODING.search(head[:200])
    utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:4] in (b"\x00\x00\xfe\xff",)
    if utf16 or (declared and declared.group(1).lower() not in (b"utf-8", b"utf8")):
        raise UnreadableFileError(
            f"{path}: part {part} is not UTF-8 encoded, as Excel and LibreOffice write "
            "workbooks; re-save the file from Excel"
        )


def _scan_text(
    path: Path, part: str, text: bytes, sheet: SheetPart | None, totals: _Totals
) -> bool:
    """Scan some text of a part; True when it is a sheet's that may hold error cells
    (their values were then read)."""
    found = PartBytes(text)
    if found.contains(b"<!") and any(marker in text for marker in _DANGEROUS):
        raise UnreadableFileError(
            f"{path}: part {part} declares XML entities (a DOCTYPE); refusing it as unsafe"
        )
    _check_counts(path, part, text, totals, found)
    if sheet is None:
        return False
    cells, columns, last_row = found.plain_cells() or _cells(text)
    totals.cells += cells
    if totals.cells > MAX_CELLS:
        raise UnreadableFileError(
            f"{path}: sheet '{sheet.name}' brings the workbook past {MAX_CELLS:,} cells; a "
            "roi_xl workbook has a few thousand: is this the right file?"
        )
    rows = sheet.rows
    for attributes in _row_attributes(text, found):
        number = _ROW_NUMBER.search(attributes)
        rows = rows + 1 if number is None else max(rows + 1, int(number.group(1)))
    sheet.columns = max(sheet.columns, columns)
    sheet.rows = rows = max(rows, last_row)
    if sheet.rows > MAX_SHEET_ROWS:
        raise UnreadableFileError(
            f"{path}: sheet '{sheet.name}' has more than {MAX_SHEET_ROWS:,} rows; a roi_xl "
            "workbook has a few hundred: is this the right file?"
        )
    if sheet.rows * sheet.columns > MAX_SHEET_CELLS:
        raise UnreadableFileError(
            f"{path}: sheet '{sheet.name}' spreads over {sheet.rows:,} rows x "
            f"{sheet.columns:,} columns; a roi_xl workbook is far smaller (limit "
            f"{MAX_SHEET_CELLS:,} cells): clear the far-away cells or check this is the right file"
        )
    if not found.contains(b't="e"'):  # every error cell carries it: skip the costly pattern
        return False
    for match in _ERROR_CELL.finditer(text):
        value = _VALUE.search(match.group(2))
        sheet.error_cells[match.group(1).decode()] = value.group(1).decode() if value else "#N/A"
    return True


def _row_attributes(text: bytes, found: PartBytes) -> list[bytes]:
    """What ``_ROW.findall`` gives. Without a prefixed row tag, a match can only start
    where ``<row`` is: the pattern is tried there alone, resuming after each match."""
    if found.contains(b":row"):
        return _ROW.findall(text)
    if not found.large:
        return _PLAIN_ROW.findall(text)
    rows: list[bytes] = []
    position = 0
    for start in found.starts(b"<row"):
        match = _PLAIN_ROW.match(text, start) if start >= position else None
        if match:
            rows.append(match.group(1))
            position = match.end()
    return rows


def _cells(text: bytes) -> tuple[int, int, int]:
    """Cells, largest column number and largest row number, by the patterns (0 if none);
    without a prefixed cell tag, patterns that start with a literal find the same."""
    prefixed = b":c" in text
    references = (_CELL_REF if prefixed else _PLAIN_CELL_REF).findall(text)
    letters = {letters for letters, _ in references}
    digits = {digits for _, digits in references}
    return (
        len((_CELL_START if prefixed else _PLAIN_CELL_START).findall(text)),
        max(map(_column_number, letters), default=0),
        max(map(int, digits), default=0),
    )


def _check_counts(path: Path, part: str, text: bytes, totals: _Totals, found: PartBytes) -> None:
    """What readers trust and allocate or expand: the number of elements, a shared-string
    table's declared counts, and every range a part declares (merged cells, hyperlinks,
    conditional formats, data validations, the sheet's dimension...)."""
    totals.elements += found.elements()
    if totals.elements > MAX_ELEMENTS:
        raise UnreadableFileError(
            f"{path}: part {part} brings the package past {MAX_ELEMENTS:,} XML elements; a "
            "roi_xl workbook has far fewer: is this the right file?"
        )
    for match in _SST.finditer(text) if found.contains(b"sst") else ():
        for name, value in _COUNT_ATTRIBUTE.findall(match.group(1)):
            if not value.strip().isdigit() or int(value) > MAX_STRINGS:
                declared = value[:20].decode(errors="replace")
                raise UnreadableFileError(
                    f"{path}: part {part} declares {name.decode()}={declared!r} shared strings "
                    f"(limit {MAX_STRINGS:,}); refusing a forged count"
                )
    elements = _RANGE_ELEMENT.findall(text) if found.contains(b"sqref>") else []
    for declared in (*range_attributes(text, found), *elements):
        for token in declared.decode("utf-8", errors="replace").split():
            area = range_cells(token)
            totals.range_cells += area
            if area > MAX_RANGE_CELLS or totals.range_cells > MAX_RANGES_CELLS:
                raise UnreadableFileError(
                    f"{path}: part {part} declares the range {token[:40]} ({area:,} cells; "
                    f"limit {MAX_RANGE_CELLS:,} a range, {MAX_RANGES_CELLS:,} in all) that "
                    "readers would expand cell by cell; a roi_xl workbook has none so large"
                )


def range_attributes(text: bytes, found: PartBytes | None = None) -> list[bytes]:
    """What ``_RANGE_ATTRIBUTE.findall`` returns, found faster: every match holds the bytes
    ``ref`` at its start (``ref=``) or two bytes in (``sqref=``), so the pattern is only
    tried there, left to right, resuming after each match as findall does."""
    ranges: list[bytes] = []
    position = 0
    for index in (found or PartBytes(text)).starts(b"ref"):
        if index < position:
            continue
        match = _RANGE_ATTRIBUTE.match(text, index - 2) if index - 2 >= position else None
        match = match or _RANGE_ATTRIBUTE.match(text, index)
        if match is None:
            position = index + 1
            continue
        ranges.append(match.group(1))
        position = match.end()
    return ranges


def range_cells(token: str) -> int:
    """The cells a range such as ``A1:C3``, ``$A:$A`` or ``2:5`` covers (0 if not a range).
    Workbooks repeat the same short ranges, so those are remembered; a long token (none is a
    range) is not kept."""
    return _short_range_cells(token) if len(token) <= _LONGEST_RANGE else _range_cells(token)


@lru_cache(maxsize=4096)
def _short_range_cells(token: str) -> int:
    return _range_cells(token)


def _range_cells(token: str) -> int:
    match = _RANGE.fullmatch(token.strip().upper())
    if not match or not any(match.groups()):
        return 0
    first_col, first_row, last_col, last_row = match.groups()
    if ":" not in token:
        return 1 if first_col and first_row else 0
    columns = (
        abs(_column_number(last_col.encode()) - _column_number(first_col.encode())) + 1
        if first_col and last_col
        else EXCEL_COLUMNS
    )
    rows = abs(int(last_row) - int(first_row)) + 1 if first_row and last_row else EXCEL_ROWS
    return columns * rows


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number
