"""Call-log analysis: ``roi-xl calls CALLS.csv`` turns an inbound call log into monthly KPIs.

``analyse_calls(path, CallOptions(...), on_progress)`` returns a ``CallAnalysis``;
``print_summary(result, console)`` shows it as tables; ``result.to_json()`` is the
``--json`` output. Mappings (built-in presets or a TOML file) say which column is which.
"""

from roi_xl.calls.analysis import CallOptions, ProgressCallback, analyse_calls
from roi_xl.calls.errors import CallLogError
from roi_xl.calls.hours import DEFAULT_BUSINESS_HOURS, BusinessHours, parse_business_hours
from roi_xl.calls.presets import CallMapping, load_mapping, preset_names
from roi_xl.calls.result import CallAnalysis, PeriodFigures
from roi_xl.calls.summary import print_summary

__all__ = [
    "DEFAULT_BUSINESS_HOURS",
    "BusinessHours",
    "CallAnalysis",
    "CallLogError",
    "CallMapping",
    "CallOptions",
    "PeriodFigures",
    "ProgressCallback",
    "analyse_calls",
    "load_mapping",
    "parse_business_hours",
    "preset_names",
    "print_summary",
]
