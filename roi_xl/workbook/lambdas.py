"""Each business function as an Excel 365 named LAMBDA, so =ROI(...) works with no add-in.

Rendered from the same single definition as the engine and the UDFs. The
workbook's own calculations never call them: LibreOffice and Excel before 365
do not evaluate LAMBDA.
"""

from __future__ import annotations

from xlsxwriter.workbook import Workbook

from roi_xl.model import expr
from roi_xl.model.functions import FUNCTIONS, BusinessFunction


def lambda_formula(function: BusinessFunction) -> str:
    """``=_xlfn.LAMBDA(_xlpm.gain,_xlpm.cost,(_xlpm.gain-_xlpm.cost)/_xlpm.cost)``.

    In the file, LAMBDA carries the ``_xlfn.`` prefix and its parameters ``_xlpm.``;
    Excel shows neither.
    """
    params = {name: f"_xlpm.{name}" for name in function.param_names}
    body = expr.to_excel(
        expr.Call(function.name, tuple(expr.Ref(p) for p in function.param_names)),
        params,
        FUNCTIONS,
    )
    return f"=_xlfn.LAMBDA({','.join(params.values())},{body})"


def define_lambdas(workbook: Workbook) -> None:
    """Define every business function as a workbook-level named LAMBDA."""
    for function in FUNCTIONS.values():
        workbook.define_name(function.name, lambda_formula(function))
