"""The model checks on an edited workbook, each finding in words a finance director reads.

Structure (sheets renamed, added, removed, reordered, hidden; rows inserted;
external links), inputs (type, range, a percentage typed as 37), formulas
(overwritten by a constant, drifted from the template, hard-coded numbers),
values (error cells, a master check above 0, cached values that disagree
with the engine's recomputation).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from operator import itemgetter
from typing import Any

from openpyxl.formula import Tokenizer

from roi_xl.inspect import checked_sheets, integrity
from roi_xl.inspect.findings import ERROR, Finding, error, shown, warning
from roi_xl.inspect.formula_book import GENERAL, FormulaSheet
from roi_xl.inspect.loaded import LoadedWorkbook
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.template import Input
from roi_xl.workbook import Reference, ReferenceCell
from roi_xl.workbook.layout import MONTH_ACTUAL_COL, cell

ALLOWED_NUMBERS = {0.0, 1.0, 2.0, 3.0, 12.0, 100.0}
# The order findings are listed in: what breaks the model first, consequences last.
RULE_ORDER = {
    rule: rank
    for rank, rule in enumerate(
        [
            "sheet_missing",
            "sheet_renamed",
            "external_link",
            "macros",
            "hidden_sheet",
            "row_missing",
            "rows_inserted",
            "selector_invalid",
            "input_not_number",
            "percent_typed_as_number",
            "input_out_of_range",
            "input_not_whole",
            "figure_not_number",
            "figure_negative",
            "name_changed",
            "formula_in_input",
            "formula_overwritten",
            "formula_changed",
            "number_format_changed",
            "not_recalculated",
            "stale_value",
            "error_value",
            "master_check",
            "hard_coded_number",
            "sheets_reordered",
            "name_added",
            "sheet_added",
            "template_version",
        ]
    )
}
_BLANK = (None, GENERAL)  # an absent cell: empty, in the General format
STALE_SHARE = 0.5  # above this share of empty cached values, the file was never recalculated
MAX_PER_RULE_AND_SHEET = 25
_QUOTED_SHEET = re.compile(r"'((?:[^']|'')+)'!")
_STRING = re.compile(r'"[^"]*"')
# INDEX(C9:E9,$C$5) and INDEX(C9:E9,1,$C$5) mean the same on a one-row range; workbooks
# written before the row was spelled out hold the first.
_ONE_ROW_INDEX = re.compile(r"INDEX\((\$?[A-Z]+\$?(\d+)):(\$?[A-Z]+\$?\2),([^,()]+)\)")


def ordered(findings: list[Finding]) -> list[Finding]:
    """Errors first, then by sheet and cell; long runs of one rule on one sheet summarised."""
    counts: dict[tuple[str | None, str], int] = {}
    kept: list[Finding] = []
    for finding in findings:
        key = (finding.sheet, finding.rule)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= MAX_PER_RULE_AND_SHEET:
            kept.append(finding)
    for (sheet, rule), count in counts.items():
        if count > MAX_PER_RULE_AND_SHEET:
            sample = next(f for f in findings if f.sheet == sheet and f.rule == rule)
            kept.append(
                Finding(
                    sample.severity,
                    sheet,
                    None,
                    rule,
                    f"{count} cells",
                    "",
                    f"{count - MAX_PER_RULE_AND_SHEET} more cells on this sheet break the same "
                    "rule "
                    f"({rule}); only the first {MAX_PER_RULE_AND_SHEET} are listed.",
                )
            )
    return sorted(
        kept,
        key=lambda f: (
            f.severity != ERROR,
            RULE_ORDER.get(f.rule, 50),
            f.sheet or "",
            _cell_order(f.cell),
        ),
    )


def _cell_order(ref: str | None) -> tuple[int, str]:
    if not ref:
        return (0, "")
    match = re.match(r"([A-Z]+)(\d+)", ref)
    return (int(match.group(2)), match.group(1).rjust(3)) if match else (0, ref)


# --------------------------------------------------------------- structure


def check_structure(loaded: LoadedWorkbook) -> None:
    """Match the file's sheets to the expected ones; report what moved, vanished or appeared."""
    expected = loaded.layout.sheet_order
    found = [sheet.name for sheet in loaded.package.sheets]
    unexpected = [name for name in found if name not in expected]
    findings = loaded.findings
    for index, name in enumerate(expected):
        if name in found:
            loaded.sheet_names[name] = name
            continue
        candidate = found[index] if index < len(found) else None
        if candidate in unexpected:
            unexpected.remove(candidate)
            loaded.sheet_names[name] = candidate
            findings.append(
                error(
                    candidate,
                    None,
                    "sheet_renamed",
                    candidate,
                    name,
                    f"The sheet '{name}' was renamed '{candidate}'. Rename it back: "
                    "other tools look for it by name.",
                )
            )
        else:
            findings.append(
                error(
                    name,
                    None,
                    "sheet_missing",
                    "no such sheet",
                    name,
                    f"The sheet '{name}' was deleted; the model is incomplete.",
                )
            )
    for name in unexpected:
        findings.append(
            warning(
                name,
                None,
                "sheet_added",
                name,
                "",
                f"The sheet '{name}' is not part of the model; it is ignored.",
            )
        )
    present = [name for name in found if name in loaded.sheet_names.values()]
    wanted = [loaded.sheet_names[n] for n in expected if n in loaded.sheet_names]
    if present != wanted:
        findings.append(
            warning(
                None,
                None,
                "sheets_reordered",
                ", ".join(present),
                ", ".join(wanted),
                "The sheets are not in the model's order (inputs, months, results, checks).",
            )
        )
    model_sheets = set(loaded.sheet_names.values())
    for sheet in loaded.package.sheets:
        if sheet.state != "visible":
            make = error if sheet.name in model_sheets else warning
            findings.append(
                make(
                    sheet.name,
                    None,
                    "hidden_sheet",
                    sheet.state,
                    "visible",
                    f"The sheet '{sheet.name}' is hidden; nothing in a model should "
                    "be out of sight.",
                )
            )
    for part in loaded.package.external_links:
        findings.append(
            error(
                None,
                None,
                "external_link",
                part,
                "none",
                "The workbook links to another file; its numbers then depend on a "
                "file the reader cannot see. Break the link (Data > Edit Links).",
            )
        )
    if loaded.package.has_macros:
        findings.append(
            error(
                None,
                None,
                "macros",
                "a VBA project",
                "none",
                "The workbook carries macros; a roi_xl model has none.",
            )
        )


def check_rows(
    loaded: LoadedWorkbook, sheet: str, expected: dict[str, int], found: dict[str, int]
) -> None:
    """Rows inserted or deleted inside a block move the keys away from their places."""
    actual = loaded.sheet_names[sheet]
    missing = [key for key in expected if key not in found]
    for key in missing:
        loaded.findings.append(
            error(
                actual,
                cell(expected[key], 0),
                "row_missing",
                "no such row",
                key,
                f"The line '{key}' is missing: a row was deleted or its key was overwritten.",
            )
        )
    moved = [(key, row) for key, row in found.items() if row != expected[key]]
    if moved:
        key, row = min(moved, key=lambda item: expected[item[0]])
        shift = row - expected[key]
        loaded.findings.append(
            error(
                actual,
                cell(expected[key], 0),
                "rows_inserted",
                f"'{key}' on row {row + 1}",
                f"'{key}' on row {expected[key] + 1}",
                f"Rows were {'inserted' if shift > 0 else 'deleted'} inside the model from row "
                f"{expected[key] + 1} ({abs(shift)} row(s)); values are read by their keys, but "
                "formula checks on this sheet are skipped. Use the comment column instead.",
            )
        )


# ------------------------------------------------------------------ inputs


def check_input(
    loaded: LoadedWorkbook, item: Input, scenario: str, row: int, col: int, raw: Any
) -> float | None:
    """The input's number, or None with a finding when it is not a usable number."""
    sheet = loaded.sheet_names.get(loaded.layout.inputs, loaded.layout.inputs)
    ref = cell(row, col)
    label = item.label.en
    allowed = f"a number from {item.minimum:,.10g} to {item.maximum:,.10g}"
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or isinstance(raw, ExcelError):
        if raw == "" or raw is None:
            what = "is empty"
        elif isinstance(raw, str):
            what = f"holds the text {raw!r}, not a number"
        else:
            what = f"holds {shown(raw)}, not a number"
        loaded.findings.append(
            error(
                sheet, ref, "input_not_number", shown(raw), allowed, f"{label} ({scenario}) {what}."
            )
        )
        return None
    value = float(raw)
    if not math.isfinite(value):
        loaded.findings.append(
            error(
                sheet,
                ref,
                "input_not_number",
                shown(raw),
                allowed,
                f"{label} ({scenario}) is not a finite number.",
            )
        )
        return None
    if item.kind == "percent" and 1 < value <= 100 and value > item.maximum:
        loaded.findings.append(
            error(
                sheet,
                ref,
                "percent_typed_as_number",
                f"{value:g}",
                f"{value / 100:.4g} ({value:g} %)",
                f"{label} ({scenario}) reads {value:g}, i.e. {value * 100:,.0f} %: a "
                "percentage was "
                f"probably typed without the % sign. Type {value:g}% or {value / 100:g}.",
            )
        )
    elif not item.minimum <= value <= item.maximum:
        loaded.findings.append(
            error(
                sheet,
                ref,
                "input_out_of_range",
                f"{value:,.10g}",
                allowed,
                f"{label} ({scenario}) is {value:,.10g}, outside its allowed range.",
            )
        )
    elif item.integer and value != int(value):
        loaded.findings.append(
            error(
                sheet,
                ref,
                "input_not_whole",
                f"{value:,.10g}",
                f"a whole number from {item.minimum:,.10g} to {item.maximum:,.10g}",
                f"{label} ({scenario}) is {value:,.10g}, not a whole number of {item.unit}.",
            )
        )
    return value


def check_figure(
    loaded: LoadedWorkbook, sheet: str, row: int, label: str, raw: Any, col: int | None = None
) -> float | None:
    """A monthly figure: blank stays blank; text or a negative number is reported."""
    ref = cell(row, MONTH_ACTUAL_COL if col is None else col)
    actual = loaded.sheet_names.get(sheet, sheet)
    if raw == "" or raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or isinstance(raw, ExcelError):
        loaded.findings.append(
            error(
                actual,
                ref,
                "figure_not_number",
                shown(raw),
                "a number, or an empty cell",
                f"{label} holds {shown(raw)}, not a number.",
            )
        )
        return None
    if raw < 0:
        loaded.findings.append(
            error(
                actual,
                ref,
                "figure_negative",
                f"{raw:,.10g}",
                ">= 0",
                f"{label} is negative ({raw:,.10g}).",
            )
        )
    return float(raw)


def check_complete(loaded: LoadedWorkbook, sheet: str, row: int, raw: Any) -> float | None:
    """A month complete cell: 1 or 0, or blank (not complete). Anything else is reported and
    the month does not count, so a stray value never slips a partial month into the totals."""
    if raw == "" or raw is None:
        return None
    if not isinstance(raw, bool) and isinstance(raw, (int, float)) and raw in (0, 1):
        return float(raw)
    loaded.findings.append(
        warning(
            loaded.sheet_names.get(sheet, sheet),
            cell(row, MONTH_ACTUAL_COL),
            "month_complete_invalid",
            shown(raw),
            "1 (complete) or 0",
            f"The month complete cell holds {shown(raw)}: the month does not count in the year "
            "to date until it says 1.",
        )
    )
    return float(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else None


# ------------------------------------------------------------------- cells


def check_cells(loaded: LoadedWorkbook, reference: Reference, compare_values: bool) -> None:
    """Formulas, names and formats against the generator's, hard-coded numbers, errors,
    master check, cached values. Values computed through a redirected name are blamed on
    the name, not on a missing recalculation."""
    shifted = {f.sheet for f in loaded.findings if f.rule in ("rows_inserted", "row_missing")}
    redirected = integrity.check_names(loaded, reference)
    values_wanted = compare_values and not redirected
    formats_table = loaded.layout.locale.formats
    stale: list[Finding] = []
    compared = 0
    format_ok: dict[tuple[Any, str | int], bool] = {}  # (found, expected) -> displays alike
    for sheet, expected_cells in reference.cells.items():
        actual = loaded.sheet_names.get(sheet)
        if actual is None or actual not in loaded.formulas.sheets:
            continue
        worksheet = loaded.formulas.sheets[actual]
        if actual in shifted:
            _extra_formulas(loaded, worksheet, actual, expected_cells)
            continue
        grid = loaded.values.get(actual)
        shape = worksheet.shape
        kept = checked_sheets.recall(shape, sheet, formats_table, expected_cells, grid)
        if kept is not None:  # as a sheet of this shape was checked before: see checked_sheets
            plan, values = kept
            loaded.findings.extend(plan.findings)
            if values_wanted:
                equal, one_by_one = plan.differing(values, grid)  # type: ignore[arg-type]
                compared += equal
                for index, place in one_by_one:
                    compared += _compare_value(loaded, sheet, actual, place, values[index], stale)
            continue
        start = len(loaded.findings)
        checked: list[tuple[int, int]] | None = None if shape is None else []
        compared += _check_sheet(
            loaded,
            sheet,
            actual,
            worksheet,
            expected_cells,
            format_ok,
            values_wanted,
            stale,
            checked,
        )
        _extra_formulas(loaded, worksheet, actual, expected_cells)
        if checked is not None:
            found = loaded.findings[start:]
            checked_sheets.keep(shape, sheet, formats_table, expected_cells, found, checked, grid)
    empty = [f for f in stale if f.found == shown("")]
    if compared and len(empty) > STALE_SHARE * compared:
        loaded.findings.append(
            error(
                None,
                None,
                "not_recalculated",
                f"{len(empty)} of {compared} results empty",
                "calculated values",
                "The file was saved without calculated values (by a script or a program "
                "that does not "
                "recalculate): viewers that do not recalculate show blanks. Open it in Excel or "
                "LibreOffice and save it again.",
            )
        )
        stale = [f for f in stale if f not in empty]
    loaded.findings.extend(stale)
    error_findings(loaded)
    recalculated = not (compared and len(empty) > STALE_SHARE * compared)
    _master(loaded, reference, recompute=compare_values and not recalculated)


def _check_sheet(
    loaded: LoadedWorkbook,
    sheet: str,
    actual: str,
    worksheet: FormulaSheet,
    expected_cells: dict[tuple[int, int], ReferenceCell],
    format_ok: dict[tuple[Any, str | int], bool],
    values_wanted: bool,
    stale: list[Finding],
    checked: list[tuple[int, int]] | None = None,
) -> int:
    """Every expected cell of one sheet: its format, its formula (or typed value) and, with
    ``values_wanted``, its cached value (findings of the last go to ``stale``). Returns how
    many values were compared; ``checked`` gets the places whose value is compared, whether
    wanted or not. A cell that matches in every way costs a few lookups: its formula text
    equal to the model's, its format already judged, its number close."""
    found_cells = worksheet.cells
    grid = loaded.values.get(actual)
    rows = len(grid) if grid is not None else 0
    compared = 0
    for place, expected in expected_cells.items():
        found, found_format = found_cells.get(place, _BLANK)
        expected_format = expected.number_format
        if found_format != expected_format:  # a format always displays as itself
            key = (found_format, expected_format)
            ok = format_ok.get(key)
            if ok is None:
                ok = format_ok[key] = integrity.displays_as(loaded, found_format, expected_format)
            if not ok:
                integrity.check_number_format(
                    loaded, actual, cell(*place), found_format, expected_format
                )
        formula = expected.formula
        if formula is None:
            if isinstance(found, str) and found.startswith("="):
                integrity.check_value_cell(loaded, actual, cell(*place), found)
            continue
        if isinstance(found, str) and found[1:] == formula and found.startswith("="):
            if hard_coded_numbers(found):
                _hard_coded(loaded, actual, cell(*place), found)
        elif _formula(loaded, actual, cell(*place), found, "=" + formula):
            continue  # overwritten: no value to compare
        if checked is not None:
            checked.append(place)
        if not values_wanted:
            continue
        value = expected.value
        if type(value) is float:
            row, col = place
            if row < rows and col < len(grid[row]):  # type: ignore[index]
                shown_value = grid[row][col]  # type: ignore[index]
                kind = type(shown_value)
                if (kind is float or kind is int) and (
                    shown_value == value  # as math.isclose's own first test
                    or math.isclose(shown_value, value, rel_tol=1e-9, abs_tol=1e-9)
                ):
                    compared += 1
                    continue
        compared += _compare_value(loaded, sheet, actual, place, value, stale)
    return compared


def _compare_value(
    loaded: LoadedWorkbook,
    sheet: str,
    actual: str,
    place: tuple[int, int],
    value: Any,
    stale: list[Finding],
) -> int:
    """One cached value against the engine's (a finding to ``stale`` when they differ):
    1 when it counts as compared, 0 when the model expects nothing there."""
    if type(value) is float:
        row, col = place
        grid = loaded.values.get(actual)
        if grid is not None and row < len(grid) and col < len(grid[row]):
            shown_value = grid[row][col]
            kind = type(shown_value)
            if (kind is float or kind is int) and math.isclose(
                shown_value, value, rel_tol=1e-9, abs_tol=1e-9
            ):
                return 1
    elif value in (None, ""):
        return 0
    finding = _value(loaded, sheet, actual, *place, value)
    if finding:
        stale.append(finding)
    return 1


def _formula(loaded: LoadedWorkbook, sheet: str, ref: str, found: Any, expected: str) -> bool:
    if not (isinstance(found, str) and found.startswith("=")):
        loaded.findings.append(
            error(
                sheet,
                ref,
                "formula_overwritten",
                shown(found),
                expected,
                f"{sheet}!{ref} should be calculated but holds {shown(found)}: the formula "
                "was typed "
                "over, so this cell no longer follows the inputs.",
            )
        )
        return True
    if normalise(found) != normalise(expected):
        loaded.findings.append(
            error(
                sheet,
                ref,
                "formula_changed",
                found,
                expected,
                f"The formula in {sheet}!{ref} differs from the model's.",
            )
        )
    _hard_coded(loaded, sheet, ref, found)
    return False


def _extra_formulas(
    loaded: LoadedWorkbook, worksheet: FormulaSheet, sheet: str, expected_cells: dict
) -> None:
    """Formulas the user added inside the model's area: flag typed-in numbers.

    Only the model's own rectangle is looked at: what lies to the right or below
    is the user's extension.
    """
    if not expected_cells:
        return
    last_row = max(expected_cells)[0] + 1
    last_col = max(map(itemgetter(1), expected_cells)) + 1
    cells = worksheet.cells
    added = [
        (row, col, value)
        for row, col in cells.keys() - expected_cells.keys()
        if row < last_row
        and col < last_col
        and isinstance(value := cells[row, col][0], str)
        and value.startswith("=")
    ]
    for row, col, value in sorted(added):  # row by row
        _hard_coded(loaded, sheet, cell(row, col), value)


def _hard_coded(loaded: LoadedWorkbook, sheet: str, ref: str, formula: str) -> None:
    numbers = hard_coded_numbers(formula)
    if numbers:
        loaded.findings.append(
            warning(
                sheet,
                ref,
                "hard_coded_number",
                ", ".join(f"{n:g}" for n in numbers),
                "references to input cells",
                f"{sheet}!{ref} has a number typed inside its formula "
                f"({', '.join(f'{n:g}' for n in numbers)}); "
                "put assumptions in the Inputs sheet so they are seen and sourced.",
            )
        )


# Where a number can begin in a formula: a digit or a dot after no part of a name or
# reference; and such a number standing alone, up to an operator, a bracket or a separator.
_NUMBER_START = re.compile(r"(?<![\w$.])[\d.]")
_PLAIN_NUMBER = re.compile(r"(?<![\w$.])(\d+(?:\.\d+)?)(?=[ +\-*/^&=<>%(){},;]|$)")
# What float() also takes for a number, an error literal (#N/A1 reads as #N/A, then 1), and
# white space but the plain space.
_UNPLAIN = re.compile(r"inf|nan|#|[^\S ]", re.IGNORECASE)


@functools.lru_cache(maxsize=65536)
def hard_coded_numbers(formula: str) -> tuple[float, ...]:
    """Numbers written in a formula, apart from 0, 1, 2, 3, 12 and 100 and IRR's guess.

    IRR's second argument is where its solver starts, not an assumption of the model.
    Cached: every workbook of a template holds the same formulas, so a roll-up
    that audits hundreds of them tokenises each formula once per process; and a formula
    whose every place a number could begin holds a plain allowed number (most of them) is
    not tokenised at all: the tokenizer's numbers are among those.
    """
    if not _UNPLAIN.search(formula):
        plain = _PLAIN_NUMBER.findall(formula)
        if len(plain) == len(_NUMBER_START.findall(formula)) and all(
            float(number) in ALLOWED_NUMBERS for number in plain
        ):
            return ()
    try:
        tokens = Tokenizer(formula).items
    except Exception:  # a formula the tokenizer cannot split is reported elsewhere
        return ()
    numbers = []
    calls: list[list] = []  # the open functions: [name, index of the argument being read]
    for token in tokens:
        if token.type == "FUNC" and token.subtype == "OPEN":
            calls.append([token.value.upper(), 0])
        elif token.type == "FUNC" and token.subtype == "CLOSE" and calls:
            calls.pop()
        elif token.type == "SEP" and token.subtype == "ARG" and calls:
            calls[-1][1] += 1
        elif token.type == "OPERAND" and token.subtype == "NUMBER":
            value = float(token.value)
            guess = bool(calls) and calls[-1][0] == "IRR(" and calls[-1][1] == 1
            if value not in ALLOWED_NUMBERS and not guess:
                numbers.append(value)
    return tuple(numbers)


@functools.lru_cache(maxsize=65536)
def normalise(formula: str) -> str:
    """Formula text as Excel means it: no optional quotes, spaces or case, no _xlfn. prefix,
    a one-row INDEX with its row spelled out (cached, as ``hard_coded_numbers``)."""
    text = formula.strip()
    strings: list[str] = []

    def keep(match: re.Match[str]) -> str:
        strings.append(match.group(0))
        return f"\x00{len(strings) - 1}\x00"

    text = _STRING.sub(keep, text)
    text = _QUOTED_SHEET.sub(lambda m: m.group(1).replace("''", "'") + "!", text)
    text = text.replace(" ", "").replace("_xlfn.", "").upper()
    text = _ONE_ROW_INDEX.sub(r"INDEX(\1:\3,1,\4)", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: strings[int(m.group(1))], text)


def _value(
    loaded: LoadedWorkbook, sheet: str, actual: str, row: int, col: int, expected: Any
) -> Finding | None:
    found = loaded.value(sheet, row, col)
    if _same(found, expected):
        return None
    ref = cell(row, col)
    computed = shown(_plain(expected))
    return error(
        actual,
        ref,
        "stale_value",
        shown(found),
        computed,
        f"{actual}!{ref} shows {shown(found)} but its formula gives {computed}: the file was "
        "saved by a program that did not recalculate. Open it in Excel or LibreOffice, "
        "recalculate and save.",
    )


def _serial(value: Any) -> Any:
    """A date a reader returns for a date-formatted cell, as the number Excel stores."""
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400
    if isinstance(value, dt.date):
        return float((value - dt.date(1899, 12, 30)).days)
    return value


def _plain(value: Any) -> Any:
    return value.text if isinstance(value, ExcelError) else value


def _same(found: Any, expected: Any) -> bool:
    found = _serial(found)
    if isinstance(expected, ExcelError) or isinstance(found, ExcelError):
        return (
            isinstance(found, ExcelError)
            and isinstance(expected, ExcelError)
            and (found.text == expected.text)
        )
    if expected in (None, "") or found in (None, ""):
        return expected in (None, "") and found in (None, "")
    if isinstance(expected, str) or isinstance(found, str):
        return str(found) == str(expected)
    if isinstance(found, bool) or isinstance(expected, bool):
        return float(found) == float(expected)
    return math.isclose(float(found), float(expected), rel_tol=1e-9, abs_tol=1e-9)


def error_findings(loaded: LoadedWorkbook) -> None:
    """One finding per cell of a model sheet that shows an Excel error value."""
    model = set(loaded.sheet_names.values())
    for sheet in loaded.package.sheets:
        if sheet.name not in model:
            continue
        for ref, text in sorted(sheet.error_cells.items(), key=lambda item: _cell_order(item[0])):
            loaded.findings.append(
                error(
                    sheet.name,
                    ref,
                    "error_value",
                    text,
                    "a number",
                    f"{sheet.name}!{ref} shows the error {text}; see what it divides by or "
                    "refers to.",
                )
            )


def _master(loaded: LoadedWorkbook, reference: Reference, recompute: bool) -> None:
    """The master check as the file shows it, or as recomputed when the file was saved
    without calculated values (and the inputs allow a recomputation)."""
    layout = loaded.layout
    if layout.checks not in loaded.sheet_names:
        return
    values = reference.values
    shown_value = loaded.value(layout.checks, layout.master_check_row, 1)
    if shown_value in ("", None) and not recompute:
        return
    if not recompute:
        value = shown_value
        failing = [
            name
            for name, row in layout.check_rows
            if loaded.value(layout.checks, row, 1) not in (0, 0.0)
        ]
    else:
        value = values.master_check
        failing = [name for name, check in values.checks.items() if check != 0]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
        return
    actual = loaded.sheet_names[layout.checks]
    loaded.findings.append(
        error(
            actual,
            cell(layout.master_check_row, 1),
            "master_check",
            shown(_plain(value)),
            "0",
            "The master check is not 0; failing: "
            + ", ".join(check_label(loaded, n) for n in failing)
            + ".",
        )
    )


def check_label(loaded: LoadedWorkbook, name: str) -> str:
    """A check of the Checks sheet in words, for the master-check finding."""
    kind, _, key = name.partition(":")
    if kind == "input":
        return f"input '{key}' out of range"
    if kind == "funnel":
        return f"funnel stage '{key}' above the stage before"
    if kind == "month":
        return f"monthly rule '{key}' broken"
    return "scenario selector"


def version_finding(found: str, installed: str) -> Finding:
    return warning(
        None,
        None,
        "template_version",
        found,
        installed,
        f"The workbook was made with template version {found}; version {installed} is "
        "installed, so formula checks compare with the newer one.",
    )
