"""Workbook labels and number formats per locale (en-US, fr-FR).

Formulas are stored in English syntax whatever the locale: Excel and LibreOffice
translate them on screen. A locale changes what people read, never formula text.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from roi_xl.errors import InputError
from roi_xl.typography import spaced

LOCALES: tuple[str, ...] = ("en-US", "fr-FR")


@dataclass(frozen=True)
class Locale:
    """Everything a workbook needs to speak one language."""

    code: str
    language: str
    date_format: str
    month_format: str
    currency_symbol: str
    paper: str
    formats: dict[str, str]
    sheets: dict[str, str]
    scenarios: dict[str, str]
    text: dict[str, Any]
    sections: dict[str, str]
    units: dict[str, str]

    def __getitem__(self, key: str) -> Any:
        return self.text[key]

    def section(self, key: str) -> str:
        """A section's title; a user template's own sections show their key, tidied."""
        return self.sections.get(key, key.replace("_", " ").capitalize())

    def unit_of(self, unit: str, value: float) -> str:
        """The unit after ``value``: "1 an" but "2 ans"; "1 year" but "1.5 years"."""
        singular = abs(value) < 2 if self.language == "fr" else abs(value) == 1
        if singular and unit + "_one" in self.units:
            return self.units[unit + "_one"]
        return self.unit(unit)

    def unit(self, unit: str) -> str:
        """Currency units show the locale's symbol; other units as written."""
        if unit == "currency":
            return self.currency_symbol
        return self.units.get(unit, unit)


def load_locale(code: str) -> Locale:
    """The locale named ``code``; refuses unknown codes with the list of known ones."""
    if code not in LOCALES:
        raise InputError(f"unknown locale '{code}' (choose {', '.join(LOCALES)})")
    return _load(code)


@functools.cache  # one per known locale: writing and reading a workbook each need one
def _load(code: str) -> Locale:
    raw = resources.files("roi_xl").joinpath("locales", f"{code}.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    language = data["language"]
    return Locale(
        code=code,
        language=data["language"],
        date_format=data["date_format"],
        month_format=data["month_format"],
        currency_symbol=data["currency_symbol"],
        paper=data["paper"],
        formats=data["formats"],
        sheets=data["sheets"],
        scenarios=data["scenarios"],
        text=spaced(data["text"], language),
        sections=spaced(data["sections"], language),
        units=spaced(data["units"], language),
    )
