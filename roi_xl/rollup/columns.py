"""The columns of a template's roll-up sheet and where its rows go.

One row per workbook: who it is, then its inputs, its year-to-date actuals and
its outputs (selected scenario), as values. Above them, frozen in view, the
Portfolio row of formulas and a row saying how each of them is made.
"""

from __future__ import annotations

from dataclasses import dataclass

from roi_xl.model.template import Template
from roi_xl.rollup.additivity import (
    AVERAGE,
    MAYBE_SIZE_KINDS,
    RATIO,
    SIZE_KINDS,
    SUM,
    WEIGHTED,
    Totalling,
    plan_totals,
)

INPUTS, ACTUALS, OUTPUTS = "inputs", "actuals", "outputs"
GROUP_ROW, LABEL_ROW, KEY_ROW, HOW_ROW, PORTFOLIO_ROW, FIRST_FILE_ROW = 2, 3, 4, 5, 6, 7
TITLE_ROWS = (GROUP_ROW, PORTFOLIO_ROW)  # printed on every page: headers and the totals
FILE_COL, NAME_COL, SCENARIO_COL, ERRORS_COL, WARNINGS_COL, MONTHS_COL, RANK_COL = range(7)
FIXED = (
    ("file", "File"),
    ("name", "Name"),
    ("scenario", "Selected scenario"),
    ("errors", "Errors"),
    ("warnings", "Warnings"),
    ("months_with_actuals", "Months counted (complete)"),
    ("rank", "Rank"),
)
GROUP_TITLES = {
    INPUTS: "Inputs (selected scenario)",
    ACTUALS: "Actuals, year to date",
    OUTPUTS: "Outputs (selected scenario, recomputed from its inputs)",
}


@dataclass(frozen=True)
class Column:
    """One figure of the sheet: where it comes from and how the portfolio figure is made."""

    group: str
    key: str
    label: str
    kind: str
    totalling: Totalling
    formula: str = ""  # the metric's own formula, for the how row


@dataclass(frozen=True)
class SheetPlan:
    """A template's sheet: its figure columns, from column ``len(FIXED)`` on."""

    template: Template
    columns: tuple[Column, ...]

    @property
    def headline(self) -> str:
        """The metric files are ranked by: the template's first headline output."""
        return self.template.headline[0]

    def index(self, key: str) -> int:
        """Position in ``columns`` of an input or output (they share one namespace)."""
        for index, column in enumerate(self.columns):
            if column.group != ACTUALS and column.key == key:
                return index
        raise KeyError(key)

    @staticmethod
    def col(index: int) -> int:
        """The sheet column of ``columns[index]``."""
        return len(FIXED) + index

    def how(self, column: Column) -> str:
        """The words of the how row: what the Portfolio figure above the files is."""
        totalling = column.totalling
        if totalling.how == SUM:
            return "sum of the files"
        if totalling.how == RATIO:
            return f"from the totals: {column.formula}"
        if totalling.how == WEIGHTED:
            return f"average weighted by {totalling.weight}"
        return "plain average of the files (not a total)"


def plan_sheet(template: Template) -> SheetPlan:
    """The columns of ``template``'s sheet and how each is totalled."""
    totals = plan_totals(template)
    columns = [
        Column(INPUTS, item.key, item.label.en, item.kind, totals[item.key])
        for item in template.inputs
    ]
    for item in template.monthly.fields:
        additive = item.kind in SIZE_KINDS | MAYBE_SIZE_KINDS
        totalling = Totalling(SUM if additive else AVERAGE)
        label = item.label.en + (" (average month)" if item.aggregate == "average" else "")
        columns.append(Column(ACTUALS, item.key, label, item.kind, totalling))
    columns += [
        Column(OUTPUTS, m.key, m.label.en, m.kind, totals[m.key], m.formula)
        for m in template.metrics
    ]
    return SheetPlan(template, tuple(columns))
