"""Importing monthly call figures into a generated workbook: only the targeted cells change.

A phone-system workbook is generated, figures and a missed-call grid are
patched into its monthly tabs, and the package is compared part by part with
the original: every other part is byte-identical, and inside the patched
sheets only the targeted cells differ (the sheet with those cells cut out is
byte-identical too); the formula cells whose value the figures change hold their
recomputed cached value, their formula and style untouched. LibreOffice then
recalculates the patched files (ONE batch for the module) and must find the same
values as those cached; the Actuals sheet, the KPIs and the reader must agree with
the figures imported.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest

from roi_xl.inspect.guard import NS_MAIN, UnreadableFileError
from roi_xl.inspect.patch import (
    FigureConflictError,
    FigureImportError,
    ImportReport,
    import_figures,
)
from roi_xl.inspect.reader import read_workbook
from roi_xl.inspect.recalc import recalculate
from roi_xl.locale import load_locale
from roi_xl.model import template
from roi_xl.workbook import OutputExistsError, WorkbookOptions, write_workbook
from roi_xl.workbook.layout import (
    HEATMAP_FIRST_COL,
    HOURS,
    MONTH_ACTUAL_COL,
    WEEKDAYS,
    Layout,
    build_layout,
    cell,
)
from roi_xl.workbook.values import COMPLETE

START = dt.date(2026, 1, 1)
MONTHS = 3
LOCALES = ("en-US", "fr-FR")

JANUARY = {
    "calls_received": 1200,
    "calls_spam": 100,
    "calls_answered": 920,
    "calls_missed": 180,
    "calls_abandoned": 60,
    "missed_not_recovered": 120,
    "qualified_leads": 400,
    "bookings": 120,
    "revenue": 96000.0,
    "phone_cost": 2100.0,
}
FEBRUARY = {
    "calls_received": 1100,
    "calls_spam": 90,
    "calls_answered": 900,
    "calls_missed": 110,
    "calls_abandoned": 40,
    "missed_not_recovered": 70,
    "qualified_leads": 380,
    "bookings": 130,
    "revenue": 104000.5,
    "phone_cost": 2100.0,
}
FIGURES = {"2026-01": JANUARY, "2026-02": FEBRUARY}


def missed_grid(total: int) -> list[list[float]]:
    """A 7 x 24 grid of missed calls summing to ``total``, spread over weekday office hours."""
    slots = [(day, hour) for day in range(5) for hour in range(8, 18)]
    grid = [[0.0] * HOURS for _ in range(WEEKDAYS)]
    for index in range(total):
        day, hour = slots[index % len(slots)]
        grid[day][hour] += 1
    return grid


GRIDS = {"2026-01": missed_grid(JANUARY["calls_missed"])}


# ----------------------------------------------------------------- helpers


def generate(path: Path, locale: str = "en-US", name: str = "phone-system") -> Path:
    options = WorkbookOptions(locale=locale, start=START, months=MONTHS, force=True)
    return write_workbook(template.load(name), path, options)


def layout_of(locale: str = "en-US") -> Layout:
    return build_layout(template.load("phone-system"), load_locale(locale), START, MONTHS)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One freshly generated workbook per locale, never modified: tests work on copies."""
    folder = tmp_path_factory.mktemp("pristine")
    return {locale: generate(folder / f"phone-{locale}.xlsx", locale) for locale in LOCALES}


@pytest.fixture
def workbook(pristine: dict[str, Path], tmp_path: Path) -> Path:
    return Path(shutil.copy(pristine["en-US"], tmp_path / "calls.xlsx"))


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def entries(path: Path) -> list[tuple[str, int, tuple[int, ...], int]]:
    with zipfile.ZipFile(path) as archive:
        return [
            (i.filename, i.compress_type, i.date_time, i.external_attr) for i in archive.infolist()
        ]


def sheet_part(path: Path, sheet: str) -> str:
    """The XML part of a sheet, through workbook.xml and its relationships."""
    files = parts(path)
    workbook = ET.fromstring(files["xl/workbook.xml"])
    rels = ET.fromstring(files["xl/_rels/workbook.xml.rels"])
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    targets = {rel.get("Id"): rel.get("Target") for rel in rels}
    for node in workbook.iter(f"{NS_MAIN}sheet"):
        if node.get("name") == sheet:
            return "xl/" + targets[node.get(f"{rel_ns}id")].lstrip("/").removeprefix("xl/")
    raise AssertionError(f"no sheet {sheet}")


def cells(xml: bytes) -> dict[str, tuple[dict[str, str], bytes]]:
    """Every cell of a sheet: its attributes and its children, serialised."""
    found = {}
    for node in ET.fromstring(xml).iter(f"{NS_MAIN}c"):
        children = b"".join(ET.tostring(child) for child in node)
        found[node.get("r")] = (dict(node.attrib), children)
    return found


def without_cells(xml: bytes, refs: set[str]) -> bytes:
    """The sheet's bytes with the given cell elements cut out (the generator's own format)."""

    def cut(match: re.Match[bytes]) -> bytes:
        return b"" if match.group(1).decode() in refs else match.group(0)

    return re.sub(rb'<c r="([A-Z]+\d+)"[^>]*?(?:/>|>.*?</c>)', cut, xml)


def targets(layout: Layout, figures: dict[str, float], grid: bool) -> dict[str, float]:
    """Cell -> value an import of ``figures`` (and GRIDS' January grid) writes on one tab."""
    rows = layout.monthly
    wanted = {cell(rows.field_rows[k], MONTH_ACTUAL_COL): float(v) for k, v in figures.items()}
    if grid:
        assert rows.heatmap_first_row is not None
        for day, values in enumerate(GRIDS["2026-01"]):
            for hour, value in enumerate(values):
                wanted[cell(rows.heatmap_first_row + day, HEATMAP_FIRST_COL + hour)] = value
    return wanted


def rewrite_part(path: Path, part: str, edit: Callable[[bytes], bytes]) -> None:
    """Edit one part of the package in place (to build unusual but valid workbooks)."""
    files = parts(path)
    infos = entries(path)
    new = edit(files[part])
    assert new != files[part], f"the edit changed nothing in {part}"
    files[part] = new
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, *_ in infos:
            archive.writestr(name, files[name])


def cell_values(path: Path, sheet: str) -> dict[str, object]:
    book = openpyxl.load_workbook(path, data_only=True)
    return {c.coordinate: c.value for row in book[sheet].iter_rows() for c in row}


# --------------------------------------------------- 1. nothing else changes


def test_only_the_targeted_cells_change(workbook: Path) -> None:
    before, entries_before = parts(workbook), entries(workbook)
    report = import_figures(workbook, FIGURES, GRIDS)
    after = parts(workbook)

    assert report.imported == ["2026-01", "2026-02"]
    assert report.missing == []
    assert report.written and report.path == workbook.resolve()
    assert report.overwritten == [] and report.unchanged == 0
    assert len(report.changes) == len(JANUARY) + len(FEBRUARY) + WEEKDAYS * HOURS
    # XlsxWriter already asks for a full recalculation on load: workbook.xml untouched.
    assert report.calc_on_load == "already set"
    json.dumps(report.to_dict())

    # Same entries, same order, same names, methods, dates and attributes.
    assert entries(workbook) == entries_before
    patched = {sheet_part(workbook, "2026-01"), sheet_part(workbook, "2026-02")}
    refreshed = 0
    for name in before:
        if name not in patched and after[name] != before[name]:
            assert name.startswith("xl/worksheets/"), f"{name} changed"
            refreshed += len(only_cached_values_changed(before[name], after[name]))
    sheets = {name for name in before if before[name] != after[name]}
    actuals = sheet_part(workbook, layout_of().actuals_sheet)
    assert actuals in sheets, "the Actuals formulas over the figures must be refreshed"
    assert any(n.startswith("xl/charts/") for n in before), "the workbook should have charts"
    assert any(n.startswith("xl/drawings/") for n in before)

    layout = layout_of()
    for month, figures in FIGURES.items():
        part = sheet_part(workbook, month)
        wanted = targets(layout, figures, grid=month in GRIDS)
        old, new = cells(before[part]), cells(after[part])
        assert set(new) == set(old), "no cell may appear or vanish"
        formulas = only_cached_values_changed(before[part], after[part], set(wanted))
        assert formulas, f"{month}: its KPIs over the figures must be refreshed"
        refreshed += len(formulas)
        changed = {ref for ref in new if new[ref] != old[ref]} - formulas
        assert changed == set(wanted), f"{month}: unexpected cells changed"
        for ref, value in wanted.items():
            attrs, children = new[ref]
            assert attrs == old[ref][0], f"{month}!{ref}: the style must be kept"
            assert "s" in attrs
            value_node = ET.fromstring(children)
            assert value_node.tag == f"{NS_MAIN}v" and float(value_node.text or "") == value
            assert old[ref][1] == b"", f"{month}!{ref} was not blank"
        # Byte-level: with the targeted and refreshed cells cut out, both sheets are
        # identical, so validations, protection, formulas and formats did not move.
        cut = set(wanted) | formulas
        assert without_cells(after[part], cut) == without_cells(before[part], cut)
        for tag in ("dataValidations", "sheetProtection", "conditionalFormatting", "cols"):
            assert after[part].count(f"<{tag}".encode()) == before[part].count(f"<{tag}".encode())
    assert after[sheet_part(workbook, "2026-03")] == before[sheet_part(workbook, "2026-03")]
    assert refreshed == report.formulas_refreshed > 0


def only_cached_values_changed(
    before: bytes,
    after: bytes,
    figures: set[str] = frozenset(),  # type: ignore[assignment]
) -> set[str]:
    """The formula cells whose cached value changed; fails if anything else did (but the
    ``figures`` cells): formula, style and every other byte of the sheet are kept."""
    old, new = cells(before), cells(after)
    assert set(old) == set(new), "no cell may appear or vanish"
    changed = {ref for ref in new if new[ref] != old[ref]} - figures
    for ref in changed:
        (old_attrs, old_children), (new_attrs, new_children) = old[ref], new[ref]
        assert {k: v for k, v in old_attrs.items() if k != "t"} == {
            k: v for k, v in new_attrs.items() if k != "t"
        }, f"{ref}: only the value type may change"
        old_f = [c for c in ET.fromstring(b"<c>" + old_children + b"</c>") if c.tag.endswith("f")]
        new_f = [c for c in ET.fromstring(b"<c>" + new_children + b"</c>") if c.tag.endswith("f")]
        assert old_f and [ET.tostring(f) for f in old_f] == [ET.tostring(f) for f in new_f], ref
    assert without_cells(after, changed | figures) == without_cells(before, changed | figures)
    return changed


def test_numbers_are_written_as_numbers(workbook: Path) -> None:
    import_figures(workbook, {"2026-01": {"calls_received": 1200, "revenue": 0.1 + 0.2}})
    xml = parts(workbook)[sheet_part(workbook, "2026-01")]
    assert b'<c r="C5" s="14"><v>1200</v></c>' in xml
    assert b"<v>0.30000000000000004</v>" in xml
    values = cell_values(workbook, "2026-01")
    assert values["C5"] == 1200 and values["C13"] == 0.1 + 0.2


@pytest.mark.parametrize(
    ("calc_pr", "expected"),
    [
        (b'<calcPr calcId="191029"/>', b'<calcPr calcId="191029" fullCalcOnLoad="1"/>'),
        (
            b'<calcPr calcId="191029" fullCalcOnLoad="0"/>',
            b'<calcPr calcId="191029" fullCalcOnLoad="1"/>',
        ),
        (b"", b'</definedNames><calcPr fullCalcOnLoad="1"/></workbook>'),
    ],
    ids=["saved-by-excel", "flag-off", "no-calcPr"],
)
def test_workbook_xml_gets_full_calc_on_load_and_nothing_else(
    workbook: Path, calc_pr: bytes, expected: bytes
) -> None:
    """Excel drops fullCalcOnLoad when it saves: the import puts it back, byte-exactly."""
    rewrite_part(
        workbook,
        "xl/workbook.xml",
        lambda xml: xml.replace(b'<calcPr calcId="124519" fullCalcOnLoad="1"/>', calc_pr),
    )
    before = parts(workbook)
    report = import_figures(workbook, {"2026-01": JANUARY})
    after = parts(workbook)
    assert report.calc_on_load == "set"
    assert expected in after["xl/workbook.xml"]
    flag_removed = (
        after["xl/workbook.xml"]
        .replace(b'<calcPr fullCalcOnLoad="1"/>', b"")
        .replace(b' fullCalcOnLoad="1"', b"")
    )
    assert flag_removed == before["xl/workbook.xml"].replace(b' fullCalcOnLoad="0"', b"")
    changed = {name for name in before if before[name] != after[name]}
    assert {"xl/workbook.xml", sheet_part(workbook, "2026-01")} <= changed
    for name in changed - {"xl/workbook.xml", sheet_part(workbook, "2026-01")}:
        only_cached_values_changed(before[name], after[name])  # Actuals, Dashboard


# ----------------------------------------------- 2. LibreOffice recalculates


@dataclass(frozen=True)
class Recalculated:
    """What the module's single LibreOffice batch produced."""

    imported: dict[str, Path]  # locale -> imported, then recalculated
    saved_by_libreoffice: Path  # a blank generated workbook, as LibreOffice saves it
    cached: dict[str, Path]  # locale -> imported, as the import left it (not recalculated)


@pytest.fixture(scope="module")
def recalculated(
    soffice: str, pristine: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Recalculated:
    """Both locales imported, then recalculated by LibreOffice in ONE batch, with a blank one."""
    folder = tmp_path_factory.mktemp("imported")
    sources = []
    for path in pristine.values():
        copy = Path(shutil.copy(path, folder / path.name))
        import_figures(copy, FIGURES, GRIDS)
        sources.append(copy)
    sources.append(Path(shutil.copy(pristine["en-US"], folder / "blank.xlsx")))
    outputs = recalculate(sources, tmp_path_factory.mktemp("imported-recalculated"))
    return Recalculated(
        dict(zip(pristine, outputs, strict=False)),
        outputs[-1],
        dict(zip(pristine, sources, strict=False)),
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_libreoffice_finds_the_cached_values_the_import_wrote(
    recalculated: Recalculated, locale: str
) -> None:
    """Every formula cell of every sheet: LibreOffice's recalculation = the cached value."""
    formulas = openpyxl.load_workbook(recalculated.cached[locale])
    cached = openpyxl.load_workbook(recalculated.cached[locale], data_only=True)
    computed = openpyxl.load_workbook(recalculated.imported[locale], data_only=True)
    compared, differ = 0, []
    for sheet in formulas.worksheets:
        for row in sheet.iter_rows():
            for item in row:
                if not (isinstance(item.value, str) and item.value.startswith("=")):
                    continue
                compared += 1
                mine = cached[sheet.title][item.coordinate].value
                theirs = computed[sheet.title][item.coordinate].value
                if not same_value(mine, theirs):
                    differ.append(f"{sheet.title}!{item.coordinate}: {mine!r} != {theirs!r}")
    assert compared > 500
    assert differ == []


def same_value(mine: object, theirs: object) -> bool:
    if mine in (None, "") or theirs in (None, ""):
        return mine in (None, "") and theirs in (None, "")
    if isinstance(mine, int | float) and isinstance(theirs, int | float):
        return math.isclose(mine, theirs, rel_tol=1e-9, abs_tol=1e-9)
    return mine == theirs


@pytest.mark.parametrize("locale", LOCALES)
def test_recalculated_actuals_show_the_imported_figures(
    recalculated: Recalculated, locale: str
) -> None:
    layout = layout_of(locale)
    actuals = layout.actuals
    assert layout.actuals_sheet == {"en-US": "Actuals", "fr-FR": "Réalisé"}[locale]
    values = cell_values(recalculated.imported[locale], layout.actuals_sheet)
    for index, month in enumerate(layout.month_sheets):
        col = actuals.first_month_col + index
        figures = FIGURES.get(month)
        for key, row in actuals.field_rows.items():
            shown = values[cell(row, col)]
            assert shown == (None if figures is None else pytest.approx(figures[key])), (
                f"{layout.actuals_sheet}!{cell(row, col)} ({month} {key})"
            )
        rate = values[cell(actuals.kpi_rows["answer_rate"], col)]
        if figures is None:
            assert rate in (None, "")
        else:
            expected = figures["calls_answered"] / (
                figures["calls_received"] - figures["calls_spam"]
            )
            assert rate == pytest.approx(expected)
    ytd = values[cell(actuals.field_rows["calls_received"], actuals.ytd_col)]
    assert ytd in (None, "")  # a call log marks no month complete: nothing counts to date yet
    january = cell_values(recalculated.imported[locale], "2026-01")
    rate_row = layout.monthly.kpi_rows["answer_rate"]
    assert january[cell(rate_row, MONTH_ACTUAL_COL)] == pytest.approx(920 / (1200 - 100))
    assert january[cell(layout.monthly.heatmap_check_row or 0, MONTH_ACTUAL_COL)] == 0


@pytest.mark.parametrize("locale", LOCALES)
def test_reader_agrees_after_recalculation(recalculated: Recalculated, locale: str) -> None:
    read = read_workbook(recalculated.imported[locale])
    errors = [f for f in read.findings if f.severity == "error"]
    assert errors == [], [f"{f.where} {f.rule}: {f.message}" for f in errors]
    assert read.actuals["2026-01"] == {**{k: float(v) for k, v in JANUARY.items()}, COMPLETE: 0.0}
    assert read.actuals["2026-02"] == {**{k: float(v) for k, v in FEBRUARY.items()}, COMPLETE: 0.0}
    assert all(v is None for k, v in read.actuals["2026-03"].items() if k != COMPLETE)
    assert read.actuals["2026-03"][COMPLETE] == 0.0  # a new month is not complete


def test_a_workbook_saved_by_libreoffice_is_patched_the_same_way(
    recalculated: Recalculated, tmp_path: Path
) -> None:
    """LibreOffice rewrites every part and drops fullCalcOnLoad: the import adds it back."""
    path = Path(shutil.copy(recalculated.saved_by_libreoffice, tmp_path / "saved.xlsx"))
    before, entries_before = parts(path), entries(path)
    report = import_figures(path, {"2026-02": FEBRUARY})
    after = parts(path)
    assert report.calc_on_load == "set" and len(report.changes) == len(FEBRUARY)
    assert entries(path) == entries_before
    changed = {name for name in before if before[name] != after[name]}
    assert {"xl/workbook.xml", sheet_part(path, "2026-02")} <= changed
    assert all(n.startswith("xl/worksheets/") for n in changed - {"xl/workbook.xml"})
    calc = ET.fromstring(after["xl/workbook.xml"]).find(f"{NS_MAIN}calcPr")
    assert calc is not None and calc.get("fullCalcOnLoad") == "1"
    old, new = cells(before[sheet_part(path, "2026-02")]), cells(after[sheet_part(path, "2026-02")])
    wanted = targets(layout_of(), FEBRUARY, grid=False)
    part = sheet_part(path, "2026-02")
    formulas = only_cached_values_changed(before[part], after[part], set(wanted))
    assert {ref for ref in new if new[ref] != old[ref]} - formulas == set(wanted)
    assert all(new[ref][0]["s"] == old[ref][0]["s"] for ref in wanted)
    assert read_workbook(path).actuals["2026-02"] == {
        **{k: float(v) for k, v in FEBRUARY.items()},
        COMPLETE: 0.0,
    }


def test_a_namespace_prefix_is_kept(workbook: Path) -> None:
    """Some writers spell the main namespace with a prefix (<x:c>): new elements follow it."""
    part = sheet_part(workbook, "2026-01")
    main = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'

    def prefixed(xml: bytes) -> bytes:
        xml = re.sub(rb"<(/?)([A-Za-z]+)([ />])", rb"<\1x:\2\3", xml)
        return xml.replace(main, main.replace(b"xmlns=", b"xmlns:x="))

    rewrite_part(workbook, part, prefixed)
    import_figures(workbook, {"2026-01": JANUARY}, GRIDS)
    assert b'<x:c r="C5" s="14"><x:v>1200</x:v></x:c>' in parts(workbook)[part]
    assert read_workbook(workbook).actuals["2026-01"] == {
        **{k: float(v) for k, v in JANUARY.items()},
        COMPLETE: 0.0,
    }


def test_the_audit_is_clean_right_after_the_import(workbook: Path) -> None:
    """The figures read back at once, and no formula's cached value is stale."""
    report = import_figures(workbook, FIGURES, GRIDS)
    read = read_workbook(workbook)
    assert read.actuals["2026-01"] == {**{k: float(v) for k, v in JANUARY.items()}, COMPLETE: 0.0}
    assert [f"{f.where} {f.rule}" for f in read.findings if f.severity == "error"] == []
    assert any("hold their recomputed values" in note for note in report.notes)


# ------------------------------------------------------------- 3. conflicts


def test_different_values_are_refused_and_nothing_is_written(workbook: Path) -> None:
    import_figures(workbook, FIGURES, GRIDS)
    before = workbook.read_bytes()
    changed_grid = [row[:] for row in GRIDS["2026-01"]]
    changed_grid[0][9] += 1
    new = {
        "2026-01": {**JANUARY, "calls_received": 1250},
        "2026-02": {**FEBRUARY, "revenue": 99.5},
        "2026-03": {"calls_received": 900},  # blank: would be filled, but nothing is written
    }
    with pytest.raises(FigureConflictError) as caught:
        import_figures(workbook, new, {"2026-01": changed_grid})
    assert workbook.read_bytes() == before
    message = str(caught.value)
    assert str(workbook) in message and "figure_conflict" in message and "--force" in message
    assert "2026-01: sheet '2026-01' cell C5 (calls_received): 1,200 in the file, 1,250" in message
    assert "2026-02: sheet '2026-02' cell C13 (revenue): 104,000.5 in the file, 99.5" in message
    assert "cell Q30 (heatmap weekday 1 hour 9): 4 in the file, 5 imported" in message
    found = {(c.month, c.cell, c.old, c.new) for c in caught.value.conflicts}
    assert found == {
        ("2026-01", "C5", 1200.0, 1250.0),
        ("2026-02", "C13", 104000.5, 99.5),
        ("2026-01", "Q30", 4.0, 5.0),
    }
    assert not list(workbook.parent.glob("*.partial"))


def test_force_overwrites(workbook: Path) -> None:
    import_figures(workbook, FIGURES)
    report = import_figures(
        workbook, {"2026-01": {**JANUARY, "calls_received": 1250, "calls_missed": 230}}, force=True
    )
    assert [(c.cell, c.old, c.new) for c in report.overwritten] == [
        ("C5", 1200.0, 1250.0),
        ("C8", 180.0, 230.0),
    ]
    assert report.unchanged == len(JANUARY) - 2
    values = cell_values(workbook, "2026-01")
    assert values["C5"] == 1250 and values["C8"] == 230 and values["C7"] == 920


def test_identical_values_pass_and_leave_the_file_untouched(workbook: Path) -> None:
    import_figures(workbook, FIGURES, GRIDS)
    before = workbook.read_bytes()
    report = import_figures(workbook, {"2026-01": {**JANUARY, "revenue": 96000}}, GRIDS)
    assert report.changes == [] and not report.written
    assert report.unchanged == len(JANUARY) + WEEKDAYS * HOURS
    assert workbook.read_bytes() == before


def test_blank_cells_are_filled_beside_identical_ones(workbook: Path) -> None:
    import_figures(workbook, {"2026-01": {"calls_received": 1200}})
    report = import_figures(workbook, {"2026-01": JANUARY})
    assert report.unchanged == 1 and len(report.changes) == len(JANUARY) - 1
    assert all(change.old is None for change in report.changes)


def test_text_in_a_figure_cell_is_a_conflict(workbook: Path) -> None:
    part = sheet_part(workbook, "2026-01")
    rewrite_part(
        workbook,
        part,
        lambda xml: xml.replace(
            b'<c r="C5" s="14"/>', b'<c r="C5" s="14" t="inlineStr"><is><t>n/a</t></is></c>'
        ),
    )
    with pytest.raises(FigureConflictError, match=r"C5 \(calls_received\): 'n/a' in the file"):
        import_figures(workbook, {"2026-01": {"calls_received": 1200}})
    import_figures(workbook, {"2026-01": {"calls_received": 1200}}, force=True)
    assert b'<c r="C5" s="14"><v>1200</v></c>' in parts(workbook)[part]


def test_a_formula_typed_in_a_figure_cell_is_never_overwritten(workbook: Path) -> None:
    part = sheet_part(workbook, "2026-01")
    rewrite_part(
        workbook,
        part,
        lambda xml: xml.replace(
            b'<c r="C5" s="14"/>', b'<c r="C5" s="14"><f>1000+200</f><v>1200</v></c>'
        ),
    )
    report = import_figures(workbook, {"2026-01": {"calls_received": 1200}})
    assert report.unchanged == 1 and not report.written
    before = workbook.read_bytes()
    with pytest.raises(FigureConflictError, match=r"C5 \(calls_received\): =1000\+200 in the file"):
        import_figures(workbook, {"2026-01": {"calls_received": 1300}})
    with pytest.raises(FigureImportError, match="formula_in_figure_cell"):
        import_figures(workbook, {"2026-01": {"calls_received": 1300}}, force=True)
    assert workbook.read_bytes() == before


# ------------------------------------------------- 4. what the import refuses


def test_months_missing_from_the_workbook_are_reported(workbook: Path) -> None:
    report = import_figures(workbook, {"2025-12": JANUARY, "2026-01": JANUARY, "2026-07": FEBRUARY})
    assert report.imported == ["2026-01"]
    assert report.missing == ["2025-12", "2026-07"]
    assert cell_values(workbook, "2026-01")["C5"] == 1200


def test_unknown_fields_are_refused(workbook: Path) -> None:
    before = workbook.read_bytes()
    with pytest.raises(FigureImportError) as caught:
        import_figures(workbook, {"2026-01": {**JANUARY, "calls_transferred": 5, "nps": 3}})
    message = str(caught.value)
    assert str(workbook) in message and "unknown_field" in message
    assert "'calls_transferred' (2026-01)" in message and "'nps' (2026-01)" in message
    assert "calls_received" in message  # the fields it does have
    assert workbook.read_bytes() == before


@pytest.mark.parametrize(
    ("figures", "grids", "rule"),
    [
        ({"2026-01": {"calls_received": -5}}, None, "figure_negative"),
        ({"2026-01": {"calls_received": float("nan")}}, None, "figure_not_number"),
        ({"2026-01": {"calls_received": "12"}}, None, "figure_not_number"),
        ({"2026-01": {"calls_received": True}}, None, "figure_not_number"),
        ({"2026-1": {"calls_received": 1}}, None, "month_format"),
        ({}, {"2026-01": [[0.0] * 24] * 6}, "grid_shape"),
        ({}, {"2026-01": [[0.5] * 24] * 7}, "figure_not_whole"),
    ],
    ids=["negative", "nan", "text", "bool", "month", "grid-shape", "grid-fraction"],
)
def test_bad_figures_are_refused(
    workbook: Path, figures: dict, grids: dict | None, rule: str
) -> None:
    before = workbook.read_bytes()
    with pytest.raises(FigureImportError, match=rule):
        import_figures(workbook, figures, grids)
    assert workbook.read_bytes() == before


def test_a_grid_for_a_template_without_one_is_refused(tmp_path: Path) -> None:
    path = generate(tmp_path / "crm.xlsx", name="crm")
    with pytest.raises(FigureImportError, match="no_grid"):
        import_figures(path, {}, {"2026-01": missed_grid(10)})


def test_a_workbook_not_made_by_roi_xl_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "2026-01"
    book.save(path)
    before = path.read_bytes()
    with pytest.raises(UnreadableFileError, match="not a roi_xl workbook"):
        import_figures(path, FIGURES)
    assert path.read_bytes() == before
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook")
    with pytest.raises(UnreadableFileError, match="not an Excel workbook"):
        import_figures(text, FIGURES)


def test_a_deleted_key_row_is_refused(workbook: Path) -> None:
    rewrite_part(
        workbook,
        sheet_part(workbook, "2026-02"),
        lambda xml: re.sub(rb'<row r="13" .*?</row>', b"", xml),
    )
    with pytest.raises(FigureImportError, match=r"sheet '2026-02'.*'revenue'.*row_missing"):
        import_figures(workbook, FIGURES)


# ------------------------------------------------ 5. unusual sheet structure


def test_missing_cells_and_rows_are_inserted_in_order(workbook: Path) -> None:
    """Cells or rows a file lacks (another writer may omit them) are created in place."""
    part = sheet_part(workbook, "2026-01")

    def strip(xml: bytes) -> bytes:
        xml = xml.replace(b'<c r="C5" s="14"/>', b"")  # a cell missing inside its row
        xml = re.sub(rb'<row r="30" .*?</row>', b"", xml)  # a whole grid row missing
        return re.sub(rb'(<row r="31" [^>]*)>.*?</row>', rb"\1/>", xml)  # a row left empty

    rewrite_part(workbook, part, strip)
    import_figures(workbook, {"2026-01": JANUARY}, GRIDS)
    xml = parts(workbook)[part]
    root = ET.fromstring(xml)
    rows = [int(row.get("r")) for row in root.iter(f"{NS_MAIN}row")]
    assert rows == sorted(rows) and 30 in rows and 31 in rows
    for row in root.iter(f"{NS_MAIN}row"):
        cols = [openpyxl.utils.column_index_from_string(re.sub(r"\d", "", c.get("r"))) for c in row]
        assert cols == sorted(cols), f"row {row.get('r')} cells out of order"
    # the missing C5 is recreated between B5 and D5
    assert re.search(
        rb'<c r="B5" s="\d+" t="s"><v>\d+</v></c><c r="C5"><v>1200</v></c><c r="D5"', xml
    )
    values = cell_values(workbook, "2026-01")
    assert values["C5"] == 1200
    grid = GRIDS["2026-01"]
    assert values["Q30"] == grid[0][9] and values["Q31"] == grid[1][9]


# ----------------------------------------------------- 6. writing safely


@pytest.mark.parametrize("where", ["zip-entry", "rename"])
def test_a_crash_while_writing_leaves_the_file_intact(
    workbook: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    before = workbook.read_bytes()
    if where == "zip-entry":
        original = zipfile.ZipFile.writestr
        calls = []

        def failing(self: zipfile.ZipFile, *args: object, **kwargs: object) -> None:
            calls.append(1)
            if len(calls) == 5:
                raise OSError("disk full")
            original(self, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    else:

        def failing_replace(*_: object) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises((OSError, KeyboardInterrupt)):
        import_figures(workbook, FIGURES, GRIDS)
    monkeypatch.undo()
    assert workbook.read_bytes() == before
    assert sorted(p.name for p in workbook.parent.iterdir()) == [workbook.name]


def test_output_elsewhere_leaves_the_source_untouched(workbook: Path, tmp_path: Path) -> None:
    before = workbook.read_bytes()
    target = tmp_path / "out" / "imported.xlsx"
    target.parent.mkdir()
    report: ImportReport = import_figures(workbook, FIGURES, output=target)
    assert report.path == target and report.written
    assert workbook.read_bytes() == before
    assert cell_values(target, "2026-02")["C5"] == 1100
    with pytest.raises(OutputExistsError, match="already exists"):
        import_figures(workbook, FIGURES, output=target)
    import_figures(workbook, {"2026-03": {"calls_received": 7}}, output=target, force=True)
    assert cell_values(target, "2026-03")["C5"] == 7
    assert cell_values(target, "2026-02")["C5"] is None  # replaced by the source + March
