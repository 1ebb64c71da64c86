"""The Sensitivity sheet: what moves the headline ROI most, and where it breaks even.

Every ROI on this sheet is the headline formula written out from the
template's definition with one input replaced: by a flexed value (the
tornado) or by a break-even candidate (the solver). Nothing is pasted as a
number: change an input and the whole sheet follows, in Excel as in
LibreOffice.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from roi_xl.decide.sensitivity import MOVES, SORT_DIGITS, STEPS, sort_keys
from roi_xl.model import engine, expr
from roi_xl.model.engine import Value
from roi_xl.model.excel_errors import ExcelError
from roi_xl.workbook import chart_text
from roi_xl.workbook.break_even_block import write_break_even, write_solver
from roi_xl.workbook.cell_program import CellProgram, Column, evaluate_each
from roi_xl.workbook.context import Context
from roi_xl.workbook.layout import cell
from roi_xl.workbook.per_layout import layout_once
from roi_xl.workbook.printing import print_areas
from roi_xl.workbook.sensitivity_cells import (
    input_format,
    metric_format,
    section,
    sensitivity_program,
    write_arranging_formula,
    write_cell,
)
from roi_xl.workbook.sensitivity_layout import (
    BASE,
    FIRST_MOVE,
    FIRST_RESULT,
    HIGHEST,
    LABEL,
    LOWEST,
    MOVE_KEY,
    POSITION,
    RANK,
    SORT_KEY,
    SORTED_HIGH,
    SORTED_LABEL,
    SORTED_LOW,
    SWING,
    TODAY,
    TORNADO_CHART_COL,
    UNIT,
    SensitivityLayout,
)
from roi_xl.workbook.worksheet import ReferenceWorksheet


def write_sensitivity(ctx: Context) -> dict[str, Value | str]:
    """Write the sheet; return each key driver's break-even as shown, for the Dashboard."""
    ws = ctx.sheet(ctx.layout.sensitivity)
    plan = ctx.layout.sensitivity_rows
    program = sensitivity_program(ctx)
    ws.set_column(LABEL, LABEL, 35)
    ws.set_column(UNIT, UNIT, 7)
    ws.set_column(TODAY, MOVE_KEY - 1, 9)
    ws.set_column(MOVE_KEY, MOVE_KEY, 22)
    ctx.heading(ws, "sensitivity")
    ws._write_string(2, 0, ctx.locale["sensitivity_help_2"], ctx.styles.get("subtitle"))
    write_solver(ctx, ws, plan, program)
    break_evens = write_break_even(ctx, ws, plan, program)
    ranks = _write_moves(ctx, ws, plan, program)
    _write_tornado(ctx, ws, plan, program, ranks)
    ws.freeze_panes(3, 1)
    ctx.print_setup(ws)
    print_areas(ws, [(0, LABEL, ws.dim_rowmax, MOVE_KEY - 1)])  # keys are for the reader
    ctx.protect(ws)
    return break_evens


# ----------------------------------------------------------------- moves


def _write_moves(
    ctx: Context, ws: Worksheet, plan: SensitivityLayout, program: CellProgram
) -> list[int]:
    """Each input moved alone: its moved values, the ROI each gives, the swing and its rank."""
    s, t = ctx.styles, ctx.locale
    metric = ctx.template.metric(plan.metric)
    label = metric.label[ctx.language]
    roi_fmt = metric_format(ctx, plan.metric)
    section(ctx, ws, plan.moves_section_row, MOVE_KEY, t["moves_section"].format(metric=label))
    group = plan.moves_group_row
    ws._write_string(group, LABEL, t["base_live"].format(metric=label), s.get("label_bold"))
    write_cell(ctx, ws, program, plan.base_cell, expr.Ref(plan.metric), roi_fmt)
    last_move, last_result = FIRST_RESULT - 1, LOWEST - 1
    ws.merge_range(group, FIRST_MOVE, group, last_move, t["input_value"], s.get("header"))
    ws.merge_range(
        group,
        FIRST_RESULT,
        group,
        last_result,
        t["result_when_moved"].format(metric=label),
        s.get("header"),
    )
    header = plan.moves_header_row
    ctx.headers(ws, header, [t["label"], t["unit"], t["base"]])
    for index, move in enumerate(MOVES):
        for col in (FIRST_MOVE + index, FIRST_RESULT + index):
            if index < len(STEPS):
                ws._write_number(header, col, STEPS[index], s.get("header", "step"))
                program.constant(header, col, STEPS[index])
            else:
                ws._write_string(header, col, ctx.locale.scenarios[move], s.get("header"))
    for col, text in (
        (LOWEST, t["lowest"]),
        (HIGHEST, t["highest"]),
        (SWING, t["swing"]),
        (SORT_KEY, t["sort_key"]),
        (RANK, t["rank"]),
        (MOVE_KEY, t["key"]),
    ):
        ws._write_string(header, col, text, s.get("header"))
    roi = engine.expanded(ctx.template, plan.metric)
    keys = list(plan.move_rows)
    moved = _moved_values(program, keys)
    results = _results(program, roi, moved)
    ends = {name: [row[i] for row in results.values()] for i, name in enumerate(_RESULT_NAMES)}
    lowest = evaluate_each(_LOWEST, ends, len(keys))
    highest = evaluate_each(_HIGHEST, ends, len(keys))
    points = roi_fmt == "percent"  # the change of a rate, in points
    swings = evaluate_each(
        _SWING_POINTS if points else _SWING, {"h": highest, "l": lowest}, len(keys)
    )
    steps = range(len(MOVES))
    for index, (key, row) in enumerate(plan.move_rows.items()):
        item = ctx.template.input(key)
        fmt = input_format(ctx, key)
        ws._write_string(row, LABEL, item.label[ctx.language], s.get("label"))
        ws._write_string(row, UNIT, ctx.locale.unit(item.unit), s.get("unit"))
        write_cell(ctx, ws, program, (row, BASE), expr.Ref(key), fmt)
        # Each cell's formula as kept from the last workbook of this template and layout
        # (the trees here depend on nothing else), else made from its tree.
        style = s.get("formula", fmt)
        for step, move in enumerate(MOVES):
            col, value = FIRST_MOVE + step, moved[key][step]
            formula = program.kept(row, col, value) or program.put(
                row, col, _moved(program, key, row, header, step, move), value
            )
            ctx.formula(ws, row, col, formula, style, value)
        style = s.get("formula", roi_fmt)
        for step in steps:
            col, value = FIRST_RESULT + step, results[key][step]
            formula = program.kept(row, col, value) or program.put(
                row, col, roi, value, (key, program.ref(row, FIRST_MOVE + step))
            )
            ctx.formula(ws, row, col, formula, style, value)
        for col, name, value in (
            (LOWEST, "MIN", lowest[index]),
            (HIGHEST, "MAX", highest[index]),
        ):
            formula = program.kept(row, col, value) or program.put(
                row,
                col,
                expr.Call(name, tuple(program.ref(row, FIRST_RESULT + step) for step in steps)),
                value,
            )
            ctx.formula(ws, row, col, formula, style, value)
        formula = program.kept(row, SWING, swings[index]) or program.put(
            row, SWING, _swing(program, row, points), swings[index]
        )
        style = s.get("formula", change_format(roi_fmt))
        ctx.formula(ws, row, SWING, formula, style, swings[index])
        ws._write_string(row, MOVE_KEY, key, s.get("key"))
    return _write_ranks(ctx, ws, plan, swings)


# A row's trees with its cells as plain names, to evaluate every row at once: the same
# operations in the same order as each cell's own tree.
_RESULT_NAMES = tuple(f"r{index}" for index in range(len(MOVES)))
_LOWEST = expr.Call("MIN", tuple(expr.Ref(name) for name in _RESULT_NAMES))
_HIGHEST = expr.Call("MAX", tuple(expr.Ref(name) for name in _RESULT_NAMES))
_SWING = expr.Binary("-", expr.Ref("h"), expr.Ref("l"))
_SWING_POINTS = expr.Binary("*", _SWING, expr.Num(100.0))


def _swing(program: CellProgram, row: int, points: bool) -> expr.Node:
    """Highest minus lowest; for a rate, in points."""
    swing = expr.Binary("-", program.ref(row, HIGHEST), program.ref(row, LOWEST))
    return expr.Binary("*", swing, expr.Num(100.0)) if points else swing


def _moved_values(program: CellProgram, keys: list[str]) -> dict[str, list[Value]]:
    """Each input's value at each move, every input and step at once (``_moved``'s trees)."""
    width = len(STEPS)
    scaled = evaluate_each(
        _SCALED,
        {
            "base": [program.named(key) for key in keys for _ in STEPS],
            "step": list(STEPS) * len(keys),
            "min": [program.named(f"min:{key}") for key in keys for _ in STEPS],
            "max": [program.named(f"max:{key}") for key in keys for _ in STEPS],
        },
        width * len(keys),
    )
    return {
        key: [
            *scaled[index * width : (index + 1) * width],
            *(program.named(f"{move}:{key}") for move in MOVES[width:]),
        ]
        for index, key in enumerate(keys)
    }


def _results(
    program: CellProgram, roi: expr.Node, moved: dict[str, list[Value]]
) -> dict[str, list[Value]]:
    """The ROI at every move of every input at once, each input standing for its moved
    value in its own row's cells (``define_across`` of a row, every row together)."""
    width, keys = len(MOVES), list(moved)
    columns: dict[str, Column] = {name: program.named(name) for name in expr.names(roi)}
    for index, key in enumerate(keys):
        if key not in columns:
            continue  # an input the ROI does not use: every move gives the base ROI
        column = [program.named(key)] * (width * len(keys))
        column[index * width : (index + 1) * width] = moved[key]
        columns[key] = column
    flat = evaluate_each(roi, columns, width * len(keys))
    return {key: flat[index * width : (index + 1) * width] for index, key in enumerate(keys)}


def _moved(
    program: CellProgram, key: str, row: int, header: int, index: int, move: str
) -> expr.Node:
    """The input's value for one move: base x (1 + step) kept within its allowed range,
    or its prudent or optimistic value."""
    if index >= len(STEPS):
        return expr.Ref(f"{move}:{key}")
    step = program.ref(header, FIRST_MOVE + index)
    base = program.ref(row, BASE, col_absolute=True)  # one R1C1 formula across the steps
    return _step_tree(base, step, expr.Ref(f"min:{key}"), expr.Ref(f"max:{key}"))


def _step_tree(base: expr.Node, step: expr.Node, low: expr.Node, high: expr.Node) -> expr.Node:
    scaled = expr.Binary("*", base, expr.Binary("+", expr.Num(1.0), step))
    return expr.Call("MIN", (expr.Call("MAX", (scaled, low)), high))


_SCALED = _step_tree(expr.Ref("base"), expr.Ref("step"), expr.Ref("min"), expr.Ref("max"))


def _write_ranks(
    ctx: Context, ws: Worksheet, plan: SensitivityLayout, swings: list[Value]
) -> list[int]:
    """Rank the swings, largest first, ties in sheet order.

    Ranks use the swing as a share of the largest, rounded to 12 decimals, so
    swings that differ only in the last binary digit tie in Excel, LibreOffice
    and here alike.
    """
    keys = sort_keys(swings)
    ranks = []
    lines = layout_once(ctx, "sensitivity ranks", lambda: _rank_formulas(plan))
    for index, (row, sort_formula, rank_formula) in enumerate(lines):
        write_arranging_formula(ctx, ws, (row, SORT_KEY), sort_formula, "factor", keys[index])
        rank = (
            1
            + sum(other > keys[index] for other in keys)
            + sum(other == keys[index] for other in keys[:index])
        )
        write_arranging_formula(ctx, ws, (row, RANK), rank_formula, "count", float(rank))
        ranks.append(rank)
    return ranks


def _rank_formulas(plan: SensitivityLayout) -> list[tuple[int, str, str]]:
    """Each move row's sort key and rank formulas, the same in every workbook of a layout."""
    rows = list(plan.move_rows.values())
    first, last = rows[0], rows[-1]
    swing_range = f"{cell(first, SWING, True, True)}:{cell(last, SWING, True, True)}"
    key_range = f"{cell(first, SORT_KEY, True, True)}:{cell(last, SORT_KEY, True, True)}"
    lines = []
    for row in rows:
        above = f"{cell(plan.moves_header_row, SORT_KEY, True, True)}:{cell(row - 1, SORT_KEY)}"
        lines.append(
            (
                row,
                f"IFERROR(ROUND({cell(row, SWING)}/MAX({swing_range}),{SORT_DIGITS}),0)",
                f"RANK({cell(row, SORT_KEY)},{key_range})+COUNTIF({above},{cell(row, SORT_KEY)})",
            )
        )
    return lines


# ---------------------------------------------------------------- tornado


def _write_tornado(
    ctx: Context, ws: Worksheet, plan: SensitivityLayout, program: CellProgram, ranks: list[int]
) -> None:
    """The moves sorted by swing, as deviations from the base ROI, and their chart."""
    s, t = ctx.styles, ctx.locale
    metric = ctx.template.metric(plan.metric)
    label = metric.label[ctx.language]
    roi_fmt = metric_format(ctx, plan.metric)
    section(ctx, ws, plan.tornado_section_row, SORTED_HIGH, t["tornado_section"])
    ctx.headers(
        ws,
        plan.tornado_header_row,
        [t["label"], t["rank"], t["lowest_change"], t["highest_change"]],
    )
    keys = list(plan.move_rows)
    rows = list(plan.move_rows.values())
    by_rank = dict(zip(ranks, keys, strict=True))
    base = program.value(*plan.base_cell)
    points = roi_fmt == "percent"  # the change of a rate, in points
    lines = layout_once(ctx, ("tornado", points), lambda: _tornado_formulas(plan, points))
    for position, (row, label_formula, gaps) in enumerate(lines, start=1):
        key = by_rank[position]
        ws._write_number(row, POSITION, position, s.get("unit"))
        write_arranging_formula(
            ctx,
            ws,
            (row, SORTED_LABEL),
            label_formula,
            "",
            ctx.template.input(key).label[ctx.language],
        )
        source = rows[keys.index(key)]
        for (col, target), gap in zip(
            ((LOWEST, SORTED_LOW), (HIGHEST, SORTED_HIGH)), gaps, strict=True
        ):
            value = program.value(source, col)
            deviation = _minus(value, base)
            if points and not isinstance(deviation, ExcelError):
                deviation = deviation * 100
            write_arranging_formula(ctx, ws, (row, target), gap, change_format(roi_fmt), deviation)
    if not isinstance(ws, ReferenceWorksheet):  # a reference holds no charts
        _tornado_chart(ctx, ws, plan, label, change_format(roi_fmt))


def _tornado_formulas(
    plan: SensitivityLayout, points: bool
) -> list[tuple[int, str, tuple[str, str]]]:
    """Each sorted row's label and lowest and highest change formulas (``points``: a rate's
    change, in points), the same in every workbook of a layout."""
    rows = list(plan.move_rows.values())
    first, last = rows[0], rows[-1]

    def column(col: int) -> str:
        return f"{cell(first, col, True, True)}:{cell(last, col, True, True)}"

    base_ref = cell(*plan.base_cell, True, True)
    lines = []
    for row in plan.tornado_rows:
        match = f"MATCH({cell(row, POSITION)},{column(RANK)},0)"
        gaps = [f"INDEX({column(col)},{match})-{base_ref}" for col in (LOWEST, HIGHEST)]
        low, high = (f"({gap})*100" if points else gap for gap in gaps)
        lines.append((row, f"INDEX({column(LABEL)},{match})", (low, high)))
    return lines


def change_format(fmt: str) -> str:
    """A change of a figure reads in the figure's format, a change of a rate in points."""
    return "points" if fmt == "percent" else fmt


def _minus(value: Value, base: Value) -> Value:
    if isinstance(value, ExcelError):
        return value
    if isinstance(base, ExcelError):
        return base
    return value - base


def _tornado_chart(
    ctx: Context, ws: Worksheet, plan: SensitivityLayout, label: str, fmt: str
) -> None:
    t, name = ctx.locale, ctx.layout.sensitivity
    first, last = plan.tornado_rows[0], plan.tornado_rows[-1]
    chart = ctx.workbook.add_chart({"type": "bar"})
    for col, colour, title in (
        (SORTED_LOW, "#C00000", t["lowest_change"]),
        (SORTED_HIGH, "#2E75B6", t["highest_change"]),
    ):
        chart_text.add_series(
            chart,
            {
                "name": title,
                "categories": [name, first, SORTED_LABEL, last, SORTED_LABEL],
                "values": [name, first, col, last, col],
                "fill": {"color": colour},
                "overlap": 100,
                "gap": 40,
            },
        )
    chart_text.set_title(chart, t["tornado_chart"].format(metric=label))
    chart.set_legend({"position": "bottom"})
    chart.set_y_axis({"reverse": True, "label_position": "low"})
    chart.set_x_axis(
        {
            "num_format": ctx.styles.number_format(fmt),
            "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
        }
    )
    height = max(320, 26 * len(plan.tornado_rows) + 110)
    ws.insert_chart(
        plan.tornado_section_row + 1,
        TORNADO_CHART_COL,
        chart,
        {"x_scale": 1.6, "y_scale": height / 288},
    )
