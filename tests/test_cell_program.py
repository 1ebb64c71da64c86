"""The cell program: a tree's cached value and its formula come from the same definition."""

from __future__ import annotations

from roi_xl.model import expr
from roi_xl.model.excel_errors import DIV0
from roi_xl.model.functions import FUNCTIONS
from roi_xl.workbook.cell_program import CellProgram


def program() -> CellProgram:
    return CellProgram({"price": "'Inputs'!$F$8"}, {"price": 10.0})


def test_define_evaluates_and_renders_the_same_tree() -> None:
    cells = program()
    cells.constant(4, 2, 0.5)
    node = expr.Binary("*", expr.Ref("price"), expr.Binary("+", expr.Num(1.0), cells.ref(4, 2)))
    formula, value = cells.define(5, 2, node)
    assert formula == "'Inputs'!$F$8*(1+C5)"
    assert value == 15.0 and cells.value(5, 2) == 15.0


def test_define_across_matches_each_cell_alone_errors_included() -> None:
    alone, across = program(), program()
    for cells in (alone, across):
        cells.constant(3, 0, 2.0)
        cells.constant(3, 1, 0.0)
        cells.constant(3, 2, -4.0)
    tree = expr.Binary("/", expr.Ref("price"), expr.Ref("@x"))
    expected = [
        alone.define(4, col, expr.substitute(tree, {"@x": alone.ref(3, col)})) for col in range(3)
    ]
    sources = [across.ref(3, col) for col in range(3)]
    found = across.define_across([(4, 0), (4, 1), (4, 2)], tree, "@x", sources)
    assert found == expected
    assert [value for _, value in found] == [5.0, DIV0, -2.5]
    assert [formula for formula, _ in found] == [
        "'Inputs'!$F$8/A4",
        "'Inputs'!$F$8/B4",
        "'Inputs'!$F$8/C4",
    ]
    assert across.value(4, 1) == DIV0


def test_stacked_keeps_errors_per_element() -> None:
    both = expr.stacked([3.0, DIV0])
    result = expr.evaluate(expr.Binary("+", expr.Ref("x"), expr.Num(1.0)), {"x": both}, FUNCTIONS)
    assert list(result.to_objects()) == [4.0, DIV0]
