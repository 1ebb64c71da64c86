"""Text from a template stays text: a label that looks like a reference never becomes one.

XlsxWriter turns a chart name matching ``Sheet!A1`` into a ``<c:f>`` formula; a user's
template can carry such a label on purpose (``=cmd|' /C calc'!A0``) or by accident
("Hours (see Ops!B2)"). Charts, cells and names must show it exactly as typed.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from test_template_errors import GOOD

from roi_xl.inspect.reader import read_workbook
from roi_xl.model import template
from roi_xl.report.page import render_report
from roi_xl.workbook import WorkbookOptions, write_workbook

LABELS = [
    "=cmd|' /C calc'!A0",
    "Hours (see Ops!B2)",
    "Inputs!$C$9",
    "=SUM(Inputs!C9:C12)",
]


def _xml_text(label: str) -> str:
    return label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.mark.parametrize("label", LABELS)
def test_a_label_shaped_like_a_reference_stays_text(tmp_path: Path, label: str) -> None:
    source = GOOD.replace(
        'label = { en = "ROI", fr = "ROI" }', f"label = {{ en = {label!r}, fr = {label!r} }}"
    )
    source = source.replace(
        'label = { en = "Gain of the month", fr = "Gain du mois" }',
        f"label = {{ en = {label!r}, fr = {label!r} }}",
    )
    assert source.count(label) == 4
    path = tmp_path / "labels.toml"
    path.write_text(source, encoding="utf-8")
    model = template.load(str(path))
    target = tmp_path / "labels.xlsx"
    write_workbook(model, target, WorkbookOptions(start=dt.date(2026, 1, 1), months=2))

    with zipfile.ZipFile(target) as archive:
        charts = {n: archive.read(n).decode() for n in archive.namelist() if "charts/chart" in n}
        sheets = {n: archive.read(n).decode() for n in archive.namelist() if "worksheets/" in n}
        strings = archive.read("xl/sharedStrings.xml").decode()
        book = archive.read("xl/workbook.xml").decode()
    assert charts, "the workbook has charts"
    references = [f for xml in charts.values() for f in re.findall(r"<c:f>([^<]*)</c:f>", xml)]
    escaped = _xml_text(label)
    assert not [f for f in references if "Ops" in f or "cmd" in f or label in f or escaped in f]
    shown = [xml for xml in charts.values() if escaped in xml]
    assert len(shown) >= 2, "the series name and the chart title show the label as typed"
    # Every chart reference points at a sheet of the workbook, nothing else.
    names = set(re.findall(r'<sheet name="([^"]+)"', book))
    for formula in references:
        sheet = formula.split("!")[0].strip("'").replace("''", "'")
        assert sheet in names, formula
    # In cells the label is a shared string, never a formula.
    assert escaped in strings
    assert not [xml for xml in sheets.values() if re.search(r"<f>[^<]*(cmd|Ops)", xml)]
    assert "cmd" not in book and "Ops" not in book


def test_text_from_the_file_reaches_the_report_as_text(tmp_path: Path) -> None:
    """Cell texts and sheet names of an edited workbook are escaped in the report."""
    source = write_workbook(
        template.load("crm"),
        tmp_path / "crm.xlsx",
        WorkbookOptions(start=dt.date(2026, 1, 1), months=2),
    )
    book = openpyxl.load_workbook(source)
    book["Inputs"]["D9"] = "<img src=x onerror=alert(1)>"
    book["2026-01"]["C5"] = "<script>alert(2)</script>"
    book.create_sheet("<b>bold<b>")
    book.save(tmp_path / "edited.xlsx")
    read = read_workbook(tmp_path / "edited.xlsx")
    assert {"input_not_number", "figure_not_number", "sheet_added"} <= {
        f.rule for f in read.findings
    }
    page = render_report(read, "en-US")
    for markup in ("<img src=x", "<script>alert", "<b>bold"):
        assert markup not in page
    assert "&lt;script&gt;alert(2)" in page or "&lt;img src=x" in page
