"""Cells defined once as expression trees, for sheets that compute from other cells.

Each cell's tree is evaluated for the value cached in the file and rendered as
the formula Excel recomputes, so the two cannot disagree. A tree refers to
model names (inputs and metrics, on other sheets) or to cells of its own sheet
already defined.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NamedTuple, TypeVar

from roi_xl.model import expr
from roi_xl.model.engine import Value
from roi_xl.model.functions import FUNCTIONS
from roi_xl.workbook.layout import cell


class Made(NamedTuple):
    """A cell's tree as last defined, its formula and its tree made into closures."""

    node: expr.Node
    moved: tuple[str, expr.Ref] | None
    formula: str
    run: Callable[[Mapping[str, Value]], Value]


class CellProgram:
    """The evaluated cells of one sheet, with the references their formulas use.

    ``made`` keeps each cell's formula and compiled tree from one program to the next: a
    sheet of one template and layout defines the same trees in the same cells (with the
    same references) in every workbook, only the values differ. A cell whose tree or
    moved input is not the one kept is rendered and compiled again."""

    def __init__(
        self,
        references: Mapping[str, str],
        values: Mapping[str, Value],
        made: dict[tuple[int, int], Made] | None = None,
    ) -> None:
        self._references = dict(references)
        self._env: dict[str, Value] = dict(values)
        self._cells: dict[tuple[int, int], Value] = {}
        self._made = {} if made is None else made

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

    def define(
        self, row: int, col: int, node: expr.Node, moved: tuple[str, expr.Ref] | None = None
    ) -> tuple[str, Value]:
        """Evaluate ``node`` into the cell; return its formula text and value.

        ``moved`` = (name, source): ``name`` stands for the cell ``source`` in this cell, as if
        substituted into the tree. The tree itself is left as it is, so a template's tree
        (a metric written out) renders from the cache in every cell and workbook."""
        env: Mapping[str, Value] = self._env
        if moved is not None:
            env = _Replaced(env, moved[0], env[moved[1].name])
        made = self._made.get((row, col))
        if made is None or not (made.node is node or made.node == node) or made.moved != moved:
            references: Mapping[str, str] = self._references
            if moved is not None:
                name, source = moved
                references = _Replaced(references, name, references[source.name])
            formula = expr.to_excel(node, references, FUNCTIONS)
            made = Made(node, moved, formula, expr.compile_scalar(node, FUNCTIONS))
            self._made[(row, col)] = made
        value = made.run(env)
        self._cells[(row, col)] = value
        return made.formula, value

    def define_across(
        self,
        cells: Sequence[tuple[int, int]],
        node: expr.Node,
        name: str,
        sources: Sequence[expr.Ref],
    ) -> list[tuple[str, Value]]:
        """One tree in several cells, ``name`` standing for ``sources[i]`` in cell i.

        Each cell evaluated as it alone would be (``define`` with ``moved``): ``name`` may be
        a name the tree already uses (an input); in these cells it means the source instead.
        """
        return [
            self.define(row, col, node, (name, source))
            for (row, col), source in zip(cells, sources, strict=True)
        ]

    def constant(self, row: int, col: int, value: float) -> None:
        """A number typed in the sheet (a step, a tolerance) that trees refer to."""
        self._cells[(row, col)] = value

    def value(self, row: int, col: int) -> Value:
        return self._cells[(row, col)]


_V = TypeVar("_V")


class _Replaced(Mapping[str, _V]):
    """A mapping with one name's entry replaced, without copying the rest."""

    __slots__ = ("_base", "_name", "_value")

    def __init__(self, base: Mapping[str, _V], name: str, value: _V) -> None:
        self._base, self._name, self._value = base, name, value

    def __getitem__(self, key: str) -> _V:
        return self._value if key == self._name else self._base[key]

    def __contains__(self, key: object) -> bool:
        return key == self._name or key in self._base

    def __iter__(self) -> Iterator[str]:
        yield from self._base
        if self._name not in self._base:
            yield self._name

    def __len__(self) -> int:
        return len(self._base) + (self._name not in self._base)
