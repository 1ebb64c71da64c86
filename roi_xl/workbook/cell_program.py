"""Cells defined once as expression trees, for sheets that compute from other cells.

Each cell's tree is evaluated for the value cached in the file and rendered as
the formula Excel recomputes, so the two cannot disagree. A tree refers to
model names (inputs and metrics, on other sheets) or to cells of its own sheet
already defined.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NamedTuple, TypeVar

import numpy as np

from roi_xl.decide.nan_arrays import nan_compiled
from roi_xl.model import expr
from roi_xl.model.engine import Value
from roi_xl.model.excel_errors import ALL_ERROR_CODES, ExcelError
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
        made = self._made_for(row, col, node, moved)
        value = made.run(env)
        self._cells[(row, col)] = value
        return made.formula, value

    def put(
        self,
        row: int,
        col: int,
        node: expr.Node,
        value: Value,
        moved: tuple[str, expr.Ref] | None = None,
    ) -> str:
        """``define`` with the value worked out beforehand, for a block of cells evaluated
        at once (``evaluate_each``: the values ``define`` gives); return the formula."""
        self._cells[(row, col)] = value
        return self._made_for(row, col, node, moved).formula

    def kept(self, row: int, col: int, value: Value) -> str | None:
        """``put`` where the cell's tree is the one it had in the last program of this
        template and layout (a caller that defines each cell with a tree decided by these
        alone): its formula as kept, without the tree being made and compared; None if the
        cell has none kept yet."""
        made = self._made.get((row, col))
        if made is None:
            return None
        self._cells[(row, col)] = value
        return made.formula

    def _made_for(
        self, row: int, col: int, node: expr.Node, moved: tuple[str, expr.Ref] | None
    ) -> Made:
        """The cell's formula and compiled tree: kept, or made for this tree and stand-in."""
        made = self._made.get((row, col))
        if made is None or not (made.node is node or made.node == node) or made.moved != moved:
            references: Mapping[str, str] = self._references
            if moved is not None:
                name, source = moved
                references = _Replaced(references, name, references[source.name])
            formula = expr.to_excel(node, references, FUNCTIONS)
            made = Made(node, moved, formula, expr.compile_scalar(node, FUNCTIONS))
            self._made[(row, col)] = made
        return made

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

    def named(self, name: str) -> Value:
        """The value a name (an input, a metric, another sheet's cell) has in every tree."""
        return self._env[name]


Column = Value | Sequence[Value]  # one value for every position, or one per position


def evaluate_each(node: expr.Node, columns: Mapping[str, Column], size: int) -> list[Value]:
    """``node`` at each of ``size`` positions, each name taking its column's value there:
    for each position what the scalar evaluation (``define``) gives, bit for bit.

    The positions go through numpy together when the tree uses only operations numpy and
    plain Python floats round alike (+ - * /, comparisons, IF, MIN, MAX, ABS); a power or
    a ROUND could come out of numpy's vector loops a last digit away from its one-number
    result, so such a tree is evaluated position by position instead."""
    if not _exact(node, FUNCTIONS):
        run = expr.compile_scalar(node, FUNCTIONS)
        return [
            run({name: _at(column, index) for name, column in columns.items()})
            for index in range(size)
        ]
    env = {name: _array(column) for name, column in columns.items()}
    curve = nan_compiled(node)
    if curve is not None and not any(isinstance(v, expr.Evaluated) for v in env.values()):
        with np.errstate(all="ignore"):
            found = np.broadcast_to(curve(env), (size,))
        if not np.isnan(found).any():  # no error anywhere: the engine's very numbers
            return found.astype(float).tolist()
    env = {name: _evaluated(value) for name, value in env.items()}
    with np.errstate(all="ignore"):
        result = expr.evaluate(node, env, FUNCTIONS)
    values = np.broadcast_to(result.values, (size,)).tolist()
    errors = np.broadcast_to(result.errors, (size,))
    if errors.any():
        for index in np.flatnonzero(errors).tolist():
            values[index] = ALL_ERROR_CODES[int(errors[index])]
    return values


def _at(column: Column, index: int) -> Value:
    return column if isinstance(column, (float, ExcelError)) else column[index]


def _array(column: Column) -> float | np.ndarray | expr.Evaluated:
    """A column of numbers as one array (a single one as it is); one holding an error value
    as ``expr.evaluate`` takes it, the errors' codes beside the numbers."""
    if column.__class__ is float:
        return column  # type: ignore[return-value]
    if isinstance(column, ExcelError):
        return expr.Evaluated.of(column)
    if set(map(type, column)) <= _FLOATS:  # type: ignore[arg-type]
        return np.array(column, dtype=float)
    return expr.Evaluated(
        np.array([value if value.__class__ is float else np.nan for value in column]),
        np.array(
            [value.code if isinstance(value, ExcelError) else 0 for value in column],
            dtype=np.int8,
        ),
    )


_FLOATS = frozenset({float})


def _evaluated(value: float | np.ndarray | expr.Evaluated) -> float | expr.Evaluated:
    if isinstance(value, np.ndarray):
        return expr.Evaluated(value, np.zeros(value.shape, dtype=np.int8))
    return value


_EXACT_CALLS = frozenset({"IF", "MIN", "MAX", "ABS"})
# id(tree) -> (tree, verdict): the trees asked about are a template's, made once; the tree
# is held so its id cannot be reused while the entry lives.
_EXACT: dict[int, tuple[expr.Node, bool]] = {}
_EXACT_LIMIT = 4096


def _exact(node: expr.Node, functions: Mapping[str, expr.Macro]) -> bool:
    """Whether every operation of the tree (business functions' bodies included) rounds the
    same in numpy's array loops as on plain Python floats."""
    kept = _EXACT.get(id(node))
    if kept is not None and kept[0] is node:
        return kept[1]
    verdict = _exact_walk(node, functions)
    if len(_EXACT) >= _EXACT_LIMIT:
        _EXACT.clear()
    _EXACT[id(node)] = (node, verdict)
    return verdict


def _exact_walk(node: expr.Node, functions: Mapping[str, expr.Macro]) -> bool:
    if isinstance(node, expr.Binary) and node.op == "^":
        return False
    if isinstance(node, expr.Call):
        if node.name in functions:
            if not _exact_walk(functions[node.name].body, functions):
                return False
        elif node.name not in _EXACT_CALLS:
            return False
    return all(_exact_walk(child, functions) for child in expr.children(node))


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
