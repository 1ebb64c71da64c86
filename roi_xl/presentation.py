"""Show values the way a finance reader expects: %, x, thousands separators."""

from __future__ import annotations

import json
import math

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


def json_text(payload: object) -> str:
    """Strict JSON for ``--json``: a NaN or infinity (never valid JSON) becomes null."""
    return json.dumps(_finite(payload), indent=2, ensure_ascii=False, allow_nan=False)


def _finite(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
