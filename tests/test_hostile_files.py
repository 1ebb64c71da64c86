"""Hostile files through the real command line: refused with exit code 2 and a clear message.

The corpus is built by the tests in a temporary folder (nothing binary is committed):
files of the wrong kind, damaged files, zip bombs, XML entity tricks, absurdly large
sheets, workbooks of another origin, a missing path and a folder. Each one is given to
the installed ``roi-xl`` script, as a user runs it, with ``audit FILE`` and
``read --json FILE``, in a subprocess whose address space is capped at 1 GiB
(RLIMIT_AS) and its CPU time at 10 s (RLIMIT_CPU), and whose own peak resident memory
is read back with ``os.wait4``. Every run must exit with code 2, print one message
naming the file and the problem, print no traceback, stay within 10 s of CPU and 1 GiB,
and leave the file byte-identical. No wall-clock time is asserted (a busy machine is
no bug); a run still going after two minutes is killed and fails as a hang.

The cases after the "found while probing" line go past the obvious corpus; when they
were written they failed, and each comment says which bug in the guard or the reader
they document (they pass once it is fixed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from roi_xl.inspect import guard
from roi_xl.inspect.judged import JudgedParts
from roi_xl.model import template
from roi_xl.workbook import WorkbookOptions, write_workbook

if sys.platform.startswith("linux"):
    import resource

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="the memory bound uses RLIMIT_AS and wait4's ru_maxrss as Linux defines them",
)

CLI = Path(sys.executable).parent / "roi-xl"
CPU_LIMIT = 10  # seconds of CPU, per process: the kernel stops a run past it (a signal, not 2)
KILL_AFTER = 120.0  # wall seconds: only a run that hangs is still going then (killed, fails)
MEMORY_LIMIT = 1 << 30  # bytes: the address-space cap, and the bound on peak RSS
COMMANDS = {"audit": ["audit"], "read-json": ["read", "--json"]}
INPUTS_SHEET = "xl/worksheets/sheet2.xml"  # the Inputs sheet of a generated workbook
EXCEL_ROWS = 1_048_576
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")

Builder = Callable[[Path, Path], Path]  # (folder, valid workbook) -> the file to give the CLI


# ------------------------------------------------------------------ running the CLI


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_bytes: int
    killed: bool

    @property
    def message(self) -> str:
        """stderr with runs of whitespace collapsed (rich wraps long lines at 80 columns)."""
        return " ".join(self.stderr.split())

    def describe(self) -> str:
        return (
            f"exit {self.code}, {self.seconds:.2f} s, peak {self.peak_bytes / 2**20:.0f} MiB"
            f"{', KILLED as a hang' if self.killed else ''}\n"
            f"--- stdout (first 1500 chars):\n{self.stdout[:1500]}\n"
            f"--- stderr (first 3000 chars):\n{self.stderr[:3000]}"
        )


def _cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT + 1))


def run_cli(args: list[str], logs: Path) -> CliRun:
    """Run the installed roi-xl script; measure wall time and the child's own peak RSS."""
    logs.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        # BLAS thread pools reserve address space per thread; keep RLIMIT_AS about real use.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    with (logs / "stdout").open("wb") as out, (logs / "stderr").open("wb") as err:
        begin = time.monotonic()
        proc = subprocess.Popen(
            [str(CLI), *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            preexec_fn=_cap_address_space,
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)

        timer = threading.Timer(KILL_AFTER, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            timer.join()
        seconds = time.monotonic() - begin
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait
    return CliRun(
        code=proc.returncode,
        stdout=(logs / "stdout").read_text("utf-8", errors="replace"),
        stderr=(logs / "stderr").read_text("utf-8", errors="replace"),
        seconds=seconds,
        peak_bytes=usage.ru_maxrss * 1024,  # KiB on Linux
        killed=killed.is_set(),
    )


def fingerprint(path: Path) -> object:
    """What must not change: a file's bytes, a folder's files, or that the path is absent."""
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    if path.is_dir():
        return sorted((p.name, fingerprint(p)) for p in path.iterdir())
    return None if not path.exists() else "special"


# ------------------------------------------------------------------ building the corpus


def write_valid(path: Path, key: str = "phoning-b2b") -> Path:
    options = WorkbookOptions(start=dt.date(2026, 1, 1), force=True)
    return write_workbook(template.load(key), path, options)


PartWriter = Callable[[IO[bytes], bytes], None]  # (entry stream, original part bytes)


def rewrite(source: Path, dest: Path, replace: dict[str, bytes | PartWriter]) -> Path:
    """Copy a workbook package, replacing some parts (streamed into the zip entry)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename not in replace:
                zout.writestr(info, data)
                continue
            entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            new = replace[info.filename]
            with zout.open(entry, "w", force_zip64=True) as stream:
                if isinstance(new, bytes):
                    stream.write(new)
                else:
                    new(stream, data)
    return dest


def split_declaration(xml: bytes) -> tuple[bytes, bytes]:
    """(the <?xml ...?> declaration, the rest)."""
    end = xml.index(b"?>") + 2
    return xml[:end], xml[end:]


def raw_zip(dest: Path, entries: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip from already-deflated entries: (name, raw deflate stream, crc32, size declared)."""
    with dest.open("wb") as out:
        central = b""
        for name, raw, crc, size in entries:
            offset = out.tell()
            encoded = name.encode()
            out.write(
                struct.pack(
                    "<IHHHHHIIIHH",
                    0x04034B50,
                    20,
                    0,
                    8,
                    0,
                    0x21,
                    crc,
                    len(raw),
                    size,
                    len(encoded),
                    0,
                )
            )
            out.write(encoded + raw)
            central += (
                struct.pack(
                    "<IHHHHHHIIIHHHHHII",
                    *(0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(raw), size),
                    *(len(encoded), 0, 0, 0, 0, 0, offset),
                )
                + encoded
            )
        start = out.tell()
        out.write(central)
        count = len(entries)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), start, 0))
    return dest


def deflated(data: bytes) -> tuple[bytes, int, int]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data)


def deflated_zeros(blocks: int, block: int = 1 << 24) -> tuple[bytes, int, int]:
    """A raw deflate stream of blocks * block zero bytes, fast: one full-flushed block repeated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty final block
    zeros, crc = bytes(block), 0
    for _ in range(blocks):
        crc = zlib.crc32(zeros, crc)
    return segment * blocks + final, crc, blocks * block


def _not_a_zip(folder: Path, valid: Path) -> Path:
    path = folder / "not-a-zip.xlsx"
    path.write_text("Name;Value\ncalls_made;8000\nreach_rate;0.04\n" * 50, encoding="utf-8")
    return path


def _empty(folder: Path, valid: Path) -> Path:
    path = folder / "empty.xlsx"
    path.write_bytes(b"")
    return path


def _zip_not_workbook(folder: Path, valid: Path) -> Path:
    path = folder / "zip-of-notes.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.txt", "Call the agency on Monday.\n" * 40)
    return path


def _truncated(folder: Path, valid: Path) -> Path:
    data = valid.read_bytes()
    path = folder / "truncated.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path


def _corrupted(kind: str) -> Builder:
    """One byte of the Inputs sheet's compressed data flipped, from the middle on.

    ``kind`` "crc": the first flip that still inflates, to wrong bytes (a CRC-32 error);
    "deflate": the first flip that breaks the deflate stream itself (a zlib error).
    """

    def outcome(data: bytes) -> str:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                archive.read(INPUTS_SHEET)
        except zipfile.BadZipFile as exc:
            return "crc" if "CRC" in str(exc) else "other"
        except (zlib.error, EOFError):
            return "deflate"
        return "intact"

    def build(folder: Path, valid: Path) -> Path:
        original = valid.read_bytes()
        with zipfile.ZipFile(valid) as archive:
            info = archive.getinfo(INPUTS_SHEET)
        name_len, extra_len = struct.unpack_from("<HH", original, info.header_offset + 26)
        start = info.header_offset + 30 + name_len + extra_len
        for offset in range(start + info.compress_size // 2, start + info.compress_size):
            for bit in (0x01, 0x10, 0x80):
                data = bytearray(original)
                data[offset] ^= bit
                if outcome(bytes(data)) == kind:
                    path = folder / f"one-byte-corrupted-{kind}.xlsx"
                    path.write_bytes(bytes(data))
                    return path
        raise AssertionError(f"no single-bit flip gives a {kind} error")

    return build


def _ole2(name: str) -> Builder:
    def build(folder: Path, valid: Path) -> Path:
        path = folder / name
        path.write_bytes(OLE2_MAGIC + bytes(4096 - len(OLE2_MAGIC)))
        return path

    return build


def _encrypted(folder: Path, valid: Path) -> Path:
    """A real password-protected workbook, encrypted as Excel does it."""
    from msoffcrypto.format import ooxml

    path = folder / "encrypted.xlsx"
    with valid.open("rb") as plain, path.open("wb") as out:
        ooxml.OOXMLFile(plain).encrypt("s3cret", out)
    assert path.read_bytes()[:8] == OLE2_MAGIC
    return path


def _xlsb(folder: Path, valid: Path) -> Path:
    path = folder / "binary.xlsb"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr("xl/workbook.bin", bytes(range(256)) * 8)
        archive.writestr("xl/worksheets/sheet1.bin", bytes(range(256)) * 8)
    return path


def _ods(folder: Path, valid: Path) -> Path:
    path = folder / "calc.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>',
            zipfile.ZIP_DEFLATED,
        )
        archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
    return path


def _openpyxl_workbook(folder: Path, valid: Path) -> Path:
    import openpyxl

    path = folder / "from-openpyxl.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Input", "Prudent", "Realistic", "Optimistic"])
    sheet.append(["calls_made", 6000, 8000, 10000])
    sheet["F2"] = "=SUM(B2:D2)"
    book.save(path)
    return path


def _xlsxwriter_workbook(folder: Path, valid: Path) -> Path:
    import xlsxwriter

    path = folder / "from-xlsxwriter.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Inputs")
    sheet.write_row(0, 0, ["Input", "Prudent", "Realistic", "Optimistic"])
    sheet.write_row(1, 0, ["calls_made", 6000, 8000, 10000])
    sheet.write_formula("F2", "=SUM(B2:D2)")
    book.close()
    return path


def _spaces_bomb(megabytes: int) -> Builder:
    """The Inputs sheet padded with spaces after its XML declaration (still well-formed)."""

    def build(folder: Path, valid: Path) -> Path:
        def pad(stream: IO[bytes], original: bytes) -> None:
            declaration, rest = split_declaration(original)
            stream.write(declaration)
            block = b" " * (1 << 20)
            for _ in range(megabytes):
                stream.write(block)
            stream.write(rest)

        path = rewrite(valid, folder / f"bomb-{megabytes}mb.xlsx", {INPUTS_SHEET: pad})
        assert path.stat().st_size < valid.stat().st_size + megabytes * 2048  # ratio > 500:1
        return path

    return build


def _entity_doctype(part: str, kind: str) -> Builder:
    """A billion-laughs or an external-entity DOCTYPE in a part of a valid workbook."""
    if kind == "laughs":
        entities = '<!ENTITY lol0 "lol">' + "".join(
            f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
        )
        reference = "&lol9;"
    else:
        entities = '<!ENTITY xxe SYSTEM "file:///etc/passwd">'
        reference = "&xxe;"

    def build(folder: Path, valid: Path) -> Path:
        def inject(stream: IO[bytes], original: bytes) -> None:
            declaration, rest = split_declaration(original)
            root = re.match(rb"\s*<([\w:]+)", rest)
            assert root is not None
            doctype = f"<!DOCTYPE {root.group(1).decode()} [{entities}]>"
            if part == "xl/workbook.xml":  # in the first sheet's name
                rest = re.sub(
                    rb'(<sheet [^>]*name=")', rf"\g<1>{reference}".encode(), rest, count=1
                )
            else:  # as an inline string in A1
                rest = re.sub(
                    rb'<c r="A1"[^>]*>.*?</c>',
                    f'<c r="A1" t="inlineStr"><is><t>{reference}</t></is></c>'.encode(),
                    rest,
                    count=1,
                )
            assert reference.encode() in rest
            stream.write(declaration + doctype.encode() + rest)

        stem = part.rsplit("/", 1)[-1].removesuffix(".xml")
        return rewrite(valid, folder / f"{kind}-{stem}.xlsx", {part: inject})

    return build


def _sheet_rows(row: Callable[[int], str], encoding: str = "utf-8") -> PartWriter:
    """Stream the Inputs sheet's head, then 1,048,576 generated rows, then the tail."""

    def write(stream: IO[bytes], original: bytes) -> None:
        text = split_declaration(original)[1].decode("utf-8")
        head = text[: text.index("<sheetData>") + len("<sheetData>")]
        head = re.sub(r'<dimension ref="[^"]*"/>', "", head)
        if encoding == "utf-16":
            stream.write(f'<?xml version="1.0" encoding="UTF-16"?>{head}'.encode("utf-16"))
            codec = "utf-16-le"  # the BOM is written once, above
        else:
            stream.write(f'<?xml version="1.0" encoding="UTF-8"?>{head}'.encode())
            codec = "utf-8"
        for start in range(1, EXCEL_ROWS + 1, 4096):
            stream.write("".join(row(i) for i in range(start, start + 4096)).encode(codec))
        stream.write("</sheetData></worksheet>".encode(codec))

    return write


def _million_rows(name: str, row: Callable[[int], str], encoding: str = "utf-8") -> Builder:
    def build(folder: Path, valid: Path) -> Path:
        path = rewrite(valid, folder / name, {INPUTS_SHEET: _sheet_rows(row, encoding)})
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(INPUTS_SHEET)
        # Under the guard's size and ratio limits: only a row count can refuse it.
        assert info.file_size < 100 * 2**20
        assert info.file_size / info.compress_size < 100
        return path

    return build


def _missing(folder: Path, valid: Path) -> Path:
    return folder / "no-such-folder" / "missing.xlsx"


def _directory(folder: Path, valid: Path) -> Path:
    path = folder / "a-folder.xlsx"
    path.mkdir()
    (path / "inside.txt").write_text("not a workbook", encoding="utf-8")
    return path


def _forged_size_bomb(folder: Path, valid: Path) -> Path:
    """A 1 GiB part whose headers declare 20,000 bytes: the size checks see a small part."""
    raw, crc, _ = deflated_zeros(64)
    entries = []
    with zipfile.ZipFile(valid) as archive:
        for info in archive.infolist():
            if info.filename == INPUTS_SHEET:
                entries.append((info.filename, raw, crc, 20_000))
            else:
                entries.append((info.filename, *deflated(archive.read(info.filename))))
    return raw_zip(folder / "bomb-forged-size.xlsx", entries)


def _mimetype_bomb(folder: Path, valid: Path) -> Path:
    """A valid workbook plus a 'mimetype' part of 1.25 GiB of zeros (1.3 MB on disk)."""
    entries = [("mimetype", *deflated_zeros(80))]
    with zipfile.ZipFile(valid) as archive:
        entries += [(i.filename, *deflated(archive.read(i.filename))) for i in archive.infolist()]
    path = raw_zip(folder / "bomb-mimetype.xlsx", entries)
    assert path.stat().st_size < 4 * 2**20
    return path


def _far_corner(row: int) -> Builder:
    """One extra cell in the last column, XFD, at ``row`` (within the row limit)."""
    extra = f'<row r="{row}"><c r="XFD{row}"><v>1</v></c></row></sheetData>'.encode()

    def add(stream: IO[bytes], original: bytes) -> None:
        stream.write(original.replace(b"</sheetData>", extra))

    def build(folder: Path, valid: Path) -> Path:
        return rewrite(valid, folder / f"cell-at-XFD{row}.xlsx", {INPUTS_SHEET: add})

    return build


# ------------------------------------------------------------------ the cases


FAR_CORNER_WORDS = ("column", "cells", "xfd", "too large", "too wide")


@dataclass(frozen=True)
class Case:
    id: str
    build: Builder
    # Key words the message must contain (case-insensitive); a tuple means "any of these".
    words: tuple[str | tuple[str, ...], ...]
    # False: the file may also be read (exit 0 or 1); the bounds and "no traceback" still hold.
    must_refuse: bool = True


CASES = [
    Case("not-a-zip", _not_a_zip, ("not an excel workbook", "zip")),
    Case("empty-file", _empty, ("empty",)),
    Case("zip-not-a-workbook", _zip_not_workbook, ("zip", "not an excel workbook")),
    Case("truncated", _truncated, ("damaged", "truncated")),
    Case("corrupted-byte-crc", _corrupted("crc"), ("damaged", "crc")),
    Case("corrupted-byte-deflate", _corrupted("deflate"), ("damaged",)),
    Case("xls-by-mistake", _ole2("old-format.xls"), (".xls", "save it as", ".xlsx")),
    Case("password-magic-bytes", _ole2("protected.xlsx"), ("password",)),
    Case("password-msoffcrypto", _encrypted, ("password", "encrypted")),
    Case("xlsb", _xlsb, (".xlsb", "save it as", ".xlsx")),
    Case("ods", _ods, ("opendocument", ".ods", "save it as")),
    Case("other-origin-openpyxl", _openpyxl_workbook, ("not a roi_xl workbook",)),
    Case("other-origin-xlsxwriter", _xlsxwriter_workbook, ("not a roi_xl workbook",)),
    Case("zip-bomb-300mb", _spaces_bomb(300), ("zip bomb", INPUTS_SHEET)),
    Case("zip-bomb-ratio-60mb", _spaces_bomb(60), ("zip bomb", "ratio", INPUTS_SHEET)),
    Case("zip-bomb-forged-size", _forged_size_bomb, ("damaged",)),
    Case(
        "billion-laughs-workbook",
        _entity_doctype("xl/workbook.xml", "laughs"),
        ("xl/workbook.xml", "entities", "unsafe"),
    ),
    Case(
        "billion-laughs-sheet",
        _entity_doctype(INPUTS_SHEET, "laughs"),
        (INPUTS_SHEET, "entities", "unsafe"),
    ),
    Case(
        "external-entity-workbook",
        _entity_doctype("xl/workbook.xml", "xxe"),
        ("xl/workbook.xml", "entities", "unsafe"),
    ),
    Case(
        "external-entity-sheet",
        _entity_doctype(INPUTS_SHEET, "xxe"),
        (INPUTS_SHEET, "entities", "unsafe"),
    ),
    Case(
        "million-rows",
        _million_rows(
            "million-rows.xlsx", lambda i: f'<row r="{i}"><c r="A{i}"><v>1</v></c></row>'
        ),
        ("rows", "100,000", "inputs"),
    ),
    Case("missing-path", _missing, ("no such file",)),
    Case("directory", _directory, ("not a file",)),
    # ---------------------------------------------------------- found while probing
    # BUG: the guard counts rows with a regex on r="N"; the r attribute is optional
    # (ECMA-376 18.3.1.73), so 1,048,576 rows without it pass the guard and openpyxl
    # loads them all (36 s and a MemoryError traceback under the 1 GiB cap).
    Case(
        "million-rows-without-r",
        _million_rows(
            "million-rows-no-r.xlsx", lambda i: f"<row><c><v>{i * 7919 % 1_000_003}</v></c></row>"
        ),
        ("rows",),
    ),
    # BUG: the guard's row regex and DOCTYPE check look at UTF-8 bytes; a UTF-16 sheet
    # (legal XML, read by openpyxl) hides its 1,048,576 rows from it: killed at the time limit.
    Case(
        "million-rows-utf16",
        _million_rows(
            "million-rows-utf16.xlsx",
            lambda i: f'<row r="{i}"><c r="A{i}"><v>1</v></c></row>',
            encoding="utf-16",
        ),
        (("rows", "utf-16", "encoding"),),
    ),
    # BUG: 'mimetype' is read whole (archive.read) by _check_package_kind before the
    # size and ratio checks run: 1.25 GiB in memory, MemoryError traceback.
    Case("zip-bomb-mimetype", _mimetype_bomb, ("zip bomb", "mimetype")),
    # BUG: python-calamine builds a dense rows x columns grid; one cell at XFD20000 asks
    # for 20,000 x 16,384 cells (10 GB): Rust aborts the process (SIGABRT, exit -6).
    Case("far-corner-cell-XFD20000", _far_corner(20_000), (FAR_CORNER_WORDS,)),
    # BUG: the same on a sheet of ordinary height: one value typed in XFD300 makes calamine's
    # grid 4.9 M cells and audit._extra_formulas (openpyxl iter_rows) create a Cell object for
    # each: 70 s and 1.3 GB uncapped; a MemoryError traceback under the 1 GiB cap.
    # Reading it (exit 0 or 1) would be as right as refusing it (exit 2).
    Case("far-corner-cell-XFD300", _far_corner(300), (FAR_CORNER_WORDS,), must_refuse=False),
]


@pytest.fixture(scope="module")
def valid_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_valid(tmp_path_factory.mktemp("valid") / "valid.xlsx")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, valid_workbook: Path) -> Iterator[Callable]:
    """Build each hostile file once per module (the big ones take seconds), on demand."""
    built: dict[str, Path] = {}

    def get(case: Case) -> Path:
        if case.id not in built:
            built[case.id] = case.build(tmp_path_factory.mktemp(case.id), valid_workbook)
        return built[case.id]

    yield get


def _check_refused(case: Case, path: Path, run: CliRun) -> None:
    details = f"{case.id}: {run.describe()}"
    assert not run.killed, f"hung: {details}"
    assert run.code >= 0, f"stopped by a signal (CPU or memory limit): {details}"
    assert run.peak_bytes < MEMORY_LIMIT, f"over 1 GiB: {details}"
    assert "Traceback" not in run.stdout + run.stderr, details
    if not case.must_refuse and run.code in (0, 1):
        return
    assert run.code == 2, details
    assert run.stdout.strip() == "", f"the error must go to stderr only: {details}"
    message = run.message.lower()
    assert message.startswith("error:"), details
    squashed = re.sub(r"\s+", "", run.stderr)  # rich may fold a long path across lines
    assert re.sub(r"\s+", "", str(path)) in squashed, f"the message must name the file: {details}"
    for word in case.words:
        options = (word,) if isinstance(word, str) else word
        assert any(o.lower() in message for o in options), f"expected {options}: {details}"


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_file_is_refused(
    case: Case, command: str, corpus: Callable[[Case], Path], tmp_path: Path
) -> None:
    path = corpus(case)
    before = fingerprint(path)
    run = run_cli([*COMMANDS[command], str(path)], tmp_path / "logs")
    print(
        f"\n{case.id:26} {command:9} exit {run.code:3}  {run.seconds:6.2f} s  "
        f"peak {run.peak_bytes / 2**20:6.1f} MiB  file {_size(path)}"
    )
    assert fingerprint(path) == before, f"{case.id}: the file was changed by the read"
    _check_refused(case, path, run)
    if case.id.startswith("external-entity"):
        assert "root:" not in run.stdout + run.stderr  # nothing of /etc/passwd leaked


@pytest.mark.parametrize("command", list(COMMANDS))
def test_valid_workbook_passes_under_the_same_limits(
    command: str, valid_workbook: Path, tmp_path: Path
) -> None:
    """The control: the 1 GiB address-space cap does not break a normal read."""
    before = fingerprint(valid_workbook)
    run = run_cli([*COMMANDS[command], str(valid_workbook)], tmp_path / "logs")
    print(
        f"\n{'valid-workbook':26} {command:9} exit {run.code:3}  {run.seconds:6.2f} s  "
        f"peak {run.peak_bytes / 2**20:6.1f} MiB"
    )
    assert fingerprint(valid_workbook) == before
    assert run.code == 0, run.describe()
    assert "Traceback" not in run.stdout + run.stderr
    assert not run.killed, run.describe()
    assert run.peak_bytes < MEMORY_LIMIT, run.describe()
    if command == "read-json":
        payload = json.loads(run.stdout)
        assert payload["template"] == "phoning-b2b"
        assert payload["path"] == str(valid_workbook)


def test_the_corpus_is_what_it_claims(corpus: Callable[[Case], Path]) -> None:
    """A few builders checked directly, so a refusal is for the intended reason."""
    by_id = {case.id: case for case in CASES}
    with zipfile.ZipFile(corpus(by_id["ods"])) as archive:
        assert archive.infolist()[0].filename == "mimetype"
    with zipfile.ZipFile(corpus(by_id["zip-bomb-300mb"])) as archive:
        assert archive.getinfo(INPUTS_SHEET).file_size > 300 * 2**20
    with zipfile.ZipFile(corpus(by_id["million-rows"])) as archive:
        assert archive.read(INPUTS_SHEET).count(b"<row ") == EXCEL_ROWS
    with zipfile.ZipFile(corpus(by_id["zip-bomb-mimetype"])) as archive:
        assert archive.getinfo("mimetype").file_size == 80 << 24
        with archive.open("mimetype") as stream:
            assert stream.read(1 << 20) == bytes(1 << 20)  # a genuine deflate stream of zeros


def _size(path: Path) -> str:
    if not path.is_file():
        return "-"
    return f"{path.stat().st_size / 1024:.0f} KiB"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_guard_answers_alike_with_parts_remembered(
    case: Case,
    corpus: Callable[[Case], Path],
    valid_workbook: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The guard remembers the parts it judged safe (most hostile files here share them
    with the valid workbook): each file is answered alike by a guard that has just read
    the valid workbook and by one that remembers nothing."""
    path = corpus(case)
    monkeypatch.setattr(guard, "_JUDGED", JudgedParts(0, 0))
    alone = _guard_answer(path)
    monkeypatch.setattr(guard, "_JUDGED", JudgedParts(8 << 20, guard.CHUNK))
    guard.scan(valid_workbook)
    assert _guard_answer(path) == alone


def _guard_answer(path: Path) -> object:
    try:
        return guard.scan(path)
    except Exception as exc:  # the refusal, whatever its type, with its message
        return type(exc).__name__, str(exc)
