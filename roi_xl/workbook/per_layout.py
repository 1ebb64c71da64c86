"""What every workbook of a template, locale and layout holds alike, made once.

A batch writes many workbooks of one template, locale and period, and a workbook writes
twelve or more monthly tabs alike: their texts, formulas, data validations and cell rules
are made for the first and reused by the others, each exactly as it was made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from xlsxwriter.utility import xl_range
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


# Conditional formats as XlsxWriter stores them, by their options (a plain value with its
# type, anything else, a format, by its identity, held here so that no other takes its id),
# a formula rule's formula aside: the same on every tab and every variance line of a sheet.
_RULES: dict[tuple[object, ...], tuple[dict[str, object], dict[str, object]]] = {}
_RULES_KEPT = 512
# Rules XlsxWriter stores from their options alone, whatever their range.
_KEPT_TYPES = frozenset({"cell", "formula"})
_PLAIN = frozenset({str, int, bool, type(None)})
_FORMULA = ("criteria", str, None)  # a formula rule's formula, in its key


def conditional(
    ws: Worksheet,
    first_row: int,
    first_col: int,
    last_row: int,
    last_col: int,
    rule: dict[str, object],
) -> None:
    """``ws.conditional_format`` of a cell or formula rule, its checks and rewriting of the
    options done once for equal options (a formula rule's own formula put in its place);
    each rule still takes the sheet's next priority, as XlsxWriter gives it."""
    if (
        rule.get("type") not in _KEPT_TYPES
        or ws.use_data_bars_2010
        or "multi_range" in rule
        or first_row > last_row
        or first_col > last_col
        or ws._check_dimensions(first_row, first_col, True, True)
        or ws._check_dimensions(last_row, last_col, True, True)
        or type(ws).conditional_format is not Worksheet.conditional_format  # a reference's
    ):
        ws.conditional_format(first_row, first_col, last_row, last_col, rule)
        return
    formula = rule["type"] == "formula" and type(rule.get("criteria")) is str
    key = tuple(
        _FORMULA if formula and item[0] == "criteria" else _part(item) for item in rule.items()
    )
    cell_range = xl_range(first_row, first_col, last_row, last_col)
    kept = _RULES.get(key)  # an id in the key names the very object: the entry holds it
    if kept is not None:
        stored = {**kept[0], "priority": ws.dxf_priority}
        if formula:
            stored["criteria"] = rule["criteria"]
        ws.dxf_priority += 1
        ws.cond_formats.setdefault(cell_range, []).append(stored)
        return
    before = len(ws.cond_formats.get(cell_range, ()))
    ws.conditional_format(first_row, first_col, last_row, last_col, rule)
    if len(ws.cond_formats.get(cell_range, ())) != before + 1:
        return
    stored = ws.cond_formats[cell_range][-1]
    if formula and stored.get("criteria") is not rule["criteria"]:
        return  # XlsxWriter read the formula as a criterion's name: not kept
    if len(_RULES) >= _RULES_KEPT:
        _RULES.clear()
    _RULES[key] = (dict(stored), dict(rule))


# A sheet's whole set of rules, as XlsxWriter stores them, by their ranges and options (as
# in ``_RULES``): the same on every monthly tab of a workbook.
_RULE_SETS: dict[tuple[object, ...], tuple[list[tuple[str, dict[str, object]]], object]] = {}
_RULE_SETS_KEPT = 64


def conditionals(
    ws: Worksheet, ranges: Sequence[tuple[int, int, int, int]], rules: Sequence[dict[str, object]]
) -> None:
    """``conditional`` of each of ``rules`` on each of ``ranges`` in turn, done once for
    equal ranges and rules; each rule still takes the sheet's next priority."""
    if type(ws).conditional_format is not Worksheet.conditional_format or ws.use_data_bars_2010:
        for cells in ranges:
            for rule in rules:
                conditional(ws, *cells, rule)
        return
    key = (tuple(ranges), *(tuple(map(_part, rule.items())) for rule in rules))
    kept = _RULE_SETS.get(key)  # an id in the key names the very object: the entry holds it
    if kept is not None:
        formats = ws.cond_formats
        for cell_range, stored in kept[0]:
            formats.setdefault(cell_range, []).append({**stored, "priority": ws.dxf_priority})
            ws.dxf_priority += 1
        return
    added = []
    for cells in ranges:
        cell_range = xl_range(*cells)
        for rule in rules:
            before = len(ws.cond_formats.get(cell_range, ()))
            conditional(ws, *cells, rule)
            if len(ws.cond_formats.get(cell_range, ())) != before + 1:
                return  # refused, or stored under another range: not kept
            added.append((cell_range, dict(ws.cond_formats[cell_range][-1])))
    if len(_RULE_SETS) >= _RULE_SETS_KEPT:
        _RULE_SETS.clear()
    _RULE_SETS[key] = (added, [dict(rule) for rule in rules])


def _part(item: tuple[str, object]) -> tuple[object, ...]:
    """An option as a key: a plain value with its type (0, 0.0 and False are written apart;
    a float by its text, as -0.0 is), anything else by its identity."""
    name, value = item
    kind = type(value)
    if kind in _PLAIN:
        return (name, kind, value)
    if kind is float:
        return (name, kind, repr(value))
    return (name, kind, id(value))
