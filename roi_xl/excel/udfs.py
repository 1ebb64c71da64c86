"""The business functions as Excel functions (xlwings UDFs): =MISSEDCALLLOSS(A2:A100, ...).

Each function in ``FUNCTIONS`` becomes an upper-case function of this module, generated in a
loop from its single definition, so no formula is written here a second time. The same module
serves classic xlwings (the Windows add-in: "Import Functions") and xlwings Server (Office.js
custom functions): ``func`` and ``arg`` come from the top-level ``xlwings`` package,
which picks the right implementation (no-op decorators on Linux without Excel, so a plain import
needs no licence key; ``XLWINGS_ON_SERVER=true`` plus ``XLWINGS_LICENSE_KEY`` for the server).
xlwings Lite cannot install roi_xl, so it gets a generated module instead (``roi_xl.excel.lite``);
both read cells and write results with ``lite_runtime``.

Ranges are evaluated as whole numpy arrays: a column or block of inputs gives a result of the
same shape that spills, and a single cell broadcasts against a range. Bad input cells (empty,
text, a rate outside 0..1, a negative count) raise ``BadCellError``, an ``XlwingsError``, whose
message names the function, the argument and the reason; xlwings Server shows that message on
the cell (#VALUE! with the text on hover) instead of a generic error. A division by zero is not
an exception: that cell gets the text "#DIV/0!", which xlwings' Office.js engine sends as a
real Excel error, as the workbook's own formula would show.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Mapping, Sequence

from xlwings import arg, func

from roi_xl.excel import lite_runtime
from roi_xl.model import expr
from roi_xl.model.functions import FUNCTIONS, BusinessFunction

CATEGORY = lite_runtime.CATEGORY
ARG_OPTIONS = lite_runtime.ARG_OPTIONS


class BadCellError(lite_runtime.BadCellError):
    """An argument cell the function cannot use; the message says which and why.

    An ``XlwingsError`` so xlwings Server passes the message to the cell rather than a generic
    "An error occurred".
    """


def _classic_windows_error_class() -> type[BadCellError]:
    """On the classic Windows add-in, also a pywin32 COMException.

    pywin32 turns any other exception into "Unexpected Python Error: Traceback ..." as the cell
    text; a COMException's description reaches VBA's Err.Description, which the xlwings wrapper
    writes to the cell, so the cell shows the message alone. Not exercised off Windows.
    """
    if sys.platform != "win32" or os.environ.get("XLWINGS_ON_SERVER") == "true":
        return BadCellError
    try:
        from win32com.server.exception import COMException
    except ImportError:
        return BadCellError
    try:
        return type("BadCellError", (BadCellError, COMException), {"__module__": __name__})
    except TypeError:
        return BadCellError


_RAISED_ERROR = _classic_windows_error_class()

# ---------------------------------------------------------------------------------- calling


def call(function: BusinessFunction, args: Sequence[object]) -> object:
    """Evaluate ``function`` on Excel arguments: scalars, lists or 2-D lists, broadcast."""
    arguments = [
        lite_runtime.Argument(function.name, param.name, param.doc, param.kind)
        for param in function.params
    ]

    def body(*pairs: lite_runtime.Pair) -> lite_runtime.Pair:
        env = {
            param.name: expr.Evaluated(*pair)
            for param, pair in zip(function.params, pairs, strict=True)
        }
        evaluated = expr.evaluate(function.body, env, FUNCTIONS)
        return evaluated.values, evaluated.errors

    try:
        return lite_runtime.call(function.name, body, arguments, args)
    except lite_runtime.BadCellError as error:
        raise _RAISED_ERROR(error.message) from None


# --------------------------------------------------------------------------------- generation


def _make_udf(function: BusinessFunction) -> Callable[..., object]:
    """A real function named like the business function, with its parameters as arguments.

    xlwings (classic ``xlwings.udfs`` and ``xlwings.server``) reads argument names with
    ``inspect.signature``, which honours ``__signature__``; ``__annotations__`` is emptied so
    ``get_type_hints`` finds no converter to apply besides the ``arg`` options.
    """
    signature = inspect.Signature(
        [
            inspect.Parameter(param.name, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for param in function.params
        ]
    )

    count = len(function.params)

    def udf(*args: object, **kwargs: object) -> object:
        if kwargs or len(args) != count:  # Excel passes every argument by position
            args = signature.bind(*args, **kwargs).args
        return call(function, args)

    udf.__name__ = udf.__qualname__ = function.name
    udf.__doc__ = function.description
    udf.__signature__ = signature  # type: ignore[attr-defined]
    udf.__annotations__ = {}
    for param in function.params:
        udf = arg(param.name, doc=param.doc, **ARG_OPTIONS)(udf)
    return func(category=CATEGORY)(udf)


UDFS: Mapping[str, Callable[..., object]] = {
    name: _make_udf(function) for name, function in FUNCTIONS.items()
}
"""Every UDF by name; each is also a module attribute, which is where xlwings looks for them."""

globals().update(UDFS)
__all__ = ["CATEGORY", "UDFS", "BadCellError", "call", *UDFS]
