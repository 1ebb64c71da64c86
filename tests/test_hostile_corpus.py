"""Hostile workbooks by class, through the real command line, under resource limits.

Each class is a family the guard and the reader must refuse however it is varied:
document properties that try to name a path or break a date; counts and ranges
declared inside the package that readers would allocate or expand; zip entry
names that collide or point outside the package; too many cells within the size
limits. Every file is built here from a generated workbook (nothing binary is
committed) and given to the installed ``roi-xl`` with ``audit`` and ``read --json``
in a process limited to 1 GiB of address space and 10 s of CPU (children inherit
both limits); a run the kernel stops for either shows as a signal, not exit 2. No
wall-clock time is asserted: a run still going after two minutes is killed and
fails as a hang. Then a roll-up over the whole corpus and good files must write
its output and list every bad file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from roi_xl.model import template
from roi_xl.workbook import WorkbookOptions, write_workbook

if sys.platform.startswith("linux"):
    import resource

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="resource limits as Linux defines them"
)

CLI = Path(sys.executable).parent / "roi-xl"
MEMORY_LIMIT = 1 << 30  # bytes of address space, each process of the tree
CPU_SECONDS = 10  # each process of the tree; the kernel stops it past this (SIGXCPU/SIGKILL)
HANG = 120.0  # seconds: only a run that hangs is still going then
INPUTS_SHEET = "xl/worksheets/sheet2.xml"
CUSTOM = "docProps/custom.xml"
COMMANDS = {"audit": ["audit"], "read-json": ["read", "--json"]}


# ------------------------------------------------------------------ running


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    peak_bytes: int

    @property
    def message(self) -> str:
        return " ".join(self.stderr.split())

    def describe(self) -> str:
        return (
            f"exit {self.code}, peak {self.peak_bytes / 2**20:.0f} MiB\n"
            f"--- stdout:\n{self.stdout[:1500]}\n--- stderr:\n{self.stderr[:3000]}"
        )


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))


def run_cli(args: list[str], cwd: Path | None = None) -> Run:
    """The installed roi-xl under the limits; its peak resident memory from wait4."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
    proc = subprocess.Popen(
        [str(CLI), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        preexec_fn=_limits,
    )
    try:
        stdout, stderr = proc.communicate(timeout=HANG)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"roi-xl {' '.join(args)} hung: still running after {HANG:.0f} s")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Run(
        proc.returncode,
        stdout.decode(errors="replace"),
        stderr.decode(errors="replace"),
        usage.ru_maxrss * 1024,
    )


def assert_refused(path: Path, run: Run, words: tuple[str, ...]) -> None:
    details = f"{path.name}: {run.describe()}"
    assert run.code == 2, details  # not a signal (CPU or memory limit), not 1 (a finding)
    assert "Traceback" not in run.stdout + run.stderr, details
    assert run.message.startswith("error:"), details
    assert str(path) in re.sub(r"\s+", "", run.stderr) or str(path) in run.message, details
    message = run.message.lower()
    for word in words:
        assert word.lower() in message, f"expected {word!r}: {details}"
    assert run.peak_bytes < MEMORY_LIMIT, details


# ------------------------------------------------------------------ building


def write_valid(path: Path, key: str = "phoning-b2b", locale: str = "en-US") -> Path:
    options = WorkbookOptions(start=dt.date(2026, 1, 1), force=True, locale=locale)
    return write_workbook(template.load(key), path, options)


def rewrite(source: Path, dest: Path, change: Callable[[str, bytes], bytes]) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for info in zin.infolist():
            out.writestr(info, change(info.filename, zin.read(info.filename)))
    return dest


def with_property(name: str, value: str) -> Callable[[str, bytes], bytes]:
    pattern = re.compile(rb'(name="' + name.encode() + rb'"[^>]*>\s*<vt:\w+>)([^<]*)(<)')

    def change(part: str, data: bytes) -> bytes:
        if part != CUSTOM:
            return data
        replaced, count = pattern.subn(
            lambda m: m.group(1) + escape(value).encode() + m.group(3), data
        )
        assert count == 1, f"no property {name} in {data[:400]!r}"
        return replaced

    return change


def in_part(part: str, old: bytes, new: bytes) -> Callable[[str, bytes], bytes]:
    def change(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        assert old in data, f"{old!r} not in {part}"
        return data.replace(old, new, 1)

    return change


def sheet_addition(extra: str) -> Callable[[str, bytes], bytes]:
    """Append XML after the Inputs sheet's sheetData (where merges, links... go)."""
    return in_part(INPUTS_SHEET, b"</sheetData>", b"</sheetData>" + extra.encode())


def many_cells(rows: int, columns: int) -> Callable[[str, bytes], bytes]:
    def row(number: int) -> str:
        cells = "".join(
            f'<c r="{_letters(c)}{number}"><v>{c}</v></c>' for c in range(1, columns + 1)
        )
        return f'<row r="{number}">{cells}</row>'

    extra = "".join(row(n) for n in range(400, 400 + rows))
    return in_part(INPUTS_SHEET, b"</sheetData>", extra.encode() + b"</sheetData>")


def _letters(number: int) -> str:
    text = ""
    while number:
        number, rest = divmod(number - 1, 26)
        text = chr(65 + rest) + text
    return text


@dataclass(frozen=True)
class Case:
    id: str
    change: Callable[[str, bytes], bytes]
    words: tuple[str, ...]


HUGE = "A1:XFD1048576"
PROPERTY_CASES = [
    Case("template-dev-zero", with_property("roi_xl_template", "/dev/zero"), ("roi_xl_template",)),
    Case("template-stdin", with_property("roi_xl_template", "/dev/stdin"), ("roi_xl_template",)),
    Case("template-shadow", with_property("roi_xl_template", "/etc/shadow"), ("roi_xl_template",)),
    Case(
        "template-relative-toml",
        with_property("roi_xl_template", "../templates/crm.toml"),
        ("roi_xl_template",),
    ),
    Case("template-toml-name", with_property("roi_xl_template", "crm.toml"), ("roi_xl_template",)),
    Case("template-unknown", with_property("roi_xl_template", "my-phones"), ("--template",)),
    Case("months-superscript", with_property("roi_xl_months", "\u00b2"), ("roi_xl_months",)),
    Case("months-arabic-digit", with_property("roi_xl_months", "\u0661\u0662"), ("roi_xl_months",)),
    Case("months-zero", with_property("roi_xl_months", "0"), ("roi_xl_months",)),
    Case("months-huge", with_property("roi_xl_months", "99999999"), ("roi_xl_months",)),
    Case("start-month-13", with_property("roi_xl_start", "2026-13"), ("roi_xl_start",)),
    Case("start-year-0", with_property("roi_xl_start", "0000-01"), ("roi_xl_start",)),
    Case(
        "start-fullwidth",
        with_property("roi_xl_start", "\uff12\uff10\uff12\uff16-01"),
        ("roi_xl_start",),
    ),
    Case("start-year-9999", with_property("roi_xl_start", "9999-12"), ("roi_xl_start",)),
    Case("locale-path", with_property("roi_xl_locale", "../../etc/passwd"), ("roi_xl_locale",)),
    Case(
        "version-markup",
        with_property("roi_xl_template_version", "[/][bold]x"),
        ("roi_xl_template_version",),
    ),
    Case("hash-not-hex", with_property("roi_xl_template_sha256", "/etc/passwd"), ("sha256",)),
    Case("hash-other", with_property("roi_xl_template_sha256", "0" * 64), ("template_hash",)),
]
COUNT_CASES = [
    Case(
        "shared-strings-unique-count",
        in_part("xl/sharedStrings.xml", b'uniqueCount="', b'uniqueCount="2000000000'),
        ("uniquecount", "shared strings"),
    ),
    Case(
        "shared-strings-count",
        in_part("xl/sharedStrings.xml", b' count="', b' count="99999999999'),
        ("count", "shared strings"),
    ),
    Case(
        "hyperlink-range",
        sheet_addition(f'<hyperlinks><hyperlink ref="{HUGE}" location="Inputs!A1"/></hyperlinks>'),
        ("range",),
    ),
    Case(
        "merged-range",
        sheet_addition(f'<mergeCells count="1"><mergeCell ref="{HUGE}"/></mergeCells>'),
        ("range",),
    ),
    Case(
        "merged-many",
        sheet_addition(
            '<mergeCells count="9">'
            + "".join(f'<mergeCell ref="A{r}:CV{r + 9}"/>' for r in range(1000, 60000, 10))
            + "</mergeCells>"
        ),
        ("range",),
    ),
    Case(
        "whole-column-validation",
        sheet_addition(
            '<dataValidations count="1"><dataValidation type="whole" sqref="D:D"><formula1>1</formula1></dataValidation></dataValidations>'
        ),
        ("range",),
    ),
    Case(
        "dimension",
        lambda part, data: (
            re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{HUGE}"'.encode(), data)
            if part == INPUTS_SHEET
            else data
        ),
        ("range",),
    ),
    Case(
        "conditional-format",
        sheet_addition(
            f'<conditionalFormatting sqref="A1:B2 {HUGE}"><cfRule type="expression" priority="99"><formula>TRUE</formula></cfRule></conditionalFormatting>'
        ),
        ("range",),
    ),
    Case(
        "extension-sqref",
        sheet_addition(
            f'<extLst><ext uri="x"><x14:dataValidations xmlns:x14="x14" xmlns:xm="xm"><x14:dataValidation><xm:sqref>{HUGE}</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>'
        ),
        ("range",),
    ),
    Case("cells-7000-by-30", many_cells(7000, 30), ("cells",)),
    Case("cells-250000-by-1", many_cells(250_000, 1), ("cells",)),
]


def _zip_cases(folder: Path, valid: Path) -> list[tuple[Path, tuple[str, ...]]]:
    """Packages whose entry names collide or leave the package (written by hand)."""
    built = []
    with zipfile.ZipFile(valid) as zin:
        entries = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    variants = {
        "duplicate-sheet": [(INPUTS_SHEET, b"<worksheet/>")],
        "duplicate-case": [(INPUTS_SHEET.upper(), b"<worksheet/>")],
        "dot-dot": [("xl/../../evil.xml", b"<x/>")],
        "absolute": [("/etc/evil.xml", b"<x/>")],
        "backslash-dot-dot": [("xl\\..\\..\\evil.xml", b"<x/>")],
        "drive-letter": [("C:/evil.xml", b"<x/>")],
    }
    for name, extra in variants.items():
        path = folder / f"zip-{name}.xlsx"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate it is asked for
            for entry, data in [*entries, *extra]:
                out.writestr(entry, data)
        words = ("two entries",) if "duplicate" in name else ("outside the package",)
        built.append((path, words))
    return built


CASES = [*PROPERTY_CASES, *COUNT_CASES]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, tuple[str, ...]]]:
    """Every hostile file of the classes above, with the words its refusal must hold."""
    folder = tmp_path_factory.mktemp("hostile")
    valid = write_valid(tmp_path_factory.mktemp("valid") / "valid.xlsx")
    files = {
        case.id: (rewrite(valid, folder / f"{case.id}.xlsx", case.change), case.words)
        for case in CASES
    }
    for path, words in _zip_cases(folder, valid):
        files[path.stem] = (path, words)
    return files


CASE_IDS = [c.id for c in CASES] + [
    f"zip-{n}"
    for n in (
        "duplicate-sheet",
        "duplicate-case",
        "dot-dot",
        "absolute",
        "backslash-dot-dot",
        "drive-letter",
    )
]


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", CASE_IDS)
def test_hostile_file_is_refused(case: str, command: str, corpus: dict) -> None:
    path, words = corpus[case]
    before = path.read_bytes()
    run = run_cli([*COMMANDS[command], str(path)])
    assert path.read_bytes() == before
    assert_refused(path, run, words)
    assert run.stdout.strip() == "", run.describe()


def test_the_corpus_is_what_it_claims(corpus: dict) -> None:
    """Each variant differs from a valid workbook only where it claims to."""
    with zipfile.ZipFile(corpus["shared-strings-unique-count"][0]) as archive:
        assert b'uniqueCount="2000000000' in archive.read("xl/sharedStrings.xml")
    with zipfile.ZipFile(corpus["months-superscript"][0]) as archive:
        assert "\u00b2".encode() in archive.read(CUSTOM)
    with zipfile.ZipFile(corpus["cells-7000-by-30"][0]) as archive:
        assert archive.read(INPUTS_SHEET).count(b"<c r=") > 200_000
        assert archive.getinfo(INPUTS_SHEET).file_size < 100 * 2**20  # within the size limits
    with zipfile.ZipFile(corpus["zip-duplicate-sheet"][0]) as archive:
        names = [info.filename for info in archive.infolist()]
        assert names.count(INPUTS_SHEET) == 2


def test_rollup_survives_the_corpus(corpus: dict, tmp_path: Path) -> None:
    """Hostile files and good ones in one folder: the roll-up writes its output, reads the
    good files and lists every bad one with its reason."""
    folder = tmp_path / "branches"
    folder.mkdir()
    for path, _ in corpus.values():
        (folder / path.name).write_bytes(path.read_bytes())
    good = [write_valid(folder / f"good-{key}.xlsx", key) for key in template.builtin_names()]
    output = tmp_path / "rollup.xlsx"
    run = run_cli(["rollup", str(folder), "-o", str(output), "--json", "--workers", "2"])
    assert run.code == 1, run.describe()  # 1: files could not be read; not a crash
    assert "Traceback" not in run.stdout + run.stderr
    payload = json.loads(run.stdout)
    failed = {Path(f["path"]).name for f in payload["failures"]}
    assert failed == {path.name for path, _ in corpus.values()}
    assert all(f["reason"] for f in payload["failures"])
    assert payload["files_read"] == len(good)
    assert output.is_file()
    with zipfile.ZipFile(output) as archive:
        assert archive.testzip() is None
    assert run.peak_bytes < MEMORY_LIMIT
