"""Show values the way a finance reader expects: %, x, thousands separators."""

from __future__ import annotations

from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.functions import PAYBACK_NEVER


def format_value(value: float | ExcelError, kind: str) -> str:
    """One value as text for a terminal table (English conventions)."""
    if isinstance(value, ExcelError):
        return value.text
    if kind == "months" and value == PAYBACK_NEVER:
        return "never"
    if kind == "percent":
        return f"{value * 100:,.1f} %"
    if kind == "multiple":
        return f"{value:,.2f}x"
    if kind == "factor":
        return f"{value:.4f}"
    if kind == "currency":
        return f"{value:,.2f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")
