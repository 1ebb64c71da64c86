"""A worksheet that prepares formulas in one pass instead of thirty.

XlsxWriter's ``_prepare_formula`` runs one regular-expression substitution per
Excel 365 function name on every formula, though the generated formulas use
none of them: on the Sensitivity sheet that is most of the writing time. This
subclass checks once, with a single pattern matching whatever any of those
substitutions would touch, and hands the formula to XlsxWriter's own code
whenever that check fires, so the file is byte for byte what XlsxWriter writes.
"""

from __future__ import annotations

import re

from xlsxwriter.worksheet import Worksheet

# Every name XlsxWriter's dynamic-function substitutions look for, each followed by "(".
# SINGLE is matched after any non-space character, as XlsxWriter's own pattern does.
_DYNAMIC_NAMES = (
    "ANCHORARRAY",
    "BYCOL",
    "BYROW",
    "CHOOSECOLS",
    "CHOOSEROWS",
    "DROP",
    "EXPAND",
    "FILTER",
    "HSTACK",
    "LAMBDA",
    "MAKEARRAY",
    "MAP",
    "RANDARRAY",
    "REDUCE",
    "SCAN",
    "SEQUENCE",
    "SORT",
    "SORTBY",
    "SWITCH",
    "TAKE",
    "TEXTSPLIT",
    "TOCOL",
    "TOROW",
    "UNIQUE",
    "VSTACK",
    "WRAPCOLS",
    "WRAPROWS",
    "XLOOKUP",
)
_NEEDS_XLSXWRITER = re.compile(r"\b(?:" + "|".join(_DYNAMIC_NAMES) + r")\(|\SINGLE\(|_xlfn\.")


class FastWorksheet(Worksheet):
    """XlsxWriter's worksheet with a single-pass check before its formula rewriting."""

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        if (
            expand_future_functions
            or self.use_future_functions
            or _NEEDS_XLSXWRITER.search(formula)
        ):
            return super()._prepare_formula(formula, expand_future_functions)
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula
