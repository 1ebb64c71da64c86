"""What every Excel function needs besides its formula: cells in, numbers and errors out.

Standalone on purpose (numpy and xlwings only, nothing from roi_xl): ``roi_xl.udfs`` uses it
to read arguments and write results, and ``roi-xl excel setup`` copies this file's text into
the xlwings Lite ``main.py``, where it also evaluates the formulas rendered from the
definitions. A value is a pair of arrays: the numbers and an Excel error code per cell (0 = no
error), so a division by zero in one cell gives #DIV/0! there and leaves its neighbours alone.
The operations below follow the expression language's evaluator to the bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from numbers import Real

import numpy as np
from xlwings import XlwingsError

Pair = tuple[np.ndarray, np.ndarray]
"""Numbers and their error codes (int8, 0 = no error), broadcast like numpy."""

DIV0_CODE, NUM_CODE, VALUE_CODE = 1, 2, 3
ERROR_TEXTS: dict[int, str] = {DIV0_CODE: "#DIV/0!", NUM_CODE: "#NUM!", VALUE_CODE: "#VALUE!"}
# Error cells read as text propagate element-wise; errors a formula never produces (#N/A,
# #REF!...) get local codes to keep their identity.
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
    ERROR_TEXTS[100 + _offset] = _text
ERROR_CODES_BY_TEXT: dict[str, int] = {text: code for code, text in ERROR_TEXTS.items()}

RATE_LOW, RATE_HIGH = 0.0, 1.0

CATEGORY = "ROI"
"""Excel's function-wizard category (classic add-in; Office.js has no categories)."""

ARG_OPTIONS: dict[str, object] = {"ndim": 2, "empty": None, "err_to_str": True}
"""How xlwings reads every argument: always 2-D (a cell is 1 x 1), empty cells as None (not NaN,
so an empty cell can be told from a number), error cells as their text ("#N/A") so they
propagate like in Excel instead of looking empty."""


class BadCellError(XlwingsError):
    """An argument cell the function cannot use; the message says which and why.

    An ``XlwingsError`` so xlwings Server and Lite pass the message to the cell rather than a
    generic "An error occurred".
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


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
    """The local error code of an error cell read as text (or an error value), else 0."""
    if isinstance(value, str) or type(value).__name__ == "ExcelError":
        return ERROR_CODES_BY_TEXT.get(str(value), 0)
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


class Argument:
    """Who is reading which argument, for the message about a bad cell."""

    def __init__(self, function: str, name: str, doc: str, kind: str) -> None:
        self.function, self.name, self.doc, self.kind = function, name, doc, kind

    def complain(
        self, mask: np.ndarray, shape: tuple[int, ...], what: Callable[[tuple[int, ...]], str]
    ) -> None:
        """Raise for the first bad cell in ``mask``; say how many others there are."""
        if not mask.any():
            return
        bad = np.argwhere(mask)
        index = tuple(int(i) for i in bad[0])
        others = len(bad) - 1
        more = f" ({others} more cell{'s' if others > 1 else ''} like it)" if others else ""
        raise BadCellError(
            f"{self.function}: {self.name}{_where(index, shape)} {what(index)}{more}."
            f" {self.name}: {self.doc}."
        )

    def not_rectangular(self) -> BadCellError:
        return BadCellError(f"{self.function}: {self.name} is not a rectangular range of cells.")


def read_argument(argument: Argument, value: object) -> Pair:
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
        raise argument.not_rectangular() from None
    shape = array.shape
    if array.dtype.kind in "biuf":
        numbers = array.astype(float)
        errors = np.zeros(shape, dtype=np.int8)
    else:
        cells = array if array.dtype == object else np.asarray(value, dtype=object)
        if cells.shape != shape:  # a list holding arrays: numpy saw deeper than the range
            raise argument.not_rectangular()
        flat = cells.reshape(-1)
        errors = np.asarray([_error_code(cell) for cell in flat], dtype=np.int8).reshape(shape)
        numeric = np.asarray([_is_number(cell) for cell in flat], dtype=bool).reshape(shape)
        empty = np.asarray([_is_empty(cell) for cell in flat], dtype=bool).reshape(shape)
        text = ~numeric & ~empty & (errors == 0)
        argument.complain(text, shape, lambda index: f"is {_describe(cells[index])}, not a number")
        numbers = np.where(numeric, cells, np.nan).astype(float)
    argument.complain(
        np.isnan(numbers) & (errors == 0), shape, lambda index: "is empty: enter a number"
    )
    _check_kind(argument, numbers, errors, shape)
    return numbers, errors


def _describe(cell: object) -> str:
    if isinstance(cell, str):
        shown = cell if len(cell) <= 30 else cell[:27] + "..."
        return f"the text '{shown}'"
    return f"a {type(cell).__name__} ({cell!r:.30})"


def _check_kind(
    argument: Argument, numbers: np.ndarray, errors: np.ndarray, shape: tuple[int, ...]
) -> None:
    """Refuse values outside what the parameter's kind allows (rates 0..1, counts >= 0)."""
    valid = errors == 0
    if argument.kind == "rate":
        argument.complain(
            valid & (numbers > RATE_HIGH),
            shape,
            lambda index: _rate_above_one(float(numbers[index])),
        )
        argument.complain(
            valid & (numbers < RATE_LOW),
            shape,
            lambda index: f"is {numbers[index]:g}: a rate must be between 0 and 1 (0 % to 100 %)",
        )
    elif argument.kind == "count":
        argument.complain(
            valid & (numbers < 0),
            shape,
            lambda index: f"is {numbers[index]:g}: a count cannot be negative",
        )


def _rate_above_one(value: float) -> str:
    message = f"is {value:g}, above 100 %: a rate must be between 0 and 1"
    if value <= 100:
        message += f"; {value:g} is probably {value:g} %: enter {value:g}% or {value / 100:g}"
    return message


def common_shape(function: str, shapes: dict[str, tuple[int, ...]]) -> tuple[int, ...]:
    """The shape every argument broadcasts to, or a message saying which ranges clash."""
    try:
        return np.broadcast_shapes(*shapes.values())
    except ValueError:
        sizes = ", ".join(f"{name} {_size(s)}" for name, s in shapes.items())
        raise BadCellError(
            f"{function}: the ranges do not fit together ({sizes});"
            " give ranges of the same size, or single cells."
        ) from None


def _size(shape: tuple[int, ...]) -> str:
    if len(shape) == 2:
        return f"{shape[0]} x {shape[1]}"
    return "x".join(str(n) for n in shape) or "1 cell"


# ----------------------------------------------------------------------------------- results


def result(values: np.ndarray, errors: np.ndarray, shape: tuple[int, ...]) -> object:
    """Numbers as a float array, error cells as their text ("#DIV/0!"); a scalar for scalars.

    xlwings writes an ndarray as a spilled range. Its Office.js engine (Server and Lite) turns
    a string such as "#DIV/0!" into a true Excel error, so ISERROR and IFERROR see it as the
    workbook's own formula would give it; the classic add-in can only write it as text.
    """
    values = np.broadcast_to(values, shape)
    errors = np.broadcast_to(errors, shape)
    if not shape:
        code = int(errors)
        return ERROR_TEXTS[code] if code else float(values)
    if not errors.any():
        return np.array(values, dtype=float)
    out = values.astype(object)
    for code in np.unique(errors[errors != 0]):
        out[errors == code] = ERROR_TEXTS[int(code)]
    return out


def call(
    function: str,
    body: Callable[..., Pair],
    arguments: Sequence[Argument],
    values: Sequence[object],
) -> object:
    """Read every argument, check the ranges fit, evaluate ``body`` once over whole arrays."""
    pairs = [
        read_argument(argument, value) for argument, value in zip(arguments, values, strict=True)
    ]
    shape = common_shape(
        function, {a.name: p[0].shape for a, p in zip(arguments, pairs, strict=True)}
    )
    with np.errstate(all="ignore"):
        numbers, errors = body(*pairs)
    return result(numbers, errors, shape)


# ------------------------------------------------------------------------------ operations


def first_error(*codes: np.ndarray) -> np.ndarray:
    """Excel reports the first error met, reading left to right."""
    found = codes[-1]
    for code in reversed(codes[:-1]):
        found = np.where(code != 0, code, found)
    return np.asarray(found, dtype=np.int8)


def number(value: float) -> Pair:
    return np.asarray(value, dtype=float), np.zeros((), dtype=np.int8)


def negate(operand: Pair) -> Pair:
    return -operand[0], operand[1]


def plus(operand: Pair) -> Pair:
    return operand


def _checked(values: np.ndarray, new_error: np.ndarray, left: Pair, right: Pair) -> Pair:
    overflow = ~np.isfinite(values) & (new_error == 0)
    new_error = np.where(overflow, NUM_CODE, new_error).astype(np.int8)
    return values, first_error(left[1], right[1], new_error)


def _no_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.zeros(np.broadcast(a, b).shape, dtype=np.int8)


def add(left: Pair, right: Pair) -> Pair:
    return _checked(left[0] + right[0], _no_error(left[0], right[0]), left, right)


def subtract(left: Pair, right: Pair) -> Pair:
    return _checked(left[0] - right[0], _no_error(left[0], right[0]), left, right)


def multiply(left: Pair, right: Pair) -> Pair:
    return _checked(left[0] * right[0], _no_error(left[0], right[0]), left, right)


def divide(left: Pair, right: Pair) -> Pair:
    a, b = left[0], right[0]
    return _checked(a / b, np.where(b == 0, DIV0_CODE, 0).astype(np.int8), left, right)


def power(left: Pair, right: Pair) -> Pair:
    a, b = left[0], right[0]
    zero_base = a == 0
    new_error = np.where(
        zero_base & (b < 0), DIV0_CODE, np.where(zero_base & (b == 0), NUM_CODE, 0)
    ).astype(np.int8)
    return _checked(np.power(a, b), new_error, left, right)


def _comparison(test: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., Pair]:
    def compare(left: Pair, right: Pair) -> Pair:
        return test(left[0], right[0]).astype(float), first_error(left[1], right[1])

    return compare


less = _comparison(np.less)
less_equal = _comparison(np.less_equal)
greater = _comparison(np.greater)
greater_equal = _comparison(np.greater_equal)
equal = _comparison(np.equal)
not_equal = _comparison(np.not_equal)


def choose(condition: Pair, when_true: Pair, when_false: Pair) -> Pair:
    chosen = condition[0] != 0
    values = np.where(chosen, when_true[0], when_false[0])
    errors = np.where(chosen, when_true[1], when_false[1])
    return values, first_error(condition[1], errors)


def minimum(*args: Pair) -> Pair:
    values = args[0][0]
    for arg in args[1:]:
        values = np.minimum(values, arg[0])
    return values, first_error(*(arg[1] for arg in args))


def maximum(*args: Pair) -> Pair:
    values = args[0][0]
    for arg in args[1:]:
        values = np.maximum(values, arg[0])
    return values, first_error(*(arg[1] for arg in args))


def round_excel(value: Pair, digits: Pair) -> Pair:
    """Excel's ROUND: half away from zero, on the decimal the user sees; far digits keep
    the number (ROUND(x, 400) is x) or give 0 (ROUND(x, -400)), never NaN."""
    factor = np.power(10.0, np.clip(np.trunc(digits[0]), -308, 308))
    scaled = np.round(np.abs(value[0]) * factor, 9)
    rounded = np.sign(value[0]) * np.floor(scaled + 0.5) / factor
    exact = np.isfinite(value[0]) & ~(np.abs(value[0]) * factor < 2.0**52)
    values = np.where(exact, value[0], rounded)
    invalid = np.where(np.isfinite(values), 0, NUM_CODE).astype(np.int8)
    return values, first_error(value[1], digits[1], invalid)


def absolute(value: Pair) -> Pair:
    return np.abs(value[0]), value[1]


BUILTINS: dict[str, Callable[..., Pair]] = {
    "IF": choose,
    "MIN": minimum,
    "MAX": maximum,
    "ROUND": round_excel,
    "ABS": absolute,
}
"""The expression language's built-in functions, by the name formulas call them."""
