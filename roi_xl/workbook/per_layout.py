"""What every workbook of a template, locale and layout holds alike, made once.

A batch writes many workbooks of one template, locale and period, and a workbook writes
twelve or more monthly tabs alike: their texts, formulas, data validations and cell rules
are made for the first and reused by the others, each exactly as it was made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from roi_xl.workbook.context import Context

T = TypeVar("T")

# What the sheets of the last template, locale and layout met keep (each held, so that their
# ids name them), by what it is: formulas and labels made once for all its workbooks.
_LAYOUT_TEXTS: dict[str, tuple[object, object, str, dict[object, Any]]] = {}


def layout_once(ctx: Context, what: object, make: Callable[[], T]) -> T:
    """``make()``, made once for the workbooks of a template, locale and layout (a batch's
    rows, or the sheets of one workbook), ``what`` saying which."""
    kept = _LAYOUT_TEXTS.get("layout")
    if (
        kept is None
        or kept[0] is not ctx.template
        or kept[1] is not ctx.layout
        or kept[2] != ctx.locale.code
    ):
        kept = _LAYOUT_TEXTS["layout"] = (ctx.template, ctx.layout, ctx.locale.code, {})
    made = kept[3]
    if what not in made:
        made[what] = make()
    return made[what]


# Data validations as XlsxWriter stores them, by their range and options (each value with
# its type: 0, 0.0 and False are written apart): the same on every tab and every workbook.
_VALIDATIONS: dict[tuple[object, ...], dict[str, object]] = {}
_VALIDATIONS_KEPT = 1_024


def validate(
    ws: Worksheet, row: int, col: int, last_row: int, last_col: int, options: dict[str, object]
) -> None:
    """``ws.data_validation``, its checks and rewriting of the options done once for equal
    ranges and options."""
    key = (
        row,
        col,
        last_row,
        last_col,
        ws.date_1904,
        tuple((name, type(value), value) for name, value in options.items()),
    )
    kept = _VALIDATIONS.get(key)
    if kept is not None:
        ws.validations.append({**kept, "cells": [list(cells) for cells in kept["cells"]]})
        return
    before = len(ws.validations)
    ws.data_validation(row, col, last_row, last_col, options)
    if len(ws.validations) == before + 1:  # stored: what its options became
        if len(_VALIDATIONS) >= _VALIDATIONS_KEPT:
            _VALIDATIONS.clear()
        stored = ws.validations[-1]
        _VALIDATIONS[key] = {**stored, "cells": [list(cells) for cells in stored["cells"]]}


# Cell rules as XlsxWriter stores them, by their cell and options (a format by its identity,
# held here so that no other takes its id): the same on every tab of a workbook.
_RULES: dict[tuple[object, ...], tuple[dict[str, object], object]] = {}
_RULES_KEPT = 256


def conditional_cell(ws: Worksheet, row: int, col: int, rule: dict[str, object]) -> None:
    """``ws.conditional_format`` of a cell rule on one cell, its checks and rewriting of
    the options done once for equal cells and options; each rule still takes the sheet's
    next priority, as XlsxWriter gives it."""
    if rule.get("type") != "cell" or ws.use_data_bars_2010:
        ws.conditional_format(row, col, row, col, rule)
        return
    key = (row, col, tuple((name, type(value), id(value)) for name, value in rule.items()))
    kept = _RULES.get(key)
    if kept is not None and all(kept[1][name] is value for name, value in rule.items()):
        stored = {**kept[0], "priority": ws.dxf_priority}
        ws.dxf_priority += 1
        ws.cond_formats.setdefault(xl_rowcol_to_cell(row, col), []).append(stored)
        return
    cell_range = xl_rowcol_to_cell(row, col)
    before = len(ws.cond_formats.get(cell_range, ()))
    ws.conditional_format(row, col, row, col, rule)
    if len(ws.cond_formats.get(cell_range, ())) == before + 1:
        if len(_RULES) >= _RULES_KEPT:
            _RULES.clear()
        _RULES[key] = (dict(ws.cond_formats[cell_range][-1]), dict(rule))
