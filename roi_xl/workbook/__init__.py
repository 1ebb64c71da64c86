"""The workbook writer: the only part of roi_xl that imports XlsxWriter."""

from roi_xl.workbook.writer import (
    OutputExistsError,
    Reference,
    ReferenceCell,
    WorkbookOptions,
    build_reference,
    write_workbook,
)

__all__ = [
    "OutputExistsError",
    "Reference",
    "ReferenceCell",
    "WorkbookOptions",
    "build_reference",
    "write_workbook",
]
