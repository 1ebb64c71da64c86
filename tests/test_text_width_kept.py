"""The column fitting from the texts a sheet kept as it stored them gives the very sheets the
fitting from all its cells gives: on a new shape, on a shape met before, when a text was
written over after it was kept, when an empty cell a text runs on into is filled in
another workbook, and when a text was stored past the sheet's writers."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import CellStringTuple

from roi_xl.workbook.text_width import ColumnFits, fit_columns
from roi_xl.workbook.worksheet import TEXT_FIELDS, FastWorksheet

SHORT = "Monthly calls made"  # wider than column A, narrower than A and B together
LONG = "A label long enough to run on past its own column"
LONGER = "A remark long enough to need more room than two narrow columns give it, or to wrap"
Build = Callable[[xlsxwriter.Workbook, FastWorksheet], None]


def _sheet(
    filled: bool = False, overwritten: bool = False, retyped: bool = False, past: bool = False
) -> Build:
    """A sheet of texts of every kind the fitting treats apart; ``filled`` puts a number in
    the cell the first text runs on into, ``overwritten`` writes a number over a long text
    after it is stored, ``retyped`` another text, ``past`` stores a text without the
    sheet's writers."""

    def build(wb: xlsxwriter.Workbook, ws: FastWorksheet) -> None:
        label = wb.add_format({"font_size": 10})
        bold = wb.add_format({"bold": True, "font_size": 12})
        wrapped = wb.add_format({"text_wrap": True})
        right = wb.add_format({"align": "right"})
        number = wb.add_format({"num_format": "0.00"})
        ws.set_column_pixels(0, 0, 90)
        ws.set_column_pixels(1, 1, 40)
        ws.write_string(0, 0, SHORT, label)  # runs on into B1 unless it is filled
        if filled:
            ws.write_number(0, 1, 4.0, number)
        ws.write_number(0, 2, 1.0, number)
        ws.write_string(1, 0, LONGER, bold)
        ws.write_number(1, 1, 2.0, number)
        ws.write_string(2, 0, LONGER, wrapped)
        ws.merge_range(3, 0, 3, 1, LONGER, bold)
        ws.write_string(4, 3, LONG, right)
        ws.write_formula(5, 0, '="a"&"b"', None, LONGER)  # a formula's cached text
        ws.write_formula_run(6, 1, ["=B1*2", '=""'], number, [8.0, LONG])
        ws.write_formula_run(7, 1, ["=B1*2", '=""'], number, [8.0, LONG])  # stored as kept
        ws.write_string(8, 0, LONGER, label)
        if overwritten:
            ws.write_number(8, 0, 3.0, number)
        if retyped:
            ws.write_string(8, 0, LONGER + ": " + LONG, label)  # more lines
        ws.write_number(8, 4, 5.0, number)
        if past:
            index = ws.str_table._get_shared_string_index(LONGER)
            ws.table[9][0] = CellStringTuple(index, None)
            ws.write_number(9, 1, 6.0, number)

    return build


def _fitted(build: Build, fits: ColumnFits | None, cap_px: float) -> dict[str, bytes]:
    """The sheet and styles parts of a workbook holding one sheet ``build`` writes, fitted."""
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("Texts", worksheet_class=FastWorksheet)
    made: dict[int, Format] = {}

    def wrap(fmt: Format) -> Format:
        if id(fmt) not in made:
            made[id(fmt)] = wb.add_format(
                {"text_wrap": True, "bold": fmt.bold, "font_size": fmt.font_size}
            )
        return made[id(fmt)]

    build(wb, ws)
    fit_columns(ws, wrap, cap_px, fits)
    wb.close()
    with zipfile.ZipFile(out) as parts:
        return {
            name: parts.read(name)
            for name in parts.namelist()
            if name.startswith("xl/worksheets/") or name == "xl/styles.xml"
        }


SHEETS = {
    "plain": _sheet(),
    "filled": _sheet(filled=True),
    "overwritten": _sheet(overwritten=True),
    "retyped": _sheet(retyped=True),
}


@pytest.mark.parametrize("cap_px", [0.0, 150.0])
@pytest.mark.parametrize("name", sorted(SHEETS))
def test_a_new_shape_is_fitted_as_from_all_cells(name: str, cap_px: float) -> None:
    fits = ColumnFits()
    assert _fitted(SHEETS[name], fits, cap_px) == _fitted(SHEETS[name], None, cap_px)
    assert (fits.fitted, fits.replayed, fits.texts_kept) == (1, 0, True)


@pytest.mark.parametrize("cap_px", [0.0, 150.0])
@pytest.mark.parametrize("first", sorted(SHEETS))
@pytest.mark.parametrize("then", sorted(SHEETS))
def test_a_shape_met_before_is_replayed_and_no_other(first: str, then: str, cap_px: float) -> None:
    """Each sheet after another in one batch: the same shape replays its steps, any other
    (a neighbour filled, a text written over by a number or by another text) is fitted
    anew; either way the sheet is the one fitted from all its cells."""
    fits = ColumnFits()
    _fitted(SHEETS[first], fits, cap_px)
    assert _fitted(SHEETS[then], fits, cap_px) == _fitted(SHEETS[then], None, cap_px)
    assert fits.replayed == (1 if first == then else 0)
    assert fits.fitted == (1 if first == then else 2)


@pytest.mark.parametrize("cap_px", [0.0, 150.0])
def test_the_shapes_told_apart_are_fitted_apart(cap_px: float) -> None:
    """A neighbour filled, or a text written over, changes the fitting's steps: a replay of
    another shape's steps would be wrong, not merely slower."""
    steps = []
    for build in SHEETS.values():
        fits = ColumnFits()
        _fitted(build, fits, cap_px)
        steps.append(tuple(step for taken in fits.steps.values() for step in taken))
    assert len(set(steps)) == len(SHEETS)


def test_a_text_stored_past_the_writers_sends_the_sheets_to_the_full_fitting() -> None:
    fits = ColumnFits()
    past = _sheet(past=True)
    assert _fitted(past, fits, 150.0) == _fitted(past, None, 150.0)
    assert not fits.texts_kept
    assert _fitted(SHEETS["plain"], fits, 150.0) == _fitted(SHEETS["plain"], None, 150.0)
    assert fits.replayed == 0 and not fits.steps


def test_a_sheet_keeps_each_text_cell_it_stores_and_no_other() -> None:
    wb = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
    ws = wb.add_worksheet("Texts", worksheet_class=FastWorksheet)
    SHEETS["overwritten"](wb, ws)
    kept = ws.text_cells
    places = list(zip(kept[0::TEXT_FIELDS], kept[1::TEXT_FIELDS], strict=True))
    texts = kept[3::TEXT_FIELDS]
    assert places == [(0, 0), (1, 0), (2, 0), (3, 0), (4, 3), (5, 0), (6, 2), (7, 2), (8, 0)]
    assert texts[-1] == LONGER  # kept as written; no longer the cell's once written over
    cells = kept[2::TEXT_FIELDS]
    held = [ws.table[row][col] is cell for (row, col), cell in zip(places, cells, strict=True)]
    assert held == [True] * 8 + [False]
    wb.close()


def test_a_string_cut_to_excels_limit_is_kept_as_stored() -> None:
    wb = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
    ws = wb.add_worksheet("Texts", worksheet_class=FastWorksheet)
    assert ws.write_string(0, 0, "x" * 40_000) == -2  # cut, as XlsxWriter cuts it
    cell, text = ws.text_cells[2], ws.text_cells[3]
    assert list(ws.str_table.string_table)[cell.string] == text == "x" * ws.xls_strmax
    fits = ColumnFits()
    fit_columns(ws, lambda fmt: fmt, 0.0, fits)
    assert (fits.fitted, fits.texts_kept) == (1, True)
    wb.close()
