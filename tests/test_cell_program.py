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


def _with_cost() -> CellProgram:
    cells = CellProgram(
        {"price": "'Inputs'!$F$8", "cost": "'Inputs'!$F$9"}, {"price": 10.0, "cost": 4.0}
    )
    cells.constant(6, 2, 5.0)
    cells.constant(6, 3, 0.0)
    return cells


# A parameter of ROI() is named "cost" too: the stand-in must replace the input only.
_ROI_OF_COST = expr.Call("ROI", (expr.Ref("price"), expr.Ref("cost")))


def test_a_moved_input_reads_as_the_tree_with_the_reference_replaced() -> None:
    replaced, standing = _with_cost(), _with_cost()
    for col in (2, 3):
        tree = expr.substitute(_ROI_OF_COST, {"cost": replaced.ref(6, col)})
        expected = replaced.define(7, col, tree)
        found = standing.define(7, col, _ROI_OF_COST, ("cost", standing.ref(6, col)))
        assert found == expected
        assert standing.value(7, col) == expected[1]
    assert found[0] == "('Inputs'!$F$8-D7)/D7"
    assert found[1] == DIV0
    # the name reads as before once the cell is defined
    assert standing.define(8, 2, expr.Ref("cost")) == ("'Inputs'!$F$9", 4.0)


def test_define_across_lets_an_input_stand_for_each_cell() -> None:
    replaced, across = _with_cost(), _with_cost()
    expected = [
        replaced.define(7, col, expr.substitute(_ROI_OF_COST, {"cost": replaced.ref(6, col)}))
        for col in (2, 3)
    ]
    sources = [across.ref(6, col) for col in (2, 3)]
    assert across.define_across([(7, 2), (7, 3)], _ROI_OF_COST, "cost", sources) == expected
    assert across.define(8, 2, expr.Ref("cost")) == ("'Inputs'!$F$9", 4.0)
