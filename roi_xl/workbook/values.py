"""Every value the workbook's formulas will show, computed by the Python engine.

Each formula cell is written with its cached value, so viewers that never
recalculate (previewers, pandas, openpyxl with data_only=True) show true
numbers. These values are also what the LibreOffice recalculation tests
compare against, cell by cell.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from roi_xl.model import engine, expr, timeline
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.functions import FUNCTIONS
from roi_xl.model.template import MAX_HORIZON_MONTHS, SCENARIOS, MonthlyCheck, Template

Blank = str  # the empty string "" a guarded formula shows for a blank month
Cell = float | ExcelError | Blank
MonthFigures = Mapping[str, float | None]
Grid = Sequence[Sequence[float | None]]

# The "month complete" cell of each monthly tab, read and written beside the figures:
# 1 once the sales lead says every figure of the month is in, 0 (or blank) until then.
COMPLETE = "month_complete"


def counts(figures: Mapping[str, float | None], fields: Sequence[str]) -> bool:
    """Whether a month counts in the year to date and plan to date: marked complete and
    holding at least one figure. A partly filled month does not count."""
    return figures.get(COMPLETE) == 1 and any(figures.get(key) is not None for key in fields)


@dataclass(frozen=True)
class MonthValues:
    fields: dict[str, float | None]
    kpis: dict[str, Cell]
    checks: dict[str, Cell]
    heatmap: list[list[float | None]] | None
    heatmap_check: Cell
    complete: float | None  # the month complete cell as typed
    counted: int  # 1 when the month counts in the year to date


@dataclass(frozen=True)
class WorkbookValues:
    """The whole workbook's numbers for one set of scenario inputs and actuals."""

    inputs: dict[str, dict[str, float]]
    outputs: dict[str, dict[str, engine.Value]]
    selected: str
    plans: dict[str, Cell]
    plan_kpis: dict[str, Cell]
    months: list[MonthValues]
    ytd_fields: dict[str, Cell]
    ytd_kpis: dict[str, Cell]
    plan_ytd_fields: dict[str, Cell]
    plan_ytd_kpis: dict[str, Cell]
    months_counted: int
    heatmap_total: list[list[float]] | None
    checks: dict[str, Cell]
    master_check: Cell
    timelines: dict[str, timeline.TimelineValues]  # per scenario, every month column written

    @property
    def live_inputs(self) -> dict[str, float]:
        return self.inputs[self.selected]

    @property
    def live_outputs(self) -> dict[str, engine.Value]:
        return self.outputs[self.selected]


def compute_values(
    template: Template,
    scenario_inputs: Mapping[str, Mapping[str, float]],
    selected: str,
    month_count: int,
    actuals: Sequence[MonthFigures] = (),
    heatmaps: Sequence[Grid | None] = (),
    timelines: Mapping[str, timeline.TimelineValues] | None = None,
) -> WorkbookValues:
    """Compute what every formula of the workbook evaluates to.

    ``actuals`` and ``heatmaps`` give the figures typed in the first monthly
    tabs; later months are blank. ``timelines`` (per scenario) are the timelines
    of these very inputs when a batch has computed them already, many at once.
    """
    inputs = {s: dict(scenario_inputs[s]) for s in SCENARIOS}
    outputs = {s: engine.compute(template, inputs[s]) for s in SCENARIOS}
    live: dict[str, object] = {**inputs[selected], **outputs[selected]}
    monthly = template.monthly
    plans: dict[str, Cell] = {
        f.key: expr.evaluate_scalar(f.plan, live, FUNCTIONS) if f.plan else ""
        for f in monthly.fields
    }
    plan_kpis = kpi_values(template, plans, live)
    months = _months(template, actuals, heatmaps, month_count, live)
    filled = sum(month.counted for month in months)
    ytd_fields: dict[str, Cell] = {}
    plan_ytd_fields: dict[str, Cell] = {}
    for f in monthly.fields:
        numbers = [m.fields[f.key] for m in months if m.counted and m.fields[f.key] is not None]
        average = f.aggregate == "average"
        if not numbers:
            ytd_fields[f.key] = ""
        else:
            ytd_fields[f.key] = sum(numbers) / len(numbers) if average else float(sum(numbers))
        plan = plans[f.key]
        plan_ytd_fields[f.key] = (
            "" if filled == 0 or plan == "" else (plan if average else _times(plan, filled))
        )
    ytd_kpis = kpi_values(template, ytd_fields, live)
    plan_ytd_kpis = kpi_values(template, plan_ytd_fields, live)
    heatmap_total = None
    if monthly.heatmap:
        heatmap_total = [[0.0] * 24 for _ in range(7)]
        for month in months:
            for d in range(7):
                for h in range(24):
                    value = month.heatmap[d][h] if month.heatmap else None
                    heatmap_total[d][h] += value or 0.0
    if not template.timeline:
        timelines = {}
    elif timelines is None:
        together = timeline.compute_many(
            template,
            [inputs[s] for s in SCENARIOS],
            [outputs[s] for s in SCENARIOS],
            MAX_HORIZON_MONTHS,
        )  # the three scenarios in one pass, each equal to its own compute_timeline
        timelines = dict(zip(SCENARIOS, together, strict=True))
    checks = _model_checks(template, inputs, outputs, selected)
    for check in monthly.checks:
        checks[f"month:{check.key}"] = _sum_cells([m.checks[check.key] for m in months])
    if monthly.heatmap:
        checks["month:heatmap"] = _sum_cells([m.heatmap_check for m in months])
    return WorkbookValues(
        inputs=inputs,
        outputs=outputs,
        selected=selected,
        plans=plans,
        plan_kpis=plan_kpis,
        months=months,
        ytd_fields=ytd_fields,
        ytd_kpis=ytd_kpis,
        plan_ytd_fields=plan_ytd_fields,
        plan_ytd_kpis=plan_ytd_kpis,
        months_counted=filled,
        heatmap_total=heatmap_total,
        checks=checks,
        master_check=_sum_cells(list(checks.values())),
        timelines=dict(timelines),
    )


def kpi_values(
    template: Template, fields: Mapping[str, Cell | None], live: Mapping
) -> dict[str, Cell]:
    """Monthly KPIs over one column of figures; blank when a figure they use is blank."""
    local: dict[str, Cell | None] = dict(fields)
    for kpi in template.monthly.kpis:
        local[kpi.key] = guarded(kpi.node, local, live)
    return {kpi.key: local[kpi.key] for kpi in template.monthly.kpis}  # type: ignore[misc]


def guarded(node: expr.Node, local: Mapping[str, Cell | None], live: Mapping) -> Cell:
    """IF(any of the month's figures used is blank, "", formula), as written in the sheet."""
    used = [name for name in expr.names(node) if name in local]
    if any(local[name] is None or local[name] == "" for name in used):
        return ""
    env = {**live, **{name: local[name] for name in used}}
    return expr.evaluate_scalar(node, env, FUNCTIONS)


def check_value(check: MonthlyCheck, local: Mapping[str, Cell | None], live: Mapping) -> Cell:
    """0 when the rule holds or a figure it uses is blank, 1 when it is broken."""
    result = guarded(check.node, local, live)
    if result == "":
        return 0.0
    if isinstance(result, ExcelError):
        return result
    return 0.0 if result else 1.0


def _months(
    template: Template,
    actuals: Sequence[MonthFigures],
    heatmaps: Sequence[Grid | None],
    month_count: int,
    live: Mapping,
) -> list[MonthValues]:
    """Each month's values; the months nothing is typed in yet (every month of a new
    workbook) share the values of the first: read-only, and the same for each."""
    months: list[MonthValues] = []
    blank: MonthValues | None = None
    for i in range(month_count):
        figures = actuals[i] if i < len(actuals) else {}
        grid = heatmaps[i] if i < len(heatmaps) else None
        if figures or grid is not None:
            months.append(_month(template, figures, grid, live))
            continue
        if blank is None:
            blank = _month(template, {}, None, live)
        months.append(blank)
    return months


def _month(
    template: Template, figures: MonthFigures, grid: Grid | None, live: Mapping
) -> MonthValues:
    monthly = template.monthly
    fields = {f.key: _number_or_none(figures.get(f.key)) for f in monthly.fields}
    kpis = kpi_values(template, fields, live)
    local = {**fields, **kpis}
    checks = {c.key: check_value(c, local, live) for c in monthly.checks}
    heatmap = None
    heatmap_check: Cell = 0.0
    if monthly.heatmap:
        heatmap = [
            [_number_or_none(grid[d][h]) if grid else None for h in range(24)] for d in range(7)
        ]
        numbers = [v for row in heatmap for v in row if v is not None]
        missed = fields.get("calls_missed")
        if numbers:
            heatmap_check = 0.0 if missed is not None and sum(numbers) == missed else 1.0
    complete = _number_or_none(figures.get(COMPLETE, 0.0))  # a new month is not complete
    counted = 1 if counts({**fields, COMPLETE: complete}, list(fields)) else 0
    return MonthValues(fields, kpis, checks, heatmap, heatmap_check, complete, counted)


def _model_checks(
    template: Template,
    inputs: Mapping[str, Mapping[str, float]],
    outputs: Mapping[str, Mapping[str, engine.Value]],
    selected: str,
) -> dict[str, Cell]:
    checks: dict[str, Cell] = {"selector": 0.0 if selected in SCENARIOS else 1.0}
    for item in template.inputs:
        values = [inputs[s][item.key] for s in SCENARIOS]
        inside = all(item.minimum <= v <= item.maximum for v in values)
        checks[f"input:{item.key}"] = 0.0 if inside else 1.0
    stages = template.funnel
    for previous, current in itertools.pairwise(stages):
        verdict: Cell = 0.0
        for s in SCENARIOS:
            merged = {**inputs[s], **outputs[s]}
            before, after = merged[previous], merged[current]
            if isinstance(before, ExcelError) or isinstance(after, ExcelError):
                verdict = before if isinstance(before, ExcelError) else after
                break
            if after > before:
                verdict = 1.0
        checks[f"funnel:{current}"] = verdict
    return checks


def _sum_cells(values: list[Cell]) -> Cell:
    """SUM as Excel does it: errors propagate, blanks and text are skipped."""
    total = 0.0
    for value in values:
        if isinstance(value, ExcelError):
            return value
        if isinstance(value, float):
            total += value
    return total


def _times(value: Cell, factor: int) -> Cell:
    if isinstance(value, ExcelError) or value == "":
        return value
    return float(value) * factor


def _number_or_none(value: object) -> float | None:
    if value is None or value == "":
        return None
    return float(value)  # type: ignore[arg-type]
