"""Where the Sensitivity sheet puts things, decided from the template alone.

The rows depend only on the template (its headline ROI, the inputs that
formula uses, its break-even drivers), never on the values typed, so the
reader rebuilds exactly the same sheet from an edited workbook.
"""

from __future__ import annotations

from dataclasses import dataclass

from roi_xl.decide.break_even import key_drivers
from roi_xl.decide.sensitivity import MOVES
from roi_xl.model import engine, expr
from roi_xl.model.template import Template

SOLVER_STEPS = 12  # secant steps: enough for the built-in models by a wide margin

# Break-even table
LABEL, UNIT, TODAY, BREAK_EVEN, CHANGE, ROI_CHECK, BREAK_EVEN_KEY = range(7)
# Table of moves: input values, then the ROI at each move
BASE = 2
FIRST_MOVE = 3
FIRST_RESULT = FIRST_MOVE + len(MOVES)
LOWEST = FIRST_RESULT + len(MOVES)
HIGHEST, SWING, SORT_KEY, RANK, MOVE_KEY = range(LOWEST + 1, LOWEST + 6)
# Tornado table (sorted) and its chart
SORTED_LABEL, POSITION, SORTED_LOW, SORTED_HIGH = range(4)
TORNADO_CHART_COL = 5
# Solver
STEP, CANDIDATE, RESULT = range(1, 4)  # the driver's name heads column A


@dataclass(frozen=True)
class BreakEvenRows:
    """One key driver: its row, its companions' rows and its solver's rows."""

    driver: str
    row: int
    companions: dict[str, int]
    solver_rows: tuple[int, ...]  # step 0 (the live value) to SOLVER_STEPS

    @property
    def last_solver_row(self) -> int:
        return self.solver_rows[-1]


@dataclass(frozen=True)
class SensitivityLayout:
    metric: str
    break_even_section_row: int
    break_even_header_row: int
    break_evens: tuple[BreakEvenRows, ...]
    moves_section_row: int
    moves_group_row: int
    moves_header_row: int
    move_rows: dict[str, int]  # input -> row, in template order
    tornado_section_row: int
    tornado_header_row: int
    tornado_rows: tuple[int, ...]
    solver_section_row: int
    first_step_row: int
    tolerance_row: int

    @property
    def base_cell(self) -> tuple[int, int]:
        """Where the headline ROI's live value sits (the tornado's centre)."""
        return self.moves_group_row, BASE


def flexed_inputs(template: Template, metric: str) -> list[str]:
    """The inputs ``metric`` depends on, in template order: the only ones worth moving."""
    used = expr.names(engine.expanded(template, metric))
    return [key for key in template.input_keys if key in used]


def sensitivity_layout(template: Template) -> SensitivityLayout:
    metric = template.headline[0]
    inputs = flexed_inputs(template, metric)
    drivers = key_drivers(template)
    row = 3
    break_even_section_row, break_even_header_row = row, row + 1
    row += 2
    placed: list[tuple[str, int, dict[str, int]]] = []
    for driver, companions in drivers:
        driver_row = row
        row += 1
        companion_rows = {}
        for key in companions:
            companion_rows[key] = row
            row += 1
        placed.append((driver, driver_row, companion_rows))
    row += 1
    moves_section_row, moves_group_row, moves_header_row = row, row + 1, row + 2
    row += 3
    move_rows = {}
    for key in inputs:
        move_rows[key] = row
        row += 1
    row += 1
    tornado_section_row, tornado_header_row = row, row + 1
    row += 2
    tornado_rows = tuple(range(row, row + len(inputs)))
    row += max(len(inputs), 18) + 1  # room for the chart beside short tables
    solver_section_row, first_step_row, tolerance_row = row, row + 1, row + 2
    row += 4
    break_evens = []
    for driver, driver_row, companion_rows in placed:
        solver_rows = tuple(range(row + 1, row + 2 + SOLVER_STEPS))
        break_evens.append(BreakEvenRows(driver, driver_row, companion_rows, solver_rows))
        row = solver_rows[-1] + 2
    return SensitivityLayout(
        metric=metric,
        break_even_section_row=break_even_section_row,
        break_even_header_row=break_even_header_row,
        break_evens=tuple(break_evens),
        moves_section_row=moves_section_row,
        moves_group_row=moves_group_row,
        moves_header_row=moves_header_row,
        move_rows=move_rows,
        tornado_section_row=tornado_section_row,
        tornado_header_row=tornado_header_row,
        tornado_rows=tornado_rows,
        solver_section_row=solver_section_row,
        first_step_row=first_step_row,
        tolerance_row=tolerance_row,
    )
