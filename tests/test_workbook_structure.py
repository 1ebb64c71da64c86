"""The generated workbooks obey the workbook rules, for every template and locale.

Each workbook is read back with openpyxl (formulas, styles, protection, data
validations, defined names) and, where openpyxl drops information (custom
document properties, charts, package parts), straight from the xlsx XML.

Rules checked: sheet order and visibility, no external links, macros or
volatile functions; one formula per row (identical R1C1 form across the
scenario, month and plan columns); no hard-coded numbers beyond a small
allowed set; validated, unlocked inputs and locked formulas on protected
sheets; defined names; document properties; English formula syntax whatever
the locale; locale number and date formats; native charts; atomic writes.

Every failure message names the sheet, the cell and what was found there.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import defusedxml.ElementTree as DET
import openpyxl
import pytest
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.formula import Tokenizer
from openpyxl.formula.tokenizer import Token
from openpyxl.formula.translate import Translator
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import hash_password
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.worksheet.worksheet import Worksheet

import roi_xl
from roi_xl.decide.sensitivity import MOVES, STEPS
from roi_xl.locale import LOCALES, Locale, load_locale
from roi_xl.model import template as templates
from roi_xl.model.template import SCENARIOS, Template
from roi_xl.workbook import OutputExistsError, WorkbookOptions, write_workbook
from roi_xl.workbook.layout import (
    INPUT_KEY_COL,
    LIVE_COL,
    MAX_COL,
    METRIC_KEY_COL,
    MIN_COL,
    MONTH_ACTUAL_COL,
    MONTH_KEY_COL,
    MONTH_PLAN_COL,
    SCENARIO_COLS,
    SELECTOR_INDEX_ROW,
    SELECTOR_ROW,
    VALUE_COL,
    Layout,
    build_layout,
)
from roi_xl.workbook.sensitivity_layout import FIRST_MOVE, FIRST_RESULT, sensitivity_layout
from roi_xl.workbook.timeline_layout import SUMMARY_LIVE_COL

START = dt.date(2026, 1, 1)
MONTHS = 12
CREATED = dt.date(2026, 1, 15)
TEMPLATES = templates.builtin_names()
CASES = [(name, code) for name in TEMPLATES for code in LOCALES]

VOLATILE = {"OFFSET", "INDIRECT", "NOW", "TODAY", "RAND", "RANDBETWEEN", "CELL", "INFO"}
ALLOWED_NUMBERS = {0.0, 1.0, 2.0, 3.0, 12.0, 100.0}
YEAR_INDEX_NUMBERS = {2.0, 3.0}  # only as the year of the CRM discount factors
DISCOUNT_FACTOR_KEY = re.compile(r"^discount_factor_y(\d+)$")

# Calculations and Inputs: prudent, realistic, optimistic, live (C, D, E, F).
MODEL_COLS = [*SCENARIO_COLS.values(), LIVE_COL]
DASHBOARD_SCENARIO_COLS = list(SCENARIO_COLS.values())


# ------------------------------------------------------------------ helpers


def letter(col: int) -> str:
    """Column letter of a zero-based column index."""
    return get_column_letter(col + 1)


def coord(row: int, col: int) -> str:
    """A1 address of a zero-based cell."""
    return f"{letter(col)}{row + 1}"


def formula_text(cell: XlCell) -> str | None:
    """The cell's formula (with its leading '='), or None for a value or a blank."""
    value = cell.value
    if isinstance(value, ArrayFormula):
        return value.text
    if isinstance(value, DataTableFormula):
        return "=TABLE()"
    if isinstance(value, str) and value.startswith("="):
        return value
    return None


def formula_cells(ws: Worksheet) -> Iterator[tuple[XlCell, str]]:
    for row in ws.iter_rows():
        for cell in row:
            text = formula_text(cell)
            if text is not None:
                yield cell, text


def tokens(formula: str) -> list[Token]:
    return Tokenizer(formula).items


def function_names(formula: str) -> list[str]:
    """Names of the functions a formula calls, upper case, without Excel's _xlfn. prefixes."""
    names = []
    for token in tokens(formula):
        if token.type == Token.FUNC and token.subtype == Token.OPEN:
            name = token.value[:-1].upper()
            for prefix in ("_XLFN._XLWS.", "_XLFN.", "_XLWS."):
                name = name.removeprefix(prefix)
            names.append(name)
    return names


# IRR's second argument is where its solver starts, not a figure of the model.
_IRR_GUESS = re.compile(r"IRR\(([^,()]+),-?[0-9.]+\)")


def number_literals(formula: str) -> list[float]:
    return [
        float(token.value)
        for token in tokens(_IRR_GUESS.sub(r"IRR(\1)", formula))
        if token.type == Token.OPERAND and token.subtype == Token.NUMBER
    ]


# A1 references and their R1C1 form

_CELL = re.compile(r"^(\$?)([A-Za-z]{1,3})(\$?)(\d+)$")
_COLUMN = re.compile(r"^(\$?)([A-Za-z]{1,3})$")
_ROW = re.compile(r"^(\$?)(\d+)$")


def split_sheet(reference: str) -> tuple[str | None, str]:
    """('Inputs', 'C$8') from "'Inputs'!C$8"; (None, 'C8') from 'C8'."""
    if "!" not in reference:
        return None, reference
    sheet, _, address = reference.rpartition("!")
    if len(sheet) >= 2 and sheet[0] == "'" and sheet[-1] == "'":
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, address


def quote_sheet(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _column_index(letters: str) -> int:
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - ord("A") + 1
    return index


def _r1c1_part(kind: str, absolute: bool, target: int, origin: int) -> str:
    return f"{kind}{target}" if absolute else f"{kind}[{target - origin}]"


def address_to_r1c1(address: str, row: int, col: int) -> str | None:
    """R1C1 form of an A1 address or range seen from the one-based cell (row, col).

    Handles $-anchors, ranges, whole columns and whole rows; returns None when
    ``address`` is not a cell address (a defined name, say).
    """
    parts = []
    for part in address.split(":"):
        if match := _CELL.match(part):
            col_abs, letters, row_abs, digits = match.groups()
            parts.append(
                _r1c1_part("R", bool(row_abs), int(digits), row)
                + _r1c1_part("C", bool(col_abs), _column_index(letters), col)
            )
        elif ":" in address and (match := _COLUMN.match(part)):
            parts.append(_r1c1_part("C", bool(match.group(1)), _column_index(match.group(2)), col))
        elif ":" in address and (match := _ROW.match(part)):
            parts.append(_r1c1_part("R", bool(match.group(1)), int(match.group(2)), row))
        else:
            return None
    return ":".join(parts)


def rewrite_references(formula: str, rewrite: Callable[[str | None, str], str]) -> str:
    """The formula with every range operand replaced by ``rewrite(sheet, address)``."""
    out = []
    for token in tokens(formula):
        if token.type == Token.OPERAND and token.subtype == Token.RANGE:
            sheet, address = split_sheet(token.value)
            out.append(rewrite(sheet, address))
        else:
            out.append(token.value)
    return "=" + "".join(out)


def to_r1c1(formula: str, cell: str, sheet_alias: Callable[[str], str] | None = None) -> str:
    """The formula in R1C1 form relative to ``cell`` (an A1 address such as 'D9').

    ``sheet_alias`` renames sheets first (to compare formulas that point at a
    different monthly tab in each column, for instance).
    """
    match = _CELL.match(cell)
    assert match, cell
    row, col = int(match.group(4)), _column_index(match.group(2))

    def rewrite(sheet: str | None, address: str) -> str:
        converted = address_to_r1c1(address, row, col)
        text = address if converted is None else converted
        if sheet is None:
            return text
        if sheet_alias is not None:
            sheet = sheet_alias(sheet)
        return f"{quote_sheet(sheet)}!{text}"

    return rewrite_references(formula, rewrite)


def referenced_sheets(formula: str) -> set[str]:
    sheets = set()
    for token in tokens(formula):
        if token.type == Token.OPERAND and token.subtype == Token.RANGE:
            sheet, _ = split_sheet(token.value)
            if sheet is not None:
                sheets.add(sheet)
    return sheets


def strip_format_literals(number_format: str) -> str:
    """A number format without its [..] sections (locale, colour) and quoted text."""
    return re.sub(r'\[[^\]]*\]|"[^"]*"|\\.', "", number_format)


def check_row_formulas(
    ws: Worksheet,
    row: int,
    cols: list[int],
    what: str,
    sheet_alias: Callable[[str], str] | None = None,
    translate: bool = True,
) -> list[str]:
    """Problems with one row whose formulas must be the same in R1C1 form in ``cols``.

    One message per row: the first cell that differs, shown in A1 and R1C1
    form against the row's first cell, and the list of every cell that differs.
    """
    first = coord(row, cols[0])
    first_formula = formula_text(ws[first])
    if first_formula is None:
        return [f"{ws.title}!{first}: {what}: expected a formula, found {ws[first].value!r}"]
    reference = to_r1c1(first_formula, first, sheet_alias)
    details: list[str] = []
    differing: list[str] = []
    for col in cols[1:]:
        address = coord(row, col)
        formula = formula_text(ws[address])
        if formula is None:
            differing.append(address)
            details.append(f"{address} holds {ws[address].value!r}, not a formula")
            continue
        r1c1 = to_r1c1(formula, address, sheet_alias)
        if r1c1 != reference:
            differing.append(address)
            details.append(f"{address} {formula}  [R1C1 {r1c1}]")
        elif translate:
            moved = Translator(first_formula, origin=first).translate_formula(address)
            if moved != formula:
                differing.append(address)
                details.append(f"{address} {formula}, but {first} copied there gives {moved}")
    if not differing:
        return []
    return [
        f"{ws.title}!{first}:{coord(row, cols[-1])} ({what}): {len(differing)} of "
        f"{len(cols) - 1} cells differ from {first} {first_formula}  [R1C1 {reference}]; "
        f"first: {details[0]}; differing: {', '.join(differing)}"
    ]


def report(problems: list[str], limit: int = 40) -> str:
    shown = problems[:limit]
    more = f"\n... and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)} problem(s):\n" + "\n".join(shown) + more


# ------------------------------------------------------------------ generated workbooks


@dataclass
class Generated:
    """One generated workbook, read back once."""

    name: str
    model: Template
    locale: Locale
    layout: Layout
    path: Path
    wb: openpyxl.Workbook

    @property
    def code(self) -> str:
        return self.locale.code

    def sheet(self, role: str) -> Worksheet:
        return self.wb[self.locale.sheets[role]]

    def month_sheets(self) -> list[Worksheet]:
        return [self.wb[name] for name in self.layout.month_sheets]

    def part(self, name: str) -> bytes:
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(name)

    def part_names(self) -> list[str]:
        with zipfile.ZipFile(self.path) as archive:
            return archive.namelist()

    def key_rows(self, ws: Worksheet, key_col: int, keys: set[str]) -> dict[str, int]:
        """Zero-based rows of ``ws`` whose key column holds one of ``keys``."""
        rows = {}
        for cells in ws.iter_rows(min_col=key_col + 1, max_col=key_col + 1):
            cell = cells[0]
            if isinstance(cell.value, str) and cell.value in keys:
                rows[cell.value] = cell.row - 1
        return rows


def _generate(directory: Path, name: str, code: str, **options) -> Path:
    path = directory / f"{name}-{code}.xlsx"
    write_workbook(
        templates.load(name),
        path,
        WorkbookOptions(
            locale=code, start=START, months=MONTHS, created=CREATED, force=True, **options
        ),
    )
    return path


@pytest.fixture(scope="session")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Generated]:
    """Generate (once) and read back the workbook of a template in a locale."""
    directory = tmp_path_factory.mktemp("workbooks")
    cache: dict[tuple[str, str], Generated] = {}

    def get(name: str, code: str) -> Generated:
        if (name, code) not in cache:
            path = _generate(directory, name, code)
            model = templates.load(name)
            locale = load_locale(code)
            cache[name, code] = Generated(
                name=name,
                model=model,
                locale=locale,
                layout=build_layout(model, locale, START, MONTHS),
                path=path,
                wb=openpyxl.load_workbook(path),
            )
        return cache[name, code]

    return get


@pytest.fixture(params=CASES, ids=[f"{name}-{code}" for name, code in CASES])
def gen(request: pytest.FixtureRequest, workbooks: Callable[[str, str], Generated]) -> Generated:
    name, code = request.param
    return workbooks(name, code)


# ------------------------------------------------------------------ converter self-checks


def test_r1c1_converter() -> None:
    assert address_to_r1c1("C$8", 9, 3) == "R8C[0]"
    assert address_to_r1c1("$F$9", 6, 16) == "R9C6"
    assert address_to_r1c1("C9:E9", 9, 6) == "R[0]C[-3]:R[0]C[-1]"
    assert address_to_r1c1("A:A", 3, 2) == "C[-1]:C[-1]"
    assert address_to_r1c1("master_check", 1, 1) is None
    assert to_r1c1("='Inputs'!C$8*C$9", "C10") == "='Inputs'!R8C[0]*R9C[0]"
    assert to_r1c1("='Inputs'!D$8*D$9", "D10") == to_r1c1("='Inputs'!C$8*C$9", "C10")
    assert to_r1c1("='It''s'!B2", "C3") == "='It''s'!R[-1]C[-1]"
    assert to_r1c1("=out_roi+1", "C3") == "=out_roi+1"
    assert to_r1c1("='2026-01'!C5", "C6", lambda s: "<month>") == "='<month>'!R[-1]C[0]"


# ------------------------------------------------------------------ package and sheets


def test_sheet_order_and_visibility(gen: Generated) -> None:
    sheets = gen.locale.sheets
    months = [f"{d.year:04d}-{d.month:02d}" for d in gen.layout.months]
    expected = [
        sheets["cover"],
        sheets["inputs"],
        *months,
        sheets["actuals"],
        sheets["calculations"],
        *([sheets["timeline"]] if gen.model.timeline else []),
        sheets["dashboard"],
        sheets["sensitivity"],
        *([sheets["channels"]] if gen.model.channels else []),
        sheets["checks"],
    ]
    assert gen.wb.sheetnames == expected, (
        f"sheet order: found {gen.wb.sheetnames}, expected {expected}"
    )
    dates = [dt.date(int(n[:4]), int(n[5:]), 1) for n in months]
    assert dates == sorted(dates) and len(set(dates)) == MONTHS, f"monthly tabs: {months}"
    hidden = [(ws.title, ws.sheet_state) for ws in gen.wb.worksheets if ws.sheet_state != "visible"]
    assert not hidden, f"hidden sheets (sheet, state): {hidden}"
    workbook_xml = gen.part("xl/workbook.xml").decode("utf-8")
    states = re.findall(r'<sheet [^>]*name="([^"]*)"[^>]*state="([^"]*)"', workbook_xml)
    assert not states, f"xl/workbook.xml: sheets with a state attribute: {states}"


def test_monthly_tabs_cross_the_year_in_date_order(tmp_path: Path) -> None:
    path = tmp_path / "late.xlsx"
    options = WorkbookOptions(start=dt.date(2025, 11, 1), months=4, created=CREATED)
    write_workbook(templates.load(TEMPLATES[0]), path, options)
    names = openpyxl.load_workbook(path).sheetnames
    assert names[2:6] == ["2025-11", "2025-12", "2026-01", "2026-02"], (
        f"monthly tabs from 2025-11 for 4 months: found {names[2:6]}"
    )
    assert names[6] == "Actuals", f"sheet after the monthly tabs: found {names[6]!r}"


def test_no_external_links_no_macros(gen: Generated) -> None:
    parts = gen.part_names()
    external = [p for p in parts if p.startswith("xl/externalLinks/")]
    assert not external, f"{gen.path.name}: external link parts {external}"
    macros = [p for p in parts if p.lower().endswith("vbaproject.bin")]
    assert not macros, f"{gen.path.name}: macro parts {macros}"
    types = gen.part("[Content_Types].xml").decode("utf-8")
    assert "macroEnabled" not in types, f"{gen.path.name}: [Content_Types].xml is macro-enabled"
    assert "externalLink" not in types, f"{gen.path.name}: [Content_Types].xml has external links"
    assert not gen.wb._external_links, f"{gen.path.name}: openpyxl found external links"
    for ws in gen.wb.worksheets:
        for cell, formula in formula_cells(ws):
            assert not re.search(r"\[\d+\]|\.xls[xmb]?\b", formula, re.IGNORECASE), (
                f"{ws.title}!{cell.coordinate}: formula refers to another file: {formula}"
            )


def test_no_volatile_functions(gen: Generated) -> None:
    problems = []
    for ws in gen.wb.worksheets:
        for cell, formula in formula_cells(ws):
            used = VOLATILE.intersection(function_names(formula))
            if used:
                problems.append(f"{ws.title}!{cell.coordinate}: {sorted(used)} in {formula}")
        for rules in ws.conditional_formatting:
            for rule in rules.rules:
                for formula in rule.formula or []:
                    used = VOLATILE.intersection(function_names("=" + formula))
                    if used:
                        problems.append(f"{ws.title}!{rules.sqref} conditional format: {formula}")
    for name, defined in gen.wb.defined_names.items():
        used = VOLATILE.intersection(function_names("=" + defined.attr_text))
        if used:
            problems.append(f"defined name {name}: {defined.attr_text}")
    # openpyxl reads <f> elements; the raw XML is checked too in case a formula hides elsewhere.
    pattern = re.compile(r"\b(" + "|".join(sorted(VOLATILE)) + r")\s*\(", re.IGNORECASE)
    for part in gen.part_names():
        if part.startswith("xl/worksheets/sheet") and part.endswith(".xml"):
            for formula in re.findall(r"<f[^>]*>([^<]*)</f>", gen.part(part).decode("utf-8")):
                if pattern.search(formula):
                    problems.append(f"{part}: <f>{formula}</f>")
    assert not problems, report(problems)


# ------------------------------------------------------------------ one formula per row


def test_calculations_one_formula_per_row(gen: Generated) -> None:
    ws = gen.sheet("calculations")
    rows = gen.key_rows(ws, METRIC_KEY_COL, set(gen.model.metric_keys))
    missing = set(gen.model.metric_keys) - set(rows)
    assert not missing, (
        f"{ws.title}: no row has these metric keys in {letter(METRIC_KEY_COL)}: {sorted(missing)}"
    )
    problems = []
    for key, row in rows.items():
        problems += check_row_formulas(ws, row, MODEL_COLS, f"metric {key}")
    assert not problems, report(problems)


def test_timeline_one_formula_per_row_across_the_months(gen: Generated) -> None:
    """FAST: every timeline row of every scenario has one formula, the same in R1C1 form in
    all month columns (and yearly columns); discounting uses explicit factor rows, no NPV()."""
    timeline, tl = gen.model.timeline, gen.layout.timeline
    assert timeline is not None
    ws = gen.sheet("timeline")
    months = [tl.month_col(p) for p in range(1, tl.months + 1)]
    years = [tl.first_year_col + y for y in range(tl.years)]
    problems = []
    for row in (tl.period_row, tl.date_row, tl.year_row):
        problems += check_row_formulas(ws, row, months, "month header")
    for scenario, rows in tl.rows.items():
        for item in timeline.rows:
            row = rows[item.key]
            assert ws.cell(row + 1, 3).value == item.key, (scenario, item.key)
            problems += check_row_formulas(ws, row, months, f"{scenario} {item.key}")
            if item.is_flow:
                problems += check_row_formulas(ws, row, years, f"{scenario} {item.key} yearly")
    assert not problems, report(problems)
    used = {name for _, formula in formula_cells(ws) for name in function_names(formula)}
    assert "NPV" not in used and "IRR" in used
    factor_rows = [r.key for r in timeline.rows if r.key == "discount_factor"]
    assert factor_rows, "no explicit discount-factor row"


def test_sensitivity_one_formula_per_row(gen: Generated) -> None:
    """Across a row, the flexed values share one formula, and so do the ROIs they give."""
    ws = gen.sheet("sensitivity")
    plan = sensitivity_layout(gen.model)
    steps = list(range(FIRST_MOVE, FIRST_MOVE + len(STEPS)))
    results = list(range(FIRST_RESULT, FIRST_RESULT + len(MOVES)))
    problems = []
    for key, row in plan.move_rows.items():
        problems += check_row_formulas(ws, row, steps, f"moved values of {key}")
        problems += check_row_formulas(ws, row, results, f"ROI with {key} moved")
    assert plan.move_rows and not problems, report(problems)


def test_inputs_live_column_one_formula(gen: Generated) -> None:
    """The Live column is the same INDEX formula on every input row."""
    ws = gen.sheet("inputs")
    rows = gen.key_rows(ws, INPUT_KEY_COL, set(gen.model.input_keys))
    forms: dict[str, list[str]] = {}
    for key, row in rows.items():
        address = coord(row, LIVE_COL)
        formula = formula_text(ws[address])
        assert formula is not None, (
            f"{ws.title}!{address}: input {key}: no Live formula, found {ws[address].value!r}"
        )
        forms.setdefault(to_r1c1(formula, address), []).append(f"{address} {formula}")
    assert len(forms) == 1, f"{ws.title}: Live column has {len(forms)} R1C1 forms: {forms}"
    (only,) = forms
    assert "INDEX(" in only and "IF(" not in only, f"{ws.title}: Live column formula {only}"


def _actuals_rows(gen: Generated) -> tuple[Worksheet, list[int], dict[str, int]]:
    """The Actuals sheet, its month columns and the rows of its keys (fields, KPIs...)."""
    ws = gen.sheet("actuals")
    a = gen.layout.actuals
    keys = {f.key for f in gen.model.monthly.fields} | {k.key for k in gen.model.monthly.kpis}
    keys.add("months_counted")
    rows = gen.key_rows(ws, a.key_col, keys)
    missing = keys - set(rows)
    assert not missing, (
        f"{ws.title}: no row has these keys in {letter(a.key_col)}: {sorted(missing)}"
    )
    return ws, [a.first_month_col + i for i in range(MONTHS)], rows


def test_actuals_field_rows_one_formula_per_row(gen: Generated) -> None:
    """Each field row links column i to monthly tab i, with one R1C1 form once the tab is named."""
    ws, month_cols, rows = _actuals_rows(gen)
    month_names = set(gen.layout.month_sheets)

    def month_alias(sheet: str) -> str:
        return "<month>" if sheet in month_names else sheet

    problems = []
    for item in gen.model.monthly.fields:
        row = rows[item.key]
        for i, col in enumerate(month_cols):
            address = coord(row, col)
            formula = formula_text(ws[address]) or ""
            found = referenced_sheets(formula)
            if found != {gen.layout.month_sheets[i]}:
                problems.append(
                    f"{ws.title}!{address}: field {item.key}: links to {sorted(found)}, "
                    f"expected the tab {gen.layout.month_sheets[i]!r}: {formula}"
                )
        problems += check_row_formulas(
            ws, row, month_cols, f"field {item.key}", sheet_alias=month_alias, translate=False
        )
    assert not problems, report(problems)


def test_actuals_kpi_rows_one_formula_per_row(gen: Generated) -> None:
    """KPI rows: one formula across months, year to date, plan and plan to date."""
    ws, month_cols, rows = _actuals_rows(gen)
    a = gen.layout.actuals
    month_names = set(gen.layout.month_sheets)
    problems = check_row_formulas(
        ws,
        rows["months_counted"],
        month_cols,
        "months counted",
        sheet_alias=lambda sheet: "<month>" if sheet in month_names else sheet,
        translate=False,
    )
    kpi_cols = [*month_cols, a.ytd_col, a.plan_col, a.plan_ytd_col]
    for kpi in gen.model.monthly.kpis:
        problems += check_row_formulas(ws, rows[kpi.key], kpi_cols, f"KPI {kpi.key}")
    assert not problems, report(problems)


def test_dashboard_scenario_table_one_formula_per_row(gen: Generated) -> None:
    ws = gen.sheet("dashboard")
    calculations = gen.locale.sheets["calculations"]
    metric_rows = gen.key_rows(
        gen.sheet("calculations"), METRIC_KEY_COL, set(gen.model.metric_keys)
    )
    rows = [
        cells[0].row - 1
        for cells in ws.iter_rows()
        if len(cells) > max(DASHBOARD_SCENARIO_COLS)
        and all(formula_text(cells[c]) for c in DASHBOARD_SCENARIO_COLS)
    ]
    headline = list(gen.model.headline)
    assert len(rows) == len(headline), (
        f"{ws.title}: {len(rows)} rows with formulas in "
        f"{letter(DASHBOARD_SCENARIO_COLS[0])}..{letter(DASHBOARD_SCENARIO_COLS[-1])} "
        f"(rows {[r + 1 for r in rows]}), expected one per headline metric {headline}"
    )
    problems = []
    for row, key in zip(rows, headline, strict=True):
        problems += check_row_formulas(ws, row, DASHBOARD_SCENARIO_COLS, f"scenario row {key}")
        first = coord(row, DASHBOARD_SCENARIO_COLS[0])
        formula = formula_text(ws[first]) or ""
        expected = f"={quote_sheet(calculations)}!R{metric_rows[key] + 1}C[0]"
        if to_r1c1(formula, first) != expected:
            problems.append(
                f"{ws.title}!{first}: scenario row {key}: found {formula}, expected the "
                f"metric's row on {calculations} ({expected} in R1C1)"
            )
    assert not problems, report(problems)


def test_monthly_tabs_share_formulas(gen: Generated) -> None:
    """Every monthly tab has the first tab's formulas; KPIs are one formula in actual and plan."""
    tabs = gen.month_sheets()
    first = {cell.coordinate: formula for cell, formula in formula_cells(tabs[0])}
    problems = []
    for ws in tabs[1:]:
        found = {cell.coordinate: formula for cell, formula in formula_cells(ws)}
        for address in sorted(set(first) | set(found)):
            if first.get(address) != found.get(address):
                problems.append(
                    f"{ws.title}!{address}: formula {found.get(address)!r} differs from "
                    f"{tabs[0].title}!{address} {first.get(address)!r}"
                )
    kpi_rows = gen.key_rows(tabs[0], MONTH_KEY_COL, {k.key for k in gen.model.monthly.kpis})
    for key, row in kpi_rows.items():
        problems += check_row_formulas(
            tabs[0], row, [MONTH_ACTUAL_COL, MONTH_PLAN_COL], f"KPI {key}"
        )
    assert not problems, report(problems)


# ------------------------------------------------------------------ hard-coded numbers


def test_no_hard_coded_numbers(gen: Generated) -> None:
    calculations = gen.locale.sheets["calculations"]
    calc_keys = {
        row: key
        for key, row in gen.key_rows(
            gen.sheet("calculations"), METRIC_KEY_COL, set(gen.model.metric_keys)
        ).items()
    }
    problems = []
    for ws in gen.wb.worksheets:
        for cell, formula in formula_cells(ws):
            for number in number_literals(formula):
                where = f"{ws.title}!{cell.coordinate}"
                if number not in ALLOWED_NUMBERS:
                    problems.append(f"{where}: hard-coded {number:g} in {formula}")
                elif number in YEAR_INDEX_NUMBERS:
                    key = calc_keys.get(cell.row - 1, "") if ws.title == calculations else ""
                    year = DISCOUNT_FACTOR_KEY.match(key)
                    if not (gen.name == "crm" and year and float(year.group(1)) == number):
                        problems.append(
                            f"{where}: {number:g} is allowed only as the year of a CRM "
                            f"discount factor; found in {formula}"
                        )
    assert not problems, report(problems)


# ------------------------------------------------------------------ inputs, protection


def _validations(ws: Worksheet) -> Callable[[str], list]:
    def covering(address: str) -> list:
        return [dv for dv in ws.data_validations.dataValidation if address in dv.sqref]

    return covering


def test_inputs_validated_and_unlocked(gen: Generated) -> None:
    ws = gen.sheet("inputs")
    covering = _validations(ws)
    rows = gen.key_rows(ws, INPUT_KEY_COL, set(gen.model.input_keys))
    missing = set(gen.model.input_keys) - set(rows)
    assert not missing, (
        f"{ws.title}: no row has these input keys in {letter(INPUT_KEY_COL)}: {sorted(missing)}"
    )
    problems = []
    for item in gen.model.inputs:
        row = rows[item.key]
        low = ws[coord(row, MIN_COL)].value
        high = ws[coord(row, MAX_COL)].value
        for scenario in SCENARIOS:
            address = coord(row, SCENARIO_COLS[scenario])
            where = f"{ws.title}!{address} ({item.key}, {scenario})"
            cell = ws[address]
            if not isinstance(cell.value, int | float):
                problems.append(f"{where}: expected a typed number, found {cell.value!r}")
            if cell.protection.locked is not False:
                problems.append(f"{where}: input cell is locked")
            found = covering(address)
            if len(found) != 1:
                problems.append(f"{where}: {len(found)} data validations cover it, expected 1")
                continue
            dv = found[0]
            expected_type = "whole" if item.integer else "decimal"
            if dv.type != expected_type:
                problems.append(f"{where}: validation type {dv.type!r}, expected {expected_type!r}")
            if dv.operator not in (None, "between"):
                problems.append(f"{where}: validation operator {dv.operator!r}, expected between")
            try:
                bounds = (float(dv.formula1), float(dv.formula2))
            except (TypeError, ValueError):
                bounds = (dv.formula1, dv.formula2)
            if bounds != (low, high):
                problems.append(
                    f"{where}: validation between {bounds}, expected the Min/Max columns "
                    f"{letter(MIN_COL)}/{letter(MAX_COL)} ({low}, {high})"
                )
            if not (dv.showInputMessage and dv.prompt and dv.promptTitle):
                problems.append(
                    f"{where}: no input message (show={dv.showInputMessage}, "
                    f"title={dv.promptTitle!r}, message={dv.prompt!r})"
                )
            if not dv.showErrorMessage:
                problems.append(f"{where}: validation does not stop invalid entries")
    selector = coord(SELECTOR_ROW, VALUE_COL)
    where = f"{ws.title}!{selector} (scenario selector)"
    found = covering(selector)
    names = [gen.locale.scenarios[s] for s in SCENARIOS]
    if len(found) != 1 or found[0].type != "list":
        problems.append(f"{where}: expected one list validation, found {[d.type for d in found]}")
    elif found[0].formula1 != '"' + ",".join(names) + '"':
        problems.append(f"{where}: list {found[0].formula1!r}, expected the scenarios {names}")
    elif not found[0].prompt:
        problems.append(f"{where}: list validation without an input message")
    if ws[selector].protection.locked is not False:
        problems.append(f"{where}: selector is locked")
    if ws[selector].value not in names:
        problems.append(f"{where}: selector holds {ws[selector].value!r}, expected one of {names}")
    assert not problems, report(problems)


def test_formulas_locked_and_validated_cells_unlocked(gen: Generated) -> None:
    problems = []
    for ws in gen.wb.worksheets:
        for cell, formula in formula_cells(ws):
            if cell.protection.locked is not True:
                problems.append(f"{ws.title}!{cell.coordinate}: formula cell unlocked: {formula}")
        # A validation on a locked cell of a protected sheet can never be used.
        for dv in ws.data_validations.dataValidation:
            for cell_range in dv.sqref.ranges:
                for row in ws.iter_rows(
                    min_row=cell_range.min_row,
                    max_row=cell_range.max_row,
                    min_col=cell_range.min_col,
                    max_col=cell_range.max_col,
                ):
                    for cell in row:
                        if cell.protection.locked is not False:
                            problems.append(
                                f"{ws.title}!{cell.coordinate}: validated input cell is locked"
                            )
    assert not problems, report(problems)


def test_every_sheet_protected_without_password(gen: Generated) -> None:
    problems = []
    for ws in gen.wb.worksheets:
        if ws.protection.sheet is not True:
            problems.append(f"{ws.title}: sheet not protected (sheet={ws.protection.sheet!r})")
        if ws.protection.password:
            problems.append(f"{ws.title}: password hash {ws.protection.password!r} by default")
    assert not problems, report(problems)


def test_password_protects_every_sheet(tmp_path: Path) -> None:
    path = tmp_path / "locked.xlsx"
    write_workbook(
        templates.load("crm"), path, WorkbookOptions(password="s3cret", start=START, months=2)
    )
    expected = hash_password("s3cret")
    wb = openpyxl.load_workbook(path)
    problems = [
        f"{ws.title}: protected={ws.protection.sheet!r}, password hash "
        f"{ws.protection.password!r}, expected {expected!r}"
        for ws in wb.worksheets
        if ws.protection.sheet is not True or (ws.protection.password or "").upper() != expected
    ]
    assert not problems, report(problems)


# ------------------------------------------------------------------ defined names


def test_defined_names(gen: Generated) -> None:
    inputs, calculations, checks = (
        gen.locale.sheets[k] for k in ("inputs", "calculations", "checks")
    )
    input_rows = gen.key_rows(gen.sheet("inputs"), INPUT_KEY_COL, set(gen.model.input_keys))
    metric_rows = gen.key_rows(
        gen.sheet("calculations"), METRIC_KEY_COL, set(gen.model.metric_keys)
    )
    master = gen.key_rows(gen.sheet("checks"), 3, {"master_check"})
    assert "master_check" in master, f"{checks}: no row with key 'master_check' in column D"

    def absolute(sheet: str, row: int, col: int) -> str:
        return f"{quote_sheet(sheet)}!${letter(col)}${row + 1}"

    expected = {
        "scenario_selected": absolute(inputs, SELECTOR_ROW, VALUE_COL),
        "scenario_index": absolute(inputs, SELECTOR_INDEX_ROW, VALUE_COL),
        "master_check": absolute(checks, master["master_check"], 1),
    }
    expected |= {f"in_{k}": absolute(inputs, r, LIVE_COL) for k, r in input_rows.items()}
    expected |= {f"out_{k}": absolute(calculations, r, LIVE_COL) for k, r in metric_rows.items()}
    if gen.model.timeline:  # the finance figures of the timeline: its summary's Live column
        timeline = gen.locale.sheets["timeline"]
        expected |= {
            f"out_{k}": absolute(timeline, r, SUMMARY_LIVE_COL)
            for k, r in gen.layout.timeline.summary_rows.items()
        }
    names = gen.wb.defined_names
    problems = []
    for name, target in sorted(expected.items()):
        if name not in names:
            problems.append(f"defined name {name}: missing (expected {target})")
        elif names[name].attr_text != target:
            problems.append(
                f"defined name {name}: points at {names[name].attr_text}, expected {target}"
            )
    # What the names point at is what they say.
    index = gen.sheet("inputs")[coord(SELECTOR_INDEX_ROW, VALUE_COL)]
    if "MATCH(" not in (formula_text(index) or ""):
        problems.append(
            f"{inputs}!{index.coordinate} (scenario_index): found {index.value!r}, expected MATCH"
        )
    total = gen.sheet("checks")[coord(master["master_check"], 1)]
    if not (formula_text(total) or "").startswith("=SUM("):
        problems.append(
            f"{checks}!{total.coordinate} (master_check): found {total.value!r}, expected SUM"
        )
    extra = [n for n in names if n.startswith(("in_", "out_")) and n not in expected]
    if extra:
        problems.append(f"defined names for no input or metric: {extra}")
    assert not problems, report(problems)


# ------------------------------------------------------------------ document properties


def test_custom_document_properties(gen: Generated) -> None:
    root = DET.fromstring(gen.part("docProps/custom.xml"))
    found = {}
    for prop in root:
        value = next(iter(prop), None)
        found[prop.get("name")] = None if value is None else value.text
    expected = {
        "roi_xl_template": gen.model.key,
        "roi_xl_template_version": gen.model.version,
        "roi_xl_generator_version": roi_xl.__version__,
        "roi_xl_locale": gen.code,
    }
    problems = [
        f"docProps/custom.xml: {name} is {found.get(name)!r}, expected {value!r}"
        for name, value in expected.items()
        if found.get(name) != value
    ]
    assert not problems, report(problems) + f"\nfound: {found}"


# ------------------------------------------------------------------ locale


def _sheet_roles(locale: Locale) -> dict[str, str]:
    return {name: f"<{role}>" for role, name in locale.sheets.items()}


def _normalised(formula: str, roles: dict[str, str], texts: bool) -> str:
    """Sheet names replaced by their role; text literals too when ``texts``."""

    def rewrite(sheet: str | None, address: str) -> str:
        return address if sheet is None else f"{quote_sheet(roles.get(sheet, sheet))}!{address}"

    out = rewrite_references(formula, rewrite)
    if texts:
        parts = [
            '"<text>"' if t.type == Token.OPERAND and t.subtype == Token.TEXT else t.value
            for t in tokens(out)
        ]
        out = "=" + "".join(parts)
    return out


@pytest.mark.parametrize("name", TEMPLATES)
def test_formulas_in_english_whatever_the_locale(
    name: str, workbooks: Callable[[str, str], Generated]
) -> None:
    en, fr = workbooks(name, "en-US"), workbooks(name, "fr-FR")
    en_roles, fr_roles = _sheet_roles(en.locale), _sheet_roles(fr.locale)
    problems = []
    for role in en.locale.sheets:
        if role == "channels" and not en.model.channels:
            continue  # only a template that compares channels has the sheet
        en_ws, fr_ws = en.sheet(role), fr.sheet(role)
        en_f = {c.coordinate: f for c, f in formula_cells(en_ws)}
        fr_f = {c.coordinate: f for c, f in formula_cells(fr_ws)}
        # Calculations: identical but for sheet names; elsewhere labels in "..." may differ.
        texts = role != "calculations"
        for address in sorted(set(en_f) | set(fr_f)):
            a, b = en_f.get(address), fr_f.get(address)
            if a is None or b is None:
                problems.append(f"{fr_ws.title}!{address}: fr-FR {b!r} vs {en_ws.title} {a!r}")
            elif _normalised(a, en_roles, texts) != _normalised(b, fr_roles, texts):
                problems.append(
                    f"{fr_ws.title}!{address}: fr-FR formula {b} differs from en-US "
                    f"{en_ws.title}!{address} {a} beyond sheet names"
                )
    for ws in fr.wb.worksheets:
        for cell, formula in formula_cells(ws):
            if ";" in re.sub(r'"[^"]*"', "", formula):
                problems.append(f"{ws.title}!{cell.coordinate}: ';' separator in {formula}")
    assert not problems, report(problems)


def _currency_cells(gen: Generated) -> Iterator[tuple[Worksheet, str, str]]:
    """(sheet, address, what) of every cell showing an amount of money."""
    inputs, calculations, actuals = (
        gen.sheet("inputs"),
        gen.sheet("calculations"),
        gen.sheet("actuals"),
    )
    input_rows = gen.key_rows(inputs, INPUT_KEY_COL, set(gen.model.input_keys))
    for item in gen.model.inputs:
        if item.kind == "currency":
            for col in [*MODEL_COLS, MIN_COL, MAX_COL]:
                yield inputs, coord(input_rows[item.key], col), f"input {item.key}"
    metric_rows = gen.key_rows(calculations, METRIC_KEY_COL, set(gen.model.metric_keys))
    for metric in gen.model.metrics:
        if metric.kind == "currency":
            for col in MODEL_COLS:
                yield calculations, coord(metric_rows[metric.key], col), f"metric {metric.key}"
    a = gen.layout.actuals
    monthly = [*gen.model.monthly.fields, *gen.model.monthly.kpis]
    actual_rows = gen.key_rows(actuals, a.key_col, {m.key for m in monthly})
    month_rows = gen.key_rows(gen.month_sheets()[0], MONTH_KEY_COL, {m.key for m in monthly})
    for item in monthly:
        if item.kind != "currency":
            continue
        for col in range(a.first_month_col, a.variance_col + 1):
            yield actuals, coord(actual_rows[item.key], col), f"monthly {item.key}"
        for ws in gen.month_sheets():
            yield ws, coord(month_rows[item.key], MONTH_ACTUAL_COL), f"monthly {item.key}"


def test_currency_formats_follow_the_locale(gen: Generated) -> None:
    symbol = gen.locale.currency_symbol
    other = {"$": "€", "€": "$"}[symbol]
    problems = []
    count = 0
    for ws, address, what in _currency_cells(gen):
        count += 1
        fmt = ws[address].number_format
        shown = re.sub(r"\[\$-[0-9A-Fa-f]+\]", "", fmt)  # locale tags like [$-40C]
        if symbol not in shown or other in shown:
            problems.append(
                f"{ws.title}!{address} ({what}): number format {fmt!r}, expected {symbol}"
            )
    assert count, f"{gen.name}: no currency cell found"
    for ws in gen.wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                shown = re.sub(r"\[\$-[0-9A-Fa-f]+\]", "", cell.number_format)
                if other in shown:
                    problems.append(
                        f"{ws.title}!{cell.coordinate}: number format {cell.number_format!r} "
                        f"shows {other} in a {gen.code} workbook"
                    )
    assert not problems, report(problems)


def _day_month_order(number_format: str) -> str | None:
    """'dm' or 'md' for a format showing day and month, None if it shows no day."""
    body = strip_format_literals(number_format).lower()
    day, month = body.find("d"), body.find("m")
    if day < 0 or month < 0:
        return None
    return "dm" if day < month else "md"


def test_date_formats_follow_the_locale(gen: Generated) -> None:
    order = "dm" if gen.locale.language == "fr" else "md"
    problems = []
    # Monthly tabs: the month's date near the title (B1..C1).
    for ws, date in zip(gen.month_sheets(), gen.layout.months, strict=True):
        found = [c for c in ws["A1:C1"][0] if isinstance(c.value, dt.datetime | dt.date)]
        if len(found) != 1:
            problems.append(f"{ws.title}!A1:C1: {len(found)} date cells, expected 1")
            continue
        cell = found[0]
        where = f"{ws.title}!{cell.coordinate}"
        if cell.value != dt.datetime(date.year, date.month, 1):
            problems.append(f"{where}: date {cell.value}, expected {date}")
        if cell.number_format != gen.locale.date_format:
            problems.append(
                f"{where}: format {cell.number_format!r}, expected {gen.locale.date_format!r}"
            )
        if _day_month_order(cell.number_format) != order:
            problems.append(f"{where}: format {cell.number_format!r} is not {order} ordered")
    # Actuals: one month per column in the header, in the locale's month format.
    ws = gen.sheet("actuals")
    a = gen.layout.actuals
    header = a.months_counted_row - 1
    for i, date in enumerate(gen.layout.months):
        cell = ws[coord(header, a.first_month_col + i)]
        where = f"{ws.title}!{cell.coordinate}"
        if cell.value != dt.datetime(date.year, date.month, 1):
            problems.append(f"{where}: header {cell.value!r}, expected the month {date}")
        if cell.number_format != gen.locale.month_format:
            problems.append(
                f"{where}: format {cell.number_format!r}, expected {gen.locale.month_format!r}"
            )
    # Any date anywhere: day and month in the locale's order.
    for sheet in gen.wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell, XlCell) and cell.is_date and cell.value is not None:
                    found_order = _day_month_order(cell.number_format)
                    if found_order not in (None, order):
                        problems.append(
                            f"{sheet.title}!{cell.coordinate}: date format "
                            f"{cell.number_format!r} is {found_order}, expected {order}"
                        )
    if gen.locale.language == "fr":
        for fmt in (gen.locale.date_format, gen.locale.month_format):
            if "[$-40C]" not in fmt:
                problems.append(f"fr-FR format {fmt!r} lacks the French locale tag [$-40C]")
    # The Cover's creation date is text in the same order.
    cover = gen.sheet("cover")
    created = CREATED.strftime("%d/%m/%Y" if order == "dm" else "%m/%d/%Y")
    labels = {c.value: c.row for col in cover.iter_cols(max_col=2) for c in col}
    row = labels.get(gen.locale["created"])
    shown = cover.cell(row, 3).value if row else None
    if shown != created:
        problems.append(f"{cover.title}!C{row}: creation date {shown!r}, expected {created!r}")
    assert not problems, report(problems)


# ------------------------------------------------------------------ charts


def _sheet_part(gen: Generated, title: str) -> str:
    """Path of a worksheet's XML part, from the workbook's relationships."""
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "p": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    book = DET.fromstring(gen.part("xl/workbook.xml"))
    rels = DET.fromstring(gen.part("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target") for rel in rels.findall("p:Relationship", ns)}
    for sheet in book.findall("m:sheets/m:sheet", ns):
        if sheet.get("name") == title:
            return str(PurePosixPath("xl") / targets[sheet.get(f"{{{ns['r']}}}id")])
    raise AssertionError(f"xl/workbook.xml: no sheet {title!r}")


def _related(gen: Generated, part: str, kind: str) -> list[str]:
    """Parts that ``part`` relates to with relationship type ending in ``kind``."""
    path = PurePosixPath(part)
    rels_name = str(path.parent / "_rels" / (path.name + ".rels"))
    if rels_name not in gen.part_names():
        return []
    rels = DET.fromstring(gen.part(rels_name))
    found = []
    for rel in rels:
        if rel.get("Type", "").endswith("/" + kind):
            found.append(os.path.normpath(str(path.parent / rel.get("Target"))).replace("\\", "/"))
    return found


def test_dashboard_charts(gen: Generated) -> None:
    charts = [p for p in gen.part_names() if re.fullmatch(r"xl/charts/chart\d+\.xml", p)]
    assert len(charts) >= 3, f"{gen.path.name}: {len(charts)} chart parts {charts}, expected >= 3"
    dashboard = gen.locale.sheets["dashboard"]
    part = _sheet_part(gen, dashboard)
    drawings = _related(gen, part, "drawing")
    on_dashboard = [c for d in drawings for c in _related(gen, d, "chart")]
    assert len(on_dashboard) >= 3, (
        f"{dashboard} ({part}): drawings {drawings} hold charts {on_dashboard}, expected >= 3"
    )
    if gen.model.monthly.heatmap:
        ws = gen.wb[dashboard]
        scales = [
            (str(rules.sqref), len(rule.colorScale.cfvo))
            for rules in ws.conditional_formatting
            for rule in rules.rules
            if rule.type == "colorScale" and rule.colorScale is not None
        ]
        assert any(n == 3 for _, n in scales), (
            f"{dashboard}: no 3-colour scale (found colour scales {scales})"
        )


def test_phone_system_has_a_heatmap() -> None:
    assert templates.load("phone-system").monthly.heatmap, "phone-system: heatmap switched off"


# ------------------------------------------------------------------ atomic writing


def test_existing_file_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "model.xlsx"
    path.write_bytes(b"not a workbook, and must stay so")
    before = path.read_bytes()
    with pytest.raises(OutputExistsError):
        write_workbook(templates.load("crm"), path, WorkbookOptions(start=START))
    assert path.read_bytes() == before, f"{path.name}: changed although force was not given"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.xlsx"], (
        f"{tmp_path}: files left behind: {sorted(p.name for p in tmp_path.iterdir())}"
    )


def _break_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: object) -> None:
        raise RuntimeError("disk full, say")

    monkeypatch.setattr("roi_xl.workbook.writer.write_checks", broken)


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _break_checks(monkeypatch)
    path = tmp_path / "model.xlsx"
    with pytest.raises(RuntimeError, match="disk full"):
        write_workbook(templates.load("phone-system"), path, WorkbookOptions(start=START))
    left = sorted(p.name for p in tmp_path.iterdir())
    assert not path.exists(), f"{path.name}: exists after a failed write"
    assert left == [], f"{tmp_path}: files left after a failed write: {left}"


def test_failed_overwrite_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.xlsx"
    write_workbook(templates.load("crm"), path, WorkbookOptions(start=START, months=1))
    before = path.read_bytes()
    _break_checks(monkeypatch)
    with pytest.raises(RuntimeError, match="disk full"):
        write_workbook(templates.load("crm"), path, WorkbookOptions(start=START, force=True))
    assert path.read_bytes() == before, f"{path.name}: changed by a failed forced write"
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["model.xlsx"], f"{tmp_path}: files left after a failed write: {left}"
