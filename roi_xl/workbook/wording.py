"""Texts built from numbers and labels, written the way the locale's readers write them.

Excel caps a validation title at 32 characters: a label cut mid-word there
reads as a mistake, so titles are shortened on a word boundary. Numbers in
messages follow the locale: "1,000,000" in English, "1 000 000" with narrow
no-break spaces and a decimal comma in French, where a narrow no-break space
also comes before "%", "€" and the high punctuation.
"""

from __future__ import annotations

from roi_xl.locale import Locale

TITLE_LIMIT = 32  # Excel's limit for a data validation title
NNBSP = "\u202f"  # narrow no-break space
ELLIPSIS = "\u2026"


def shorten(text: str, limit: int = TITLE_LIMIT) -> str:
    """``text`` if it fits, else its first words and an ellipsis, within ``limit``."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-(/") + ELLIPSIS


def number(value: float, locale: Locale, percent: bool = False) -> str:
    """``value`` with the locale's separators; as a percentage when ``percent``."""
    shown = value * 100 if percent else value
    text = f"{shown:,.10g}" if not percent else f"{shown:,.4g}"
    if locale.language == "fr":
        text = text.replace(",", NNBSP).replace(".", ",")
        return text + NNBSP + "%" if percent else text
    return text + "%" if percent else text


def with_unit(text: str, unit: str, locale: Locale) -> str:
    """A number and its unit; "€" (like "%") is set after a narrow no-break space in French."""
    if not unit:
        return text
    if locale.language == "fr" and unit in ("€", "%"):
        return text + NNBSP + unit
    if locale.language == "en" and unit == "$":
        return ("-$" + text[1:]) if text.startswith("-") else "$" + text
    return f"{text} {unit}"


def range_text(minimum: float, maximum: float, kind: str, unit: str, locale: Locale) -> str:
    """The allowed range of an input, e.g. "0 - 100,000,000 $" or "0 % – 100 %"."""
    if kind == "percent":
        low, high = number(minimum, locale, True), number(maximum, locale, True)
        return f"{low} \u2013 {high}"
    shown = locale.unit(unit)
    low = with_unit(number(minimum, locale), shown, locale)
    high = with_unit(number(maximum, locale), shown, locale)
    return f"{low} \u2013 {high}"
