"""Only the months a sales lead marks complete count in the year to date and plan to date.

A partly filled month shows on the Actuals sheet beside the others but stays out of the
totals: counting it would compare half a month of figures with a whole month of plan.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from roi_xl.demo import sample_actuals
from roi_xl.inspect.reader import read_workbook
from roi_xl.locale import load_locale
from roi_xl.model import engine, template
from roi_xl.model.template import SCENARIOS
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.layout import MONTH_ACTUAL_COL, build_layout, cell
from roi_xl.workbook.values import COMPLETE, compute_values

MODEL = template.load("crm")
FULL = [dict(month) for month in sample_actuals("crm")[:3]]  # marked complete in the demo
PARTIAL = {COMPLETE: 0.0, "leads": 80.0, "deals": 9.0}  # half a month, not complete
START = dt.date(2026, 1, 1)


def inputs() -> dict[str, dict[str, float]]:
    return {s: engine.scenario_inputs(MODEL, s) for s in SCENARIOS}


def test_a_month_not_marked_complete_stays_out_of_the_totals() -> None:
    values = compute_values(MODEL, inputs(), "realistic", 6, [FULL[0], PARTIAL])
    assert [m.counted for m in values.months] == [1, 0, 0, 0, 0, 0]
    assert values.months_counted == 1
    assert values.ytd_fields["leads"] == FULL[0]["leads"]  # not 158 + 80
    plan = values.plans["leads"]
    assert isinstance(plan, float)
    assert values.plan_ytd_fields["leads"] == pytest.approx(plan)  # one month of plan, not two
    marked = compute_values(MODEL, inputs(), "realistic", 6, [FULL[0], {**PARTIAL, COMPLETE: 1}])
    assert marked.ytd_fields["leads"] == FULL[0]["leads"] + PARTIAL["leads"]
    assert marked.plan_ytd_fields["leads"] == pytest.approx(2 * plan)


def test_a_month_marked_complete_without_a_figure_does_not_count() -> None:
    values = compute_values(MODEL, inputs(), "realistic", 3, [{COMPLETE: 1.0}])
    assert values.months_counted == 0
    assert values.ytd_fields["leads"] == ""


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("complete") / "crm.xlsx"
    options = WorkbookOptions(locale="fr-FR", start=START, months=6, actuals=[FULL[0], PARTIAL])
    return write_workbook(MODEL, path, options)


def test_the_workbook_carries_the_cell_and_counts_by_it(written: Path) -> None:
    layout = build_layout(MODEL, load_locale("fr-FR"), START, 6)
    book = load_workbook(written)
    month = book[layout.month_sheets[1]]
    ref = cell(layout.monthly.complete_row, MONTH_ACTUAL_COL)
    assert month[ref].value == 0
    assert month[ref].number_format == '[=1]"Oui";[=0]"Non";0'
    (rule,) = [v for v in month.data_validations.dataValidation if ref in str(v.sqref)]
    assert (rule.type, rule.formula1, rule.formula2) == ("whole", "0", "1")
    a = layout.actuals
    actuals = book[layout.actuals_sheet]
    counted = actuals[cell(a.months_counted_row, a.first_month_col + 1)].value
    assert f"'{layout.month_sheets[1]}'!$C$3=1" in counted
    ytd = actuals[cell(a.field_rows["leads"], a.ytd_col)].value
    assert "SUMIF(" in ytd
    cached = load_workbook(written, data_only=True)[layout.actuals_sheet]
    assert cached[cell(a.months_counted_row, a.ytd_col)].value == 1
    assert cached[cell(a.field_rows["leads"], a.ytd_col)].value == FULL[0]["leads"]


def test_the_reader_reports_the_cell(written: Path) -> None:
    read = read_workbook(written)
    assert read.findings == []
    months = list(read.actuals.values())
    assert [m[COMPLETE] for m in months[:3]] == [1.0, 0.0, 0.0]
    assert read.to_dict()["actuals"]["2026-02"][COMPLETE] == 0.0
