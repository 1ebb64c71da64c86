"""The workbook writer: the only part of roi_xl that imports XlsxWriter."""

from roi_xl.workbook.writer import OutputExistsError, WorkbookOptions, write_workbook

__all__ = ["OutputExistsError", "WorkbookOptions", "write_workbook"]
