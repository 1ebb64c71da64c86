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
import zipfile
from pathlib import Path

import openpyxl
import pytest

from roi_xl.inspect import guard, part_bytes
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
    for path in _workbooks(tmp_path):
        monkeypatch.setattr(part_bytes, "NUMPY_FROM", 0)
        arrays = guard.scan(path)
        monkeypatch.setattr(part_bytes, "NUMPY_FROM", 10**12)
        patterns = guard.scan(path)
        assert arrays == patterns, path.name
        assert any(sheet.error_cells for sheet in arrays.sheets) == (path.name == "errors.xlsx")
