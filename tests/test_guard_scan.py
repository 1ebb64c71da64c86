"""The package guard's numpy searches find exactly what its patterns find.

Large parts are searched with numpy (``roi_xl.inspect.part_bytes``): the tags, the
literals the guard tests for, and the references of plainly written cells. Each answer
is compared here with the pattern or bytes method it stands for, on every part of
generated, edited and error-holding workbooks, on sheets of random references (long,
short, with leading zeros, refused by the pattern) and on random tricky bytes; small
parts, read by the patterns, must give the same whole scan.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest

from roi_xl.inspect import guard, part_bytes
from roi_xl.inspect.judged import JudgedParts, without_numbers
from roi_xl.inspect.part_bytes import PartBytes
from roi_xl.model import template as templates
from roi_xl.workbook import WorkbookOptions, write_workbook

START = dt.date(2026, 1, 1)
LITERALS = [b"<!", b"sst", b":c", b":row", b"<row", b't="e"', b"sqref>", b"ref", b"<c", b"x"]
PIECES = [
    b"<c", b"<c ", b' r="', b"A", b"AB", b"XFD", b"ABCD", b"1", b"12", b"0", b"007", b'"',
    b">", b"/>", b"<row", b' r="3"', b"<x:c", b"<x:row", b":c", b"<col", b"</c>", b"<v>1</v>",
    b' t="e"', b"#DIV/0!", b"<", b"/", b" ", b"\t", b'ref="A1:B9"', b"sqref>A1:C3<",
    b'<sst count="5">', b"<!", b"sst", b"_", b"c", b"<c\n", b"123456789", b"<c:", b"<c>",
    b"<c/>", b's="1"', b"ZZZ", b'r="A1"', b"<cfRule", b"<c-",
]  # fmt: skip


def _pattern_cells(text: bytes) -> tuple[int, int, int]:
    """Cells, largest column and row as the guard's full patterns give them."""
    references = guard._CELL_REF.findall(text)
    columns = [guard._column_number(letters) for letters, _ in references]
    return (
        len(guard._CELL_START.findall(text)),
        max(columns, default=0),
        max((int(digits) for _, digits in references), default=0),
    )


def _find_all(text: bytes, literal: bytes) -> list[int]:
    found, position = [], text.find(literal)
    while position >= 0:
        found.append(position)
        position = text.find(literal, position + 1)
    return found


def _check(text: bytes) -> bool:
    """Every answer of a large-part search equals its pattern's; True if the cells were read
    as arrays (not left to the patterns)."""
    found = PartBytes(text)
    assert found.large
    for literal in LITERALS:
        assert found.contains(literal) == (literal in text), (literal, text[:80])
        assert found.starts(literal) == _find_all(text, literal), (literal, text[:80])
    assert found.elements() == text.count(b"<") - text.count(b"</")
    assert guard._row_attributes(text, found) == guard._ROW.findall(text), text[:80]
    assert guard.range_attributes(text, found) == guard._RANGE_ATTRIBUTE.findall(text)
    expected = _pattern_cells(text)
    assert guard._cells(text) == expected, text[:80]
    plain = found.plain_cells()
    assert plain is None or plain == expected, text[:80]
    return plain is not None


def _workbooks(folder: Path) -> list[Path]:
    """A clean workbook of each template, one holding error values, one edited by a script."""
    paths = []
    for name in templates.builtin_names():
        model = templates.load(name)
        options = WorkbookOptions(start=START, months=3, force=True)
        paths.append(write_workbook(model, folder / f"{name}.xlsx", options))
    model = templates.load("crm")
    zero = dataclasses.replace(options, overrides={model.inputs[0].key: 0.0})
    paths.append(write_workbook(model, folder / "errors.xlsx", zero))
    book = openpyxl.load_workbook(paths[0])
    book.worksheets[1]["C7"] = 7
    book.save(folder / "edited.xlsx")
    return [*paths, folder / "edited.xlsx"]


def _parts(paths: list[Path]) -> list[bytes]:
    parts = []
    for path in paths:
        with zipfile.ZipFile(path) as package:
            parts += [package.read(name) for name in package.namelist()]
    return parts


def test_large_part_searches_find_what_the_patterns_find(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(part_bytes, "NUMPY_FROM", 0)
    parts = _parts(_workbooks(tmp_path))
    read_as_arrays = sum(_check(part) for part in parts)
    assert read_as_arrays >= 20  # the sheets of the generated workbooks
    rng = random.Random(17)
    tricky = [b"".join(rng.choices(PIECES, k=rng.randint(0, 40))) for _ in range(4000)]
    edited = []
    for part in parts[:40]:
        for _ in range(10):
            data = bytearray(part)
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(data) + 1)
                data[at:at] = rng.choice(PIECES)
            edited.append(bytes(data))
    for text in [*tricky, *edited]:
        _check(text)


def _reference(rng: random.Random, refused: bool) -> bytes:
    """A reference and its closing quote: 1 to 3 capitals and up to 8 digits, some with
    leading zeros; or, when ``refused``, one the arrays leave to the pattern."""
    letters = "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ", k=rng.randint(1, 3)))
    digits = str(rng.randint(0, 10 ** rng.randint(1, 7)))
    if rng.random() < 0.1:
        digits = ("0" * rng.randint(1, 3) + digits)[-8:]
    if refused:
        letters, digits = rng.choice([("ABCD", digits), (letters, "123456789"), (letters, "")])
    return f'{letters}{digits}"'.encode()


def test_references_read_as_arrays_give_the_patterns_largest_row_and_column(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sheets of random plainly written cells: the largest column and row read as arrays
    are the patterns'; a reference the pattern refuses sends the sheet to the patterns."""
    monkeypatch.setattr(part_bytes, "NUMPY_FROM", 0)
    rng = random.Random(16)
    arrays = 0
    for _ in range(400):
        count = rng.randint(1, 60)
        refused = rng.randrange(count) if rng.random() < 0.3 else None
        cells = [
            b'<c r="'
            + _reference(rng, index == refused)
            + rng.choice([b"", b' s="3"', b' t="e"'])
            + b"><v>1</v></c>"
            for index in range(count)
        ]
        text = b'<worksheet><sheetData><row r="1">' + b"".join(cells) + b"</row></sheetData>"
        arrays += _check(text)
    assert 200 <= arrays < 350  # both ways are taken


def test_the_whole_scan_is_the_same_read_as_arrays_or_by_the_patterns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guard, "_JUDGED", JudgedParts(0, 0))  # every part scanned both ways
    for path in _workbooks(tmp_path):
        monkeypatch.setattr(part_bytes, "NUMPY_FROM", 0)
        arrays = guard.scan(path)
        monkeypatch.setattr(part_bytes, "NUMPY_FROM", 10**12)
        patterns = guard.scan(path)
        assert arrays == patterns, path.name
        assert any(sheet.error_cells for sheet in arrays.sheets) == (path.name == "errors.xlsx")


# ------------------------------------------------------------------ parts remembered

NUMBERS = [b"", b"0", b"1", b"12.5", b"-3.25E-05", b"1e+300", b"7" * 27, b"8" * 28, b"+.e-"]
SHEET = "xl/worksheets/sheet1.xml"


@pytest.fixture(autouse=True)
def _nothing_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with an empty memory of judged parts (it keeps what the test adds)."""
    monkeypatch.setattr(guard, "_JUDGED", JudgedParts(8 << 20, guard.CHUNK))


def _numbers_changed(text: bytes, rng: random.Random) -> bytes:
    """``text`` with the plain number after each ``<v>`` replaced by another one."""
    return NUMBER_TEXT.sub(lambda _: b"<v>" + rng.choice(NUMBERS[:-2]), text)


NUMBER_TEXT = re.compile(rb"<v>[-+.0-9eE]{0,27}(?=<)")


def _outcome(text: bytes, is_sheet: bool, name: str = SHEET) -> object:
    """What scanning ``text`` as one part read whole adds, or the refusal's message."""
    info = zipfile.ZipInfo(name)
    info.CRC = zlib.crc32(text)
    sheet = guard.SheetPart("Sheet1", name, "visible") if is_sheet else None
    totals = guard._Totals()
    try:
        guard._scan_whole(Path("book.xlsx"), info, text, sheet, totals)
    except guard.UnreadableFileError as exc:
        return str(exc)
    return totals, sheet


def _tricky_sheet(rng: random.Random) -> bytes:
    pieces = [*PIECES, b"<v>", b"</v>", b'<c r="B7"><v>', b"</v></c>", b' ref="', b'"']
    pieces += [b"<v>" + number + b"<" for number in NUMBERS]
    return b"".join(rng.choices(pieces, k=rng.randint(0, 60)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b'<c r="A1"><v>12.5</v></c>', b'<c r="A1"><v></v></c>'),
        (b"<v>-1.25E-07</v><v>+3e5</v>", b"<v></v><v></v>"),
        (b"<v>0</v>", b"<v></v>"),
        (b'<c t="s"><v>7</v></c>', b'<c t="s"><v></v></c>'),  # an index: a number too
        (b"<v></v>", b"<v></v>"),  # nothing to take
        (b"<v>12 </v>", b"<v>12 </v>"),  # a space: not a plain number
        (b"<v>#DIV/0!</v>", b"<v>#DIV/0!</v>"),
        (b"<v>1e5x</v>", b"<v>1e5x</v>"),
        (b"<v>" + b"9" * 27 + b"</v>", b"<v></v>"),
        (b"<v>" + b"9" * 28 + b"</v>", b"<v>" + b"9" * 28 + b"</v>"),  # too long: stays
        (b"<v>123", b"<v>123"),  # no "<" after it
        (b'<vt:lpwstr>12</vt:lpwstr><v a="1">2</v>', b'<vt:lpwstr>12</vt:lpwstr><v a="1">2</v>'),
    ],
)
def test_only_a_plain_number_in_a_value_element_is_taken_out(text: bytes, expected: bytes) -> None:
    assert without_numbers(text) == expected


def test_a_part_whose_numbers_alone_differ_is_judged_alike(tmp_path: Path) -> None:
    """What the guard's memory assumes: the numbers of <v> elements change no answer, on
    the generated sheets and on random tricky bytes, read as a sheet or as another part
    (except a sheet that may hold error cells, whose values the guard reads)."""
    rng = random.Random(6)
    texts = _parts(_workbooks(tmp_path)) + [_tricky_sheet(rng) for _ in range(3000)]
    compared = 0
    for text in texts:
        other = _numbers_changed(text, rng)
        if other == text:
            continue
        assert without_numbers(other) == without_numbers(text)
        for is_sheet in (False, True) if b't="e"' not in text else (False,):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(guard, "_JUDGED", JudgedParts(0, 0))  # scanned, never replayed
                assert _outcome(other, is_sheet) == _outcome(text, is_sheet), text[:80]
            compared += 1
    assert compared > 1000


def test_a_remembered_part_adds_what_its_scan_adds(tmp_path: Path) -> None:
    """Each part scanned after a part of the same bytes but its numbers gives what it gives
    scanned alone, error cells included; and the memory is used."""
    rng = random.Random(7)
    texts = _parts(_workbooks(tmp_path)) + [_tricky_sheet(rng) for _ in range(2000)]
    texts.append(b'<sheetData><row r="2"><c r="C2" t="e"><v>1</v></c></row></sheetData>')
    found = 0
    for text in texts:
        for is_sheet in (False, True):
            other = _numbers_changed(text, rng)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(guard, "_JUDGED", JudgedParts(0, 0))
                alone = _outcome(other, is_sheet)
            _outcome(text, is_sheet)  # judged, and remembered if safe
            found += guard._JUDGED.find(is_sheet, without_numbers(other)) is not None
            assert _outcome(other, is_sheet) == alone, text[:80]
    assert found > 1000


def test_a_remembered_part_that_would_cross_a_limit_is_scanned_for_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _workbooks(tmp_path)[0]
    first = guard.scan(path)
    assert guard.scan(path) == first  # the second time from memory
    monkeypatch.setattr(guard, "MAX_ELEMENTS", 2_000)
    remembered = _refusal(path)
    monkeypatch.setattr(guard, "_JUDGED", JudgedParts(0, 0))
    assert _refusal(path) == remembered
    assert "XML elements" in remembered


def _refusal(path: Path) -> str:
    with pytest.raises(guard.UnreadableFileError) as refused:
        guard.scan(path)
    return str(refused.value)
