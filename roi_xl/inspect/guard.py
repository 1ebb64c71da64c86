"""Look inside a file before trusting it: is it really an .xlsx, and is it safe to load?

Runs before any spreadsheet library touches the file. It refuses, with a
message that says what to do, files of the wrong kind (.xls, .xlsb, .ods, a
password-protected workbook), damaged files, zip bombs, XML with entity
declarations and absurdly large sheets; it streams every part with bounded
memory. On the way it collects what the value reader (python-calamine) cannot
give: which cells hold Excel error values, hidden sheets, external links.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from defusedxml import ElementTree as SafeXml

from roi_xl.errors import RoiXlError

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 5_000
MAX_PART_BYTES = 100 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, for parts above 1 MiB
MAX_SHEET_ROWS = 100_000
MAX_SHEET_CELLS = 10_000_000  # rows x columns of a sheet's used area, read as a dense grid
MAX_CARRY = 8 * 1024 * 1024  # an unfinished tag longer than this is not a spreadsheet
CHUNK = 1024 * 1024

OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

_DANGEROUS = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")
_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})(\d+)"')
_CELL_OR_ROW_START = re.compile(rb"<(?:\w+:)?(?:c|row)[\s>/]")
_EXTERNAL_LINK = re.compile(r"xl/externalLinks/[^/]+\.xml")
_ENCODING = re.compile(rb'encoding="([^"]+)"')
_ERROR_CELL = re.compile(
    rb'<(?:\w+:)?c\b(?=[^>]*\bt="e")[^>]*\br="([A-Z]{1,3}\d+)"[^>]*>(.*?)</(?:\w+:)?c>', re.S
)
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")


class UnreadableFileError(RoiXlError):
    """The file cannot be read as a workbook at all (exit code 2)."""


@dataclass
class SheetPart:
    name: str
    part: str
    state: str  # "visible", "hidden" or "veryHidden"
    rows: int = 0
    columns: int = 0
    error_cells: dict[str, str] = field(default_factory=dict)


@dataclass
class PackageScan:
    """What the scan learnt about a workbook package."""

    sheets: list[SheetPart]
    external_links: list[str]
    has_macros: bool

    def sheet(self, name: str) -> SheetPart | None:
        return next((s for s in self.sheets if s.name == name), None)


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
    names = {info.filename for info in infos}
    _check_package_kind(path, archive, names)
    sheets = _sheet_parts(path, archive)
    by_part = {sheet.part: sheet for sheet in sheets}
    for info in infos:
        if info.filename.endswith((".xml", ".rels", ".vml")):
            _scan_part(path, archive, info, by_part.get(info.filename))
    external = sorted(n for n in names if _EXTERNAL_LINK.fullmatch(n))
    macros = any(n.lower().endswith("vbaproject.bin") for n in names)
    return PackageScan(sheets=sheets, external_links=external, has_macros=macros)


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


def _parse(path: Path, archive: zipfile.ZipFile, part: str) -> SafeXml.Element:
    data = _read_bounded(path, archive, part)
    try:
        return SafeXml.fromstring(data)
    except Exception as exc:  # defusedxml raises several types for hostile or broken XML
        raise UnreadableFileError(f"{path}: part {part} is not valid XML ({exc})") from None


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


def _sheet_parts(path: Path, archive: zipfile.ZipFile) -> list[SheetPart]:
    """Sheet names, their XML parts and visibility, from workbook.xml and its relationships."""
    workbook = _parse(path, archive, "xl/workbook.xml")
    targets: dict[str, str] = {}
    if "xl/_rels/workbook.xml.rels" in archive.namelist():
        rels = _parse(path, archive, "xl/_rels/workbook.xml.rels")
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


def custom_properties(path: Path, archive: zipfile.ZipFile) -> dict[str, str]:
    """The package's custom document properties (roi_xl records its template and period there).

    The part is found through the package relationships, as Office does, and
    read with the same size and entity limits as every other part.
    """
    names = set(archive.namelist())
    part = "docProps/custom.xml"
    if "_rels/.rels" in names:
        for rel in _parse(path, archive, "_rels/.rels").iter(f"{NS_PKG_REL}Relationship"):
            if rel.get("Type", "") == _CUSTOM_REL:
                part = part_name(rel.get("Target", ""))
                break
    if part not in names:
        return {}
    root = _parse(path, archive, part)
    return {
        node.get("name", ""): "".join(node.itertext()) for node in root.iter(f"{NS_CUSTOM}property")
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
    path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, sheet: SheetPart | None
) -> None:
    """Stream one XML part: refuse entity declarations and foreign encodings; for a sheet,
    measure its used area and note its error cells.

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
                _check_encoding(path, info.filename, whole)
                _scan_text(path, info.filename, whole, sheet)
                return
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
            _scan_text(path, info.filename, ready, sheet)
    _scan_text(path, info.filename, carry, sheet)


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


def _scan_text(path: Path, part: str, text: bytes, sheet: SheetPart | None) -> None:
    if any(marker in text for marker in _DANGEROUS):
        raise UnreadableFileError(
            f"{path}: part {part} declares XML entities (a DOCTYPE); refusing it as unsafe"
        )
    if sheet is None:
        return
    rows = sheet.rows
    for attributes in _ROW.findall(text):
        number = _ROW_NUMBER.search(attributes)
        rows = rows + 1 if number is None else max(rows + 1, int(number.group(1)))
    references = _CELL_REF.findall(text)
    if references:
        columns = {letters for letters, _ in references}
        sheet.columns = max(sheet.columns, *map(_column_number, columns))
        rows = max(rows, *map(int, {digits for _, digits in references}))
    sheet.rows = rows
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
    if b't="e"' not in text:  # every error cell carries it: skip the costly pattern
        return
    for match in _ERROR_CELL.finditer(text):
        value = _VALUE.search(match.group(2))
        sheet.error_cells[match.group(1).decode()] = value.group(1).decode() if value else "#N/A"


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number
