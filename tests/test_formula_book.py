"""The streaming formula reader reads every workbook exactly as openpyxl reads it.

The audit reads formulas, number formats, defined names and properties in one
pass over the XML instead of loading the file into openpyxl. Here that reading is
compared, cell by cell, with ``openpyxl.load_workbook`` on every template and
locale (default and random inputs), on edited and tampered files, on a hand-built
package with shared, array and data-table formulas, escapes, merges and the
spellings the tight patterns leave to the XML handlers, and on a workbook saved by
LibreOffice; and the whole read (values, formulas, findings) is compared with the
same read through openpyxl.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import shutil
import subprocess
import warnings
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from roi_xl.demo import missed_call_grid, sample_actuals
from roi_xl.inspect import formula_book, reader
from roi_xl.inspect.formula_book import FormulaBook, FormulaSheet, read_formula_book
from roi_xl.inspect.guard import PackageScan, scan
from roi_xl.inspect.reader import read_workbook
from roi_xl.locale import LOCALES, load_locale
from roi_xl.model import template as templates
from roi_xl.model.template import Template
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.layout import SCENARIO_COLS, build_layout, cell

START = dt.date(2026, 1, 1)


def openpyxl_book(path: Path, package: PackageScan) -> FormulaBook:
    """The same view, read by openpyxl (what the audit read before)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path, data_only=False, keep_links=False)
    sheets = {
        ws.title: FormulaSheet(
            ws.title,
            {
                (r - 1, c - 1): (item.value, item.number_format)
                for (r, c), item in ws._cells.items()
            },
            {name: str(item.attr_text or "") for name, item in ws.defined_names.items()},
        )
        for ws in book.worksheets
    }
    names = {name: str(item.attr_text or "") for name, item in book.defined_names.items()}
    properties = {prop.name: str(prop.value) for prop in book.custom_doc_props.props}
    return FormulaBook(sheets, names, properties)


def _plain(value: Any) -> Any:
    if isinstance(value, ArrayFormula):
        return ("array", value.ref, value.text)
    if isinstance(value, DataTableFormula):
        return ("table", dict(value))
    return (type(value).__name__, value)


def view(book: FormulaBook) -> dict[str, Any]:
    """Everything the audit uses, comparable with ==, types included (5 is not 5.0)."""
    return {
        "order": book.sheetnames,
        "names": book.names,
        "properties": book.properties,
        "sheets": {
            title: (
                {key: (_plain(v), fmt) for key, (v, fmt) in sheet.cells.items()},
                sheet.defined_names,
            )
            for title, sheet in book.sheets.items()
        },
    }


def assert_reads_as_openpyxl(path: Path) -> None:
    package = scan(path)
    fast, slow = view(read_formula_book(path, package)), view(openpyxl_book(path, package))
    assert fast["order"] == slow["order"]
    assert fast["names"] == slow["names"]
    assert fast["properties"] == slow["properties"]
    for title, (cells, names) in slow["sheets"].items():
        found, found_names = fast["sheets"][title]
        differ = {k: (found.get(k), v) for k, v in cells.items() if found.get(k) != v}
        extra = set(found) - set(cells)
        assert not differ and not extra, f"{path.name} {title}: {list(differ.items())[:3]} {extra}"
        assert found_names == names


def assert_same_audit(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """read_workbook gives the same values, formulas checks and findings both ways."""
    fast = read_workbook(path).to_dict()
    with monkeypatch.context() as patch:
        patch.setattr(reader, "load_formulas", openpyxl_book)
        slow = read_workbook(path).to_dict()
    assert fast == slow


def _random_inputs(model: Template, rng: random.Random) -> dict[str, float]:
    values = {}
    for item in model.inputs:
        roll = rng.random()
        if roll < 0.15:
            values[item.key] = item.minimum
        elif roll < 0.25:
            values[item.key] = item.maximum
        elif item.integer:  # a number of months is whole
            values[item.key] = float(rng.randint(int(item.minimum), int(item.maximum)))
        else:
            values[item.key] = round(rng.uniform(item.minimum, item.maximum), rng.choice([0, 3, 9]))
    return values


def _workbooks(name: str, locale: str, folder: Path) -> list[Path]:
    """Default inputs; random inputs with actuals, another scenario, start and length."""
    model = templates.load(name)
    plain = WorkbookOptions(locale=locale, start=START, months=3, force=True)
    rng = random.Random(f"{name}-{locale}")
    actuals = sample_actuals(name)[:4]
    varied = dataclasses.replace(
        plain,
        overrides=_random_inputs(model, rng),
        start=dt.date(2027, 5, 1),
        months=6,
        actuals=actuals,
        heatmaps=[missed_call_grid(30)] * len(actuals) if model.monthly.heatmap else (),
        scenario="prudent",
        lambdas=True,
    )
    return [
        write_workbook(model, folder / "default.xlsx", plain),
        write_workbook(model, folder / "random.xlsx", varied),
    ]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", templates.builtin_names())
def test_generated_workbooks_read_as_openpyxl_reads_them(
    name: str, locale: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path in _workbooks(name, locale, tmp_path):
        assert_reads_as_openpyxl(path)
        assert_same_audit(path, monkeypatch)


def _tampered(folder: Path) -> list[Path]:
    """Edits saved by openpyxl: typed-over results, a formula in an input, merged cells over
    formulas, a date typed over a result, a redirected and an added name, a sheet-level
    name, a renamed sheet, changed formats and formulas, a formula typed in the margin."""
    name = "phone-system"
    model = templates.load(name)
    options = WorkbookOptions(start=START, months=3, force=True, actuals=sample_actuals(name)[:2])
    clean = write_workbook(model, folder / "clean.xlsx", options)
    layout = build_layout(model, load_locale("en-US"), START, 3)
    metric = next(iter(layout.metric_rows))
    row = layout.metric_rows[metric]
    first_input = layout.input_rows[model.inputs[0].key]
    book = openpyxl.load_workbook(clean)
    calc = book[layout.calculations]
    calc[cell(row, SCENARIO_COLS["realistic"])] = 7
    calc[cell(row, SCENARIO_COLS["prudent"])] = "typed over"
    calc[cell(row + 1, SCENARIO_COLS["realistic"])] = dt.datetime(2026, 3, 1)
    calc[cell(row + 1, SCENARIO_COLS["realistic"])].number_format = "yyyy-mm-dd"
    calc[cell(row + 2, SCENARIO_COLS["realistic"])].number_format = '0.0 "%"'
    calc[cell(row + 3, SCENARIO_COLS["realistic"])] = "=1.5*2+A1"
    calc.merge_cells(f"{cell(row + 4, 1)}:{cell(row + 5, 3)}")
    calc["Z3"] = "=SUM(B2:B4)*7"
    book[layout.inputs][cell(first_input, SCENARIO_COLS["optimistic"])] = "=1+1"
    book.defined_names["Extra"] = openpyxl.workbook.defined_name.DefinedName(
        "Extra", attr_text=f"'{layout.inputs}'!$C$9"
    )
    calc.defined_names["Local"] = openpyxl.workbook.defined_name.DefinedName(
        "Local", attr_text=f"'{layout.calculations}'!$A$1"
    )
    book[layout.checks].title = "Renamed"
    book.save(folder / "tampered.xlsx")
    return [clean, folder / "tampered.xlsx"]


def test_tampered_workbooks_read_and_audit_as_with_openpyxl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean, tampered = _tampered(tmp_path)
    for path in (clean, tampered):
        assert_reads_as_openpyxl(path)
        assert_same_audit(path, monkeypatch)
    rules = {f["rule"] for f in read_workbook(tampered).to_dict()["findings"]}
    expected = {"formula_overwritten", "formula_in_input", "hard_coded_number", "sheet_renamed"}
    assert expected <= rules  # the edits are seen, not only read alike


def test_plain_patterns_and_xml_handlers_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every sheet of a generated and a tampered workbook, read with the tight patterns,
    equals the same sheet read by the expat handlers."""
    paths = _tampered(tmp_path)
    plain = [view(read_formula_book(p, scan(p))) for p in paths]

    def refuse(*_: object) -> None:
        raise formula_book._NotPlain

    monkeypatch.setattr(formula_book, "_read_plain", refuse)
    assert [view(read_formula_book(p, scan(p))) for p in paths] == plain


def test_cells_kept_from_earlier_workbooks_read_as_a_first_reading(tmp_path: Path) -> None:
    """Plain formulas and empty cells, once read, are kept per table of number formats: a
    workbook read after others of its template reads exactly as with nothing kept."""
    paths = _workbooks("crm", "en-US", tmp_path)
    first = []
    for path in paths:
        formula_book._SETTLED.clear()
        first.append(view(read_formula_book(path, scan(path))))
    for path in paths:
        read_formula_book(path, scan(path))
    assert any(formula_book._SETTLED.values())
    assert [view(read_formula_book(path, scan(path))) for path in paths] == first


# --------------------------------------------------------------- a hand-built package

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
SHARED = (
    '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f t="shared" ref="B1:B4" si="0">A1*2+$A$1'
    '</f><v>3</v></c><c r="C1"><f t="shared" ref="C1:E1" si="1">SUM(A1:B1)&amp;&quot;x'
    '&lt;&gt;&apos;&quot;</f></c><c r="D1"><f t="shared" si="1"/></c><c r="E1"><f t="shared"'
    ' si="1"/></c></row>'
    '<row r="2"><c r="A2"><v>2.5</v></c><c r="B2"><f t="shared" si="0"/><v>5</v></c>'
    '<c r="C2"><f t="shared" si="7"/></c><c r="D2"><f t="shared" si="7">Other!B2+1</f></c>'
    '<c r="E2"><f t="shared" si="7"/></c></row>'
    '<row r="3"><c r="A3" t="s"><v>0</v></c><c r="B3"><f t="shared" si="0"/></c>'
    '<c r="C3" t="b"><v>1</v></c><c r="D3" t="e"><v>#DIV/0!</v></c><c r="E3" s="1"><v>45000'
    '</v></c><c r="F3" t="str"><f>&quot;a&quot;&amp;&quot;b&quot;</f><v>ab</v></c></row>'
    '<row r="4"><c r="A4" t="s"><v>1</v></c><c r="B4"><f t="shared" si="0"/></c>'
    '<c r="C4"><f t="array" ref="C4:C5">TRANSPOSE(A1:A2)</f><v>1</v></c>'
    '<c r="D4"><f t="dataTable" ref="D4:D5" dt2D="0" dtr="0" r1="A1"/></c>'
    '<c r="E4" s="2"><v>1E-3</v></c><c r="F4"><v>42</v></c></row>'
    '<row r="6"><c r="A6"><f>&#65;1+&#x42;1</f></c><c r="B6"><v>7</v></c>'
    '<c r="C6"><f>IF(A1&gt;0,"&lt;","&gt;")</f></c></row>'
)


def _sheet(body: str, prefix: str = "", merges: str = "") -> str:
    """A worksheet in the default namespace, or with ``prefix`` bound to it."""
    if prefix:
        body = body.replace("<", f"<{prefix}:").replace(f"<{prefix}:/", f"</{prefix}:")
        return (
            f'<{prefix}:worksheet xmlns:{prefix}="{MAIN}"><{prefix}:sheetData>{body}'
            f"</{prefix}:sheetData></{prefix}:worksheet>"
        )
    return f'<worksheet xmlns="{MAIN}"><sheetData>{body}</sheetData>{merges}</worksheet>'


def _package(path: Path, sheets: dict[str, str]) -> Path:
    entries = "".join(
        f'<sheet name="{name}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
        for i, name in enumerate(sheets)
    )
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="{REL}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
        for i in range(len(sheets))
    )
    n = len(sheets)
    rels += (
        f'<Relationship Id="rId{n + 1}" Type="{REL}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId{n + 2}" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(n)
    )
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            f'officedocument.spreadsheetml.sheet.main+xml"/>{overrides}'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{entries}</sheets><definedNames>'
            '<definedName name="Rate">Shared!$A$2</definedName>'
            '<definedName name="Local" localSheetId="1">Other!$B$2</definedName>'
            '<definedName name="_xlnm.Print_Area" localSheetId="0">Shared!$A$1:$F$6'
            "</definedName></definedNames></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG}">{rels}</Relationships>',
        "xl/styles.xml": (
            f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" '
            'formatCode="0.0&quot; x&quot;"/></numFmts><cellXfs count="3"><xf numFmtId="0"/>'
            '<xf numFmtId="14"/><xf numFmtId="164"/></cellXfs></styleSheet>'
        ),
        "xl/sharedStrings.xml": (
            f'<sst xmlns="{MAIN}" count="2" uniqueCount="2"><si><t>plain &amp; text</t></si>'
            "<si><r><t>rich </t></r><r><t>=not a formula</t></r></si></sst>"
        ),
    }
    for i, xml in enumerate(sheets.values()):
        parts[f"xl/worksheets/sheet{i + 1}.xml"] = xml
    with zipfile.ZipFile(path, "w") as package:
        for name, text in parts.items():
            package.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>\n' + text)
    return path


def test_shared_formulas_and_plain_cells_of_a_hand_built_file_read_as_openpyxl(
    tmp_path: Path,
) -> None:
    no_refs = SHARED.replace(' r="A6"', "").replace(' r="B6"', "").replace(' r="C6"', "")
    path = _package(
        tmp_path / "shared.xlsx",
        {
            "Shared": _sheet(SHARED, merges='<mergeCells><mergeCell ref="E4:F6"/></mergeCells>'),
            "Other": _sheet(SHARED, prefix="x"),
            "NoRefs": _sheet(no_refs),
        },
    )
    assert_reads_as_openpyxl(path)
    book = read_formula_book(path, scan(path))
    shared = book.sheets["Shared"]
    assert shared.value(3, 1) == "=A4*2+$A$1"  # expanded down its group
    assert shared.value(0, 4) == '=SUM(C1:D1)&"x<>\'"'  # across, escapes decoded
    assert shared.value(1, 2) == "="  # before its group's text, as openpyxl leaves it
    assert shared.value(1, 4) == "=Other!C2+1"
    assert shared.value(5, 0) == "=A1+B1"
    assert shared.value(5, 5) is None  # covered by a merge
    assert book.sheets["Other"].defined_names == {"Local": "Other!$B$2"}
    assert book.names == {"Rate": "Shared!$A$2"}


def test_a_cell_written_twice_keeps_its_last_spelling_once_its_cells_are_kept(
    tmp_path: Path,
) -> None:
    """Two cells at one place: the later one stands, as openpyxl reads it, also when both
    were kept from an earlier reading of the same cells."""
    body = (
        '<row r="1"><c r="A1"><f>1+1</f></c><c r="B1" s="1"/><c r="A1"><f>2+2</f></c>'
        '<c r="A01"><f>3+3</f></c></row>'
    )
    path = _package(tmp_path / "twice.xlsx", {"Twice": _sheet(body)})
    for _ in range(2):  # the second reading finds every cell kept
        assert_reads_as_openpyxl(path)
        assert read_formula_book(path, scan(path)).sheets["Twice"].value(0, 0) == "=3+3"


def test_only_what_a_cell_says_itself_is_kept_between_workbooks(tmp_path: Path) -> None:
    """Two packages with the same number formats and the same cell texts, but other shared
    strings: a text cell is read from each file's own table, never from what was kept."""
    body = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><f>A1&amp;"x"</f><v>1</v></c>'
        '<c r="C1" s="1"/><c r="D1" s="1"><v>45000</v></c></row>'
    )
    first = _package(tmp_path / "first.xlsx", {"Sheet": _sheet(body)})
    second = tmp_path / "second.xlsx"
    with zipfile.ZipFile(first) as source, zipfile.ZipFile(second, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/sharedStrings.xml":
                data = data.replace(b"plain &amp; text", b"other words")
            target.writestr(item, data)
    for path in (first, second, first):
        assert_reads_as_openpyxl(path)
    assert read_formula_book(second, scan(second)).sheets["Sheet"].value(0, 0) == "other words"


# --------------------------------------------------------------- saved by LibreOffice


def test_a_workbook_saved_by_libreoffice_reads_and_audits_as_with_openpyxl(
    soffice: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "crm"
    options = WorkbookOptions(start=START, months=3, force=True, actuals=sample_actuals(name)[:2])
    source = write_workbook(templates.load(name), tmp_path / "source.xlsx", options)
    out = tmp_path / "out"
    profile = tmp_path / "profile"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    saved = out / "source.xlsx"
    with zipfile.ZipFile(saved) as package:
        assert "LibreOffice" in package.read("docProps/app.xml").decode()
    assert_reads_as_openpyxl(saved)
    assert_same_audit(saved, monkeypatch)
    shutil.rmtree(profile, ignore_errors=True)
