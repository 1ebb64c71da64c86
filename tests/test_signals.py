"""Colours and units that cannot mislead: a variance is green when it is good for its line."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl

from roi_xl.demo import sample_actuals
from roi_xl.inspect.recalc import recalculate
from roi_xl.locale import load_locale
from roi_xl.model import template
from roi_xl.workbook.layout import build_layout, cell
from roi_xl.workbook.styles import BAD_FILL, GOOD_FILL
from roi_xl.workbook.writer import WorkbookOptions, write_workbook

START = dt.date(2026, 1, 1)


def _sheet_xml(path: Path, index: int) -> tuple[str, str]:
    with zipfile.ZipFile(path) as archive:
        return (
            archive.read(f"xl/worksheets/sheet{index}.xml").decode(),
            archive.read("xl/styles.xml").decode(),
        )


def test_the_variance_of_a_cost_or_a_loss_is_green_when_it_falls(tmp_path: Path) -> None:
    model = template.load("phone-system")
    options = WorkbookOptions(start=START, months=3, actuals=sample_actuals("phone-system"))
    path = write_workbook(model, tmp_path / "phone.xlsx", options)
    layout = build_layout(model, load_locale("en-US"), START, 3)
    index = layout.sheet_order.index(layout.actuals_sheet) + 1
    xml, styles = _sheet_xml(path, index)
    fills = re.findall(r"<dxf>.*?</dxf>", styles, flags=re.S)
    a = layout.actuals

    def colour(row: int, sign: str) -> str:
        ref = cell(row, a.variance_col)
        formula = f"AND(ISNUMBER({ref}),{ref}{sign}0)".replace(">", "&gt;").replace("<", "&lt;")
        found = re.search(
            r'<cfRule type="expression" dxfId="(\d+)"[^>]*><formula>' + re.escape(formula), xml
        )
        assert found, (ref, sign)
        dxf = fills[int(found.group(1))]
        return "good" if GOOD_FILL[1:] in dxf else "bad" if BAD_FILL[1:] in dxf else "?"

    missed, revenue = a.field_rows["calls_missed"], a.field_rows["revenue"]
    loss = a.kpi_rows["missed_call_loss"]
    assert colour(missed, "<") == "good" and colour(missed, ">") == "bad"
    assert colour(loss, "<") == "good" and colour(loss, ">") == "bad"
    assert colour(revenue, ">") == "good" and colour(revenue, "<") == "bad"
    received = cell(a.field_rows["calls_received"], a.variance_col)
    assert f"ISNUMBER({received})" not in xml  # more calls is neither good nor bad


def test_a_check_row_names_the_months_that_break_it(tmp_path: Path, soffice: str) -> None:
    actuals = [dict(month) for month in sample_actuals("phone-system")[:3]]
    actuals[1]["calls_answered"] += 5  # answered + missed + spam no longer equals received
    actuals[2]["calls_answered"] += 7
    options = WorkbookOptions(locale="fr-FR", start=START, months=3, actuals=actuals)
    path = write_workbook(template.load("phone-system"), tmp_path / "phone.xlsx", options)
    [recalculated] = recalculate([path], tmp_path / "recalculated")
    for source in (path, recalculated):
        sheet = openpyxl.load_workbook(source, data_only=True)["Contrôles"]
        named = {row[0].value: (row[1].value, row[2].value) for row in sheet.iter_rows(min_row=5)}
        assert named["Décrochés + manqués + indésirables = reçus"] == (2, "2026-02, 2026-03"), (
            source
        )
        assert named["Réservations ≤ leads qualifiés"][1] in ("", None), source
