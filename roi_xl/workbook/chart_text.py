"""Chart series names and titles written as literal text, never as a cell reference.

XlsxWriter reads any name that looks like ``Sheet!A1`` (``=cmd|' /C calc'!A0``, or an
innocent label such as "Hours (see Ops!B2)") as a formula and writes it as a
``<c:f>`` reference. Labels come from templates and locales, which users write, so
every chart text goes through here: the name is set after XlsxWriter has parsed the
options, which leaves it a plain string that Excel shows as typed.
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.chart import Chart


def add_series(chart: Chart, options: dict[str, Any]) -> None:
    """``chart.add_series`` with a text ``name`` kept as text (a list stays a cell reference)."""
    name = options.get("name")
    if not isinstance(name, str):
        chart.add_series(options)
        return
    chart.add_series({key: value for key, value in options.items() if key != "name"})
    series = chart.series[-1]
    series["name"], series["name_formula"], series["name_id"] = name, None, None


def set_title(chart: Chart, text: str, size: int = 11) -> None:
    """The chart's title as literal text."""
    chart.set_title({"name_font": {"size": size}})
    chart.title.name, chart.title.formula, chart.title.data_id = text, None, None
