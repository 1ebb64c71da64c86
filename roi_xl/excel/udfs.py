"""The business functions as Excel functions (xlwings UDFs): =MISSEDCALLLOSS(A2:A100, ...).

Each function in ``FUNCTIONS`` becomes an upper-case function of this module, generated in a
loop from its single definition, so no formula is written here a second time. The same module
serves classic xlwings (the Windows add-in: "Import Functions") and xlwings Server / Lite
(Office.js custom functions): ``func`` and ``arg`` come from the top-level ``xlwings`` package,
which picks the right implementation (no-op decorators on Linux without Excel, so a plain import
needs no licence key; ``XLWINGS_ON_SERVER=true`` plus ``XLWINGS_LICENSE_KEY`` for the server).

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
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from numbers import Real

import numpy as np
from xlwings import XlwingsError, arg, func

from roi_xl.model import expr
from roi_xl.model.excel_errors import ERROR_CODES, ExcelError
from roi_xl.model.functions import FUNCTIONS, BusinessFunction, Parameter

CATEGORY = "ROI"
"""Excel's function-wizard category (classic add-in; Office.js has no categories)."""

ARG_OPTIONS: dict[str, object] = {"ndim": 2, "empty": None, "err_to_str": True}
"""How xlwings reads every argument: always 2-D (a cell is 1 x 1), empty cells as None (not NaN,
so an empty cell can be told from a number), error cells as their text ("#N/A") so they
propagate like in Excel instead of looking empty."""

# Error cells read as text propagate element-wise. The evaluator only carries non-zero int8
# codes, so errors it never produces (#N/A, #REF!...) get local codes to keep their identity.
_ERROR_TEXTS: dict[int, str] = {code: error.text for code, error in ERROR_CODES.items()}
for _offset, _text in enumerate(
    (
        "#N/A",
        "#NAME?",
        "#NULL!",
        "#REF!",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#CONNECT!",
        "#BLOCKED!",
        "#BUSY!",
        "#UNKNOWN!",
        "#GETTING_DATA",
    )
):
    _ERROR_TEXTS[100 + _offset] = _text
_ERROR_CODES_BY_TEXT: dict[str, int] = {text: code for code, text in _ERROR_TEXTS.items()}

_RATE_LOW, _RATE_HIGH = 0.0, 1.0


class BadCellError(XlwingsError):
    """An argument cell the function cannot use; the message says which and why.

    An ``XlwingsError`` so xlwings Server passes the message to the cell rather than a generic
    "An error occurred".
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


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

# ------------------------------------------------------------------------------------ inputs


def _is_number(value: object) -> bool:
    """A number cell; TRUE/FALSE count as 1/0, as in Excel's arithmetic."""
    if isinstance(value, float):
        return not math.isnan(value)
    return isinstance(value, (Real, np.bool_))


def _is_empty(value: object) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value)
        or (isinstance(value, float) and math.isnan(value))
    )


def _error_code(value: object) -> int:
    """The local error code of an error cell read as text (or an ExcelError), else 0."""
    if isinstance(value, (str, ExcelError)):
        return _ERROR_CODES_BY_TEXT.get(str(value), 0)
    return 0


def _where(index: tuple[int, ...], shape: tuple[int, ...]) -> str:
    """Where a bad cell is inside the argument's range, in words; nothing for a single cell."""
    if math.prod(shape) <= 1:
        return ""
    if len(shape) == 1:
        return f" (item {index[0] + 1})"
    rows, columns = shape[-2], shape[-1]
    row, column = index[-2] + 1, index[-1] + 1
    if columns == 1:
        return f" (row {row} of its range)"
    if rows == 1:
        return f" (column {column} of its range)"
    return f" (row {row}, column {column} of its range)"


def _complain(
    function: BusinessFunction,
    param: Parameter,
    mask: np.ndarray,
    shape: tuple[int, ...],
    what: Callable[[tuple[int, ...]], str],
) -> None:
    """Raise for the first bad cell in ``mask``; say how many others there are."""
    if not mask.any():
        return
    bad = np.argwhere(mask)
    index = tuple(int(i) for i in bad[0])
    others = len(bad) - 1
    more = f" ({others} more cell{'s' if others > 1 else ''} like it)" if others else ""
    raise _RAISED_ERROR(
        f"{function.name}: {param.name}{_where(index, shape)} {what(index)}{more}."
        f" {param.name}: {param.doc}."
    )


def _read_argument(function: BusinessFunction, param: Parameter, value: object) -> expr.Evaluated:
    """One argument as numbers and error codes, refusing cells the formula cannot use.

    Numbers only (ints, floats, TRUE/FALSE as 1/0 like Excel's arithmetic) take the fast path:
    one numpy conversion, no per-cell Python. Anything else (None, text, error cells) is looked
    at cell by cell, which only happens when such a cell is present.
    """
    if value is None:
        value = np.nan
    try:
        array = np.asarray(value)
    except ValueError:
        raise _RAISED_ERROR(_not_rectangular(function, param)) from None
    shape = array.shape
    if array.dtype.kind in "biuf":
        numbers = array.astype(float)
        errors = np.zeros(shape, dtype=np.int8)
    else:
        cells = array if array.dtype == object else np.asarray(value, dtype=object)
        if cells.shape != shape:  # a list holding arrays: numpy saw deeper than the range
            raise _RAISED_ERROR(_not_rectangular(function, param))
        flat = cells.reshape(-1)
        codes = [_error_code(cell) for cell in flat]
        errors = np.asarray(codes, dtype=np.int8).reshape(shape)
        numeric = np.asarray([_is_number(cell) for cell in flat], dtype=bool).reshape(shape)
        empty = np.asarray([_is_empty(cell) for cell in flat], dtype=bool).reshape(shape)
        text = ~numeric & ~empty & (errors == 0)
        _complain(
            function,
            param,
            text,
            shape,
            lambda index: f"is {_describe(cells[index])}, not a number",
        )
        numbers = np.where(numeric, cells, np.nan).astype(float)
    _complain(
        function,
        param,
        np.isnan(numbers) & (errors == 0),
        shape,
        lambda index: "is empty: enter a number",
    )
    _check_kind(function, param, numbers, errors, shape)
    return expr.Evaluated(numbers, errors)


def _not_rectangular(function: BusinessFunction, param: Parameter) -> str:
    return f"{function.name}: {param.name} is not a rectangular range of cells."


def _describe(cell: object) -> str:
    if isinstance(cell, str):
        shown = cell if len(cell) <= 30 else cell[:27] + "..."
        return f"the text '{shown}'"
    return f"a {type(cell).__name__} ({cell!r:.30})"


def _check_kind(
    function: BusinessFunction,
    param: Parameter,
    numbers: np.ndarray,
    errors: np.ndarray,
    shape: tuple[int, ...],
) -> None:
    """Refuse values outside what the parameter's kind allows (rates 0..1, counts >= 0)."""
    valid = errors == 0
    if param.kind == "rate":
        _complain(
            function,
            param,
            valid & (numbers > _RATE_HIGH),
            shape,
            lambda index: _rate_above_one(float(numbers[index])),
        )
        _complain(
            function,
            param,
            valid & (numbers < _RATE_LOW),
            shape,
            lambda index: f"is {numbers[index]:g}: a rate must be between 0 and 1 (0 % to 100 %)",
        )
    elif param.kind == "count":
        _complain(
            function,
            param,
            valid & (numbers < 0),
            shape,
            lambda index: f"is {numbers[index]:g}: a count cannot be negative",
        )


def _rate_above_one(value: float) -> str:
    message = f"is {value:g}, above 100 %: a rate must be between 0 and 1"
    if value <= 100:
        message += f"; {value:g} is probably {value:g} %: enter {value:g}% or {value / 100:g}"
    return message


# ----------------------------------------------------------------------------------- results


def _result(values: np.ndarray, errors: np.ndarray, shape: tuple[int, ...]) -> object:
    """Numbers as a float array, error cells as their text ("#DIV/0!"); a scalar for scalars.

    xlwings writes an ndarray as a spilled range. Its Office.js engine turns a string such as
    "#DIV/0!" into a true Excel error (runtime 1.4+), so ISERROR and IFERROR see it as the
    workbook's own formula would give it; the classic add-in can only write it as text.
    """
    values = np.broadcast_to(values, shape)
    errors = np.broadcast_to(errors, shape)
    if not shape:
        code = int(errors)
        return _ERROR_TEXTS[code] if code else float(values)
    if not errors.any():
        return np.array(values, dtype=float)
    out = values.astype(object)
    for code in np.unique(errors[errors != 0]):
        out[errors == code] = _ERROR_TEXTS[int(code)]
    return out


def call(function: BusinessFunction, args: Sequence[object]) -> object:
    """Evaluate ``function`` on Excel arguments: scalars, lists or 2-D lists, broadcast."""
    env = {
        param.name: _read_argument(function, param, value)
        for param, value in zip(function.params, args, strict=True)
    }
    shapes = {name: evaluated.values.shape for name, evaluated in env.items()}
    try:
        shape = np.broadcast_shapes(*shapes.values())
    except ValueError:
        sizes = ", ".join(f"{name} {_size(s)}" for name, s in shapes.items())
        raise _RAISED_ERROR(
            f"{function.name}: the ranges do not fit together ({sizes});"
            " give ranges of the same size, or single cells."
        ) from None
    result = expr.evaluate(function.body, env, FUNCTIONS)
    return _result(result.values, result.errors, shape)


def _size(shape: tuple[int, ...]) -> str:
    if len(shape) == 2:
        return f"{shape[0]} x {shape[1]}"
    return "x".join(str(n) for n in shape) or "1 cell"


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
