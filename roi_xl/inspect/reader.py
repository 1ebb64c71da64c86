"""Read an edited workbook back: what it says, what it should say, and what is wrong.

Values come from python-calamine (fast), formulas, formats and names from one
streaming pass over the XML (read as openpyxl reads them), error cells and safety
from the package guard. The template recorded in the
file's properties gives the expected layout; the generator rebuilds the
expected workbook in memory from the inputs read, so every formula and every
value can be compared with what the Python engine says. Nothing is ever written
to the file being read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import math
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roi_xl.decide.break_even import BreakEven, break_even
from roi_xl.inspect import audit
from roi_xl.inspect.findings import Finding, error, shown
from roi_xl.inspect.formula_book import FormulaBook
from roi_xl.inspect.guard import PackageScan, UnreadableFileError, scan
from roi_xl.inspect.loaded import LoadedWorkbook, load_formulas, load_values
from roi_xl.locale import LOCALES, load_locale
from roi_xl.model import engine, template
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.template import SCENARIOS, Template
from roi_xl.overrides import FIRST_YEAR, LAST_YEAR, month_of
from roi_xl.workbook import Reference, WorkbookOptions, build_reference
from roi_xl.workbook.layout import (
    HEATMAP_FIRST_COL,
    HOURS,
    INPUT_KEY_COL,
    METRIC_KEY_COL,
    MONTH_ACTUAL_COL,
    MONTH_KEY_COL,
    SCENARIO_COLS,
    SELECTOR_ROW,
    VALUE_COL,
    WEEKDAYS,
    Layout,
    build_layout,
    cell,
)
from roi_xl.workbook.sensitivity_layout import BREAK_EVEN
from roi_xl.workbook.values import COMPLETE


@dataclass
class ScenarioRead:
    """One scenario: the inputs as they stand, the engine's outputs, the file's cached outputs."""

    inputs: dict[str, float | None]
    outputs: dict[str, engine.Value] | None
    cached: dict[str, object]


@dataclass(frozen=True)
class BreakEvenRead:
    """A key driver's break-even: recomputed from the inputs read, and as the file shows it."""

    result: BreakEven  # with its companions, so the report and decide need not solve again
    cached: object  # the Sensitivity sheet's cell: a number, "none in range", or "" if absent

    @property
    def driver(self) -> str:
        return self.result.driver

    @property
    def today(self) -> float:
        return self.result.base_value

    @property
    def value(self) -> float | None:
        """None: the ROI does not cross 0 within the driver's range."""
        return self.result.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "driver": self.driver,
            "metric": self.result.metric,
            "today": self.today,
            "value": None if self.value is None else engine.as_displayed(self.value),
            "cached": _json_value(self.cached),
        }


@dataclass
class WorkbookRead:
    """Everything read from one workbook."""

    path: str
    template: str
    version: str
    generator_version: str
    locale: str
    start: str
    months: int
    selected_scenario: str | None
    scenarios: dict[str, ScenarioRead]
    actuals: dict[str, dict[str, float | None]]
    model: Template
    findings: list[Finding] = field(default_factory=list)
    break_evens: list[BreakEvenRead] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    @property
    def invalid_inputs(self) -> list[Finding]:
        """Inputs read that no model may run on: outside their range, a fraction of a month."""
        return [f for f in self.findings if f.rule in INVALID_INPUT_RULES]

    def scenario_inputs(self) -> dict[str, dict[str, float]] | None:
        """The three scenarios' inputs as read; None when one is not a number."""
        if not all(self.scenarios[s].outputs is not None for s in SCENARIOS):
            return None
        return {
            s: {k: float(v) for k, v in self.scenarios[s].inputs.items() if v is not None}
            for s in SCENARIOS
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``roi-xl read --json``."""
        return {
            "path": self.path,
            "template": self.template,
            "version": self.version,
            "generator_version": self.generator_version,
            "locale": self.locale,
            "selected_scenario": self.selected_scenario,
            "scenarios": {
                name: {
                    "inputs": scenario.inputs,
                    "outputs": None
                    if scenario.outputs is None
                    else {k: engine.as_displayed(v) for k, v in scenario.outputs.items()},
                    "cached": {k: _json_value(v) for k, v in scenario.cached.items()},
                }
                for name, scenario in self.scenarios.items()
            },
            "actuals": self.actuals,
            "break_even": [b.to_dict() for b in self.break_evens],
            "findings": [f.to_dict() for f in self.findings],
        }


def read_workbook(path: str | Path, supplied: Template | None = None) -> WorkbookRead:
    """Read, recompute and audit a workbook; raise UnreadableFileError if it cannot be read.

    ``supplied``: the user's template file (``--template``) for a workbook made from one.
    """
    with _cycles_left_for_later():
        return _read_workbook(Path(path), supplied)


@contextlib.contextmanager
def _cycles_left_for_later() -> Iterator[None]:
    """Python's cycle collector paused while one workbook is read: a read allocates tens of
    thousands of short-lived tuples and strings, which otherwise set off full collections
    over everything the process holds (a fifth of the read's time); what the read leaves
    behind is collected as usual once it is over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_workbook(path: Path, supplied: Template | None) -> WorkbookRead:
    package = scan(path)
    book = load_formulas(path, package)
    properties = book.properties
    model = recorded_template(path, properties, supplied)
    locale_code, start, months = recorded_period(path, properties)
    version = recorded_version(path, properties, "roi_xl_template_version")
    generator_version = recorded_version(path, properties, "roi_xl_generator_version")
    layout = build_layout(model, load_locale(locale_code), start, months)
    cells = read_cells(path, package, book, model, layout)
    loaded, selected, inputs = cells.loaded, cells.selected, cells.inputs
    actuals, heatmaps = cells.actuals, cells.heatmaps
    complete = all(v is not None for s in SCENARIOS for v in inputs[s].values())
    reference = _reference(loaded, inputs if complete else None, selected, actuals, heatmaps)
    scenarios = {}
    for scenario in SCENARIOS:
        numbers = inputs[scenario]
        outputs = None
        if all(v is not None for v in numbers.values()):
            outputs = engine.compute(model, {k: float(v) for k, v in numbers.items()})  # type: ignore[arg-type]
        scenarios[scenario] = ScenarioRead(numbers, outputs, cached_outputs(loaded, scenario))
    figures_ok = not any(f.rule == "figure_not_number" for f in loaded.findings)
    audit.check_cells(loaded, reference, complete and figures_ok and selected is not None)
    if version and version != model.version:
        loaded.findings.append(audit.version_finding(version, model.version))
    return WorkbookRead(
        path=str(path),
        template=model.key,
        version=version or model.version,
        generator_version=generator_version,
        locale=locale_code,
        start=f"{start.year:04d}-{start.month:02d}",
        months=months,
        selected_scenario=selected,
        scenarios=scenarios,
        actuals={layout.month_sheets[i]: figures for i, figures in enumerate(actuals)},
        findings=audit.ordered(loaded.findings),
        break_evens=read_break_evens(loaded, selected, inputs) if complete else [],
        model=model,
    )


@dataclass
class CellReading:
    """What the model's input cells say, with the findings met while reading them."""

    loaded: LoadedWorkbook
    selected: str | None
    inputs: dict[str, dict[str, float | None]]
    actuals: list[dict[str, float | None]]
    heatmaps: list[list[list[float | None]] | None]


def read_cells(
    path: Path,
    package: PackageScan,
    formulas: FormulaBook | None,
    model: Template,
    layout: Layout,
    sheets: Collection[str] | None = None,
) -> CellReading:
    """Values (python-calamine), sheets matched, rows found by key, then selector, inputs and
    monthly figures read and checked: the part every reading shares, full audit or not.

    ``sheets`` names the expected sheets whose values the caller needs (None: all of them).
    """
    loaded = LoadedWorkbook(
        path=path,
        package=package,
        formulas=formulas,  # type: ignore[arg-type]  # None: values only
        values={},
        template=model,
        layout=layout,
        sheet_names={},
        rows={},
    )
    audit.check_structure(loaded)  # matches the sheets from the package scan alone
    wanted = None if sheets is None else {loaded.sheet_names.get(s, s) for s in sheets}
    loaded.values = load_values(path, wanted, formulas)
    locate_rows(loaded)
    selected = read_selector(loaded)
    inputs = read_inputs(loaded)
    actuals, heatmaps = read_actuals(loaded)
    return CellReading(loaded, selected, inputs, actuals, heatmaps)


def recomputed_reference(
    path: Path, model: Template, layout: Layout
) -> tuple[Reference, dict[str, str]] | None:
    """The workbook the generator would write for the inputs and figures ``path`` holds
    now, with the sheet names found (expected -> actual); None when an input, the
    scenario or a figure cannot be read, so nothing can be recomputed."""
    cells = read_cells(path, scan(path), None, model, layout)
    complete = all(v is not None for s in SCENARIOS for v in cells.inputs[s].values())
    figures_ok = not any(f.rule == "figure_not_number" for f in cells.loaded.findings)
    if not complete or not figures_ok or cells.selected is None:
        return None
    reference = _reference(
        cells.loaded, cells.inputs, cells.selected, cells.actuals, cells.heatmaps
    )
    return reference, dict(cells.loaded.sheet_names)


# ------------------------------------------------------------------ loading


# Findings on an input that leave no model to run: a value outside its range, or a fraction
# where a whole number of months is asked.
INVALID_INPUT_RULES = ("input_out_of_range", "input_not_whole", "percent_typed_as_number")
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+-]{0,31}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_COUNT = re.compile(r"[0-9]{1,2}")
MAX_MONTHS = 60


def recorded_template(
    path: Path, properties: Mapping[str, str], supplied: Template | None = None
) -> Template:
    """The template a workbook says it was made from (its roi_xl properties).

    The recorded key is only ever looked up among the built-in templates; a
    user's template is the file given with ``--template``, used for the
    workbooks that record its key and accepted when its content hash is the
    one they record.
    """
    key = properties.get("roi_xl_template")
    if not key:
        raise UnreadableFileError(
            f"{path}: not a roi_xl workbook (no template recorded in its properties); "
            "create one with 'roi-xl new TEMPLATE -o FILE.xlsx'"
        )
    if not template.TEMPLATE_KEY_PATTERN.fullmatch(key):
        raise _damaged(path, "roi_xl_template", key, "a template name such as phone-system")
    digest = properties.get("roi_xl_template_sha256", "")
    if digest and not _DIGEST.fullmatch(digest):
        raise _damaged(path, "roi_xl_template_sha256", digest, "64 hexadecimal digits")
    if supplied is not None and (supplied.key == key or key not in template.builtin_names()):
        return _supplied_template(path, key, digest, supplied)
    if key not in template.builtin_names():
        raise UnreadableFileError(
            f"{path}: made from template '{key}', which is not built in; give the template "
            "file it was made from with --template FILE.toml"
        )
    model = template.load_builtin(key)
    version = properties.get("roi_xl_template_version", "")
    if digest and digest != model.digest and version == model.version:
        raise UnreadableFileError(
            f"{path}: made from a template '{key}' {version} whose content differs from the "
            "built-in one (rule template_hash); give the template file it was made from with "
            "--template FILE.toml"
        )
    return model


def _supplied_template(path: Path, key: str, digest: str, supplied: Template) -> Template:
    """The ``--template`` file, if it is the one the workbook was made from."""
    if supplied.key != key:
        raise UnreadableFileError(
            f"{path}: made from template '{key}', but {supplied.path} is template "
            f"'{supplied.key}' (rule template_key)"
        )
    if not digest:
        raise UnreadableFileError(
            f"{path}: records no template hash, so {supplied.path} cannot be checked against "
            "it (rule template_hash); regenerate the workbook with this version of roi_xl"
        )
    if supplied.digest != digest:
        raise UnreadableFileError(
            f"{path}: {supplied.path} is not the template the workbook was made from: its "
            f"SHA-256 is {supplied.digest[:12]}..., the workbook records {digest[:12]}... "
            "(rule template_hash)"
        )
    return supplied


def recorded_version(path: Path, properties: Mapping[str, str], name: str) -> str:
    """A version recorded in the properties ("" when absent), refused when it is not one."""
    value = properties.get(name, "")
    if value and not _VERSION.fullmatch(value):
        raise _damaged(path, name, value, "a version such as 1.2.0")
    return value


def recorded_period(path: Path, properties: Mapping[str, str]) -> tuple[str, dt.date, int]:
    """Locale, first month and number of months recorded in a workbook's properties."""
    locale = properties.get("roi_xl_locale", "en-US")
    if locale not in LOCALES:
        raise _damaged(path, "roi_xl_locale", locale, " or ".join(LOCALES))
    start = properties.get("roi_xl_start", "")
    first = month_of(start)
    if first is None:
        expected = f"a month written YYYY-MM, years {FIRST_YEAR} to {LAST_YEAR}"
        raise _damaged(path, "roi_xl_start", start, expected)
    months = properties.get("roi_xl_months", "")
    if not _COUNT.fullmatch(months) or not 1 <= int(months) <= MAX_MONTHS:
        raise _damaged(path, "roi_xl_months", months, f"a whole number from 1 to {MAX_MONTHS}")
    return locale, first, int(months)


def _damaged(path: Path, name: str, value: str, expected: str) -> UnreadableFileError:
    shown_value = value if len(value) <= 40 else value[:40] + "..."
    return UnreadableFileError(
        f"{path}: the roi_xl properties are damaged: {name} is {shown_value!r}, expected "
        f"{expected} (rule property_value)"
    )


# ------------------------------------------------------------------ reading


def locate_rows(loaded: LoadedWorkbook) -> None:
    """Find each key's row through the key columns, so inserted rows do not shift the reading."""
    layout = loaded.layout
    keyed = {
        layout.inputs: (INPUT_KEY_COL, layout.input_rows),
        layout.calculations: (METRIC_KEY_COL, layout.metric_rows),
    }
    month_rows = {
        COMPLETE: layout.monthly.complete_row,
        **layout.monthly.field_rows,
        **layout.monthly.kpi_rows,
        **layout.monthly.check_rows,
    }
    for sheet in layout.month_sheets:
        keyed[sheet] = (MONTH_KEY_COL, month_rows)
    for sheet, (key_col, expected) in keyed.items():
        found: dict[str, int] = {}
        actual = loaded.sheet_names.get(sheet)
        grid = loaded.values.get(actual or "", [])
        for row_index, row in enumerate(grid):
            if key_col < len(row) and isinstance(row[key_col], str) and row[key_col] in expected:
                found.setdefault(row[key_col], row_index)
        loaded.rows[sheet] = {key: found.get(key, row) for key, row in expected.items()}
        if actual is not None:
            audit.check_rows(loaded, sheet, expected, found)


def read_selector(loaded: LoadedWorkbook) -> str | None:
    """The scenario the selector names (in the workbook's language), or None with a finding."""
    layout = loaded.layout
    raw = loaded.value(layout.inputs, SELECTOR_ROW, VALUE_COL)
    names = {layout.locale.scenarios[s].casefold(): s for s in SCENARIOS}
    names.update({s: s for s in SCENARIOS})
    if isinstance(raw, str) and raw.strip().casefold() in names:
        return names[raw.strip().casefold()]
    loaded.findings.append(
        error(
            layout.inputs,
            cell(SELECTOR_ROW, VALUE_COL),
            "selector_invalid",
            shown(raw),
            " / ".join(layout.locale.scenarios[s] for s in SCENARIOS),
            "The scenario selector does not name a scenario, so the Live column and the Dashboard "
            "show errors.",
        )
    )
    return None


def read_inputs(loaded: LoadedWorkbook) -> dict[str, dict[str, float | None]]:
    """Every input of every scenario, None (with a finding) where it is not a usable number."""
    inputs: dict[str, dict[str, float | None]] = {s: {} for s in SCENARIOS}
    rows = loaded.rows[loaded.layout.inputs]
    for item in loaded.template.inputs:
        for scenario in SCENARIOS:
            row, col = rows[item.key], SCENARIO_COLS[scenario]
            raw = loaded.value(loaded.layout.inputs, row, col)
            inputs[scenario][item.key] = audit.check_input(loaded, item, scenario, row, col, raw)
    return inputs


def read_actuals(
    loaded: LoadedWorkbook,
) -> tuple[list[dict[str, float | None]], list[list[list[float | None]] | None]]:
    """Each month's figures (None when blank), its month complete cell (under ``COMPLETE``)
    and missed-call grid, with findings for bad cells."""
    months: list[dict[str, float | None]] = []
    grids: list[list[list[float | None]] | None] = []
    for sheet in loaded.layout.month_sheets:
        rows = loaded.rows[sheet]
        figures = {}
        for item in loaded.template.monthly.fields:
            raw = loaded.value(sheet, rows[item.key], MONTH_ACTUAL_COL)
            figures[item.key] = audit.check_figure(
                loaded, sheet, rows[item.key], item.label.en, raw
            )
        raw = loaded.value(sheet, rows[COMPLETE], MONTH_ACTUAL_COL)
        figures[COMPLETE] = audit.check_complete(loaded, sheet, rows[COMPLETE], raw)
        months.append(figures)
        grids.append(_read_heatmap(loaded, sheet) if loaded.template.monthly.heatmap else None)
    return months, grids


def _read_heatmap(loaded: LoadedWorkbook, sheet: str) -> list[list[float | None]]:
    first = loaded.layout.monthly.heatmap_first_row
    assert first is not None
    grid = []
    for day in range(WEEKDAYS):
        values = []
        for hour in range(HOURS):
            raw = loaded.value(sheet, first + day, HEATMAP_FIRST_COL + hour)
            values.append(
                audit.check_figure(
                    loaded, sheet, first + day, "missed calls", raw, col=HEATMAP_FIRST_COL + hour
                )
            )
        grid.append(values)
    return grid


def read_break_evens(
    loaded: LoadedWorkbook, selected: str | None, inputs: dict[str, dict[str, float | None]]
) -> list[BreakEvenRead]:
    """Each key driver's break-even in the live scenario, recomputed and as cached."""
    model = loaded.template
    live = {k: float(v) for k, v in inputs[selected or "realistic"].items() if v is not None}
    plan = loaded.layout.sensitivity_rows
    return [
        BreakEvenRead(
            break_even(model, live, rows.driver, plan.metric, tuple(rows.companions)),
            loaded.value(loaded.layout.sensitivity, rows.row, BREAK_EVEN),
        )
        for rows in plan.break_evens
    ]


def cached_outputs(loaded: LoadedWorkbook, scenario: str) -> dict[str, object]:
    """The results the file shows for a scenario, as last calculated by whoever saved it."""
    rows = loaded.rows[loaded.layout.calculations]
    col = SCENARIO_COLS[scenario]
    return {
        key: loaded.value(loaded.layout.calculations, rows[key], col)
        for key in loaded.template.metric_keys
    }


def _reference(
    loaded: LoadedWorkbook,
    inputs: dict[str, dict[str, float | None]] | None,
    selected: str | None,
    actuals: list[dict[str, float | None]],
    heatmaps: list[list[list[float | None]] | None],
) -> Reference:
    """The workbook the generator would write for what was read (formulas always valid)."""
    layout = loaded.layout
    exact = None
    if inputs is not None:
        exact = {s: {k: float(v) for k, v in inputs[s].items() if v is not None} for s in SCENARIOS}
    options = WorkbookOptions(
        locale=layout.locale.code,
        start=layout.months[0],
        months=len(layout.months),
        scenario=selected or "realistic",
        inputs=exact,
        actuals=actuals,
        heatmaps=heatmaps,
    )
    return build_reference(loaded.template, options)


def _json_value(value: object) -> object:
    if isinstance(value, ExcelError):
        return value.text
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dt.date, dt.datetime, dt.time, dt.timedelta)):
        return str(value)
    return value
