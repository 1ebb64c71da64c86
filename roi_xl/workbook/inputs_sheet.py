"""The Inputs sheet: every assumption once, one column per scenario, a live column.

The live column picks the selected scenario with INDEX over a validated
selector cell, never with nested IFs.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.worksheet import Worksheet

from roi_xl.model.template import SCENARIOS, Input
from roi_xl.workbook.context import Context
from roi_xl.workbook.layout import (
    HEADER_ROW,
    INPUT_KEY_COL,
    LABEL_COL,
    LIVE_COL,
    MAX_COL,
    MIN_COL,
    NOTE_COL,
    SCENARIO_COLS,
    SELECTOR_INDEX_ROW,
    SELECTOR_ROW,
    UNIT_COL,
    VALUE_COL,
    cell,
)
from roi_xl.workbook.per_layout import layout_once, validate
from roi_xl.workbook.printing import wrapped_height
from roi_xl.workbook.wording import range_text, shorten
from roi_xl.workbook.worksheet import ReferenceWorksheet

NOTE_WIDTH = 48  # notes wrap in a column a printed page can hold


def write_inputs(ctx: Context) -> None:
    ws = ctx.sheet(ctx.layout.inputs)
    s, t = ctx.styles, ctx.locale
    ws.set_column(LABEL_COL, LABEL_COL, 52)
    ws.set_column(UNIT_COL, UNIT_COL, 10)
    ws.set_column(SCENARIO_COLS["prudent"], LIVE_COL, 13)
    ws.set_column(MIN_COL, MAX_COL, 12)
    ws.set_column(INPUT_KEY_COL, INPUT_KEY_COL, 20)
    ws.set_column(NOTE_COL, NOTE_COL, NOTE_WIDTH)
    ctx.heading(ws, "inputs")
    _write_selector(ctx)
    headers = [
        t["label"],
        t["unit"],
        *(ctx.locale.scenarios[x] for x in SCENARIOS),
        t["live"],
        t["minimum"],
        t["maximum"],
        t["key"],
        t["note"],
    ]
    ctx.headers(ws, HEADER_ROW, headers)
    for section, row in ctx.layout.input_section_rows.items():
        ws.merge_range(row, LABEL_COL, row, NOTE_COL, ctx.locale.section(section), s.get("section"))
    for item in ctx.template.inputs:
        _write_input_row(ctx, ws, item)
    ws.freeze_panes(HEADER_ROW + 1, UNIT_COL + 1)
    ctx.print_setup(ws, (HEADER_ROW, HEADER_ROW))
    ctx.protect(ws)


def _write_selector(ctx: Context) -> None:
    ws = ctx.sheet(ctx.layout.inputs)
    s, t = ctx.styles, ctx.locale
    names = [ctx.locale.scenarios[x] for x in SCENARIOS]
    ws._write_string(SELECTOR_ROW, LABEL_COL, t["selector"], s.get("label_bold"))
    ws._write_string(
        SELECTOR_ROW, VALUE_COL, ctx.locale.scenarios[ctx.values.selected], s.get("input")
    )
    ws._write_string(SELECTOR_ROW, VALUE_COL + 1, t["selector_help"], s.get("note"))
    ws.data_validation(
        SELECTOR_ROW,
        VALUE_COL,
        SELECTOR_ROW,
        VALUE_COL,
        {
            "validate": "list",
            "source": names,
            "input_title": shorten(t["selector"]),
            "input_message": t["selector_help"][:255],
            "error_title": shorten(t["selector"]),
            "error_message": " / ".join(names),
        },
    )
    header_range = (
        cell(HEADER_ROW, SCENARIO_COLS["prudent"], True, True)
        + ":"
        + cell(HEADER_ROW, SCENARIO_COLS["optimistic"], True, True)
    )
    ws._write_string(SELECTOR_INDEX_ROW, LABEL_COL, t["selector_index"], s.get("label"))
    ctx.formula(
        ws,
        SELECTOR_INDEX_ROW,
        VALUE_COL,
        f"MATCH({ctx.layout.selector_cell},{header_range},0)",
        s.get("formula"),
        float(SCENARIOS.index(ctx.values.selected) + 1),
    )
    ctx.define_name("scenario_selected", f"='{ctx.layout.inputs}'!{ctx.layout.selector_cell}")
    ctx.define_name("scenario_index", f"='{ctx.layout.inputs}'!{ctx.layout.selector_index_cell}")


@dataclass(frozen=True)
class _InputLine:
    """An input's row as every workbook of a template, locale and layout has it: all but
    the numbers typed and the live value."""

    row: int
    label: str
    unit: str
    number_format: str  # from the template's default, never from the values typed
    live: str  # the live column's formula
    note: str
    height: float | None
    validation: dict[str, object]
    name: str  # the defined name of the live cell, and what it refers to
    target: str


def _input_line(ctx: Context, item: Input) -> _InputLine:
    row = ctx.layout.input_rows[item.key]
    first = cell(row, SCENARIO_COLS["prudent"])
    last = cell(row, SCENARIO_COLS["optimistic"])
    note = _note_text(ctx, item)
    return _InputLine(
        row=row,
        label=item.label[ctx.language],
        unit=ctx.locale.unit(item.unit),
        number_format=ctx.styles.format_for(item.kind, item.defaults["realistic"]),
        # Row 1 spelled out: a one-row INDEX with one index is #REF! in Gnumeric.
        live=f"INDEX({first}:{last},1,{ctx.layout.selector_index_cell})",
        note=note,
        height=wrapped_height(note, NOTE_WIDTH),
        validation=_validation(ctx, item),
        name=f"in_{item.key}",
        target=f"='{ctx.layout.inputs}'!{cell(row, LIVE_COL, True, True)}",
    )


def _write_input_row(ctx: Context, ws: Worksheet, item: Input) -> None:
    s, values = ctx.styles, ctx.values
    line = layout_once(ctx, ("input line", item.key), lambda: _input_line(ctx, item))
    row, number_format = line.row, line.number_format
    ws._write_string(row, LABEL_COL, line.label, s.get("label"))
    ws._write_string(row, UNIT_COL, line.unit, s.get("unit"))
    style = s.get("input", number_format)
    for scenario, col in SCENARIO_COLS.items():
        ws._write_number(row, col, values.inputs[scenario][item.key], style)
    ctx.formula(
        ws,
        row,
        LIVE_COL,
        line.live,
        s.get("formula_bold", number_format),
        values.live_inputs[item.key],
    )
    style = s.get("unit", number_format)
    ws._write_number(row, MIN_COL, item.minimum, style)
    ws._write_number(row, MAX_COL, item.maximum, style)
    # A reference holds a text cell's place and format, no text, height or validation.
    reference = isinstance(ws, ReferenceWorksheet)
    ws._write_string(row, NOTE_COL, "" if reference else line.note, s.get("note_wrap"))
    if not reference:
        ws.set_row(row, line.height)
    ws._write_string(row, INPUT_KEY_COL, item.key, s.get("key"))
    if not reference:
        validate(
            ws, row, SCENARIO_COLS["prudent"], row, SCENARIO_COLS["optimistic"], line.validation
        )
    ctx.define_name(line.name, line.target)


def _validation(ctx: Context, item: Input) -> dict:
    """Type and range, with an input message saying what to type and why."""
    shown = range_text(item.minimum, item.maximum, item.kind, item.unit, ctx.locale)
    message = f"{shown}. {item.note('realistic', ctx.language)}"
    title = shorten(item.label[ctx.language])
    return {
        "validate": "integer" if item.integer else "decimal",
        "criteria": "between",
        "minimum": item.minimum,
        "maximum": item.maximum,
        "input_title": title,
        "input_message": message[:255],
        "error_title": title,
        "error_message": shown[:255],
    }


def _note_text(ctx: Context, item: Input) -> str:
    notes = {s: item.note(s, ctx.language) for s in SCENARIOS}
    if len(set(notes.values())) == 1:
        return notes["realistic"]
    colon = ctx.locale["colon"]
    return " | ".join(f"{ctx.locale.scenarios[s]}{colon}{notes[s]}" for s in SCENARIOS)
