"""What the cell audit found on a sheet read from a shape, kept for the next one like it.

A sheet read from a remembered shape (roi_xl.inspect.sheet_shapes) holds the shape's cells
but for the numbers of its value cells, and the reference the audit compares it with holds,
sheet after sheet of one template, locale and period, the same cells, formulas and number
formats: only the values differ. So what comparing the formulas and formats gives (and the
formulas added inside the model's area) is the same each time, and is kept with the cells
whose cached value is compared. The next sheet of that shape, against expected cells of the
same places, formulas and formats (compared as lists, at C speed), gets the same findings,
and its cached values are compared at once where the file shows a float read from a number;
only the values that differ, and the others (dates, texts, blanks), are compared one by one,
in the order the audit compares them.

A value cell whose number sits where the model expects a formula (a formula typed over) shows
its number in a finding: no plan is kept for such a sheet. Bounded: at most ``_LIMIT`` plans.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, compress
from operator import itemgetter, ne
from typing import Any

from roi_xl.inspect.findings import Finding
from roi_xl.inspect.sheet_shapes import Grid, Key, Picker, Shape, picker

Expected = dict[Key, Any]  # place -> ReferenceCell (formula, value, number format)
_LIMIT = 64


@dataclass(frozen=True)
class SheetPlan:
    """The audit of one shape against expected cells of these places, formulas and formats."""

    shape: Shape  # held, so the id it is kept under stays its own
    formats_table: object  # the locale's formats, which judge two formats alike: held too
    keys: list[Key]
    formulas: tuple[str | None, ...]
    number_formats: tuple[str | int, ...]
    findings: tuple[Finding, ...]  # what the formulas, formats and added formulas gave
    row_lengths: tuple[int, ...]  # the values grid's
    floats: Picker  # the expected values compared where the file shows a float ...
    float_positions: Picker  # ... and those floats, in the flattened grid
    float_cells: tuple[tuple[int, Key], ...]  # their index among the expected cells, place
    others: tuple[tuple[int, Key], ...]  # the other cells whose value is compared

    def differing(self, values: Sequence[Any], grid: Grid) -> tuple[int, list[tuple[int, Key]]]:
        """How many compared floats are equal, and the cells to compare one by one (index
        among the expected cells, place), in order."""
        expected = self.floats(values)
        found = self.float_positions(list(chain.from_iterable(grid)))
        if expected == found:
            return len(expected), sorted(self.others)
        mismatched = list(compress(self.float_cells, map(ne, expected, found)))
        return len(expected) - len(mismatched), sorted(self.others + tuple(mismatched))


_PLANS: OrderedDict[tuple[int, str, int], SheetPlan] = OrderedDict()


def recall(
    shape: Shape | None, sheet: str, formats_table: object, expected: Expected, grid: Grid | None
) -> tuple[SheetPlan, Sequence[Any]] | None:
    """The plan kept for this shape and sheet, with the expected values, if the expected
    cells have its places, formulas and number formats and the grid its rows."""
    if shape is None or grid is None:
        return None
    plan = _PLANS.get((id(shape), sheet, id(formats_table)))
    if plan is None or plan.shape is not shape or plan.formats_table is not formats_table:
        return None
    if list(expected) != plan.keys or tuple(map(len, grid)) != plan.row_lengths:
        return None
    formulas, values, number_formats = _columns(expected)
    if formulas != plan.formulas or number_formats != plan.number_formats:
        return None
    _PLANS.move_to_end((id(shape), sheet, id(formats_table)))
    return plan, values


def keep(
    shape: Shape | None,
    sheet: str,
    formats_table: object,
    expected: Expected,
    findings: Sequence[Finding],
    compared: Sequence[Key],
    grid: Grid | None,
) -> None:
    """Keep what the audit of a sheet read from ``shape`` gave: its findings (but the cached
    values'), and ``compared``, the places whose cached value it compared, in order."""
    if shape is None or grid is None:
        return
    for _, place, _, _ in shape.typed:
        cell = expected.get(place)
        if cell is not None and cell[0] is not None:
            return  # a number typed over a formula: its finding shows the number
    keys = list(expected)
    index = {place: position for position, place in enumerate(keys)}
    row_lengths = tuple(map(len, grid))
    offsets = [0, *accumulate(row_lengths)]
    floats: list[tuple[int, Key]] = []
    positions: list[int] = []
    others: list[tuple[int, Key]] = []
    for place in compared:
        if place in shape.float_places:
            floats.append((index[place], place))
            positions.append(offsets[place[0]] + place[1])
        else:
            others.append((index[place], place))
    formulas, _, number_formats = _columns(expected)
    plan = SheetPlan(
        shape,
        formats_table,
        keys,
        formulas,
        number_formats,
        tuple(findings),
        row_lengths,
        picker([position for position, _ in floats]),
        picker(positions),
        tuple(floats),
        tuple(others),
    )
    if len(_PLANS) >= _LIMIT:
        _PLANS.popitem(last=False)
    _PLANS[(id(shape), sheet, id(formats_table))] = plan


def _columns(expected: Expected) -> tuple[tuple[Any, ...], ...]:
    """The expected cells' formulas, values and number formats, each as one tuple."""
    cells = expected.values()
    return tuple(tuple(map(itemgetter(field), cells)) for field in range(3))
