"""Tampering that leaves every formula intact is still seen by the audit.

Three kinds: a defined name pointed elsewhere (the Dashboard follows it), a number
format that displays something other than the value (a fixed text, nothing at all,
a value scaled), a formula typed where the model holds a value. Each is tried on
the single example that was found and on the whole class (every name, every result
format, every input), by editing the package's XML as a hostile sender would; the
cached values are left as they were, so only the comparison with the generator's
workbook can see the change.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import openpyxl
import pytest

from roi_xl.inspect.reader import WorkbookRead, read_workbook
from roi_xl.inspect.recalc import recalculate
from roi_xl.locale import load_locale
from roi_xl.model import template
from roi_xl.workbook import WorkbookOptions, build_reference, write_workbook
from roi_xl.workbook.layout import SCENARIO_COLS, build_layout, cell

TEMPLATE = "phone-system"
START = dt.date(2026, 1, 1)
MONTHS = 3
FIXED_TEXT = '"964.7 %"'

Edit = Callable[[str], str]


# ------------------------------------------------------------------ package edits


def rewrite(source: Path, target: Path, edits: Mapping[str, Edit]) -> Path:
    """Copy an .xlsx, transforming some parts; every edit must change its part."""
    pending = dict(edits)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename in pending:
                text = data.decode("utf-8")
                changed = pending.pop(info.filename)(text)
                assert changed != text, f"the edit of {info.filename} changed nothing"
                data = changed.encode("utf-8")
            new.writestr(info, data)
    assert not pending, f"no such parts: {sorted(pending)}"
    return target


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> its part in the package (XlsxWriter numbers them in order)."""
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    return {name: f"xl/worksheets/sheet{index + 1}.xml" for index, name in enumerate(names)}


def redirect_name(name: str, target: str) -> Edit:
    def edit(xml: str) -> str:
        pattern = rf'(<definedName name="{re.escape(name)}"[^>]*>)[^<]*(</definedName>)'
        changed, count = re.subn(pattern, rf"\g<1>{html.escape(target)}\g<2>", xml)
        assert count == 1, f"no defined name {name}"
        return changed

    return edit


def delete_name(name: str) -> Edit:
    def edit(xml: str) -> str:
        changed, count = re.subn(
            rf'<definedName name="{re.escape(name)}"[^>]*>[^<]*</definedName>', "", xml
        )
        assert count == 1, f"no defined name {name}"
        return changed

    return edit


def chain(*edits: Edit) -> Edit:
    def edit(xml: str) -> str:
        for one in edits:
            xml = one(xml)
        return xml

    return edit


def cell_element(xml: str, ref: str) -> re.Match[str]:
    match = re.search(rf'<c r="{ref}"(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</c>)', xml, re.S)
    assert match, f"no cell {ref}"
    return match


def with_style(ref: str, style: int) -> Edit:
    """Give cell ``ref`` the cell format (xf) number ``style``."""

    def edit(xml: str) -> str:
        match = cell_element(xml, ref)
        attrs = re.sub(r'\ss="\d+"', "", match.group("attrs")) + f' s="{style}"'
        body = match.group("body")
        new = f'<c r="{ref}"{attrs}/>' if body is None else f'<c r="{ref}"{attrs}>{body}</c>'
        return xml[: match.start()] + new + xml[match.end() :]

    return edit


def style_of(xml: str, ref: str) -> int:
    found = re.search(r'\ss="(\d+)"', cell_element(xml, ref).group("attrs"))
    return int(found.group(1)) if found else 0


def add_format(styles: str, base: int, code: str) -> tuple[str, int]:
    """styles.xml with a copy of xf ``base`` showing ``code``; and the new xf's number."""
    ids = [int(i) for i in re.findall(r'numFmtId="(\d+)"', styles)]
    new_id = max([*ids, 163]) + 1
    numfmt = f'<numFmt numFmtId="{new_id}" formatCode="{html.escape(code)}"/>'
    if "<numFmts" in styles:
        styles = re.sub(r"</numFmts>", numfmt + "</numFmts>", styles, count=1)
    else:
        styles = styles.replace("<fonts", f"<numFmts>{numfmt}</numFmts><fonts", 1)
    block = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S)
    assert block
    xfs = re.findall(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", block.group(1), re.S)
    copy = re.sub(r'numFmtId="\d+"', f'numFmtId="{new_id}"', xfs[base], count=1)
    copy = (
        copy.replace("<xf ", '<xf applyNumberFormat="1" ', 1)
        if "applyNumberFormat" not in copy
        else copy
    )
    body = block.group(1) + copy
    styles = styles[: block.start(1)] + body + styles[block.end(1) :]
    return styles, len(xfs)


def formula_in(ref: str, formula: str, text: str = "") -> Edit:
    """Put ``formula`` into cell ``ref``, keeping the number it shows (or showing ``text``)."""

    def edit(xml: str) -> str:
        match = cell_element(xml, ref)
        body = match.group("body") or ""
        cached = re.search(r"<v>[^<]*</v>", body)
        attrs = match.group("attrs")
        if 't="s"' in attrs or not cached:  # a shared or no string: show it as a formula's text
            attrs = re.sub(r'\st="\w+"', "", attrs) + ' t="str"'
            value = f"<v>{html.escape(text)}</v>"
        else:
            value = cached.group(0)
        new = f'<c r="{ref}"{attrs}><f>{html.escape(formula)}</f>{value}</c>'
        return xml[: match.start()] + new + xml[match.end() :]

    return edit


# ------------------------------------------------------------------ fixtures and helpers


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clean")
    options = WorkbookOptions(start=START, months=MONTHS, force=True)
    return write_workbook(template.load(TEMPLATE), folder / "clean.xlsx", options)


def rules(read: WorkbookRead) -> list[tuple[str, str, str | None, str | None]]:
    return [(f.severity, f.rule, f.sheet, f.cell) for f in read.findings]


def layout():
    return build_layout(template.load(TEMPLATE), load_locale("en-US"), START, MONTHS)


def reference():
    options = WorkbookOptions(start=START, months=MONTHS)
    return build_reference(template.load(TEMPLATE), options)


def test_the_clean_workbook_has_no_findings(clean: Path) -> None:
    assert read_workbook(clean).findings == []


# ------------------------------------------------------------------ 1. defined names

ROI_ROW = layout().metric_rows["phone_roi"] + 1  # as Excel numbers rows
LIVE_ROI = f"'Calculations'!$F${ROI_ROW}"


def test_the_example_redirected_names_are_blamed(clean: Path, tmp_path: Path) -> None:
    """out_phone_roi to the optimistic column, master_check to an empty cell."""
    plan = layout()
    roi_row = plan.metric_rows["phone_roi"]
    assert f"'Calculations'!{cell(roi_row, 5, True, True)}" == LIVE_ROI
    optimistic = f"'Calculations'!{cell(roi_row, SCENARIO_COLS['optimistic'], True, True)}"
    edit = chain(
        redirect_name("out_phone_roi", optimistic), redirect_name("master_check", "'Checks'!$Z$99")
    )
    read = read_workbook(rewrite(clean, tmp_path / "names.xlsx", {"xl/workbook.xml": edit}))
    found = {f.found: f for f in read.findings if f.rule == "name_changed"}
    assert set(found) == {optimistic, "'Checks'!$Z$99"}, rules(read)
    assert all(f.severity == "error" for f in found.values())
    assert "out_phone_roi" in found[optimistic].message
    assert "master_check" in found["'Checks'!$Z$99"].message
    assert {f.rule for f in read.findings} == {"name_changed"}


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("out_phone_roi", f"'Calculations'!$F${ROI_ROW + 1}"),  # the next metric
        ("out_phone_roi", "Dashboard!$Z$1"),  # another sheet
        ("out_phone_roi", "3.183"),  # a constant
        ("in_inbound_calls", "'Inputs'!$E$9"),  # an input, to the optimistic column
        ("scenario_index", "3"),  # the selector, pinned
        ("master_check", "0"),  # the master check, pinned
        ("out_phone_roi", f"'Calculations'!F{ROI_ROW}"),  # relative: moves with each using cell
    ],
)
def test_a_redirected_name_is_an_error(clean: Path, tmp_path: Path, name: str, target: str) -> None:
    edit = redirect_name(name, target)
    read = read_workbook(rewrite(clean, tmp_path / "name.xlsx", {"xl/workbook.xml": edit}))
    assert [(f.severity, f.rule, f.found) for f in read.findings] == [
        ("error", "name_changed", target)
    ], rules(read)
    assert f"'{name}'" in read.findings[0].message


def test_every_name_of_the_model_is_compared(clean: Path, tmp_path: Path) -> None:
    """The class: each name moved one row down, a share of the names per file (a finding each,
    fewer per file than the audit lists per rule before it summarises)."""
    names = sorted(reference().names.items())
    assert len(names) > 40

    def down(target: str) -> str:
        return re.sub(r"\$(\d+)$", lambda m: f"${int(m.group(1)) + 1}", target)

    blamed: set[str] = set()
    shares = -(-len(names) // 20)
    for half in (names[i::shares] for i in range(shares)):
        edit = chain(*(redirect_name(n, down(t)) for n, t in half))
        read = read_workbook(rewrite(clean, tmp_path / "half.xlsx", {"xl/workbook.xml": edit}))
        assert {f.rule for f in read.findings} == {"name_changed"}
        assert len(read.findings) == len(half)
        blamed |= {f.message.split("'")[1] for f in read.findings}
    assert blamed == {name for name, _ in names}


def test_a_deleted_or_added_name_is_reported(clean: Path, tmp_path: Path) -> None:
    def add(xml: str) -> str:
        return xml.replace(
            "</definedNames>",
            "<definedName name=\"roi_shown\">'Calculations'!$G$29</definedName></definedNames>",
        )

    edit = chain(delete_name("out_phone_roi"), add)
    read = read_workbook(rewrite(clean, tmp_path / "deleted.xlsx", {"xl/workbook.xml": edit}))
    assert sorted((f.severity, f.rule) for f in read.findings) == [
        ("error", "name_changed"),
        ("warning", "name_added"),
    ], rules(read)


def test_a_redirected_name_is_blamed_after_recalculation(
    soffice: str, clean: Path, tmp_path: Path
) -> None:
    """Recalculated, the Dashboard shows the optimistic ROI; the name is blamed, not the file."""
    plan = layout()
    optimistic = f"'Calculations'!{cell(plan.metric_rows['phone_roi'], SCENARIO_COLS['optimistic'], True, True)}"
    edit = redirect_name("out_phone_roi", optimistic)
    tampered = rewrite(clean, tmp_path / "names.xlsx", {"xl/workbook.xml": edit})
    [recalculated] = recalculate([tampered], tmp_path / "out")
    before = _dashboard_numbers(clean)
    after = _dashboard_numbers(recalculated)
    assert before != after, "the redirected name changes nothing the Dashboard shows"
    read = read_workbook(recalculated)
    assert {f.rule for f in read.findings} == {"name_changed"}, rules(read)


def _dashboard_numbers(path: Path) -> dict[str, object]:
    sheet = openpyxl.load_workbook(path, data_only=True)["Dashboard"]
    return {
        c.coordinate: c.value
        for row in sheet.iter_rows()
        for c in row
        if isinstance(c.value, float)
    }


# ------------------------------------------------------------------ 2. number formats


def _headline_ref(path: Path) -> str:
    sheet = openpyxl.load_workbook(path)["Dashboard"]
    return next(
        c.coordinate for row in sheet.iter_rows() for c in row if c.value == "=out_phone_roi"
    )


@pytest.mark.parametrize(
    "code",
    [FIXED_TEXT, ";;;", '0.0"%"', '"318.3 %";"318.3 %";"318.3 %"', '0.0%;0.0%;"0 %"', "0%"],
)
def test_a_result_format_that_misleads_is_an_error(clean: Path, tmp_path: Path, code: str) -> None:
    ref = _headline_ref(clean)
    part = sheet_parts(clean)["Dashboard"]
    with zipfile.ZipFile(clean) as archive:
        base = style_of(archive.read(part).decode(), ref)
        styles, style = add_format(archive.read("xl/styles.xml").decode(), base, code)
    edits = {"xl/styles.xml": lambda _: styles, part: with_style(ref, style)}
    read = read_workbook(rewrite(clean, tmp_path / "format.xlsx", edits))
    assert rules(read) == [("error", "number_format_changed", "Dashboard", ref)]
    assert read.findings[0].found == code


def test_every_result_format_is_compared(clean: Path, tmp_path: Path) -> None:
    """The class: the percent and currency formats themselves rewritten to fixed texts."""

    def fixed(styles: str) -> str:
        styles = styles.replace('formatCode="0.0%"', f'formatCode="{html.escape(FIXED_TEXT)}"')
        return styles.replace('formatCode="#,##0.00"', 'formatCode="&quot;1,000.00&quot;"')

    read = read_workbook(rewrite(clean, tmp_path / "formats.xlsx", {"xl/styles.xml": fixed}))
    assert read.findings and {f.rule for f in read.findings} == {"number_format_changed"}
    counted = {f.sheet for f in read.findings}
    assert {"Inputs", "Calculations", "Dashboard"} <= counted


# ------------------------------------------------------------------ 3. formulas in value cells


def test_the_example_formula_typed_into_an_input(clean: Path, tmp_path: Path) -> None:
    plan = layout()
    ref = cell(plan.input_rows["inbound_calls"], SCENARIO_COLS["realistic"])
    optimistic = cell(plan.input_rows["inbound_calls"], SCENARIO_COLS["optimistic"])
    part = sheet_parts(clean)["Inputs"]
    read = read_workbook(
        rewrite(clean, tmp_path / "input.xlsx", {part: formula_in(ref, optimistic)})
    )
    assert rules(read) == [("error", "formula_in_input", "Inputs", ref)]


def test_every_input_is_checked_for_a_formula(clean: Path, tmp_path: Path) -> None:
    """The class: every input of the realistic column made a formula giving the same number."""
    plan = layout()
    refs = [cell(row, SCENARIO_COLS["realistic"]) for row in plan.input_rows.values()]
    with zipfile.ZipFile(clean) as archive:
        xml = archive.read(sheet_parts(clean)["Inputs"]).decode()
    edits = []
    for ref in refs:
        cached = re.search(r"<v>([^<]*)</v>", cell_element(xml, ref).group("body"))
        assert cached
        edits.append(formula_in(ref, f"{cached.group(1)}*1"))
    part = sheet_parts(clean)["Inputs"]
    read = read_workbook(rewrite(clean, tmp_path / "inputs.xlsx", {part: chain(*edits)}))
    assert len(refs) <= 25  # one finding each, none summarised
    assert sorted(rules(read)) == sorted(("error", "formula_in_input", "Inputs", r) for r in refs)


def test_a_formula_in_the_selector_or_a_label_is_an_error(clean: Path, tmp_path: Path) -> None:
    plan = layout()
    part = sheet_parts(clean)["Inputs"]
    selector = plan.selector_cell.replace("$", "")
    label = cell(plan.input_rows["inbound_calls"], 0)
    edit = chain(
        formula_in(selector, '"Realistic"', "Realistic"), formula_in(label, '"Calls"', "Calls")
    )
    read = read_workbook(rewrite(clean, tmp_path / "selector.xlsx", {part: edit}))
    assert sorted(rules(read)) == sorted(
        [("error", "formula_in_input", "Inputs", r) for r in (selector, label)]
    )


def test_a_sheet_level_name_hiding_a_model_name_is_an_error(clean: Path, tmp_path: Path) -> None:
    """On the Dashboard, a sheet-level out_phone_roi would win over the workbook's own."""
    index = list(sheet_parts(clean)).index("Dashboard")

    def add(xml: str) -> str:
        local = (
            f'<definedName name="out_phone_roi" localSheetId="{index}">'
            "'Calculations'!$G$29</definedName>"
        )
        return xml.replace("</definedNames>", local + "</definedNames>")

    read = read_workbook(rewrite(clean, tmp_path / "local.xlsx", {"xl/workbook.xml": add}))
    assert rules(read) == [("error", "name_changed", "Dashboard", None)]
    assert "out_phone_roi" in read.findings[0].message


def test_a_formula_in_an_empty_monthly_figure_is_an_error(clean: Path, tmp_path: Path) -> None:
    """A month's actual left blank by the generator is an input too."""
    plan = layout()
    month = plan.month_sheets[0]
    key, row = next(iter(plan.monthly.field_rows.items()))
    ref = cell(row, 2)
    part = sheet_parts(clean)[month]
    with zipfile.ZipFile(clean) as archive:
        assert "<v>" not in (cell_element(archive.read(part).decode(), ref).group("body") or "")
    edit = formula_in(ref, f"'{plan.inputs}'!$D$9/12")
    read = read_workbook(rewrite(clean, tmp_path / "month.xlsx", {part: edit}))
    assert ("error", "formula_in_input", month, ref) in rules(read), (key, rules(read))
    assert [
        f for f in read.findings if f.severity == "error" and f.rule != "formula_in_input"
    ] == []
