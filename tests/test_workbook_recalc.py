"""Generated workbooks compute what the Python engine says, in LibreOffice, Gnumeric and
in `formulas`.

Every formula cell carries a cached value written by the generator from the
engine. Those values are only trustworthy if a real spreadsheet, recomputing
the formulas from scratch, arrives at the same numbers; and the formulas are
only live if changing an input or the scenario selector moves the results the
way the engine predicts. All LibreOffice work of this module goes through one
`recalculate` batch, since soffice start-up dominates the cost. Gnumeric
(``ssconvert --recalc``) recomputes the same workbooks independently: every formula
cell of every template x locale x scenario must agree with the cached value in
both, so the three engines agree with each other.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import formulas
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from roi_xl.demo import missed_call_grid, sample_actuals
from roi_xl.inspect.recalc import recalculate, recalculate_gnumeric
from roi_xl.locale import LOCALES, load_locale
from roi_xl.model import engine, template
from roi_xl.model.template import SCENARIOS, Template
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.layout import (
    HEADER_ROW,
    INPUT_KEY_COL,
    LIVE_COL,
    METRIC_KEY_COL,
    SCENARIO_COLS,
    SELECTOR_ROW,
    VALUE_COL,
)
from roi_xl.workbook.timeline_layout import SUMMARY_COLS, SUMMARY_LIVE_COL, timeline_layout

TEMPLATES = tuple(template.builtin_names())
START = dt.date(2026, 1, 1)
REL_TOL = 1e-9
# Results that should be 0 may come out as 1e-14 from another summation order.
ABS_TOL = 1e-12
WRONG_CACHE = 123456.789
FORMULAS_CELL_KEY = re.compile(r"'\[[^\]]+\](?P<sheet>[^']+)'!(?P<ref>[A-Z]+[0-9]+)")

Workbook = tuple[str, str, str]  # template, locale, selected scenario
Values = dict[str, dict[str, object]]  # sheet name -> A1 address -> value
WORKBOOKS: list[Workbook] = [(t, loc, s) for t in TEMPLATES for loc in LOCALES for s in SCENARIOS]
# The liveness edits: selector Realistic -> Optimistic, one input changed per column.
LIVE_EDITS: list[tuple[str, str]] = [(t, loc) for t in TEMPLATES for loc in LOCALES]
CORRUPTED: Workbook = ("crm", "en-US", "realistic")
# One workbook per template for `formulas`, mixing locales and selected scenarios.
FORMULAS_WORKBOOKS: list[Workbook] = [
    (t, LOCALES[i % 2], SCENARIOS[(i + 2) % 3]) for i, t in enumerate(TEMPLATES)
]


# -- comparing values


@dataclass(frozen=True)
class Mismatch:
    """One formula cell whose two values differ, with what is needed to investigate it."""

    sheet: str
    cell: str
    formula: str
    cached: object
    recalculated: object


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def same_value(expected: object, actual: object) -> bool:
    """Numbers within 1e-9 relative, blanks ("" or None) alike, anything else exactly.

    A date is the serial number Excel stores (openpyxl reads a date-formatted cell as a
    datetime, `formulas` gives the number).
    """
    expected, actual = as_serial(expected), as_serial(actual)
    if expected in (None, ""):
        return actual in (None, "")
    if is_number(expected) and is_number(actual):
        return math.isclose(expected, actual, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return type(expected) is type(actual) and expected == actual


def as_serial(value: object) -> object:
    if isinstance(value, dt.datetime):
        return float((value - dt.datetime(1899, 12, 30)).days)
    return value


def as_cell_value(value: engine.Value) -> object:
    """An engine result as a spreadsheet reader returns it: a float, or the error's text."""
    return value if is_number(value) else str(value)


def formula_cells(path: Path) -> list[tuple[str, str, str]]:
    """(sheet, cell, formula) of every formula cell, as the generator wrote them."""
    return [
        (ws.title, c.coordinate, c.value)
        for ws in load_workbook(path).worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=")
    ]


def sheet_values(ws: Worksheet) -> dict[str, object]:
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row}


def cell_values(path: Path) -> Values:
    """Every sheet's values by A1 address, each formula replaced by its cached result."""
    return {ws.title: sheet_values(ws) for ws in load_workbook(path, data_only=True).worksheets}


def compare_formula_cells(original: Path, computed: Values) -> list[Mismatch]:
    """Formula cells of ``original`` whose cached value differs from ``computed`` (absent = blank)."""
    cells, cached = formula_cells(original), cell_values(original)
    assert len(cells) > 100, f"{original}: too few formulas for a generated workbook"
    mismatches = []
    for sheet, ref, formula in cells:
        before, after = cached[sheet].get(ref), computed[sheet].get(ref)
        if not same_value(before, after):
            mismatches.append(Mismatch(sheet, ref, formula, before, after))
    return mismatches


def error_cells(values: Values) -> list[tuple[str, str, str]]:
    """Cells anywhere in the workbook showing an Excel error (#DIV/0!, #REF!, #NAME? ...)."""
    return [
        (sheet, ref, value)
        for sheet, cells in values.items()
        for ref, value in cells.items()
        if isinstance(value, str) and value.startswith("#")
    ]


def describe(mismatches: list[Mismatch]) -> str:
    return "\n".join(
        f"{m.sheet}!{m.cell} {m.formula}: cached {m.cached!r}, recalculated {m.recalculated!r}"
        for m in mismatches
    )


# -- the Calculations sheet against the engine


def key_rows(ws: Worksheet, key_col: int) -> dict[str, int]:
    """Row of each technical key in zero-based column ``key_col`` (Inputs I, Calculations H)."""
    rows: dict[str, int] = {}
    first_row = HEADER_ROW + 2  # one-based row under the header ("Key")
    for row in ws.iter_rows(min_row=first_row, min_col=key_col + 1, max_col=key_col + 1):
        value = row[0].value
        if isinstance(value, str) and value:
            assert value not in rows, f"key {value} appears twice on {ws.title}"
            rows[value] = row[0].row
    return rows


def calculation_cells(model: Template, ws: Worksheet) -> dict[str, dict[str, str]]:
    """A1 address of every metric per column: {"prudent"|...|"live": {metric_key: "C9"}}."""
    rows = key_rows(ws, METRIC_KEY_COL)
    assert sorted(rows) == sorted(model.metric_keys), "Calculations key column H != metrics"
    columns = {**SCENARIO_COLS, "live": LIVE_COL}
    return {
        name: {key: f"{get_column_letter(col + 1)}{row}" for key, row in rows.items()}
        for name, col in columns.items()
    }


def engine_columns(
    model: Template, selected: str, overrides: dict[str, dict[str, float]] | None = None
) -> dict[str, dict[str, engine.Value]]:
    """What the engine computes for each scenario column and the Live column."""
    overrides = overrides or {}
    results = {
        s: engine.compute(model, engine.scenario_inputs(model, s, overrides.get(s)))
        for s in SCENARIOS
    }
    return {**results, "live": results[selected]}


def compare_with_engine(
    cells: dict[str, dict[str, str]],
    values: dict[str, object],
    expected: dict[str, dict[str, engine.Value]],
) -> list[str]:
    """Metric cells (by column) whose value in ``values`` (keyed by A1) differs from the engine."""
    return [
        f"{column} {key} {ref}: engine {expected[column][key]!r}, workbook {values.get(ref)!r}"
        for column, refs in cells.items()
        for key, ref in refs.items()
        if not same_value(as_cell_value(expected[column][key]), values.get(ref))
    ]


# -- building the workbooks


def file_name(workbook: Workbook) -> str:
    return "-".join(workbook) + ".xlsx"


def write(workbook: Workbook, folder: Path) -> Path:
    """Write one workbook; the realistic ones carry the demo actuals (and heatmaps)."""
    name, locale, scenario = workbook
    model = template.load(name)
    actuals = sample_actuals(name) if scenario == "realistic" else []
    heatmaps = (
        [missed_call_grid(int(month["calls_missed"])) for month in actuals]
        if model.monthly.heatmap
        else []
    )
    assert scenario != "realistic" or actuals, f"no demo actuals for {name}"
    options = WorkbookOptions(
        locale=locale,
        scenario=scenario,
        start=START,
        months=12,
        force=True,
        actuals=actuals,
        heatmaps=heatmaps,
    )
    return write_workbook(model, folder / file_name(workbook), options)


def changed_value(model: Template, key: str, scenario: str) -> float:
    """A plausible edit of ``key``: 20 % up (down near the maximum), kept in range.

    Modest on purpose: an extreme value (say a baseline conversion above the
    target) may turn ROI or payback into a legitimate #DIV/0!.
    """
    item = model.input(key)
    default = item.defaults[scenario]
    value = default * 1.2 if default * 1.2 <= item.maximum else default * 0.8
    value = float(round(value)) if item.integer else value
    assert value != default and item.minimum <= value <= item.maximum, (key, value)
    return value


def live_overrides(model: Template) -> dict[str, dict[str, float]]:
    """Inputs the liveness test types: the first input in Realistic, the second in Optimistic."""
    first, second = model.input_keys[0], model.input_keys[1]
    return {
        "realistic": {first: changed_value(model, first, "realistic")},
        "optimistic": {second: changed_value(model, second, "optimistic")},
    }


def edit_inputs(source: Path, target: Path, model: Template, locale: str) -> Path:
    """Type the live overrides into Inputs and select Optimistic, as a user would, with openpyxl.

    openpyxl keeps the formulas but drops every cached value, so only a real
    recalculation can fill the Calculations sheet again.
    """
    names = load_locale(locale)
    wb = load_workbook(source)
    ws = wb[names.sheets["inputs"]]
    rows = key_rows(ws, INPUT_KEY_COL)
    for scenario, values in live_overrides(model).items():
        for key, value in values.items():
            ws.cell(rows[key], SCENARIO_COLS[scenario] + 1).value = value
    selector = ws.cell(SELECTOR_ROW + 1, VALUE_COL + 1)
    assert selector.value == names.scenarios["realistic"], "the source must select Realistic"
    selector.value = names.scenarios["optimistic"]
    wb.save(target)
    return target


def corrupt_cached_value(source: Path, target: Path, sheet_index: int, ref: str) -> Path:
    """Copy ``source`` with the cached <v> of formula cell ``ref`` replaced by WRONG_CACHE.

    openpyxl cannot write cached values, so the sheet XML is edited in the zip.
    """
    member = f"xl/worksheets/sheet{sheet_index + 1}.xml"
    pattern = re.compile(rf'(<c r="{ref}"[^>]*>(?:(?!</c>).)*?<f>[^<]*</f><v>)[^<]*(</v>)')
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        assert member in src.namelist(), f"no {member} in {source}"
        for info in src.infolist():
            data = src.read(info)
            if info.filename == member:
                text, count = pattern.subn(rf"\g<1>{WRONG_CACHE}\g<2>", data.decode("utf-8"))
                assert count == 1, f"formula cell {ref} not found once in {member}"
                data = text.encode("utf-8")
            dst.writestr(info, data)
    return target


@dataclass(frozen=True)
class Corruption:
    """Where the wrong cached value was planted, and the copy carrying it."""

    path: Path
    sheet: str
    cell: str
    metric: str


@dataclass(frozen=True)
class Files:
    """Every workbook of the module and, by source, its LibreOffice-recalculated copy."""

    generated: dict[Workbook, Path]
    edited: dict[tuple[str, str], Path]
    corruption: Corruption
    outputs: dict[Path, Path]

    def recalculated(self, source: Path) -> Path:
        return self.outputs[source]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[Workbook, Path]:
    """The 18 workbooks: template x locale x selected scenario."""
    folder = tmp_path_factory.mktemp("generated")
    return {workbook: write(workbook, folder) for workbook in WORKBOOKS}


@pytest.fixture(scope="module")
def edited(
    generated: dict[Workbook, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], Path]:
    folder = tmp_path_factory.mktemp("edited")
    return {
        (name, locale): edit_inputs(
            generated[(name, locale, "realistic")],
            folder / f"live-{name}-{locale}.xlsx",
            template.load(name),
            locale,
        )
        for name, locale in LIVE_EDITS
    }


@pytest.fixture(scope="module")
def corruption(
    generated: dict[Workbook, Path], tmp_path_factory: pytest.TempPathFactory
) -> Corruption:
    """The corrupted copy: the Live cell of the first headline metric cached wrongly."""
    name, locale, _ = CORRUPTED
    source = generated[CORRUPTED]
    model = template.load(name)
    sheet = load_locale(locale).sheets["calculations"]
    wb = load_workbook(source)
    metric = model.headline[0]
    ref = calculation_cells(model, wb[sheet])["live"][metric]
    target = tmp_path_factory.mktemp("corrupted") / ("corrupt-" + source.name)
    corrupt_cached_value(source, target, wb.sheetnames.index(sheet), ref)
    return Corruption(target, sheet, ref, metric)


@pytest.fixture(scope="module")
def files(
    soffice: str,
    generated: dict[Workbook, Path],
    edited: dict[tuple[str, str], Path],
    corruption: Corruption,
    tmp_path_factory: pytest.TempPathFactory,
) -> Files:
    """All workbooks of the module recalculated by LibreOffice in ONE batch."""
    outdir = tmp_path_factory.mktemp("recalculated")
    sources = [*generated.values(), *edited.values(), corruption.path]
    outputs = recalculate(sources, outdir)
    return Files(generated, edited, corruption, dict(zip(sources, outputs, strict=True)))


def ids(workbook: tuple[str, ...]) -> str:
    return "-".join(workbook)


# -- 1. LibreOffice recomputes every cached value


@pytest.mark.parametrize("workbook", WORKBOOKS, ids=ids)
def test_libreoffice_recomputes_every_cached_value(files: Files, workbook: Workbook) -> None:
    source = files.generated[workbook]
    recalculated = files.recalculated(source)
    values = cell_values(recalculated)
    mismatches = compare_formula_cells(source, values)
    assert not mismatches, "cached (generator) vs LibreOffice:\n" + describe(mismatches)
    assert error_cells(values) == []


def test_realistic_workbooks_carry_the_demo_actuals(generated: dict[Workbook, Path]) -> None:
    """The monthly formulas are exercised with data, not only with empty months."""
    for (name, locale, scenario), path in generated.items():
        if scenario != "realistic":
            continue
        ws = load_workbook(path, data_only=True)[f"{START.year:04d}-{START.month:02d}"]
        typed = [c.value for row in ws.iter_rows(min_col=3, max_col=3) for c in row]
        first = sample_actuals(name)[0]
        assert set(first.values()) <= set(typed), (name, locale)


# -- 2. the cached values are the engine's


@pytest.mark.parametrize("workbook", WORKBOOKS, ids=ids)
def test_cached_calculations_equal_the_engine(
    generated: dict[Workbook, Path], workbook: Workbook
) -> None:
    name, locale, scenario = workbook
    model = template.load(name)
    ws = load_workbook(generated[workbook], data_only=True)[
        load_locale(locale).sheets["calculations"]
    ]
    cells = calculation_cells(model, ws)
    differences = compare_with_engine(cells, sheet_values(ws), engine_columns(model, scenario))
    assert not differences, "\n".join(differences)


# -- 3. an independent engine (`formulas`) computes the same


def formulas_values(path: Path) -> Values:
    """Every cell value the `formulas` package computes, by sheet and A1 address.

    Its results are keyed "'[file.xlsx]SHEET'!C8": the file name as given, the
    sheet name upper-cased (also accented letters: HYPOTHÈSES), each value a
    1x1 Ranges. Sheets are mapped back to their real names. The solution also
    holds ranges ("...'!C6:N6") and defined names ("'[file.xlsx]'!IN_LEADS"):
    skipped, their cells are there one by one.
    """
    book = load_workbook(path, read_only=True)
    names = {name.upper(): name for name in book.sheetnames}
    book.close()
    solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    values: Values = {name: {} for name in names.values()}
    for key, ranges in solution.items():
        match = FORMULAS_CELL_KEY.fullmatch(key)
        if match:
            value = ranges.value[0, 0]
            sheet, ref = names[match["sheet"]], match["ref"]
            values[sheet][ref] = value.item() if hasattr(value, "item") else value
    return values


@pytest.mark.parametrize("workbook", FORMULAS_WORKBOOKS, ids=ids)
def test_formulas_package_computes_the_engine_values(
    generated: dict[Workbook, Path], workbook: Workbook
) -> None:
    name, locale, scenario = workbook
    path = generated[workbook]
    model = template.load(name)
    sheet = load_locale(locale).sheets["calculations"]
    cells = calculation_cells(model, load_workbook(path)[sheet])
    values = formulas_values(path)

    differences = compare_with_engine(cells, values[sheet], engine_columns(model, scenario))
    assert not differences, "\n".join(differences)
    # And every other formula cell of the workbook agrees with its cached value.
    mismatches = compare_formula_cells(path, values)
    assert not mismatches, "cached (generator) vs `formulas`:\n" + describe(mismatches)


def test_formulas_package_ignores_cached_values(corruption: Corruption) -> None:
    """Without this, test 3 could pass by `formulas` echoing the cached values."""
    c = corruption
    computed = formulas_values(c.path)[c.sheet][c.cell]
    model = template.load(CORRUPTED[0])
    expected = engine_columns(model, CORRUPTED[2])["live"][c.metric]
    assert computed != WRONG_CACHE
    assert same_value(expected, computed)


# -- 4. the formulas are live: inputs and the selector move the results


@pytest.mark.parametrize("edit", LIVE_EDITS, ids=ids)
def test_edited_inputs_and_selector_drive_the_calculations(
    files: Files, edit: tuple[str, str]
) -> None:
    name, locale = edit
    model = template.load(name)
    expected = engine_columns(model, "optimistic", live_overrides(model))
    defaults = engine_columns(model, "realistic")
    assert expected["realistic"] != defaults["realistic"], "the Realistic edit changes nothing"
    assert expected["live"] != defaults["live"], "the Live column would not move"
    assert expected["live"] != expected["realistic"], "Live could pass by following Realistic"

    wb = load_workbook(files.recalculated(files.edited[edit]), data_only=True)
    ws = wb[load_locale(locale).sheets["calculations"]]
    differences = compare_with_engine(calculation_cells(model, ws), sheet_values(ws), expected)
    assert not differences, "\n".join(differences)
    assert error_cells({sheet.title: sheet_values(sheet) for sheet in wb.worksheets}) == []


# -- 5. the comparison can fail


def test_comparison_reports_exactly_a_wrong_cached_value(files: Files) -> None:
    c = files.corruption
    assert cell_values(c.path)[c.sheet][c.cell] == WRONG_CACHE, "the corruption is not in the file"

    mismatches = compare_formula_cells(c.path, cell_values(files.recalculated(c.path)))

    assert [(m.sheet, m.cell, m.cached) for m in mismatches] == [(c.sheet, c.cell, WRONG_CACHE)]
    model = template.load(CORRUPTED[0])
    right = engine_columns(model, CORRUPTED[2])["live"][c.metric]
    assert same_value(as_cell_value(right), mismatches[0].recalculated)
    # The engine check (test 2) catches the same planted value.
    ws = load_workbook(c.path, data_only=True)[c.sheet]
    differences = compare_with_engine(
        calculation_cells(model, ws), sheet_values(ws), engine_columns(model, CORRUPTED[2])
    )
    assert len(differences) == 1 and differences[0].startswith(f"live {c.metric} {c.cell}:")


# -- 6. the business-case timeline


def timeline_summary(model: Template, ws: Worksheet) -> dict[str, dict[str, object]]:
    """The Timeline sheet's summary: result key -> scenario (or "live") -> value shown."""
    layout = timeline_layout(model)
    columns = {**SUMMARY_COLS, "live": SUMMARY_LIVE_COL}
    return {
        key: {
            scenario: ws.cell(row=row + 1, column=col + 1).value
            for scenario, col in columns.items()
        }
        for key, row in layout.summary_rows.items()
    }


@pytest.mark.parametrize("workbook", WORKBOOKS, ids=ids)
def test_libreoffice_timeline_figures_equal_the_engine(files: Files, workbook: Workbook) -> None:
    """NPV, IRR, payback and the ROIs LibreOffice computes are the engine's, over each
    scenario's own horizon; a figure that does not exist is text, never an error."""
    name, locale, selected = workbook
    model = template.load(name)
    sheet = load_locale(locale).sheets["timeline"]
    ws = load_workbook(files.recalculated(files.generated[workbook]), data_only=True)[sheet]
    shown = timeline_summary(model, ws)
    results = engine.calculate(model)
    for scenario in (*SCENARIOS, "live"):
        source = selected if scenario == "live" else scenario
        payload = engine.scenario_payload(model, results[source])
        for key in ("npv", "irr", "payback_month", "roi_first_year", "roi_horizon"):
            expected = payload["outputs"][key]
            found = shown[key][scenario]
            if expected is None:
                assert isinstance(found, str) and not found.startswith("#"), (key, scenario)
            else:
                assert same_value(expected, found), (key, scenario, expected, found)
        for key in ("npv_risk_adjusted", "roi_horizon_risk_adjusted"):
            assert same_value(payload["outputs"][key], shown[key][scenario]), (key, scenario)


def test_edited_inputs_move_the_timeline_in_libreoffice(files: Files) -> None:
    """The live workbook's figures follow the inputs edited in the file (selector moved)."""
    for (name, locale), source in files.edited.items():
        model = template.load(name)
        ws = load_workbook(files.recalculated(source), data_only=True)[
            load_locale(locale).sheets["timeline"]
        ]
        shown = timeline_summary(model, ws)
        overrides = live_overrides(model)
        inputs = engine.scenario_inputs(model, "optimistic")
        inputs.update(overrides.get("optimistic", {}))
        result = engine.ScenarioResult(inputs, engine.compute(model, inputs))
        expected = engine.scenario_payload(model, result)["outputs"]["npv"]
        assert same_value(expected, shown["npv"]["live"]), (name, locale)


# -- 7. Gnumeric, the third engine, recomputes every cached value


@pytest.fixture(scope="module")
def gnumeric(
    ssconvert: str,
    generated: dict[Workbook, Path],
    corruption: Corruption,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[Path, Path]:
    """Every generated workbook and the corrupted copy, recalculated by Gnumeric."""
    sources = [*generated.values(), corruption.path]
    outputs = recalculate_gnumeric(sources, tmp_path_factory.mktemp("gnumeric"))
    return dict(zip(sources, outputs, strict=True))


@pytest.mark.parametrize("workbook", WORKBOOKS, ids=ids)
def test_gnumeric_recomputes_every_cached_value(
    gnumeric: dict[Path, Path], generated: dict[Workbook, Path], workbook: Workbook
) -> None:
    source = generated[workbook]
    values = cell_values(gnumeric[source])
    mismatches = compare_formula_cells(source, values)
    assert not mismatches, "cached (generator) vs Gnumeric:\n" + describe(mismatches)
    assert error_cells(values) == []


def test_gnumeric_comparison_reports_exactly_a_wrong_cached_value(
    gnumeric: dict[Path, Path], corruption: Corruption
) -> None:
    """Without this, the Gnumeric test could pass by Gnumeric keeping the cached values."""
    c = corruption
    assert cell_values(c.path)[c.sheet][c.cell] == WRONG_CACHE, "the corruption is not in the file"
    mismatches = compare_formula_cells(c.path, cell_values(gnumeric[c.path]))
    assert [(m.sheet, m.cell, m.cached) for m in mismatches] == [(c.sheet, c.cell, WRONG_CACHE)]
    model = template.load(CORRUPTED[0])
    right = engine_columns(model, CORRUPTED[2])["live"][c.metric]
    assert same_value(as_cell_value(right), mismatches[0].recalculated)
