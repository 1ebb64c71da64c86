"""The Sensitivity sheet: what moves the headline ROI most, and where it breaks even.

Every ROI on this sheet is the headline formula written out from the
template's definition with one input replaced: by a flexed value (the
tornado) or by a break-even candidate (the solver). Nothing is pasted as a
number: change an input and the whole sheet follows, in Excel as in
LibreOffice.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from roi_xl import engine, expr
from roi_xl.engine import Value
from roi_xl.excel_errors import ExcelError
from roi_xl.sensitivity import MOVES, SORT_DIGITS, STEPS, sort_keys
from roi_xl.template import SCENARIOS
from roi_xl.workbook.cell_program import CellProgram
from roi_xl.workbook.context import Context, cached
from roi_xl.workbook.layout import MAX_COL, MIN_COL, cell, sheet_ref
from roi_xl.workbook.sensitivity_layout import (
    BASE,
    BREAK_EVEN,
    BREAK_EVEN_KEY,
    CANDIDATE,
    CHANGE,
    FIRST_MOVE,
    FIRST_RESULT,
    HIGHEST,
    LABEL,
    LOWEST,
    MOVE_KEY,
    POSITION,
    RANK,
    RESULT,
    ROI_CHECK,
    SORT_KEY,
    SORTED_HIGH,
    SORTED_LABEL,
    SORTED_LOW,
    STEP,
    SWING,
    TODAY,
    TORNADO_CHART_COL,
    UNIT,
    BreakEvenRows,
    SensitivityLayout,
    sensitivity_layout,
)

FIRST_STEP = 0.1  # the solver's second candidate: the live value moved by 10 %
TOLERANCE = 1e-12  # an ROI this close to 0 counts as 0


def write_sensitivity(ctx: Context) -> None:
    ws = ctx.sheet(ctx.layout.sensitivity)
    plan = sensitivity_layout(ctx.template)
    program = _program(ctx)
    ws.set_column(LABEL, LABEL, 46)
    ws.set_column(UNIT, UNIT, 9)
    ws.set_column(TODAY, MOVE_KEY - 1, 12)
    ws.set_column(MOVE_KEY, MOVE_KEY, 22)
    ctx.heading(ws, "sensitivity")
    ws.write_string(2, 0, ctx.locale["sensitivity_help_2"], ctx.styles.get("subtitle"))
    _write_solver(ctx, ws, plan, program)
    _write_break_even(ctx, ws, plan, program)
    ranks = _write_moves(ctx, ws, plan, program)
    _write_tornado(ctx, ws, plan, program, ranks)
    ws.freeze_panes(3, 1)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ctx.protect(ws)


def _program(ctx: Context) -> CellProgram:
    """Live inputs and metrics by name, plus each input's prudent and optimistic values and
    bounds on the Inputs sheet."""
    layout, values = ctx.layout, ctx.values
    program = CellProgram(layout.live_refs(), {**values.live_inputs, **values.live_outputs})
    for item in ctx.template.inputs:
        row = layout.input_rows[item.key]
        for scenario in ("prudent", "optimistic"):
            col = 2 + SCENARIOS.index(scenario)
            program.name(
                f"{scenario}:{item.key}",
                sheet_ref(layout.inputs, cell(row, col, True, True)),
                values.inputs[scenario][item.key],
            )
        program.name(f"min:{item.key}", _bound(ctx, row, MIN_COL), item.minimum)
        program.name(f"max:{item.key}", _bound(ctx, row, MAX_COL), item.maximum)
    return program


def _bound(ctx: Context, row: int, col: int) -> str:
    return sheet_ref(ctx.layout.inputs, cell(row, col, True, True))


def _section(ctx: Context, ws: Worksheet, row: int, last_col: int, title: str) -> None:
    ws.merge_range(row, LABEL, row, last_col, title, ctx.styles.get("section"))


def _metric_format(ctx: Context, key: str) -> str:
    metric = ctx.template.metric(key)
    return ctx.styles.format_for(metric.kind, ctx.values.outputs["realistic"][key])


def _input_format(ctx: Context, key: str) -> str:
    return ctx.styles.format_for(ctx.template.input(key).kind, ctx.values.live_inputs[key])


def _write(
    ctx: Context,
    ws: Worksheet,
    program: CellProgram,
    at: tuple[int, int],
    node: expr.Node,
    fmt: str,
) -> Value:
    formula, value = program.define(*at, node)
    ctx.formula(ws, *at, formula, ctx.styles.get("formula", fmt), value)
    return value


def _write_text_formula(
    ctx: Context, ws: Worksheet, at: tuple[int, int], formula: str, fmt: str, value: Value | str
) -> None:
    """A formula that only arranges results (ranks, lookups, guards), with its value."""
    ws.write_formula(*at, "=" + formula, ctx.styles.get("formula", fmt), cached(value))


# ------------------------------------------------------------------ solver


def _write_solver(
    ctx: Context, ws: Worksheet, plan: SensitivityLayout, program: CellProgram
) -> None:
    """Secant steps on the ROI formula, one row each, from the live value of each driver."""
    s, t = ctx.styles, ctx.locale
    _section(ctx, ws, plan.solver_section_row, RESULT + 3, t["solver_section"])
    for row, label, value, fmt in (
        (plan.first_step_row, t["solver_first_step"], FIRST_STEP, "percent"),
        (plan.tolerance_row, t["solver_tolerance"], TOLERANCE, "scientific"),
    ):
        ws.write_string(row, LABEL, label, s.get("label"))
        ws.write_number(row, CANDIDATE, value, s.get("formula", fmt))
        program.constant(row, CANDIDATE, value)
    roi = engine.expanded(ctx.template, plan.metric)
    step = program.ref(plan.first_step_row, CANDIDATE, absolute=True)
    tolerance = program.ref(plan.tolerance_row, CANDIDATE, absolute=True)
    for rows in plan.break_evens:
        item = ctx.template.input(rows.driver)
        header = rows.solver_rows[0] - 1
        ctx.headers(
            ws,
            header,
            [item.label[ctx.language], t["solver_step"], t["solver_value"], t["roi_at_value"]],
        )
        fmt = _input_format(ctx, rows.driver)
        for k, row in enumerate(rows.solver_rows):
            ws.write_number(row, STEP, k, s.get("unit"))
            _write(
                ctx,
                ws,
                program,
                (row, CANDIDATE),
                _candidate(program, rows, k, step, tolerance),
                fmt,
            )
            at_candidate = expr.substitute(roi, {rows.driver: program.ref(row, CANDIDATE)})
            _write(ctx, ws, program, (row, RESULT), at_candidate, _metric_format(ctx, plan.metric))


def _candidate(
    program: CellProgram, rows: BreakEvenRows, k: int, step: expr.Ref, tolerance: expr.Ref
) -> expr.Node:
    """Step 0: the live value; step 1: moved by the first step; then the secant rule,
    which stays put once the ROI is within the tolerance of 0."""
    if k == 0:
        return expr.Ref(rows.driver)
    previous = rows.solver_rows[k - 1]
    x1 = program.ref(previous, CANDIDATE)
    if k == 1:
        one = expr.Num(1.0)
        return expr.Call(
            "IF",
            (
                expr.Compare("=", x1, expr.Num(0.0)),
                expr.Binary("*", expr.Ref(f"max:{rows.driver}"), step),
                expr.Binary("*", x1, expr.Binary("+", one, step)),
            ),
        )
    f1 = program.ref(previous, RESULT)
    x0 = program.ref(rows.solver_rows[k - 2], CANDIDATE)
    f0 = program.ref(rows.solver_rows[k - 2], RESULT)
    secant = expr.Binary(
        "-",
        x1,
        expr.Binary("/", expr.Binary("*", f1, expr.Binary("-", x1, x0)), expr.Binary("-", f1, f0)),
    )
    return expr.Call(
        "IF",
        (
            expr.Compare("<=", expr.Call("ABS", (f1,)), tolerance),
            x1,
            expr.Call("IF", (expr.Compare("=", f1, f0), x1, secant)),
        ),
    )


# -------------------------------------------------------------- break-even


def _write_break_even(
    ctx: Context, ws: Worksheet, plan: SensitivityLayout, program: CellProgram
) -> None:
    s, t = ctx.styles, ctx.locale
    metric = ctx.template.metric(plan.metric)
    _section(
        ctx,
        ws,
        plan.break_even_section_row,
        BREAK_EVEN_KEY,
        t["break_even_section"].format(metric=metric.label[ctx.language]),
    )
    ctx.headers(
        ws,
        plan.break_even_header_row,
        [
            t["label"],
            t["unit"],
            t["today"],
            t["break_even"],
            t["change_needed"],
            t["roi_at_break_even"],
            t["key"],
        ],
    )
    roi = engine.expanded(ctx.template, plan.metric)
    tolerance = cell(plan.tolerance_row, CANDIDATE, True, True)
    for rows in plan.break_evens:
        item = ctx.template.input(rows.driver)
        row, last = rows.row, rows.last_solver_row
        fmt = _input_format(ctx, rows.driver)
        ws.write_string(row, LABEL, item.label[ctx.language], s.get("label_bold"))
        ws.write_string(row, UNIT, ctx.locale.unit(item.unit), s.get("unit"))
        today = _write(ctx, ws, program, (row, TODAY), expr.Ref(rows.driver), fmt)
        candidate = program.value(last, CANDIDATE)
        residual = program.value(last, RESULT)
        solved = (
            isinstance(candidate, float)
            and isinstance(residual, float)
            and abs(residual) <= TOLERANCE
            and item.minimum <= candidate <= item.maximum
        )
        x, f = cell(last, CANDIDATE, True, True), cell(last, RESULT, True, True)
        low, high = (
            _bound(ctx, ctx.layout.input_rows[rows.driver], MIN_COL),
            _bound(ctx, ctx.layout.input_rows[rows.driver], MAX_COL),
        )
        none = t["no_break_even"].replace('"', '""')
        _write_text_formula(
            ctx,
            ws,
            (row, BREAK_EVEN),
            f'IF(AND(ABS({f})<={tolerance},{x}>={low},{x}<={high}),{x},"{none}")',
            fmt,
            candidate if solved else t["no_break_even"],
        )
        be = cell(row, BREAK_EVEN)
        _change(ctx, ws, row, candidate if solved else None, today)
        at_break_even = expr.substitute(roi, {rows.driver: program.ref(last, CANDIDATE, True)})
        formula, value = program.define(row, ROI_CHECK, at_break_even)
        _write_text_formula(
            ctx,
            ws,
            (row, ROI_CHECK),
            f'IF(ISNUMBER({be}),{formula},"")',
            _metric_format(ctx, plan.metric),
            value if solved else "",
        )
        ws.write_string(row, BREAK_EVEN_KEY, rows.driver, s.get("key"))
        for key, companion_row in rows.companions.items():
            companion = ctx.template.metric(key)
            cfmt = _metric_format(ctx, key)
            ws.write_string(
                companion_row, LABEL, companion.label[ctx.language], s.get("label_indent")
            )
            ws.write_string(companion_row, UNIT, ctx.locale.unit(companion.unit), s.get("unit"))
            now = _write(ctx, ws, program, (companion_row, TODAY), expr.Ref(key), cfmt)
            moved = expr.substitute(
                engine.expanded(ctx.template, key),
                {rows.driver: program.ref(last, CANDIDATE, True)},
            )
            formula, value = program.define(companion_row, BREAK_EVEN, moved)
            _write_text_formula(
                ctx,
                ws,
                (companion_row, BREAK_EVEN),
                f'IF(ISNUMBER({be}),{formula},"")',
                cfmt,
                value if solved else "",
            )
            _change(ctx, ws, companion_row, value if solved else None, now)
            ws.write_string(companion_row, BREAK_EVEN_KEY, key, s.get("key"))


def _change(ctx: Context, ws: Worksheet, row: int, value: Value | None, today: Value) -> None:
    """How far today's figure must move to reach break-even, as a share of today."""
    shown: object = ""
    if isinstance(value, float) and isinstance(today, float) and today != 0:
        shown = value / today - 1
    formula = f'IFERROR({cell(row, BREAK_EVEN)}/{cell(row, TODAY)}-1,"")'
    _write_text_formula(ctx, ws, (row, CHANGE), formula, "step", shown)


# ----------------------------------------------------------------- moves


def _write_moves(
    ctx: Context, ws: Worksheet, plan: SensitivityLayout, program: CellProgram
) -> list[int]:
    """Each input moved alone: its moved values, the ROI each gives, the swing and its rank."""
    s, t = ctx.styles, ctx.locale
    metric = ctx.template.metric(plan.metric)
    label = metric.label[ctx.language]
    roi_fmt = _metric_format(ctx, plan.metric)
    _section(ctx, ws, plan.moves_section_row, MOVE_KEY, t["moves_section"].format(metric=label))
    group = plan.moves_group_row
    ws.write_string(group, LABEL, t["base_live"].format(metric=label), s.get("label_bold"))
    _write(ctx, ws, program, plan.base_cell, expr.Ref(plan.metric), roi_fmt)
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
                ws.write_number(header, col, STEPS[index], s.get("header", "step"))
                program.constant(header, col, STEPS[index])
            else:
                ws.write_string(header, col, ctx.locale.scenarios[move], s.get("header"))
    for col, text in (
        (LOWEST, t["lowest"]),
        (HIGHEST, t["highest"]),
        (SWING, t["swing"]),
        (SORT_KEY, t["sort_key"]),
        (RANK, t["rank"]),
        (MOVE_KEY, t["key"]),
    ):
        ws.write_string(header, col, text, s.get("header"))
    roi = engine.expanded(ctx.template, plan.metric)
    swings: list[Value] = []
    for key, row in plan.move_rows.items():
        item = ctx.template.input(key)
        fmt = _input_format(ctx, key)
        ws.write_string(row, LABEL, item.label[ctx.language], s.get("label"))
        ws.write_string(row, UNIT, ctx.locale.unit(item.unit), s.get("unit"))
        _write(ctx, ws, program, (row, BASE), expr.Ref(key), fmt)
        for index, move in enumerate(MOVES):
            col = FIRST_MOVE + index
            _write(
                ctx, ws, program, (row, col), _moved(program, key, row, header, index, move), fmt
            )
            flexed = expr.substitute(roi, {key: program.ref(row, col)})
            _write(ctx, ws, program, (row, FIRST_RESULT + index), flexed, roi_fmt)
        results = [program.ref(row, FIRST_RESULT + i) for i in range(len(MOVES))]
        _write(ctx, ws, program, (row, LOWEST), expr.Call("MIN", tuple(results)), roi_fmt)
        _write(ctx, ws, program, (row, HIGHEST), expr.Call("MAX", tuple(results)), roi_fmt)
        swing = expr.Binary("-", program.ref(row, HIGHEST), program.ref(row, LOWEST))
        swings.append(_write(ctx, ws, program, (row, SWING), swing, roi_fmt))
        ws.write_string(row, MOVE_KEY, key, s.get("key"))
    return _write_ranks(ctx, ws, plan, swings)


def _moved(
    program: CellProgram, key: str, row: int, header: int, index: int, move: str
) -> expr.Node:
    """The input's value for one move: base x (1 + step) kept within its allowed range,
    or its prudent or optimistic value."""
    if index >= len(STEPS):
        return expr.Ref(f"{move}:{key}")
    step = program.ref(header, FIRST_MOVE + index)
    base = program.ref(row, BASE, col_absolute=True)  # one R1C1 formula across the steps
    scaled = expr.Binary("*", base, expr.Binary("+", expr.Num(1.0), step))
    low = expr.Call("MAX", (scaled, expr.Ref(f"min:{key}")))
    return expr.Call("MIN", (low, expr.Ref(f"max:{key}")))


def _write_ranks(
    ctx: Context, ws: Worksheet, plan: SensitivityLayout, swings: list[Value]
) -> list[int]:
    """Rank the swings, largest first, ties in sheet order.

    Ranks use the swing as a share of the largest, rounded to 12 decimals, so
    swings that differ only in the last binary digit tie in Excel, LibreOffice
    and here alike.
    """
    rows = list(plan.move_rows.values())
    first, last = rows[0], rows[-1]
    swing_range = f"{cell(first, SWING, True, True)}:{cell(last, SWING, True, True)}"
    key_range = f"{cell(first, SORT_KEY, True, True)}:{cell(last, SORT_KEY, True, True)}"
    keys = sort_keys(swings)
    ranks = []
    for index, row in enumerate(rows):
        formula = f"IFERROR(ROUND({cell(row, SWING)}/MAX({swing_range}),{SORT_DIGITS}),0)"
        _write_text_formula(ctx, ws, (row, SORT_KEY), formula, "factor", keys[index])
        above = f"{cell(plan.moves_header_row, SORT_KEY, True, True)}:{cell(row - 1, SORT_KEY)}"
        rank = (
            1
            + sum(other > keys[index] for other in keys)
            + sum(other == keys[index] for other in keys[:index])
        )
        formula = f"RANK({cell(row, SORT_KEY)},{key_range})+COUNTIF({above},{cell(row, SORT_KEY)})"
        _write_text_formula(ctx, ws, (row, RANK), formula, "count", float(rank))
        ranks.append(rank)
    return ranks


# ---------------------------------------------------------------- tornado


def _write_tornado(
    ctx: Context, ws: Worksheet, plan: SensitivityLayout, program: CellProgram, ranks: list[int]
) -> None:
    """The moves sorted by swing, as deviations from the base ROI, and their chart."""
    s, t = ctx.styles, ctx.locale
    metric = ctx.template.metric(plan.metric)
    label = metric.label[ctx.language]
    roi_fmt = _metric_format(ctx, plan.metric)
    _section(ctx, ws, plan.tornado_section_row, SORTED_HIGH, t["tornado_section"])
    ctx.headers(
        ws,
        plan.tornado_header_row,
        [t["label"], t["rank"], t["lowest_change"], t["highest_change"]],
    )
    keys = list(plan.move_rows)
    rows = list(plan.move_rows.values())
    first, last = rows[0], rows[-1]

    def column(col: int) -> str:
        return f"{cell(first, col, True, True)}:{cell(last, col, True, True)}"

    by_rank = dict(zip(ranks, keys, strict=True))
    base = program.value(*plan.base_cell)
    base_ref = cell(*plan.base_cell, True, True)
    for position, row in enumerate(plan.tornado_rows, start=1):
        key = by_rank[position]
        ws.write_number(row, POSITION, position, s.get("unit"))
        match = f"MATCH({cell(row, POSITION)},{column(RANK)},0)"
        _write_text_formula(
            ctx,
            ws,
            (row, SORTED_LABEL),
            f"INDEX({column(LABEL)},{match})",
            "",
            ctx.template.input(key).label[ctx.language],
        )
        source = rows[keys.index(key)]
        for col, target in ((LOWEST, SORTED_LOW), (HIGHEST, SORTED_HIGH)):
            value = program.value(source, col)
            deviation = _minus(value, base)
            _write_text_formula(
                ctx,
                ws,
                (row, target),
                f"INDEX({column(col)},{match})-{base_ref}",
                roi_fmt,
                deviation,
            )
    _tornado_chart(ctx, ws, plan, label, roi_fmt)


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
        chart.add_series(
            {
                "name": title,
                "categories": [name, first, SORTED_LABEL, last, SORTED_LABEL],
                "values": [name, first, col, last, col],
                "fill": {"color": colour},
                "overlap": 100,
                "gap": 40,
            }
        )
    chart.set_title({"name": t["tornado_chart"].format(metric=label), "name_font": {"size": 11}})
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
