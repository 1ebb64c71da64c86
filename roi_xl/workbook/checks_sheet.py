"""The Checks sheet: each check a formula that is 0 when all is well, and a master check."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from roi_xl.model import expr
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import SCENARIOS
from roi_xl.workbook.context import Context
from roi_xl.workbook.layout import (
    MAX_COL,
    MIN_COL,
    MONTH_ACTUAL_COL,
    SCENARIO_COLS,
    cell,
    sheet_ref,
)
from roi_xl.workbook.per_layout import conditional, layout_once

VALUE_COL, DETAIL_COL, KEY_COL = 1, 2, 3


def write_checks(ctx: Context) -> None:
    layout, s, t = ctx.layout, ctx.styles, ctx.locale
    ws = ctx.sheet(layout.checks)
    ws.set_column(0, 0, 62)
    ws.set_column(VALUE_COL, VALUE_COL, 10)
    ws.set_column(DETAIL_COL, DETAIL_COL, 46)
    ws.set_column(KEY_COL, KEY_COL, 34)
    ctx.heading(ws, "checks")
    ctx.headers(ws, 3, [t["check"], t["status"], t["check_month"], t["key"]])
    for name, row in layout.check_rows:
        label, formula = layout_once(ctx, ("check", name), lambda name=name: _check(ctx, name))
        ws._write_string(row, 0, label, s.get("label"))
        ctx.formula(ws, row, VALUE_COL, formula, s.get("check"), ctx.values.checks[name])
        if name.startswith("month:"):
            _write_failing_months(ctx, ws, row, name.partition(":")[2])
        ws._write_string(row, KEY_COL, name, s.get("key"))
    first, last = layout.check_rows[0][1], layout.check_rows[-1][1]
    master = layout.master_check_row
    ws._write_string(master, 0, t["master_check"], s.get("label_bold"))
    ctx.formula(
        ws,
        master,
        VALUE_COL,
        f"SUM({cell(first, VALUE_COL)}:{cell(last, VALUE_COL)})",
        s.get("formula_bold"),
        ctx.values.master_check,
    )
    ws._write_string(master, KEY_COL, "master_check", s.get("key"))
    for rule in s.conditional_check():
        conditional(ws, first, VALUE_COL, master, VALUE_COL, rule)
    ctx.define_name("master_check", "=" + layout.master_check_ref)
    ws.freeze_panes(4, 0)
    ctx.print_setup(ws, (3, 3))
    ctx.protect(ws)


def _check(ctx: Context, name: str) -> tuple[str, str]:
    """Label and formula of one check."""
    layout, t = ctx.layout, ctx.locale
    kind, _, key = name.partition(":")
    if kind == "selector":
        return (
            t["check_selector"],
            f"IF(ISNUMBER({sheet_ref(layout.inputs, layout.selector_index_cell)}),0,1)",
        )
    if kind == "input":
        item = ctx.template.input(key)
        row = layout.input_rows[key]
        block = sheet_ref(
            layout.inputs,
            f"{cell(row, SCENARIO_COLS['prudent'])}:{cell(row, SCENARIO_COLS['optimistic'])}",
        )
        low = sheet_ref(layout.inputs, cell(row, MIN_COL))
        high = sheet_ref(layout.inputs, cell(row, MAX_COL))
        formula = (
            f"IF(AND(COUNT({block})=COLUMNS({block}),MIN({block})>={low},MAX({block})<={high}),0,1)"
        )
        return f"{t['check_input_range']}{t['colon']}{item.label[ctx.language]}", formula
    if kind == "funnel":
        stages = ctx.template.funnel
        previous = stages[stages.index(key) - 1]
        parts = []
        for scenario in SCENARIOS:
            refs = layout.model_refs(SCENARIO_COLS[scenario], on_calculations=False)
            node = expr.Compare(">", expr.Ref(key), expr.Ref(previous))
            parts.append(expr.to_excel(node, refs, FUNCTIONS))
        label = f"{t['check_funnel']}{t['colon']}{_name(ctx, key)} ≤ {_name(ctx, previous)}"
        return label, f"IF(OR({','.join(parts)}),1,0)"
    # A monthly rule: how many months break it.
    if key == "heatmap":
        label = t["check_heatmap"]
    else:
        label = next(c.label[ctx.language] for c in ctx.template.monthly.checks if c.key == key)
    refs = ",".join(_month_check_refs(ctx, key))
    return f"{label}", f"SUM({refs})"


def _month_check_refs(ctx: Context, key: str) -> list[str]:
    """The cell of monthly check ``key`` on each monthly tab."""
    layout = ctx.layout
    row = layout.monthly.heatmap_check_row if key == "heatmap" else layout.monthly.check_rows[key]
    assert row is not None
    return [sheet_ref(sheet, cell(row, MONTH_ACTUAL_COL)) for sheet in layout.month_sheets]


def _write_failing_months(ctx: Context, ws: Worksheet, row: int, key: str) -> None:
    """The tabs of the months that break monthly check ``key``, e.g. "2026-02, 2026-05"."""
    names = ctx.layout.month_sheets
    failing = []
    for name, month in zip(names, ctx.values.months, strict=True):
        broken = month.heatmap_check if key == "heatmap" else month.checks[key]
        if broken == 1:
            failing.append(name)
    ctx.formula(
        ws,
        row,
        DETAIL_COL,
        layout_once(ctx, ("failing months", key), lambda: _failing_months(ctx, key)),
        ctx.styles.get("note"),
        ", ".join(failing),
    )


def _failing_months(ctx: Context, key: str) -> str:
    """The formula listing the tabs whose monthly check ``key`` is broken."""
    parts = [
        f'IF({ref}=1,"{name} ","")'
        for ref, name in zip(_month_check_refs(ctx, key), ctx.layout.month_sheets, strict=True)
    ]
    return f'SUBSTITUTE(TRIM({"&".join(parts)})," ",", ")'


def _name(ctx: Context, key: str) -> str:
    if key in ctx.template.input_keys:
        return ctx.template.input(key).label[ctx.language]
    return ctx.template.metric(key).label[ctx.language]
