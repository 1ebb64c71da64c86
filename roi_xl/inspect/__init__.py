"""Untrusted workbooks: the package guard, the sheet XML, the reader and its audit, the patch
that imports figures into a workbook, and recalculation by LibreOffice for the checks."""
