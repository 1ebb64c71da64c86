"""What the generator fixes besides formulas: defined names, result formats, value cells.

A workbook can show another figure with every formula intact: a defined name
redirected to another cell (the Dashboard follows it), a number format that
displays a fixed text (``"964.7 %"``) over the real result, or a formula typed
into a cell the model holds as a value (an input made to follow something
else). Each is compared with the workbook the generator writes for the same
inputs, and reported.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from openpyxl.styles.numbers import BUILTIN_FORMATS

from roi_xl.inspect.findings import error, shown, warning
from roi_xl.inspect.loaded import LoadedWorkbook
from roi_xl.model.functions import FUNCTIONS
from roi_xl.workbook import Reference
from roi_xl.workbook.lambdas import lambda_formula

# Characters with a meaning in a number format; anything else is shown as typed.
_FORMAT_CODES = set("0#?.,%@;/eEyYmMdDhHsSgGbBaApPnN")
# Formats the generator picks between by the size of the figures: an edited input may
# legitimately move a result from one to its twin.
_TWINS = (("currency", "currency_precise"), ("count", "count_precise"))
_TARGET = re.compile(
    r"^(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)$"
)


@functools.lru_cache(maxsize=4096)
def canonical_format(code: str | int | None) -> str:
    """A number format as what it displays, however it is spelled (cached: a workbook
    uses a few dozen formats over thousands of cells).

    Excel and LibreOffice write the same format differently (``"$"#,##0`` or
    ``\\$#,##0``, ``0.00"x"`` or ``0.00\\x``, ``[Red]`` or ``[RED]``): every literal
    character becomes ``\\c``, bracketed sections are upper-cased, codes lower-cased.
    """
    if isinstance(code, int):
        code = BUILTIN_FORMATS.get(code, "General")
    text = code or "General"
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            end = text.find('"', i + 1)
            end = len(text) if end < 0 else end
            out.extend("\\" + c for c in text[i + 1 : end])
            i = end + 1
        elif char == "\\" and i + 1 < len(text):
            out.append("\\" + text[i + 1])
            i += 2
        elif char == "[":
            end = text.find("]", i)
            end = len(text) - 1 if end < 0 else end
            out.append(text[i : end + 1].upper())
            i = end + 1
        elif char in "*_" and i + 1 < len(text):
            out.append(text[i : i + 2])
            i += 2
        elif char in "eE" and text[i + 1 : i + 2] in ("+", "-"):
            out.append("e" + text[i + 1])
            i += 2
        elif char in _FORMAT_CODES:
            out.append(char.lower())
            i += 1
        else:
            out.append("\\" + char)
            i += 1
    return "".join(out)


def check_number_format(
    loaded: LoadedWorkbook, sheet: str, ref: str, found: Any, expected: str | int
) -> None:
    """A cell of the model must display its value the way the model formats it."""
    if displays_as(loaded, found, expected):
        return
    wanted = expected if isinstance(expected, str) else BUILTIN_FORMATS.get(expected, "General")
    loaded.findings.append(
        error(
            sheet,
            ref,
            "number_format_changed",
            str(found),
            wanted,
            f"{sheet}!{ref} is shown with the number format {found!r} instead of the model's "
            f"{wanted!r}: what the cell displays may not be its value. Restore the format.",
        )
    )


def displays_as(loaded: LoadedWorkbook, found: Any, expected: str | int) -> bool:
    """Whether format ``found`` shows a value as the model's ``expected`` format does."""
    return canonical_format(found) in _allowed_formats(loaded, expected)


def _allowed_formats(loaded: LoadedWorkbook, expected: str | int) -> frozenset[str]:
    return _allowed(_twin_formats(loaded.layout.locale.formats), expected)


_TWIN_FORMATS: dict[int, tuple[Mapping[str, str], tuple[tuple[str, ...], ...]]] = {}


def _twin_formats(formats: Mapping[str, str]) -> tuple[tuple[str, ...], ...]:
    """The locale's twin format codes, worked out once per table of formats (the entry
    holds the table, so its id cannot be reused while the entry lives)."""
    entry = _TWIN_FORMATS.get(id(formats))
    if entry is None or entry[0] is not formats:
        twins = tuple(tuple(formats[n] for n in group if n in formats) for group in _TWINS)
        if len(_TWIN_FORMATS) > 64:
            _TWIN_FORMATS.clear()
        entry = _TWIN_FORMATS[id(formats)] = (formats, twins)
    return entry[1]


@functools.lru_cache(maxsize=4096)
def _allowed(twins: tuple[tuple[str, ...], ...], expected: str | int) -> frozenset[str]:
    """The formats a cell formatted ``expected`` may show, given the locale's twin formats."""
    wanted = canonical_format(expected)
    for group in twins:
        plain = {canonical_format(code) for code in group}
        # Variances are coloured by conditional formats, so there the writer drops [Red].
        for codes in (plain, {code.replace("[RED]", "") for code in plain}):
            if wanted in codes:
                return frozenset(codes)
    return frozenset({wanted})


def check_value_cell(loaded: LoadedWorkbook, sheet: str, ref: str, found: Any) -> bool:
    """A cell the model holds as a value (an input, a figure, a label) must not be a formula.

    Returns True when it is one (and was reported).
    """
    if not (isinstance(found, str) and found.startswith("=")):
        return False
    loaded.findings.append(
        error(
            sheet,
            ref,
            "formula_in_input",
            found,
            "a typed value",
            f"{sheet}!{ref} should hold a typed value but holds the formula {found}: the model "
            "then follows whatever that formula says. Type the value instead.",
        )
    )
    return True


def check_names(loaded: LoadedWorkbook, reference: Reference) -> set[str]:
    """Every defined name of the model must point where the generator points it.

    Returns the names (upper-cased) that do not, so values computed through them
    are blamed on the name rather than on a missing recalculation.
    """
    found = _workbook_names(loaded)
    shifted = {f.sheet for f in loaded.findings if f.rule in ("rows_inserted", "row_missing")}
    changed: set[str] = set()
    for name, target in reference.names.items():
        key = name.upper()
        expected = _as_found(loaded, target)
        if expected is None or expected[0] in shifted:
            continue  # its sheet is missing, or rows moved: reported on their own
        if key not in found:
            changed.add(key)
            loaded.findings.append(
                error(
                    None,
                    None,
                    "name_changed",
                    "no such name",
                    _shown_target(expected),
                    f"The defined name '{name}' was deleted; formulas using it show #NAME?. "
                    f"Define it again as {_shown_target(expected)}.",
                )
            )
            continue
        actual = _parse_target(found[key])
        # A renamed sheet is reported on its own; renaming it back mends names still
        # pointing at the model's own sheet name.
        sheets = {expected[0].casefold(), _parse_target(target)[0].casefold()}  # type: ignore[index]
        if actual is None or actual[0].casefold() not in sheets or actual[1] != expected[1]:
            changed.add(key)
            loaded.findings.append(
                error(
                    None,
                    None,
                    "name_changed",
                    found[key],
                    _shown_target(expected),
                    f"The defined name '{name}' points to {found[key]} instead of "
                    f"{_shown_target(expected)}: every cell using it (the Dashboard among "
                    "them) shows another figure. Define it again as "
                    f"{_shown_target(expected)}.",
                )
            )
    _extra_names(loaded, reference, found)
    changed |= _sheet_names(loaded, reference)
    return changed


def _sheet_names(loaded: LoadedWorkbook, reference: Reference) -> set[str]:
    """Names defined on one sheet: inside it they win over the workbook's own names."""
    known = {name.upper() for name in reference.names}
    shadowing: set[str] = set()
    for worksheet in loaded.formulas.sheets.values():
        for name, target in worksheet.defined_names.items():
            key = str(name).upper()
            if key.startswith("_XLNM."):
                continue
            make = error if key in known else warning
            if key in known:
                shadowing.add(key)
            loaded.findings.append(
                make(
                    worksheet.title,
                    None,
                    "name_changed" if key in known else "name_added",
                    f"{name} = {shown(target)}",
                    "",
                    f"The sheet '{worksheet.title}' defines its own name '{name}'"
                    + (
                        ", which hides the model's name of the same spelling on that sheet: "
                        "its cells show another figure. Delete it (Formulas > Name Manager)."
                        if key in known
                        else ", which is not part of the model; no model formula should use it."
                    ),
                )
            )
    return shadowing


def _extra_names(loaded: LoadedWorkbook, reference: Reference, found: dict[str, str]) -> None:
    known = {name.upper() for name in reference.names}
    lambdas = _lambda_texts()
    for key, target in sorted(found.items()):
        if key in known or key.startswith("_XLNM."):
            continue
        if key in lambdas and _same_text(target, lambdas[key]):
            continue
        loaded.findings.append(
            warning(
                None,
                None,
                "name_added",
                f"{key} = {shown(target)}",
                "",
                f"The workbook defines the name '{key}', which is not part of the model; "
                "no model formula should use it.",
            )
        )


@functools.cache
def _lambda_texts() -> dict[str, str]:
    """Each business function's name (upper-cased) and the LAMBDA the generator defines it
    as, without "=": worked out once, not on every read."""
    return {name.upper(): lambda_formula(f).lstrip("=") for name, f in FUNCTIONS.items()}


def _same_text(left: str, right: str) -> bool:
    return left.replace(" ", "").upper() == right.replace(" ", "").upper()


def _workbook_names(loaded: LoadedWorkbook) -> dict[str, str]:
    """Workbook-level defined names, upper-cased, with their targets as written."""
    return {name.upper(): target for name, target in loaded.formulas.names.items()}


def _parse_target(text: str) -> tuple[str, str] | None:
    """(sheet, reference) of a ``Sheet!$A$1`` target, or None for anything else."""
    match = _TARGET.match(text.strip().lstrip("="))
    if not match:
        return None
    sheet = match.group(1).replace("''", "'") if match.group(1) else match.group(2)
    return sheet, match.group(3).upper()


def _as_found(loaded: LoadedWorkbook, target: str) -> tuple[str, str] | None:
    """The generator's target with its sheet under the name it has in the file."""
    parsed = _parse_target(target)
    if parsed is None:
        return None
    sheet = loaded.sheet_names.get(parsed[0])
    return None if sheet is None else (sheet, parsed[1])


def _shown_target(target: tuple[str, str]) -> str:
    return f"'{target[0]}'!{target[1]}"
