"""One workbook boiled down to what a roll-up needs, read in a worker process.

The full read (``roi_xl.inspect.reader.read_workbook``) streams every formula out of the
sheets and rebuilds the expected workbook to compare cell by cell: right for one file,
about 0.1-0.2 s each. A roll-up of a thousand files reads values only (python-calamine)
after the same package guard, reads them exactly as the reader does, and checks
what values can show: sheets, rows, selector, inputs, monthly figures, error
cells, the master check, and every cached result against the engine's
recomputation (a formula typed over with another number, or a file saved
without recalculating, shows there). Formula text is only compared with
``audit="full"``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roi_xl.errors import RoiXlError
from roi_xl.inspect import audit
from roi_xl.inspect.audit import check_label, error_findings
from roi_xl.inspect.findings import Finding, error, shown
from roi_xl.inspect.guard import UnreadableFileError, custom_properties, scan
from roi_xl.inspect.loaded import LoadedWorkbook
from roi_xl.inspect.reader import (
    WorkbookRead,
    cached_outputs,
    read_cells,
    read_workbook,
    recorded_period,
    recorded_template,
    recorded_version,
)
from roi_xl.locale import load_locale
from roi_xl.model import engine
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.template import SCENARIOS, Template
from roi_xl.workbook.layout import SCENARIO_COLS, Layout, build_layout, cell
from roi_xl.workbook.values import counts

FAST, FULL = "fast", "full"
AUDITS = (FAST, FULL)
ROLLUP_PROPERTY = "roi_xl_rollup"  # marks a roll-up, so a later roll-up of its folder skips it
_RECALCULATED_SHARE = 0.5  # above this share of empty cached results: never recalculated

Value = float | str | None  # a number, an Excel error's text, or nothing
_TEMPLATES: dict[tuple[str, str, str], Template] = {}
_LAYOUTS: dict[tuple[str, str, dt.date, int], Layout] = {}


@dataclass
class FileSummary:
    """The selected scenario of one workbook, its year to date and its findings."""

    path: str
    template: str
    version: str
    locale: str
    selected_scenario: str | None
    inputs: dict[str, float | None]
    outputs: dict[str, Value]  # the engine's, from the inputs read; empty when they are unusable
    actuals: dict[str, float | None]  # year to date, as the Actuals sheet computes it
    months_with_actuals: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors


@dataclass(frozen=True)
class Failure:
    """A file the roll-up could not read, and why."""

    path: str
    reason: str


def summarise(
    path: str, audit_level: str = FAST, supplied: Template | None = None
) -> FileSummary | Failure:
    """Read one workbook for the roll-up; a file that cannot be read becomes a Failure.

    ``supplied``: the user's template file (``--template``), for workbooks made from it.
    """
    try:
        if audit_level == FULL:
            return _from_full_read(read_workbook(path, supplied))
        return _fast_read(Path(path), supplied)
    except RoiXlError as exc:
        return Failure(path, str(exc).removeprefix(f"{path}: "))
    except Exception as exc:  # never stop a roll-up of many files for one odd file
        return Failure(path, f"unexpected error while reading ({type(exc).__name__}: {exc})")


def _from_full_read(read: WorkbookRead) -> FileSummary:
    scenario = read.scenarios.get(read.selected_scenario or "")
    outputs = scenario.outputs if scenario else None
    return FileSummary(
        path=read.path,
        template=read.template,
        version=read.version,
        locale=read.locale,
        selected_scenario=read.selected_scenario,
        inputs=dict(scenario.inputs) if scenario else {},
        outputs={k: _plain(v) for k, v in outputs.items()} if outputs else {},
        actuals=_year_to_date(read.model, list(read.actuals.values())),
        months_with_actuals=_months_counted(read.model, list(read.actuals.values())),
        findings=read.findings,
    )


def _fast_read(path: Path, supplied: Template | None) -> FileSummary:
    package = scan(path)
    properties = custom_properties(path, package)
    if ROLLUP_PROPERTY in properties:
        raise UnreadableFileError(f"{path}: a roi_xl roll-up, not a model workbook; skipped")
    model = _model(path, properties, supplied)
    locale, start, months = recorded_period(path, properties)
    version = recorded_version(path, properties, "roi_xl_template_version")
    layout = _layout(model, locale, start, months)
    needed = [layout.inputs, layout.calculations, *layout.month_sheets, layout.checks]
    cells = read_cells(path, package, None, model, layout, needed)
    loaded, selected, inputs, actuals = cells.loaded, cells.selected, cells.inputs, cells.actuals
    outputs = _compute_all(model, inputs)
    _check_results(loaded, outputs)
    error_findings(loaded)  # error cells, as the guard found them
    _check_master(loaded)
    if version and version != model.version:
        loaded.findings.append(audit.version_finding(version, model.version))
    chosen = outputs.get(selected or "")
    return FileSummary(
        path=str(path),
        template=model.key,
        version=version or model.version,
        locale=locale,
        selected_scenario=selected,
        inputs=inputs[selected] if selected else {},
        outputs={k: _plain(v) for k, v in chosen.items()} if chosen else {},
        actuals=_year_to_date(model, actuals),
        months_with_actuals=_months_counted(model, actuals),
        findings=audit.ordered(loaded.findings),
    )


def _model(path: Path, properties: dict[str, str], supplied: Template | None) -> Template:
    """The template recorded in the file, loaded once per worker process (and checked each
    time: the key and hash recorded, the built-in or supplied template they name)."""
    cache = (
        properties.get("roi_xl_template", ""),
        properties.get("roi_xl_template_version", ""),
        properties.get("roi_xl_template_sha256", ""),
    )
    if supplied is not None or cache not in _TEMPLATES:
        model = recorded_template(path, properties, supplied)
        if supplied is not None:
            return model
        _TEMPLATES[cache] = model
    return _TEMPLATES[cache]


def _layout(model: Template, locale: str, start: dt.date, months: int) -> Layout:
    """The expected layout, built once per worker process for each template and period."""
    key = (model.key, locale, start, months)
    if key not in _LAYOUTS:
        _LAYOUTS[key] = build_layout(model, load_locale(locale), start, months)
    return _LAYOUTS[key]


def _compute_all(
    model: Template, inputs: dict[str, dict[str, float | None]]
) -> dict[str, dict[str, engine.Value] | None]:
    """Each scenario's outputs (None when an input is unusable), computed on single numbers as
    the generator computed the cached values (the scalar path costs a fraction of numpy's on
    three scenarios)."""
    outputs: dict[str, dict[str, engine.Value] | None] = {s: None for s in SCENARIOS}
    for scenario in SCENARIOS:
        values = inputs[scenario]
        if all(v is not None for v in values.values()):
            outputs[scenario] = engine.compute(
                model,
                {k: float(values[k]) for k in model.input_keys},  # type: ignore[arg-type]
            )
    return outputs


def _check_results(
    loaded: LoadedWorkbook, outputs: dict[str, dict[str, engine.Value] | None]
) -> None:
    """Each scenario's cached results against the engine's recomputation from its inputs."""
    layout = loaded.layout
    if layout.calculations not in loaded.sheet_names:
        return
    sheet = loaded.sheet_names[layout.calculations]
    rows = loaded.rows[layout.calculations]
    stale: list[Finding] = []
    empty = compared = 0
    for scenario, computed in outputs.items():
        if computed is None:
            continue
        for key, found in cached_outputs(loaded, scenario).items():
            compared += 1
            empty += found in ("", None)
            if not _same(found, computed[key]):
                ref = cell(rows[key], SCENARIO_COLS[scenario])
                stale.append(_stale(sheet, ref, found, computed[key]))
    if compared and empty > _RECALCULATED_SHARE * compared:
        stale = [
            error(
                None,
                None,
                "not_recalculated",
                f"{empty} of {compared} results empty",
                "calculated values",
                "The file was saved without calculated values (by a script or a program that "
                "does not recalculate). Open it in Excel or LibreOffice and save it again.",
            )
        ]
    loaded.findings.extend(stale)


def _stale(sheet: str, ref: str, found: Any, expected: engine.Value) -> Finding:
    computed = shown(_plain(expected))
    return error(
        sheet,
        ref,
        "stale_value",
        shown(found),
        computed,
        f"{sheet}!{ref} shows {shown(found)} but the inputs give {computed}: a formula was typed "
        "over, or the file was saved without recalculating. 'roi-xl audit' names the formula.",
    )


def _check_master(loaded: LoadedWorkbook) -> None:
    """The master check as the file shows it (the full audit also recomputes it)."""
    layout = loaded.layout
    if layout.checks not in loaded.sheet_names:
        return
    value = loaded.value(layout.checks, layout.master_check_row, 1)
    if value in ("", None) or (_is_number(value) and value == 0):
        return
    failing = [
        check_label(loaded, name)
        for name, row in layout.check_rows
        if loaded.value(layout.checks, row, 1) not in (0, 0.0, "")
    ]
    loaded.findings.append(
        error(
            loaded.sheet_names[layout.checks],
            cell(layout.master_check_row, 1),
            "master_check",
            shown(_plain(value)),
            "0",
            "The master check is not 0; failing: " + ", ".join(failing) + ".",
        )
    )


def _same(found: Any, expected: engine.Value) -> bool:
    if isinstance(expected, ExcelError) or isinstance(found, ExcelError):
        return isinstance(found, ExcelError) and found == expected
    if not _is_number(found):
        return False
    return math.isclose(float(found), expected, rel_tol=1e-9, abs_tol=1e-9)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _plain(value: object) -> Value:
    if isinstance(value, ExcelError):
        return value.text
    return float(value) if _is_number(value) else None  # type: ignore[arg-type]


def _year_to_date(
    model: Template, months: list[dict[str, float | None]]
) -> dict[str, float | None]:
    """Each monthly field over the months counted (marked complete), as the Actuals sheet's
    year to date: flows summed, stocks (``aggregate = "average"``, a headcount) averaged;
    None if no counted month holds it."""
    keys = [item.key for item in model.monthly.fields]
    counted = [m for m in months if counts(m, keys)]
    totals: dict[str, float | None] = {}
    for item in model.monthly.fields:
        numbers = [m[item.key] for m in counted if m.get(item.key) is not None]
        if not numbers:
            totals[item.key] = None
        elif item.aggregate == "average":
            totals[item.key] = sum(numbers) / len(numbers)  # type: ignore[arg-type]
        else:
            totals[item.key] = float(sum(numbers))  # type: ignore[arg-type]
    return totals


def _months_counted(model: Template, months: list[dict[str, float | None]]) -> int:
    keys = [item.key for item in model.monthly.fields]
    return sum(counts(figures, keys) for figures in months)
