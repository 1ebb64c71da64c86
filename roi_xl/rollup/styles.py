"""Cell looks of the roll-up workbook, created once each.

Number formats carry no currency symbol: one roll-up may gather dollar and euro
workbooks, and a symbol would claim what the figures do not say.
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from roi_xl.workbook.styles import FONT, MUTED, NAVY, SECTION_FILL

NUMBER_FORMATS = {
    "currency": "#,##0.00",
    "percent": "0.0%",
    "multiple": '0.00"x"',
    "factor": "0.0000",
    "count": "#,##0.0",
    "hours": "#,##0.0",
}
DEFAULT_FORMAT = "0.0"  # months, years, days, seconds, scores

_ROLES: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 16, "font_color": NAVY},
    "note": {"italic": True, "font_color": MUTED},
    "group": {"bold": True, "bg_color": SECTION_FILL, "font_color": NAVY},
    "header": {
        "bold": True,
        "font_color": "#FFFFFF",
        "bg_color": NAVY,
        "text_wrap": True,
        "valign": "vcenter",
    },
    "key": {"font_color": "#A6A6A6", "font_size": 8},
    "how": {"italic": True, "font_color": MUTED, "font_size": 8, "text_wrap": True},
    "portfolio": {"bold": True, "top": 1, "bottom": 1, "bg_color": "#F2F2F2"},
    "value": {},
    "text": {},
    "text_wrap": {"text_wrap": True, "valign": "top"},
    "wrap": {"text_wrap": True, "valign": "top"},
}


class Styles:
    """Formats by role ("header", "portfolio"...) and, for numbers, by kind ("currency"...)."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self._cache: dict[tuple[str, str], Format] = {}

    def get(self, role: str, kind: str = "") -> Format:
        key = (role, kind)
        if key not in self._cache:
            properties = {"font_name": FONT, "font_size": 10, **_ROLES[role]}
            if kind:
                properties["num_format"] = NUMBER_FORMATS.get(kind, DEFAULT_FORMAT)
            self._cache[key] = self.workbook.add_format(properties)
        return self._cache[key]
