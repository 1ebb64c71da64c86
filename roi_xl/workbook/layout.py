"""Where everything sits in a generated workbook, decided before anything is written.

Every sheet refers to cells of other sheets; computing all addresses first lets
each sheet module render its formulas without knowing how the others are built,
and lets the reader find the same cells again.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from roi_xl.locale import Locale
from roi_xl.model.template import Metric, Template
from roi_xl.workbook.sensitivity_layout import SensitivityLayout, sensitivity_layout
from roi_xl.workbook.timeline_layout import TimelineLayout, timeline_layout

# Columns shared by Inputs and Calculations, so one formula per row has the
# same R1C1 form in every scenario column and in the Live column.
LABEL_COL, UNIT_COL = 0, 1
SCENARIO_COLS: dict[str, int] = {"prudent": 2, "realistic": 3, "optimistic": 4}
LIVE_COL = 5
MIN_COL, MAX_COL, INPUT_KEY_COL, NOTE_COL = 6, 7, 8, 9  # notes last: long text may run on
FORMULA_COL, METRIC_KEY_COL = 6, 7

SELECTOR_ROW, SELECTOR_INDEX_ROW, HEADER_ROW = 3, 4, 6
VALUE_COL = 2  # the Inputs selector and the monthly tabs' actual column

# Monthly tabs: label, unit, actual, plan, comment, key.
MONTH_ACTUAL_COL, MONTH_PLAN_COL, MONTH_COMMENT_COL, MONTH_KEY_COL = 2, 3, 4, 5
MONTH_FIRST_ROW = 4
HEATMAP_FIRST_COL = 7  # right of the key column: the grid keeps its own narrow columns
HEATMAP_LABEL_COL = 6
HOURS = 24
WEEKDAYS = 7


@functools.lru_cache(maxsize=1 << 16)
def cell(row: int, col: int, row_abs: bool = False, col_abs: bool = False) -> str:
    """A1 reference of a zero-based cell (cached: a workbook asks for each one many times)."""
    return xl_rowcol_to_cell(row, col, row_abs, col_abs)


def sheet_ref(sheet: str, ref: str) -> str:
    """A reference on another sheet, always quoted (names may hold spaces or accents)."""
    return "'" + sheet.replace("'", "''") + "'!" + ref


def column_name(col: int) -> str:
    return xl_col_to_name(col)


@dataclass
class MonthlyLayout:
    """Rows of one monthly tab (every tab has the same)."""

    complete_row: int = MONTH_FIRST_ROW - 2  # the "month complete" cell, above the headers
    field_rows: dict[str, int] = field(default_factory=dict)
    kpi_rows: dict[str, int] = field(default_factory=dict)
    check_rows: dict[str, int] = field(default_factory=dict)
    heatmap_check_row: int | None = None
    heatmap_first_row: int | None = None


@dataclass
class ActualsLayout:
    """Rows and columns of the Actuals sheet."""

    months_counted_row: int = 0
    field_rows: dict[str, int] = field(default_factory=dict)
    kpi_rows: dict[str, int] = field(default_factory=dict)
    first_month_col: int = 2
    ytd_col: int = 0
    plan_col: int = 0
    plan_ytd_col: int = 0
    variance_col: int = 0
    key_col: int = 0


@dataclass
class Layout:
    """All sheet names and row positions of one workbook."""

    template: Template
    locale: Locale
    months: list[dt.date]
    month_sheets: list[str]
    sensitivity_rows: SensitivityLayout  # the Sensitivity sheet's, from the template alone
    input_rows: dict[str, int] = field(default_factory=dict)
    input_section_rows: dict[str, int] = field(default_factory=dict)
    metric_rows: dict[str, int] = field(default_factory=dict)
    metric_section_rows: dict[str, int] = field(default_factory=dict)
    monthly: MonthlyLayout = field(default_factory=MonthlyLayout)
    actuals: ActualsLayout = field(default_factory=ActualsLayout)
    check_rows: list[tuple[str, int]] = field(default_factory=list)
    master_check_row: int = 0
    # Reference maps asked for by many cells, built once per layout.
    _refs: dict[object, Mapping[str, str]] = field(default_factory=dict, repr=False, compare=False)
    timeline: TimelineLayout = field(default_factory=TimelineLayout)

    # -- sheet names

    @property
    def cover(self) -> str:
        return self.locale.sheets["cover"]

    @property
    def inputs(self) -> str:
        return self.locale.sheets["inputs"]

    @property
    def calculations(self) -> str:
        return self.locale.sheets["calculations"]

    @property
    def actuals_sheet(self) -> str:
        return self.locale.sheets["actuals"]

    @property
    def dashboard(self) -> str:
        return self.locale.sheets["dashboard"]

    @property
    def checks(self) -> str:
        return self.locale.sheets["checks"]

    @property
    def sensitivity(self) -> str:
        return self.locale.sheets["sensitivity"]

    @property
    def channels(self) -> str | None:
        """The channel comparison sheet, for templates that compare channels."""
        return self.locale.sheets["channels"] if self.template.channels else None

    @property
    def timeline_sheet(self) -> str | None:
        """The monthly cash-flow timeline, for templates that define one."""
        return self.locale.sheets["timeline"] if self.template.timeline else None

    @property
    def sheet_order(self) -> list[str]:
        return [
            self.cover,
            self.inputs,
            *self.month_sheets,
            self.actuals_sheet,
            self.calculations,
            *([self.timeline_sheet] if self.timeline_sheet else []),
            self.dashboard,
            self.sensitivity,
            *([self.channels] if self.channels else []),
            self.checks,
        ]

    # -- references

    def input_ref(self, key: str, col: int) -> str:
        """An input's cell in a scenario column (or Live), as seen from another sheet."""
        return sheet_ref(self.inputs, cell(self.input_rows[key], col, row_abs=True))

    def metric_ref(self, key: str, col: int, same_sheet: bool) -> str:
        ref = cell(self.metric_rows[key], col, row_abs=True)
        return ref if same_sheet else sheet_ref(self.calculations, ref)

    def model_refs(self, col: int, on_calculations: bool) -> Mapping[str, str]:
        """Every input and metric name mapped to its cell in column ``col`` (read-only)."""
        slot = (col, on_calculations)
        if slot not in self._refs:
            refs = {key: self.input_ref(key, col) for key in self.template.input_keys}
            refs.update(
                {k: self.metric_ref(k, col, on_calculations) for k in self.template.metric_keys}
            )
            self._refs[slot] = MappingProxyType(refs)
        return self._refs[slot]

    def live_refs(self) -> Mapping[str, str]:
        """Inputs and metrics of the live scenario, absolute, for any sheet (read-only)."""
        if "live" not in self._refs:
            self._refs["live"] = MappingProxyType(self._live_refs())
        return self._refs["live"]

    def _live_refs(self) -> dict[str, str]:
        refs = {
            key: sheet_ref(self.inputs, cell(row, LIVE_COL, True, True))
            for key, row in self.input_rows.items()
        }
        refs.update(
            {
                key: sheet_ref(self.calculations, cell(row, LIVE_COL, True, True))
                for key, row in self.metric_rows.items()
            }
        )
        return refs

    @property
    def selector_cell(self) -> str:
        return cell(SELECTOR_ROW, VALUE_COL, True, True)

    @property
    def selector_index_cell(self) -> str:
        return cell(SELECTOR_INDEX_ROW, VALUE_COL, True, True)

    @property
    def master_check_ref(self) -> str:
        return sheet_ref(self.checks, cell(self.master_check_row, 1, True, True))


def build_layout(template: Template, locale: Locale, start: dt.date, months: int) -> Layout:
    """Decide every address of the workbook for ``months`` monthly tabs from ``start``."""
    dates = [_add_months(start, offset) for offset in range(months)]
    layout = Layout(
        template=template,
        locale=locale,
        months=dates,
        month_sheets=[f"{d.year:04d}-{d.month:02d}" for d in dates],
        sensitivity_rows=sensitivity_layout(template),
        timeline=timeline_layout(template),
    )
    _place_inputs(layout)
    _place_metrics(layout)
    _place_monthly(layout)
    _place_actuals(layout)
    _place_checks(layout)
    return layout


def _add_months(start: dt.date, offset: int) -> dt.date:
    index = start.month - 1 + offset
    return dt.date(start.year + index // 12, index % 12 + 1, 1)


def _place_inputs(layout: Layout) -> None:
    row = HEADER_ROW + 1
    section = None
    for item in layout.template.inputs:
        if item.section != section:
            section = item.section
            layout.input_section_rows[section] = row
            row += 1
        layout.input_rows[item.key] = row
        row += 1


def _place_metrics(layout: Layout) -> None:
    row = HEADER_ROW + 1
    section = None
    for metric in metrics_in_sheet_order(layout.template):
        if metric.section != section:
            section = metric.section
            layout.metric_section_rows[section] = row
            row += 1
        layout.metric_rows[metric.key] = row
        row += 1


def metrics_in_sheet_order(template: Template) -> list[Metric]:
    """Metrics grouped by section, sections in the order they first appear."""
    sections: list[str] = []
    for metric in template.metrics:
        if metric.section not in sections:
            sections.append(metric.section)
    return [m for s in sections for m in template.metrics if m.section == s]


def _place_monthly(layout: Layout) -> None:
    monthly = layout.template.monthly
    rows = layout.monthly
    row = MONTH_FIRST_ROW
    for item in monthly.fields:
        rows.field_rows[item.key] = row
        row += 1
    row += 1  # section title
    for kpi in monthly.kpis:
        rows.kpi_rows[kpi.key] = row
        row += 1
    row += 1
    for check in monthly.checks:
        rows.check_rows[check.key] = row
        row += 1
    if monthly.heatmap:
        rows.heatmap_check_row = row
        row += 2  # title, then the hours header
        rows.heatmap_first_row = row + 1


def _place_actuals(layout: Layout) -> None:
    actuals = layout.actuals
    actuals.months_counted_row = MONTH_FIRST_ROW
    row = MONTH_FIRST_ROW + 1
    for item in layout.template.monthly.fields:
        actuals.field_rows[item.key] = row
        row += 1
    row += 1
    for kpi in layout.template.monthly.kpis:
        actuals.kpi_rows[kpi.key] = row
        row += 1
    actuals.first_month_col = 2
    actuals.ytd_col = actuals.first_month_col + len(layout.months)
    actuals.plan_col = actuals.ytd_col + 1
    actuals.plan_ytd_col = actuals.ytd_col + 2
    actuals.variance_col = actuals.ytd_col + 3
    actuals.key_col = actuals.ytd_col + 4


def _place_checks(layout: Layout) -> None:
    row = 4
    names = ["selector"]
    names += [f"input:{key}" for key in layout.template.input_keys]
    names += [f"funnel:{key}" for key in layout.template.funnel[1:]]
    names += [f"month:{check.key}" for check in layout.template.monthly.checks]
    if layout.template.monthly.heatmap:
        names.append("month:heatmap")
    for name in names:
        layout.check_rows.append((name, row))
        row += 1
    layout.master_check_row = row + 1
