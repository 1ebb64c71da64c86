"""Cells defined once as expression trees, for sheets that compute from other cells.

Each cell's tree is evaluated for the value cached in the file and rendered as
the formula Excel recomputes, so the two cannot disagree. A tree refers to
model names (inputs and metrics, on other sheets) or to cells of its own sheet
already defined.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from roi_xl.model import expr
from roi_xl.model.engine import Value
from roi_xl.model.functions import FUNCTIONS
from roi_xl.workbook.layout import cell


class CellProgram:
    """The evaluated cells of one sheet, with the references their formulas use."""

    def __init__(self, references: Mapping[str, str], values: Mapping[str, Value]) -> None:
        self._references = dict(references)
        self._env: dict[str, Value] = dict(values)
        self._cells: dict[tuple[int, int], Value] = {}

    def name(self, name: str, reference: str, value: Value) -> expr.Ref:
        """Give a cell of another sheet a name trees can use (a scenario column, a bound)."""
        self._references[name] = reference
        self._env[name] = value
        return expr.Ref(name)

    def ref(
        self, row: int, col: int, absolute: bool = False, col_absolute: bool = False
    ) -> expr.Ref:
        """A cell of this sheet already defined, as a tree leaf (``$C5`` with col_absolute)."""
        text = cell(row, col, absolute, absolute or col_absolute)
        name = "@" + text
        self._references[name] = text
        self._env[name] = self._cells[(row, col)]
        return expr.Ref(name)

    def define(self, row: int, col: int, node: expr.Node) -> tuple[str, Value]:
        """Evaluate ``node`` into the cell; return its formula text and value."""
        value = expr.evaluate_scalar(node, self._env, FUNCTIONS)
        self._cells[(row, col)] = value
        return expr.to_excel(node, self._references, FUNCTIONS), value

    def define_across(
        self,
        cells: Sequence[tuple[int, int]],
        node: expr.Node,
        name: str,
        sources: Sequence[expr.Ref],
    ) -> list[tuple[str, Value]]:
        """One tree in several cells, ``name`` standing for ``sources[i]`` in cell i.

        Evaluated once over all the cells (numpy, element by element, as each
        cell alone would be), then rendered cell by cell: the flexed ROIs of a
        row cost one evaluation instead of six.
        """
        env = dict(self._env)
        env[name] = expr.stacked([self._env[source.name] for source in sources])
        values = expr.evaluate(node, env, FUNCTIONS).to_objects()
        written = []
        for (row, col), source, value in zip(cells, sources, values, strict=True):
            self._cells[(row, col)] = value
            tree = expr.substitute(node, {name: source})
            written.append((expr.to_excel(tree, self._references, FUNCTIONS), value))
        return written

    def constant(self, row: int, col: int, value: float) -> None:
        """A number typed in the sheet (a step, a tolerance) that trees refer to."""
        self._cells[(row, col)] = value

    def value(self, row: int, col: int) -> Value:
        return self._cells[(row, col)]
