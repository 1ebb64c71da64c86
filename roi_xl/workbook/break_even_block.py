"""The break-even block of the Sensitivity sheet, and the solver steps it reads.

Excel has no formula that solves an equation, so the solver is written out:
one row per secant step, each re-evaluating the headline ROI formula with the
driver replaced by that step's candidate. The break-even shown is the last
step once the ROI there is within the tolerance of 0 and the value within
the driver's allowed range.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from roi_xl.decide.break_even import split_metric
from roi_xl.model import engine, expr
from roi_xl.model.engine import Value
from roi_xl.workbook.cell_program import CellProgram
from roi_xl.workbook.context import Context
from roi_xl.workbook.layout import MAX_COL, MIN_COL, cell
from roi_xl.workbook.per_layout import layout_once
from roi_xl.workbook.sensitivity_cells import (
    input_format,
    inputs_cell,
    metric_format,
    section,
    write_arranging_formula,
    write_cell,
)
from roi_xl.workbook.sensitivity_layout import (
    BREAK_EVEN,
    BREAK_EVEN_KEY,
    CANDIDATE,
    CHANGE,
    LABEL,
    RESULT,
    ROI_CHECK,
    STEP,
    TODAY,
    UNIT,
    BreakEvenRows,
    SensitivityLayout,
)

FIRST_STEP = 0.1  # the solver's second candidate: the live value moved by 10 %
# An ROI this close to 0 counts as 0: far below what any cell shows, far above the last
# bits in which LibreOffice's or Excel's arithmetic may differ from the engine's near the
# root (terms of thousands cancelling leave about 1e-12), so they all stop at one step.
TOLERANCE = 1e-9


# ------------------------------------------------------------------ solver


def write_solver(
    ctx: Context, ws: Worksheet, plan: SensitivityLayout, program: CellProgram
) -> None:
    """Secant steps on the ROI formula, one row each, from the live value of each driver."""
    s, t = ctx.styles, ctx.locale
    section(ctx, ws, plan.solver_section_row, RESULT + 3, t["solver_section"])
    for row, label, value, fmt in (
        (plan.first_step_row, t["solver_first_step"], FIRST_STEP, "percent"),
        (plan.tolerance_row, t["solver_tolerance"], TOLERANCE, "scientific"),
    ):
        ws._write_string(row, LABEL, label, s.get("label"))
        ws._write_number(row, CANDIDATE, value, s.get("formula", fmt))
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
        fmt = input_format(ctx, rows.driver)
        result_style = s.get("formula", metric_format(ctx, plan.metric))
        # The ROI at each candidate: what the cell's tree gives, its parts the driver does
        # not reach worked out once for all the steps.
        split = split_metric(ctx.template, plan.metric, rows.driver)
        local = split.fixed(ctx.values.live_inputs)
        for k, row in enumerate(rows.solver_rows):
            ws._write_number(row, STEP, k, s.get("unit"))
            earlier = _earlier_steps(program, rows, k)
            # The same tree in every workbook of a layout: made once, so its formula and
            # compiled form are found by identity.
            candidate = layout_once(
                ctx,
                ("solver candidate", rows.driver, k),
                lambda rows=rows, k=k, earlier=earlier: _candidate(
                    rows, k, step, tolerance, earlier
                ),
            )
            local[rows.driver] = write_cell(ctx, ws, program, (row, CANDIDATE), candidate, fmt)
            value = split.run(local)
            formula = program.kept(row, RESULT, value) or program.put(
                row, RESULT, roi, value, (rows.driver, program.ref(row, CANDIDATE))
            )
            ctx.formula(ws, row, RESULT, formula, result_style, value)


def _earlier_steps(program: CellProgram, rows: BreakEvenRows, k: int) -> tuple[expr.Ref, ...]:
    """The cells step ``k`` reads: the last candidate, then the last ROI and the candidate
    and ROI before them (from step 2 on)."""
    if k == 0:
        return ()
    previous = rows.solver_rows[k - 1]
    if k == 1:
        return (program.ref(previous, CANDIDATE),)
    before = rows.solver_rows[k - 2]
    return (
        program.ref(previous, CANDIDATE),
        program.ref(previous, RESULT),
        program.ref(before, CANDIDATE),
        program.ref(before, RESULT),
    )


def _candidate(
    rows: BreakEvenRows,
    k: int,
    step: expr.Ref,
    tolerance: expr.Ref,
    earlier: tuple[expr.Ref, ...],
) -> expr.Node:
    """Step 0: the live value; step 1: moved by the first step (down where up would leave
    the driver's range); then the secant rule, kept within the range (``earlier``: the
    cells of the steps before, as ``_earlier_steps`` gives them).

    A step stays put once the ROI is within the tolerance of 0, or once the last two ROIs
    are too close to divide by (within the tolerance, relative to them): LibreOffice
    reads numbers that close as equal and their difference as 0, so a division by it
    would send the steps wherever the last bits of each program's arithmetic say.
    """
    low, high = expr.Ref(f"min:{rows.driver}"), expr.Ref(f"max:{rows.driver}")
    if k == 0:
        return expr.Ref(rows.driver)
    x1 = earlier[0]
    if k == 1:
        one = expr.Num(1.0)
        up = expr.Binary("*", x1, expr.Binary("+", one, step))
        return expr.Call(
            "IF",
            (
                expr.Compare("=", x1, expr.Num(0.0)),
                expr.Binary("*", high, step),
                expr.Call(
                    "IF",
                    (
                        expr.Compare(">", up, high),
                        expr.Binary("*", x1, expr.Binary("-", one, step)),
                        up,
                    ),
                ),
            ),
        )
    _, f1, x0, f0 = earlier
    secant = expr.Binary(
        "-",
        x1,
        expr.Binary("/", expr.Binary("*", f1, expr.Binary("-", x1, x0)), expr.Binary("-", f1, f0)),
    )
    scale = expr.Call("MAX", (expr.Call("ABS", (f1,)), expr.Call("ABS", (f0,)), expr.Num(1.0)))
    flat = expr.Compare(
        "<=",
        expr.Call("ABS", (expr.Binary("-", f1, f0),)),
        expr.Binary("*", tolerance, scale),
    )
    within = expr.Call("MIN", (expr.Call("MAX", (secant, low)), high))
    return expr.Call(
        "IF",
        (
            expr.Compare("<=", expr.Call("ABS", (f1,)), tolerance),
            x1,
            expr.Call("IF", (flat, x1, within)),
        ),
    )


# -------------------------------------------------------------- break-even


def write_break_even(
    ctx: Context, ws: Worksheet, plan: SensitivityLayout, program: CellProgram
) -> dict[str, Value | str]:
    """The break-even table; returns what each driver's break-even cell shows."""
    s, t = ctx.styles, ctx.locale
    metric = ctx.template.metric(plan.metric)
    section(
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
    shown: dict[str, Value | str] = {}
    for rows in plan.break_evens:
        item = ctx.template.input(rows.driver)
        row, last = rows.row, rows.last_solver_row
        fmt = input_format(ctx, rows.driver)
        ws._write_string(row, LABEL, item.label[ctx.language], s.get("label_bold"))
        ws._write_string(row, UNIT, ctx.locale.unit(item.unit), s.get("unit"))
        today = write_cell(ctx, ws, program, (row, TODAY), expr.Ref(rows.driver), fmt)
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
            inputs_cell(ctx, ctx.layout.input_rows[rows.driver], MIN_COL),
            inputs_cell(ctx, ctx.layout.input_rows[rows.driver], MAX_COL),
        )
        none = t["no_break_even"].replace('"', '""')
        shown[rows.driver] = candidate if solved else t["no_break_even"]
        write_arranging_formula(
            ctx,
            ws,
            (row, BREAK_EVEN),
            f'IF(AND(ABS({f})<={tolerance},{x}>={low},{x}<={high}),{x},"{none}")',
            fmt,
            shown[rows.driver],
        )
        be = cell(row, BREAK_EVEN)
        _change(ctx, ws, row, candidate if solved else None, today)
        at_break_even = (rows.driver, program.ref(last, CANDIDATE, True))
        formula, value = program.define(row, ROI_CHECK, roi, at_break_even)
        write_arranging_formula(
            ctx,
            ws,
            (row, ROI_CHECK),
            f'IF(ISNUMBER({be}),{formula},"")',
            metric_format(ctx, plan.metric),
            value if solved else "",
        )
        ws._write_string(row, BREAK_EVEN_KEY, rows.driver, s.get("key"))
        for key, companion_row in rows.companions.items():
            companion = ctx.template.metric(key)
            cfmt = metric_format(ctx, key)
            ws._write_string(
                companion_row, LABEL, companion.label[ctx.language], s.get("label_indent")
            )
            ws._write_string(companion_row, UNIT, ctx.locale.unit(companion.unit), s.get("unit"))
            now = write_cell(ctx, ws, program, (companion_row, TODAY), expr.Ref(key), cfmt)
            formula, value = program.define(
                companion_row,
                BREAK_EVEN,
                engine.expanded(ctx.template, key),
                (rows.driver, program.ref(last, CANDIDATE, True)),
            )
            write_arranging_formula(
                ctx,
                ws,
                (companion_row, BREAK_EVEN),
                f'IF(ISNUMBER({be}),{formula},"")',
                cfmt,
                value if solved else "",
            )
            _change(ctx, ws, companion_row, value if solved else None, now)
            ws._write_string(companion_row, BREAK_EVEN_KEY, key, s.get("key"))
    return shown


def _change(ctx: Context, ws: Worksheet, row: int, value: Value | None, today: Value) -> None:
    """How far today's figure must move to reach break-even, as a share of today."""
    shown: object = ""
    if isinstance(value, float) and isinstance(today, float) and today != 0:
        shown = value / today - 1
    formula = f'IFERROR({cell(row, BREAK_EVEN)}/{cell(row, TODAY)}-1,"")'
    write_arranging_formula(ctx, ws, (row, CHANGE), formula, "step", shown)
