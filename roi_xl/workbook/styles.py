"""Cell looks: inputs look like Excel's own "Input" style, formulas do not.

Input cells are unlocked, everything else stays locked, so a protected sheet
lets people type only where they should.
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from roi_xl.locale import Locale

FONT = "Calibri"
NAVY = "#1F3864"
INPUT_FILL, INPUT_FONT, INPUT_BORDER = "#FFCC99", "#3F3F76", "#7F7F7F"
GOOD_FILL, GOOD_FONT = "#C6EFCE", "#006100"
BAD_FILL, BAD_FONT = "#FFC7CE", "#9C0006"
SECTION_FILL = "#D9E1F2"
MUTED = "#7F7F7F"

_ROLES: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 16, "font_color": NAVY},
    "subtitle": {"italic": True, "font_color": MUTED, "text_wrap": False},
    "header": {
        "bold": True,
        "font_color": "#FFFFFF",
        "bg_color": NAVY,
        "text_wrap": True,
        "valign": "vcenter",
        "border": 1,
        "border_color": NAVY,
    },
    "section": {"bold": True, "bg_color": SECTION_FILL, "font_color": NAVY},
    "label": {},
    "label_bold": {"bold": True},
    # An indent shows only in a left-aligned cell: XlsxWriter aligns it left by itself only when
    # its cell is not top-aligned, and every cell here is.
    "label_indent": {"indent": 1, "align": "left", "font_color": "#404040"},
    "unit": {"font_color": MUTED},
    "note": {"font_color": MUTED, "italic": True},
    "hint": {"font_color": MUTED, "italic": True, "indent": 1, "align": "left"},  # off the input
    "note_wrap": {"font_color": MUTED, "italic": True, "text_wrap": True, "valign": "top"},
    "key": {"font_color": "#A6A6A6", "font_size": 8},
    "input": {
        "bg_color": INPUT_FILL,
        "font_color": INPUT_FONT,
        "border": 1,
        "border_color": INPUT_BORDER,
        "locked": False,
    },
    "formula": {},
    "variance": {},  # coloured by whether the variance is good, not by its sign
    "formula_bold": {"bold": True},
    "headline": {"bold": True, "font_size": 14, "font_color": NAVY},
    "check": {"align": "center"},
    "link": {"font_color": "#0563C1", "underline": 1},
    "good": {"bg_color": GOOD_FILL, "font_color": GOOD_FONT},
    "bad": {"bg_color": BAD_FILL, "font_color": BAD_FONT},
    "wrap": {"text_wrap": True, "valign": "top"},
}


class Styles:
    """Formats of one workbook, created once each and shared by all sheets. Every cell sits at
    the top of its row (headers aside): a label that wraps, or a note that makes its row tall,
    is read beside its own numbers, not beside the row above's."""

    def __init__(self, workbook: Workbook, locale: Locale) -> None:
        self.workbook = workbook
        self.locale = locale
        self._cache: dict[tuple[str, str], Format] = {}
        self._made: dict[int, tuple[str, str]] = {}  # id(format) -> (role, number format)
        self._good = workbook.add_format({"bg_color": GOOD_FILL, "font_color": GOOD_FONT})
        self._bad = workbook.add_format({"bg_color": BAD_FILL, "font_color": BAD_FONT})

    def get(self, role: str, number_format: str = "") -> Format:
        """The format for a cell role (input, formula, header...) and a number format name."""
        made = self._cache.get((role, number_format))
        return made if made is not None else self._add(role, number_format)

    def _add(self, role: str, number_format: str) -> Format:
        """The format of a role and number format met for the first time in the workbook."""
        properties = {"font_name": FONT, "font_size": 10, "valign": "top", **_ROLES[role]}
        if number_format:
            properties["num_format"] = self.number_format(number_format)
            if role == "variance":
                properties["num_format"] = properties["num_format"].replace("[Red]", "")
        made = self._cache[(role, number_format)] = self.workbook.add_format(properties)
        self._made[id(made)] = (role, number_format)
        return made

    def wrapped(self, made: Format) -> Format:
        """``made`` (a format from ``get``) wrapping its text, top-aligned."""
        if id(made) not in self._made:
            return made  # not a role's format: left as it is
        role, number_format = self._made[id(made)]
        key = (role + ":wrap", number_format)
        if key not in self._cache:
            base = {"font_name": FONT, "font_size": 10, "valign": "top", **_ROLES[role]}
            if number_format:
                base["num_format"] = self.number_format(number_format)
            base.update({"text_wrap": True, "valign": "top"})
            self._cache[key] = self.workbook.add_format(base)
        return self._cache[key]

    def number_format(self, name: str) -> str:
        if name == "date":
            return self.locale.date_format
        if name == "month":
            return self.locale.month_format
        return self.locale.formats[name]

    def format_for(self, kind: str, typical: object) -> str:
        """The number format name for a kind, finer when typical values are small or fractional."""
        number = typical if isinstance(typical, float) else None
        if kind == "currency":
            small = number is not None and 0 < abs(number) < 100
            return "currency_precise" if small else "currency"
        if kind in ("percent", "multiple", "factor", "months"):
            return kind
        if kind == "count":
            if number is not None and not float(number).is_integer():
                return "count_precise"
            return "count"
        return "number"

    def conditional_variance(self, ref: str, good: str) -> list[dict[str, Any]]:
        """Green when the variance in ``ref`` goes the ``good`` way, red when it goes the other."""
        if good == "none":
            return []
        better, worse = (">", "<") if good == "up" else ("<", ">")
        return [
            {
                "type": "formula",
                "criteria": f"=AND(ISNUMBER({ref}),{ref}{sign}0)",
                "format": style,
            }
            for sign, style in ((better, self._good), (worse, self._bad))
        ]

    def conditional_check(self) -> list[dict[str, Any]]:
        """Green when a check is 0, red otherwise."""
        return [
            {"type": "cell", "criteria": "==", "value": 0, "format": self._good},
            {"type": "cell", "criteria": "!=", "value": 0, "format": self._bad},
        ]
