"""Excel error values, as values: a formula that divides by zero gives #DIV/0!, not an exception."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExcelError:
    """One of Excel's error values; compares equal to its text, e.g. '#DIV/0!'."""

    text: str
    code: int

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ExcelError):
            return self.code == other.code
        if isinstance(other, str):
            return other == self.text
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.text)


DIV0 = ExcelError("#DIV/0!", 1)
NUM = ExcelError("#NUM!", 2)
VALUE = ExcelError("#VALUE!", 3)
REF = ExcelError("#REF!", 4)

# What the business functions can give (and the Excel functions hand over) ...
ERROR_CODES: dict[int, ExcelError] = {error.code: error for error in (DIV0, NUM, VALUE)}
# ... and what a timeline can give besides: LAG past the previous month is #REF! in Excel.
ALL_ERROR_CODES: dict[int, ExcelError] = {**ERROR_CODES, REF.code: REF}
ERROR_TEXTS = frozenset(
    {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!"}
)
OTHER_CODE = 99  # #REF!, #N/A, #NAME? and the like, found in files but never computed


def from_text(text: str) -> ExcelError:
    """The error value a cell shows, e.g. '#DIV/0!'."""
    for error in ALL_ERROR_CODES.values():
        if error.text == text:
            return error
    return ExcelError(text, OTHER_CODE)
