"""A sheet read from a remembered shape reads exactly as when it is read in full.

The formula reader reads a sheet met before (its bytes, numbers taken out, equal to those
of a sheet read in full under the same shared parts) from its numbers alone, for both
views: the formula view and python-calamine's values. Here workbooks of every template and
locale, and copies whose numbers are edited in the XML as a sender could (a cached result,
an input, a figure, an exponent, an empty cached value filled, a shared string's index, a
date, text a number parser refuses), are read after their look-alikes, and both views must
equal, types included, those of a full read with nothing remembered.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
from test_audit_tampering import rewrite, sheet_parts
from test_formula_book import view

from roi_xl.demo import sample_actuals
from roi_xl.inspect import formula_book, sheet_shapes
from roi_xl.inspect.formula_book import FormulaBook, read_formula_book
from roi_xl.inspect.guard import UnreadableFileError, scan
from roi_xl.inspect.judged import split_numbers, without_numbers
from roi_xl.inspect.loaded import load_values
from roi_xl.locale import LOCALES, load_locale
from roi_xl.model import template as templates
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.layout import build_layout

START = dt.date(2026, 1, 1)


def _views(path: Path) -> tuple[FormulaBook, dict[str, Any]]:
    """Both views of ``path`` as the reader reads them, comparable with == (types included)."""
    package = scan(path)
    book = read_formula_book(path, package)
    grids = load_values(path, None, book)
    typed = {
        name: [[(type(v).__name__, v) for v in row] for row in grid] for name, grid in grids.items()
    }
    return book, {"formulas": view(book), "values": typed}


def _read_in_full(path: Path) -> dict[str, Any]:
    """Both views with no shape remembered."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sheet_shapes, "_SHAPES", {})
        patch.setattr(sheet_shapes, "_ORDER", OrderedDict())
        patch.setattr(sheet_shapes, "_SEEN", OrderedDict())
        patch.setattr(sheet_shapes, "_HELD", [0])
        book, views = _views(path)
    assert not book.grids
    return views


def _read(path: Path) -> tuple[int, dict[str, Any]]:
    """Both views as read now, and how many sheets were read from a shape."""
    book, views = _views(path)
    return len(book.grids), views


def _number_edit(sheet_xml: str, pattern: str, new: str, which: int = 0) -> str:
    """The ``which``-th match's first group replaced by ``new``."""
    matches = list(re.finditer(pattern, sheet_xml))
    assert matches, pattern
    match = matches[which]
    return sheet_xml[: match.start(1)] + new + sheet_xml[match.end(1) :]


_CACHED = r'<c r="[A-Z]+\d+"(?: s="\d+")?><f>[^<]*</f><v>([-0-9.eE]+)</v></c>'
_VALUE = r'<c r="[C-E]\d+" s="\d+"><v>([-0-9.eE]+)</v></c>'
_EMPTY = r'<c r="[A-Z]+\d+"(?: s="\d+")?><f>[^<]*</f><v>()</v></c>'
_STRING = r'<c r="[A-Z]+\d+"(?: s="\d+")? t="s"><v>(\d+)</v></c>'


def _edits(path: Path, name: str, locale: str) -> dict[str, tuple[str, str, str, int]]:
    """Edits of numbers only, by what they change: sheet, pattern, new text, which match."""
    model = templates.load(name)
    layout = build_layout(model, load_locale(locale), START, 12)
    timeline = layout.timeline_sheet or layout.calculations
    return {
        "cached result": (timeline, _CACHED, "12345.625", 40),
        "cached results": (layout.calculations, _CACHED, "-0", 3),
        "input": (layout.inputs, _VALUE, "2", 4),
        "input exponent": (layout.inputs, _VALUE, "2.5E+2", 6),
        "figure": (layout.month_sheets[0], r'<c r="C\d+" s="\d+"><v>([-0-9.eE]+)</v></c>', "7", 1),
        "empty filled": (layout.month_sheets[-1], _EMPTY, "3", 0),
        "string index": (layout.inputs, _STRING, "0", 5),
        "date": (layout.month_sheets[1], r'<c r="C1" s="\d+"><v>(\d+)</v></c>', "45000", 0),
        "refused text": (timeline, _CACHED, "1e", 11),
    }


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", templates.builtin_names())
def test_a_sheet_read_from_its_shape_reads_as_in_full(
    name: str, locale: str, tmp_path: Path
) -> None:
    model = templates.load(name)
    options = WorkbookOptions(
        locale=locale, start=START, months=12, force=True, actuals=sample_actuals(name)[:5]
    )
    base = write_workbook(model, tmp_path / "base.xlsx", options)
    parts = sheet_parts(base)
    for _ in range(2):  # met, then read in full and remembered
        assert _read(base)[1] == _read_in_full(base)
    shaped, views = _read(base)
    assert shaped == len(parts) and views == _read_in_full(base)
    for label, (sheet, pattern, new, which) in _edits(base, name, locale).items():
        edited = rewrite(
            base,
            tmp_path / f"{label}.xlsx",
            {parts[sheet]: lambda xml, p=pattern, n=new, w=which: _number_edit(xml, p, n, w)},
        )
        in_full = _read_in_full(edited)
        shaped, views = _read(edited)
        assert views == in_full, label
        if label in ("cached result", "cached results", "input", "input exponent", "figure"):
            assert shaped == len(parts), label  # the numbers alone differ: every sheet shaped
        else:
            assert shaped == len(parts) - 1, label  # a number that must stay: read in full
            for _ in range(2):  # then its own shape, beside its look-alike's of the same bytes
                shaped, views = _read(edited)
            assert shaped == len(parts) and views == in_full, label


def test_a_number_no_reader_takes_is_refused_as_in_a_full_read(tmp_path: Path) -> None:
    model = templates.load("crm")
    base = write_workbook(
        model, tmp_path / "base.xlsx", WorkbookOptions(start=START, months=3, force=True)
    )
    layout = build_layout(model, load_locale("en-US"), START, 3)
    for _ in range(3):
        _read(base)
    edited = rewrite(
        base,
        tmp_path / "edited.xlsx",
        {sheet_parts(base)[layout.inputs]: lambda xml: _number_edit(xml, _VALUE, "1..2", 2)},
    )
    with pytest.raises(UnreadableFileError) as in_full:
        _read_in_full(edited)
    with pytest.raises(UnreadableFileError) as shaped:
        _read(edited)
    assert str(shaped.value) == str(in_full.value)
    assert "1..2" in str(shaped.value)


def test_workbooks_of_other_inputs_read_from_shapes_as_in_full(tmp_path: Path) -> None:
    """Workbooks of one template and period whose inputs differ: the sheets whose bytes,
    numbers aside, are alike are read from shapes, and read as in full."""
    model = templates.load("phoning-b2b")
    shaped_sheets = 0
    for index, scale in enumerate((1.0, 1.0, 0.9, 1.1, 0.97, 1.03)):
        overrides = {
            item.key: min(max(item.defaults["realistic"] * scale, item.minimum), item.maximum)
            for item in model.inputs
            if item.kind in ("count", "currency")
        }
        options = WorkbookOptions(start=START, months=12, force=True, overrides=overrides)
        path = write_workbook(model, tmp_path / f"w{index}.xlsx", options)
        shaped, views = _read(path)
        assert views == _read_in_full(path)
        shaped_sheets += shaped
    assert shaped_sheets >= 30  # most sheets of the four look-alikes (measured: 37)


@pytest.mark.parametrize(
    ("number", "code", "may"),
    [
        (0, "General", False),
        (164, "#,##0", False),
        (165, "0.0%", False),
        (166, '"$"#,##0;[Red]-"$"#,##0', False),
        (169, '#,##0.0;"never";0.0', False),
        (175, '+0.0" pts";-0.0" pts";0.0" pts"', False),
        (179, "0.0E+00", False),
        (180, "#,##0\\ \\m", False),  # an escaped letter is shown as typed
        (181, "[$-409]#,##0", False),
        (14, "m/d/yyyy", True),  # a built-in date, by its number
        (47, None, True),
        (170, "mm/dd/yyyy", True),
        (172, "mmm yyyy", True),
        (182, "[h]:mm", True),
        (183, "[ss]", True),
        (184, "hh:mm AM/PM", True),
        (185, "#,##0;-#,##0;0 d", True),  # a later section counts too
        (186, "#,##0*d", True),  # a fill character: some versions read it
        (187, "0 a/p", True),
    ],
)
def test_a_format_that_could_show_a_date_is_never_read_as_a_plain_number(
    number: int, code: str | None, may: bool
) -> None:
    assert formula_book._may_show_a_date(number, code) is may


def test_splitting_out_the_numbers_leaves_the_guards_bytes(tmp_path: Path) -> None:
    """The split gives the guard's bytes without numbers, and the numbers in order, an
    empty value among them."""
    text = b'<c r="A1"><v>12.5</v></c><c r="B1"><v></v></c><v>1e5x</v><v>-3</v><v>' + b"9" * 28
    bare, numbers = split_numbers(text + b"</v>")
    assert bare == without_numbers(text + b"</v>")
    assert numbers == [b"12.5", b"", b"-3"]
    path = write_workbook(
        templates.load("crm"), tmp_path / "crm.xlsx", WorkbookOptions(start=START, force=True)
    )
    package = scan(path)
    for sheet in package.sheets:
        data = package.parts[sheet.part]
        bare, numbers = package.numbers[sheet.part]
        assert bare == without_numbers(data)
        assert numbers == re.findall(rb"<v>([-+.0-9eE]{0,27})(?=<)", data)


def test_a_shape_just_made_is_the_last_to_be_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the memory full of older shapes, a sheet read again after its look-alike is
    still read from the shape its look-alike left, even under a key met long before."""
    monkeypatch.setattr(sheet_shapes, "_SHAPES", {})
    monkeypatch.setattr(sheet_shapes, "_ORDER", OrderedDict())
    monkeypatch.setattr(sheet_shapes, "_SEEN", OrderedDict())
    monkeypatch.setattr(sheet_shapes, "_HELD", [0])
    model = templates.load("crm")
    options = WorkbookOptions(start=START, months=3, force=True)
    first = write_workbook(model, tmp_path / "first.xlsx", options)
    for _ in range(3):
        _read(first)  # shapes under every key of the workbook, soon the oldest
    monkeypatch.setattr(sheet_shapes, "_MAX_BYTES", sheet_shapes._HELD[0] * 3 // 2)
    with zipfile.ZipFile(first) as package:
        parts = [p for p in sheet_parts(first).values() if 's="1' in package.read(p).decode()]
    assert len(parts) >= 8

    def restyled(xml: str) -> str:  # a cell's style changed, the bytes as long as before
        match = re.search(r's="1(\d)"', xml) or re.search(r's="1"', xml)
        assert match
        new = 's="10"' if match.group(0) != 's="10"' else 's="11"'
        if len(match.group(0)) == len('s="1"'):
            new = 's="2"'
        return xml[: match.start()] + new + xml[match.end() :]

    other = rewrite(first, tmp_path / "other.xlsx", {part: restyled for part in parts})
    _read(other)  # met under keys of shapes of the same sizes: read in full, shapes made
    shaped, views = _read(other)
    assert shaped == len(sheet_parts(first)) and views == _read_in_full(other)
