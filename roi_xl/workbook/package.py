"""The zip of a batch's workbooks, written here from the parts XlsxWriter assembles.

XlsxWriter deflates every part of every workbook at zlib's default level. In a
batch most parts come back unchanged from one workbook to the next (styles,
theme, content types, relationships, workbook.xml, drawings, properties, the
sheets without numbers): a part equal to the one met last under its name is
copied from its compressed bytes, and only the parts that changed are deflated,
at a faster level, by ISA-L's deflate where it is installed (about four times
as fast as zlib's at its fastest level, and a little smaller). The file is a
plain zip (deflate, no data descriptors); the parts, once inflated, are exactly
XlsxWriter's.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from typing import IO

import xlsxwriter
from xlsxwriter.exceptions import EmptyChartSeries
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings, SharedStringTable
from xlsxwriter.styles import Styles

from roi_xl.workbook.chart_reuse import ChartTexts, chart_xml
from roi_xl.workbook.skeleton import NumbersUnescaped, frozen
from roi_xl.workbook.xml_text import assembled, written

try:
    from isal import isal_zlib as deflater
except ImportError:  # a platform isal ships no build for: zlib, the same parts
    deflater = zlib  # type: ignore[assignment]

LEVEL = 1  # a fast level: the parts compress to about a sixth all the same
_DEFLATED = 8
_VERSION = 20  # 2.0: deflate
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, as XlsxWriter dates its parts
_LIMIT = 0xFFFFFFFF - 1  # beyond, a part would need zip64: left to XlsxWriter
KEPT_STRINGS = 16  # shared string tables whose XML a process keeps
_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")


class _Part:
    """A part as last met under its name: its text, and that text deflated."""

    __slots__ = ("crc", "data", "deflated")

    def __init__(self, data: bytes) -> None:
        self.data = data
        compressor = deflater.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
        self.deflated = compressor.compress(data) + compressor.flush()
        self.crc = deflater.crc32(data)


class PartCache:
    """The parts of the workbook written last, by name: a process keeps one per name, so
    what it holds does not grow with the rows. ``reused`` and ``deflated`` count parts.
    The shared strings' XML is also kept, by the strings it holds (``KEPT_STRINGS`` tables
    at most): a batch's workbooks mostly hold the same labels. So are the charts' XML
    skeletons, by their options (``chart_reuse``)."""

    def __init__(self) -> None:
        self.parts: dict[str, _Part] = {}
        self.reused = 0
        self.deflated = 0
        self.strings: dict[tuple[object, ...], str] = {}
        self.strings_reused = 0
        self.charts = ChartTexts()
        # workbook.xml as written last, by what it was written from (the last one only)
        self.workbook_xml: tuple[bytes, str] | None = None
        self.workbook_xml_reused = 0

    def part(self, name: str, data: bytes) -> _Part:
        """``data`` under ``name``, deflated once for as long as it comes back the same."""
        known = self.parts.get(name)
        if known is not None and known.data == data:
            self.reused += 1
            return known
        self.deflated += 1
        known = self.parts[name] = _Part(data)
        return known


class _KeepingPackager(Packager):
    """XlsxWriter's packager, its assembled parts handed over instead of zipped."""

    def __init__(self, kept: list[tuple[IO, str, bool]], cache: PartCache) -> None:
        super().__init__()
        self._kept = kept
        self._cache = cache

    def _write_shared_strings_file(self) -> None:
        """XlsxWriter's shared strings part, made from nothing but the strings (in the order
        of their indices) and how often cells use them: the same XML for the same table."""
        table = self.workbook.str_table
        if not table.count:
            return
        key = (table.count, table.unique_count, tuple(table.string_array))
        text = self._cache.strings.get(key)
        if text is None:
            text = _assembled(table)
            if len(self._cache.strings) >= KEPT_STRINGS:
                self._cache.strings.clear()
            self._cache.strings[key] = text
        else:
            self._cache.strings_reused += 1
        self._filename("xl/sharedStrings.xml").write(text)

    def _write_styles_file(self) -> None:
        """XlsxWriter's styles part, written by a ``Styles`` that takes numbers as they are."""
        workbook = self.workbook
        styles = _Styles()
        styles._set_style_properties(
            [
                workbook.xf_formats,
                workbook.palette,
                workbook.font_count,
                workbook.num_formats,
                workbook.border_count,
                workbook.fill_count,
                workbook.custom_colors,
                workbook.dxf_formats,
                workbook.has_comments,
            ]
        )
        styles._set_xml_writer(self._filename("xl/styles.xml"))
        styles._assemble_xml_file()

    def _write_chart_files(self) -> None:
        """XlsxWriter's chart parts, each written from the skeleton of its options when one
        was made before."""
        for index, chart in enumerate(self.workbook.charts, start=1):
            if not chart.series:
                raise EmptyChartSeries(f"Chart{index} must contain at least one data series.")
            text = chart_xml(chart, self._cache.charts)
            self._filename(f"xl/charts/chart{index}.xml").write(text)

    def _create_package(self) -> list[tuple[IO, str, bool]]:
        self._kept.extend(super()._create_package())
        return []  # XlsxWriter zips nothing; the parts go to ``zip_parts``


class _Styles(NumbersUnescaped, Styles):
    """XlsxWriter's styles writer; its hundreds of numbers are not sent through escaping."""


class PartsWorkbook(NumbersUnescaped, xlsxwriter.Workbook):
    """An XlsxWriter workbook (``in_memory``) whose parts, once closed, are in ``parts``."""

    def __init__(self, filename: IO[bytes], options: dict[str, object], cache: PartCache) -> None:
        super().__init__(filename, options)
        self.parts: list[tuple[IO, str, bool]] = []
        self._cache = cache

    def _get_packager(self) -> Packager:
        return _KeepingPackager(self.parts, self._cache)

    def _assemble_xml_file(self) -> None:
        """XlsxWriter's workbook.xml, its formats prepared first as XlsxWriter does; its text
        as written for the workbook before when everything it is written from is equal (the
        workbooks of a batch have the same sheets, names, views and calculation)."""
        self._prepare_format_properties()
        key = frozen(
            (
                self.vba_project,
                self.read_only,
                self.vba_codename,
                self.date_1904,
                self.default_theme_version,
                (self.x_window, self.y_window, self.window_width, self.window_height),
                self.tab_ratio,
                self.worksheet_meta.firstsheet,
                self.worksheet_meta.activesheet,
                [(sheet.name, sheet.hidden) for sheet in self.worksheets()],
                self.defined_names,
                (self.calc_id, self.calc_mode, self.calc_on_load),
            )
        )
        known = self._cache.workbook_xml
        if key is not None and known is not None and known[0] == key:
            self._cache.workbook_xml_reused += 1
            self.fh.write(known[1])
            self._xml_close()
            return
        text = written(self, self._write_elements)
        self.fh.write(text)
        self._xml_close()
        if key is not None:
            self._cache.workbook_xml = (key, text)

    def _write_elements(self) -> None:
        """workbook.xml but for its formats' preparation and the file's closing, in
        XlsxWriter's order."""
        self._xml_declaration()
        self._write_workbook()
        self._write_file_version()
        self._write_file_sharing()
        self._write_workbook_pr()
        self._write_book_views()
        self._write_sheets()
        self._write_defined_names()
        self._write_calc_pr()
        self._xml_end_tag("workbook")


def _assembled(table: SharedStringTable) -> str:
    """The shared strings part as XlsxWriter writes it."""
    strings = SharedStrings()
    strings.string_table = table
    return assembled(strings)


def zip_parts(workbook: PartsWorkbook, cache: PartCache, out: IO[bytes]) -> None:
    """Write the closed ``workbook``'s parts to ``out`` as an .xlsx zip, in XlsxWriter's
    order (a package too large for a zip without zip64 is zipped by ``zipfile``)."""
    named = []
    for handle, name, is_binary in workbook.parts:
        value = handle.getvalue()
        named.append((name, value if is_binary else value.encode("utf-8")))
    if not _write_zip(
        [(name.encode("utf-8"), cache.part(name, data)) for name, data in named], out
    ):
        out.seek(0)
        out.truncate()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as package:
            for name, data in named:
                info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                package.writestr(info, data)


def _write_zip(entries: list[tuple[bytes, _Part]], out: IO[bytes]) -> bool:
    """The zip of ``entries``; False, nothing written, when it would need zip64."""
    if any(len(part.data) > _LIMIT or len(part.deflated) > _LIMIT for _, part in entries):
        return False
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, part in entries:
        sizes = (part.crc, len(part.deflated), len(part.data), len(name))
        header = _LOCAL.pack(b"PK\x03\x04", _VERSION, 0, _DEFLATED, 0, _DOS_DATE, *sizes, 0)
        central.append(
            _CENTRAL.pack(
                b"PK\x01\x02",
                _VERSION,
                _VERSION,
                0,
                _DEFLATED,
                0,
                _DOS_DATE,
                *sizes,
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
        chunks += (header, name, part.deflated)
        offset += len(header) + len(name) + len(part.deflated)
    directory = b"".join(central)
    if offset > _LIMIT or len(entries) > 0xFFFF:
        return False
    end = _END.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), offset, 0)
    out.write(b"".join(chunks))
    out.write(directory)
    out.write(end)
    return True
