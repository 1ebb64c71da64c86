"""The monthly tabs sales leads fill, identical in structure, one per month.

A blank figure stays blank: every ratio and check over it shows "" (or 0 for
a check) until the figures it needs are typed, so empty months never read as
zeros in the Actuals sheet or the charts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xlsxwriter.worksheet import Worksheet

from roi_xl.model import expr
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import MonthlyCheck, MonthlyField, MonthlyKpi
from roi_xl.workbook.context import Context, made_once
from roi_xl.workbook.layout import (
    HEATMAP_FIRST_COL,
    HEATMAP_LABEL_COL,
    HOURS,
    LABEL_COL,
    MONTH_ACTUAL_COL,
    MONTH_COMMENT_COL,
    MONTH_FIRST_ROW,
    MONTH_KEY_COL,
    MONTH_PLAN_COL,
    UNIT_COL,
    WEEKDAYS,
    cell,
)
from roi_xl.workbook.per_layout import conditionals, layout_once, validate
from roi_xl.workbook.printing import print_areas
from roi_xl.workbook.values import COMPLETE, MonthValues
from roi_xl.workbook.wording import shorten
from roi_xl.workbook.worksheet import FastWorksheet

MONTH_NAMES = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
}


def month_title(date: dt.date, language: str) -> str:
    return f"{MONTH_NAMES[language][date.month - 1]} {date.year}"


def titled(lead: str, month: str) -> str:
    """The lead-in and the month; French elides "de" before a vowel: "Réalisé d'avril 2026"."""
    if lead.endswith(" de") and month[:1].lower() in "aeiouéèê":
        return f"{lead[:-1]}'{month}"
    return f"{lead} {month}"


def guarded_formula(node: expr.Node, local_refs: dict[str, str], live_refs: dict[str, str]) -> str:
    """IF(any month figure used is blank, "", formula): blanks are not zeros."""
    refs = {**live_refs, **local_refs}
    body = expr.to_excel(node, refs, FUNCTIONS)
    used = sorted(name for name in expr.names(node) if name in local_refs)
    if not used:
        return body
    blanks = ",".join(f'{local_refs[name]}=""' for name in used)
    return f'IF(OR({blanks}),"",{body})'


def check_formula(
    check: MonthlyCheck, local_refs: dict[str, str], live_refs: dict[str, str]
) -> str:
    """0 when the rule holds or a figure is blank, 1 when it is broken."""
    refs = {**live_refs, **local_refs}
    rule = expr.to_excel(check.node, refs, FUNCTIONS)
    used = sorted(name for name in expr.names(check.node) if name in local_refs)
    blanks = ",".join(f'{local_refs[name]}=""' for name in used)
    return f"IF(OR({blanks}),0,IF({rule},0,1))"


def column_refs(ctx: Context, col: int, rows: dict[str, int]) -> dict[str, str]:
    """Month figures and KPIs of one column, relative so rows copy across columns."""
    return {key: cell(row, col) for key, row in rows.items()}


def write_month(ctx: Context, index: int) -> None:
    layout = ctx.layout
    ws = ctx.sheet(layout.month_sheets[index])
    s, t = ctx.styles, ctx.locale
    month = ctx.values.months[index]
    monthly = ctx.template.monthly
    frame = _frame(ctx)
    ws.set_column(LABEL_COL, LABEL_COL, 46)
    ws.set_column(UNIT_COL, UNIT_COL, 10)
    ws.set_column(MONTH_ACTUAL_COL, MONTH_PLAN_COL, 15)
    ws.set_column(MONTH_COMMENT_COL, MONTH_COMMENT_COL, 40)
    ws.set_column(MONTH_KEY_COL, MONTH_KEY_COL, 22)
    date = layout.months[index]
    ws._write_string(
        0, 0, titled(t["month_title"], month_title(date, ctx.language)), s.get("title")
    )
    ws.write_datetime(
        0, MONTH_ACTUAL_COL, dt.datetime(date.year, date.month, 1), s.get("label", "date")
    )
    _write_texts(ctx, ws, frame)
    _write_complete(ctx, ws, month, frame)
    plan_values = ctx.values.plans
    for item, field in zip(monthly.fields, frame.fields, strict=True):
        row = field.row
        fmt = "count" if field.counted else s.format_for(item.kind, plan_values[item.key])
        value = month.fields[item.key]
        if value is None:
            ws._write_blank(row, MONTH_ACTUAL_COL, None, s.get("input", fmt))
        else:
            ws._write_number(row, MONTH_ACTUAL_COL, value, s.get("input", fmt))
        validate(ws, row, MONTH_ACTUAL_COL, row, MONTH_ACTUAL_COL, field.validation)
        if field.plan is not None:
            ctx.formula(
                ws, row, MONTH_PLAN_COL, field.plan, s.get("formula", fmt), plan_values[item.key]
            )
    _write_kpis(ctx, ws, month, frame)
    _write_checks(ctx, ws, month, frame)
    if monthly.heatmap:
        _write_heatmap(ctx, ws, month)
    ws.freeze_panes(MONTH_FIRST_ROW, UNIT_COL + 1)
    ctx.print_setup(ws, (MONTH_FIRST_ROW - 1, MONTH_FIRST_ROW - 1))
    rows = layout.monthly
    if monthly.heatmap:
        first = rows.heatmap_first_row
        assert first is not None and rows.heatmap_check_row is not None
        print_areas(
            ws,
            [
                (0, LABEL_COL, rows.heatmap_check_row, MONTH_KEY_COL),
                (first - 2, HEATMAP_LABEL_COL, first + WEEKDAYS - 1, HEATMAP_FIRST_COL + HOURS - 1),
            ],
        )
    ctx.protect(ws)


def _write_complete(ctx: Context, ws, month: MonthValues, frame: _Frame) -> None:
    """The cell the sales lead sets once every figure of the month is in: until then the
    month shows on the Actuals sheet but stays out of the year to date and plan to date."""
    row = ctx.layout.monthly.complete_row
    style = ctx.styles.get("input", "yes_no")
    if month.complete is None:
        ws._write_blank(row, MONTH_ACTUAL_COL, None, style)
    else:
        ws._write_number(row, MONTH_ACTUAL_COL, month.complete, style)
    validate(ws, row, MONTH_ACTUAL_COL, row, MONTH_ACTUAL_COL, frame.complete)


def _write_kpis(ctx: Context, ws, month: MonthValues, frame: _Frame) -> None:
    s = ctx.styles
    plan_kpis = ctx.values.plan_kpis
    for kpi, line in zip(ctx.template.monthly.kpis, frame.kpis, strict=True):
        row = line.row
        style = s.get("formula", s.format_for(kpi.kind, plan_kpis[kpi.key]))
        ctx.formula(ws, row, MONTH_ACTUAL_COL, line.actual, style, month.kpis[kpi.key])
        ctx.formula(ws, row, MONTH_PLAN_COL, line.plan, style, plan_kpis[kpi.key])


def _write_checks(ctx: Context, ws, month: MonthValues, frame: _Frame) -> None:
    s = ctx.styles
    check_rows = _check_rows(ctx)
    if not check_rows:
        return
    for check in ctx.template.monthly.checks:
        row = check_rows[check.key]
        ctx.formula(
            ws,
            row,
            MONTH_ACTUAL_COL,
            frame.checks[check.key],
            s.get("check"),
            month.checks[check.key],
        )
    cells = [(row, MONTH_ACTUAL_COL, row, MONTH_ACTUAL_COL) for row in check_rows.values()]
    conditionals(ws, cells, s.conditional_check())


def _check_rows(ctx: Context) -> dict[str, int]:
    """The rows of the tab's checks, the heatmap's last."""
    rows = ctx.layout.monthly
    check_rows = dict(rows.check_rows)
    if rows.heatmap_check_row is not None:
        check_rows["heatmap"] = rows.heatmap_check_row
    return check_rows


@dataclass(frozen=True)
class _Texts:
    """A tab's texts and empty comment cells as the first tab of a workbook stored them:
    every other tab of the workbook holds the very same cells."""

    # In the order written: (row, column, the cell XlsxWriter stored, what the sheet listed
    # in its ``text_cells`` for it), or a section's merge.
    items: list[tuple[object, ...]]
    strings: int  # how many of them are shared strings
    corners: tuple[int, int, int, int]  # first row and column, last row and column


# The string writers whose every effect the tabs' texts reproduce: XlsxWriter's own, and
# FastWorksheet's, which also lists each text cell in the sheet's ``text_cells``.
_PLAIN_STRINGS = (Worksheet._write_string, FastWorksheet._write_string)


def _write_texts(ctx: Context, ws: Worksheet, frame: _Frame) -> None:
    """The tab's help line, labels, units, keys, headers, section titles and comment cells,
    in the order a tab has always written them (strings are numbered as first met). The
    first tab of a workbook writes them; the others put in the cells it stored, in the
    same order, list them as text cells as it did, and count their strings as XlsxWriter
    would have."""
    ws.set_row(MONTH_FIRST_ROW - 1, 30)  # the headers', as ``Context.headers`` sets it
    plain = (
        type(ws)._write_string in _PLAIN_STRINGS
        and type(ws)._write_blank is Worksheet._write_blank
        and not ws.constant_memory
    )
    listed = getattr(ws, "text_cells", None)
    kept = ctx.kept.get("month texts")
    if plain and isinstance(kept, _Texts):
        table = ws.table
        for item in kept.items:
            if len(item) == 4:
                table[item[0]][item[1]] = item[2]
                if item[3] and listed is not None:
                    listed += item[3]
            else:
                ws.merge_range(*item)
        ws.str_table.count += kept.strings
        first_row, first_col, last_row, last_col = kept.corners
        ws._check_dimensions(first_row, first_col)
        ws._check_dimensions(last_row, last_col)
        return
    items: list[tuple[object, ...]] = []
    rows: list[int] = []
    cols: list[int] = []
    strings = 0
    for op in _text_ops(ctx, frame):
        if len(op) == 6:
            ws.merge_range(*op)
            items.append(op)
            continue
        row, col, text, style = op
        before = len(listed) if listed is not None else 0
        if text is None:
            ws._write_blank(row, col, None, style)
        else:
            ws._write_string(row, col, text, style)
            strings += 1
        added = tuple(listed[before:]) if listed is not None else ()
        items.append((row, col, ws.table[row][col], added))
        rows.append(row)
        cols.append(col)
    if plain and rows:
        corners = (min(rows), min(cols), max(rows), max(cols))
        ctx.kept["month texts"] = _Texts(items, strings, corners)


def _text_ops(ctx: Context, frame: _Frame) -> list[tuple[object, ...]]:
    """What ``_write_texts`` writes, in order: (row, column, text or None for an empty
    cell, format), or a section's merge (its range, title and format)."""
    s, t = ctx.styles, ctx.locale
    rows = ctx.layout.monthly
    label, unit, key = s.get("label"), s.get("unit"), s.get("key")
    row = rows.complete_row
    ops: list[tuple[object, ...]] = [
        (1, 0, t["month_help"], s.get("subtitle")),
        (row, LABEL_COL, t["month_complete"], s.get("label_bold")),
        (row, MONTH_PLAN_COL, t["month_complete_hint"], s.get("hint")),
        (row, MONTH_KEY_COL, COMPLETE, key),
    ]
    header = s.get("header")
    ops += [(MONTH_FIRST_ROW - 1, col, text, header) for col, text in enumerate(frame.headers)]
    comment = s.get("input")
    for item, field in zip(ctx.template.monthly.fields, frame.fields, strict=True):
        ops += [
            (field.row, LABEL_COL, field.label, label),
            (field.row, UNIT_COL, field.unit, unit),
            (field.row, MONTH_COMMENT_COL, None, comment),
            (field.row, MONTH_KEY_COL, item.key, key),
        ]
    first = min(rows.kpi_rows.values(), default=None)
    if first is not None:
        ops.append((first - 1, LABEL_COL, first - 1, MONTH_KEY_COL, t["kpis"], s.get("section")))
        for kpi, line in zip(ctx.template.monthly.kpis, frame.kpis, strict=True):
            ops += [
                (line.row, LABEL_COL, line.label, label),
                (line.row, UNIT_COL, line.unit, unit),
                (line.row, MONTH_KEY_COL, kpi.key, key),
            ]
    check_rows = _check_rows(ctx)
    if check_rows:
        first = min(check_rows.values())
        section = s.get("section")
        ops.append((first - 1, LABEL_COL, first - 1, MONTH_KEY_COL, t["month_checks"], section))
        for check in ctx.template.monthly.checks:
            row = check_rows[check.key]
            ops += [
                (row, LABEL_COL, check.label[ctx.language], s.get("label")),
                (row, MONTH_KEY_COL, check.key, key),
            ]
    return ops


@dataclass(frozen=True)
class _Field:
    """A month figure's line, as every tab of a layout has it."""

    row: int
    label: str
    unit: str
    counted: bool  # people type whole numbers of calls, meetings, deals
    validation: dict[str, object]
    plan: str | None


@dataclass(frozen=True)
class _Kpi:
    row: int
    label: str
    unit: str
    actual: str  # the formulas of its two columns
    plan: str


@dataclass(frozen=True)
class _Frame:
    """What every month's tab of a template, locale and layout holds alike: texts,
    validations and formulas; a tab adds its month, its numbers and their formats."""

    headers: list[str]
    complete: dict[str, object]
    fields: list[_Field]
    kpis: list[_Kpi]
    checks: dict[str, str]


def _frame(ctx: Context) -> _Frame:
    """The tabs' frame, made once for all the tabs of a template, locale and layout."""
    return layout_once(ctx, "monthly frame", lambda: _made_frame(ctx))


def _made_frame(ctx: Context) -> _Frame:
    t, language = ctx.locale, ctx.language
    monthly, rows = ctx.template.monthly, ctx.layout.monthly
    fields = []
    for item in monthly.fields:
        counted = item.kind == "count"
        unit = t.unit(item.unit)
        rule = t["count_message" if counted else "figure_message"].format(unit=unit)
        definition = item.help[language] + " " if item.help else ""
        validation: dict[str, object] = {
            "validate": "integer" if counted else "decimal",
            "criteria": ">=",
            "value": 0,
            "input_title": shorten(item.label[language]),
            "input_message": (definition + rule)[:255],
            "error_title": shorten(item.label[language]),
            "error_message": rule[:255],
        }
        plan = _plan_formula(ctx, item) if item.plan is not None else None
        row = rows.field_rows[item.key]
        fields.append(_Field(row, item.label[language], unit, counted, validation, plan))
    return _Frame(
        headers=[t["label"], t["unit"], t["value"], t["plan"], t["comment"], t["key"]],
        complete={
            "validate": "integer",
            "criteria": "between",
            "minimum": 0,
            "maximum": 1,
            "input_title": shorten(t["month_complete"]),
            "input_message": t["month_complete_message"][:255],
            "error_title": shorten(t["month_complete"]),
            "error_message": t["month_complete_message"][:255],
        },
        fields=fields,
        kpis=[
            _Kpi(
                rows.kpi_rows[kpi.key],
                kpi.label[language],
                t.unit(kpi.unit),
                _kpi_formula(ctx, kpi, MONTH_ACTUAL_COL),
                _kpi_formula(ctx, kpi, MONTH_PLAN_COL),
            )
            for kpi in monthly.kpis
        ],
        checks={check.key: _check_formula(ctx, check) for check in monthly.checks},
    )


def _plan_formula(ctx: Context, item: MonthlyField) -> str:
    """A figure's plan, the same in every month's tab and every workbook of a layout."""
    return made_once(
        ctx,
        ("month plan", item.key),
        lambda: expr.to_excel(item.plan, ctx.layout.live_refs(), FUNCTIONS),  # type: ignore[arg-type]
    )


def _kpi_formula(ctx: Context, kpi: MonthlyKpi, col: int) -> str:
    """A KPI of one column, the same in every month's tab and every workbook of a layout."""

    def make() -> str:
        rows = ctx.layout.monthly
        local = column_refs(ctx, col, {**rows.field_rows, **rows.kpi_rows})
        return guarded_formula(kpi.node, local, ctx.layout.live_refs())

    return made_once(ctx, ("month kpi", kpi.key, col), make)


def _check_formula(ctx: Context, check: MonthlyCheck) -> str:
    """A month's check, the same in every month's tab and every workbook of a layout."""

    def make() -> str:
        rows = ctx.layout.monthly
        local = column_refs(ctx, MONTH_ACTUAL_COL, {**rows.field_rows, **rows.kpi_rows})
        return check_formula(check, local, ctx.layout.live_refs())

    return made_once(ctx, ("month check", check.key), make)


def heatmap_range(ctx: Context) -> str:
    first = ctx.layout.monthly.heatmap_first_row
    assert first is not None
    last = cell(first + WEEKDAYS - 1, HEATMAP_FIRST_COL + HOURS - 1)
    return f"{cell(first, HEATMAP_FIRST_COL)}:{last}"


def _write_heatmap(ctx: Context, ws, month: MonthValues) -> None:
    s, t = ctx.styles, ctx.locale
    rows = ctx.layout.monthly
    first = rows.heatmap_first_row
    assert first is not None and rows.heatmap_check_row is not None
    missed = cell(rows.field_rows["calls_missed"], MONTH_ACTUAL_COL)
    grid = heatmap_range(ctx)
    ws._write_string(rows.heatmap_check_row, LABEL_COL, t["check_heatmap"], s.get("label"))
    ctx.formula(
        ws,
        rows.heatmap_check_row,
        MONTH_ACTUAL_COL,
        f"IF(COUNT({grid})=0,0,IF(SUM({grid})={missed},0,1))",
        s.get("check"),
        month.heatmap_check,
    )
    ws._write_string(rows.heatmap_check_row, MONTH_KEY_COL, "heatmap", s.get("key"))
    title_row = first - 2
    ws.set_column(HEATMAP_LABEL_COL, HEATMAP_LABEL_COL, 11)
    ws.set_column(HEATMAP_FIRST_COL, HEATMAP_FIRST_COL + HOURS - 1, 4.5)
    ws._write_string(title_row, HEATMAP_LABEL_COL, t["heatmap_title"], s.get("label_bold"))
    ws._write_string(title_row + 1, HEATMAP_LABEL_COL, t["heatmap_help"], s.get("note"))
    for hour in range(HOURS):
        ws._write_number(first - 1, HEATMAP_FIRST_COL + hour, hour, s.get("header"))
    for day in range(WEEKDAYS):
        ws._write_string(first + day, HEATMAP_LABEL_COL, t["weekdays"][day], s.get("label"))
        for hour in range(HOURS):
            value = month.heatmap[day][hour] if month.heatmap else None
            style = s.get("input", "count")
            if value is None:
                ws._write_blank(first + day, HEATMAP_FIRST_COL + hour, None, style)
            else:
                ws._write_number(first + day, HEATMAP_FIRST_COL + hour, value, style)
    ws.data_validation(
        first,
        HEATMAP_FIRST_COL,
        first + WEEKDAYS - 1,
        HEATMAP_FIRST_COL + HOURS - 1,
        {
            "validate": "integer",
            "criteria": ">=",
            "value": 0,
            "input_title": shorten(t["heatmap_title"]),
            "input_message": t["heatmap_help"][:255],
        },
    )
