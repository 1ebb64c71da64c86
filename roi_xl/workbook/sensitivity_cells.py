"""What the Sensitivity sheet's blocks share: the cell program and how a cell is written."""

from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.worksheet import Worksheet

from roi_xl.model import expr
from roi_xl.model.engine import Value
from roi_xl.model.template import Template
from roi_xl.workbook.cell_program import CellProgram, Made
from roi_xl.workbook.context import Context, cached
from roi_xl.workbook.layout import MAX_COL, MIN_COL, SCENARIO_COLS, cell, sheet_ref
from roi_xl.workbook.per_layout import layout_once
from roi_xl.workbook.sensitivity_layout import LABEL

# (template id, locale, sheet names) -> (template, each cell's formula and compiled tree):
# the sheet's trees and references depend on these only, never on the inputs. The template
# is held so its id cannot be reused while the entry lives; a few hundred cells an entry.
_MADE: dict[tuple[object, ...], tuple[Template, dict[tuple[int, int], Made]]] = {}
_MADE_LIMIT = 32


def sensitivity_program(ctx: Context) -> CellProgram:
    """Live inputs and metrics by name, plus each input's prudent and optimistic values and
    bounds on the Inputs sheet."""
    values = ctx.values
    names = layout_once(ctx, "sensitivity names", lambda: _names(ctx))
    env: dict[str, Value] = {**values.live_inputs, **values.live_outputs, **names.bounds}
    for scenario, key, name in names.scenarios:
        env[name] = values.inputs[scenario][key]
    return CellProgram(names.references, env, _made(ctx))


@dataclass(frozen=True)
class _Names:
    """The names the sheet's trees use, as every workbook of a layout has them."""

    references: dict[str, str]  # the live inputs' and metrics', and each below
    bounds: dict[str, float]  # "min:key" and "max:key": the template's bounds
    scenarios: tuple[tuple[str, str, str], ...]  # (scenario, input, "scenario:input")


def _names(ctx: Context) -> _Names:
    layout = ctx.layout
    references = dict(layout.live_refs())
    bounds: dict[str, float] = {}
    scenarios = []
    for item in ctx.template.inputs:
        row = layout.input_rows[item.key]
        for scenario in ("prudent", "optimistic"):
            name = f"{scenario}:{item.key}"
            references[name] = inputs_cell(ctx, row, SCENARIO_COLS[scenario])
            scenarios.append((scenario, item.key, name))
        for bound, col, value in (("min", MIN_COL, item.minimum), ("max", MAX_COL, item.maximum)):
            references[f"{bound}:{item.key}"] = inputs_cell(ctx, row, col)
            bounds[f"{bound}:{item.key}"] = value
    return _Names(references, bounds, tuple(scenarios))


def _made(ctx: Context) -> dict[tuple[int, int], Made]:
    """The formulas and compiled trees kept for this template and layout."""
    key = (id(ctx.template), ctx.locale.code, tuple(ctx.layout.sheet_order))
    kept = _MADE.get(key)
    if kept is not None and kept[0] is ctx.template:
        return kept[1]
    if len(_MADE) >= _MADE_LIMIT:
        del _MADE[next(iter(_MADE))]  # the oldest
    made: dict[tuple[int, int], Made] = {}
    _MADE[key] = (ctx.template, made)
    return made


def inputs_cell(ctx: Context, row: int, col: int) -> str:
    """An absolute reference to a cell of the Inputs sheet."""
    return sheet_ref(ctx.layout.inputs, cell(row, col, True, True))


def section(ctx: Context, ws: Worksheet, row: int, last_col: int, title: str) -> None:
    """A block's title bar, from column A to ``last_col``."""
    ws.merge_range(row, LABEL, row, last_col, title, ctx.styles.get("section"))


def metric_format(ctx: Context, key: str) -> str:
    """The number format a metric has on the Calculations sheet, so both sheets read alike."""
    metric = ctx.template.metric(key)
    return ctx.styles.format_for(metric.kind, ctx.values.outputs["realistic"][key])


def input_format(ctx: Context, key: str) -> str:
    """The number format of an input, finer for small or fractional live values."""
    return ctx.styles.format_for(ctx.template.input(key).kind, ctx.values.live_inputs[key])


def write_cell(
    ctx: Context,
    ws: Worksheet,
    program: CellProgram,
    at: tuple[int, int],
    node: expr.Node,
    fmt: str,
    moved: tuple[str, expr.Ref] | None = None,
) -> Value:
    """Evaluate ``node`` into cell ``at`` and write it as a formula with that value cached
    (``moved``: a name standing for another cell, see ``CellProgram.define``)."""
    formula, value = program.define(*at, node, moved)
    ctx.formula(ws, *at, formula, ctx.styles.get("formula", fmt), value)
    return value


def write_arranging_formula(
    ctx: Context, ws: Worksheet, at: tuple[int, int], formula: str, fmt: str, value: Value | str
) -> None:
    """A formula that only arranges results (ranks, lookups, guards), with its value."""
    ws._write_formula(*at, "=" + formula, ctx.styles.get("formula", fmt), cached(value))
