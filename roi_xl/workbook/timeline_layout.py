"""Where the Timeline sheet puts its summary, its month columns and each scenario's block.

The sheet always carries the longest horizon the template allows, one column
per month, so changing the horizon input in Excel moves the figures with no
column to add: months past the horizon are zeroed by the horizon flag row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from roi_xl.model.template import MAX_HORIZON_MONTHS, SCENARIOS, Template

MONTHS_PER_YEAR = 12
# Columns: label, unit, key, total, an empty spacer (the month before the first),
# then one column per month, an empty column, one column per year.
TL_LABEL_COL, TL_UNIT_COL, TL_KEY_COL, TL_TOTAL_COL, TL_SPACER_COL = 0, 1, 2, 3, 4
TL_FIRST_MONTH_COL = 5
# The summary table shares the Inputs' scenario columns: prudent, realistic, optimistic, live.
SUMMARY_COLS: dict[str, int] = {"prudent": 2, "realistic": 3, "optimistic": 4}
SUMMARY_LIVE_COL = 5
TL_START_ROW = 3


@dataclass
class TimelineLayout:
    """Rows and columns of the Timeline sheet."""

    months: int = MAX_HORIZON_MONTHS
    summary_header_row: int = 0
    summary_rows: dict[str, int] = field(default_factory=dict)
    period_row: int = 0
    date_row: int = 0
    year_row: int = 0
    block_title_rows: dict[str, int] = field(default_factory=dict)
    rows: dict[str, dict[str, int]] = field(default_factory=dict)  # scenario -> row key -> row

    @property
    def last_month_col(self) -> int:
        return TL_FIRST_MONTH_COL + self.months - 1

    @property
    def years(self) -> int:
        return -(-self.months // MONTHS_PER_YEAR)

    @property
    def first_year_col(self) -> int:
        return self.last_month_col + 2

    def month_col(self, period: int) -> int:
        """The column of month ``period`` (1 = the start month)."""
        return TL_FIRST_MONTH_COL + period - 1


def timeline_layout(template: Template) -> TimelineLayout:
    """Place the summary, the month header rows and one block per scenario."""
    timeline = template.timeline
    layout = TimelineLayout()
    if timeline is None:
        return layout
    row = TL_START_ROW + 2  # the start month sits on TL_START_ROW
    layout.summary_header_row = row
    row += 1
    for result in timeline.results:
        layout.summary_rows[result.key] = row
        row += 1
    row += 1
    layout.period_row, layout.date_row, layout.year_row = row, row + 1, row + 2
    row += 4
    for scenario in SCENARIOS:
        layout.block_title_rows[scenario] = row
        row += 1
        layout.rows[scenario] = {}
        for item in timeline.rows:
            layout.rows[scenario][item.key] = row
            row += 1
        row += 1
    return layout
