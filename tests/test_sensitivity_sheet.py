"""The Sensitivity sheet: its tornado and break-even, recomputed by LibreOffice, are Python's.

The sheet's ROIs are the headline formula written out with one input replaced;
these tests check that LibreOffice, recalculating a generated and an edited
workbook from scratch, finds the values `roi_xl.decide.sensitivity` and
`roi_xl.decide.break_even` compute, that the break-even it shows really zeroes the ROI
in the engine, and that the sheet's formulas are live.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from roi_xl.cli import app
from roi_xl.decide.break_even import break_even
from roi_xl.decide.sensitivity import MOVES, sensitivity
from roi_xl.inspect.recalc import recalculate
from roi_xl.locale import load_locale
from roi_xl.model import engine, expr, template
from roi_xl.model.template import SCENARIOS, Template
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.layout import LIVE_COL, SCENARIO_COLS
from roi_xl.workbook.sensitivity_layout import (
    BREAK_EVEN,
    CANDIDATE,
    FIRST_MOVE,
    FIRST_RESULT,
    HIGHEST,
    LOWEST,
    POSITION,
    RANK,
    ROI_CHECK,
    SORTED_HIGH,
    SORTED_LABEL,
    SORTED_LOW,
    SWING,
    TODAY,
    flexed_inputs,
    sensitivity_layout,
)

REL_TOL = 1e-9
START = dt.date(2026, 1, 1)
# Edits that move the break-even and reorder the tornado: (input, realistic value).
EDITS = {
    "phoning-b2b": {"win_rate": 0.18, "caller_hourly_cost": 75.0, "reach_rate": 0.06},
    "crm": {"conversion_rate_current": 0.13, "hours_saved_per_user_month": 1.5},
    "phone-system": {"answer_rate_after": 0.9, "answer_rate_before": 0.55},
}
GENERATED = [(name, "en-US", "realistic") for name in template.builtin_names()] + [
    ("phoning-b2b", "fr-FR", "prudent"),
    ("phone-system", "fr-FR", "optimistic"),
]


def close(found: object, expected: float) -> bool:
    return isinstance(found, int | float) and math.isclose(
        found, expected, rel_tol=REL_TOL, abs_tol=1e-9
    )


def defaults(model: Template) -> dict[str, dict[str, float]]:
    return {s: engine.scenario_inputs(model, s) for s in SCENARIOS}


@pytest.fixture(scope="module")
def workbooks(soffice: str, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple, Path]:
    """Generated workbooks and edited copies, recalculated by LibreOffice in one batch."""
    folder = tmp_path_factory.mktemp("sensitivity")
    sources: dict[tuple, Path] = {}
    for name, locale, scenario in GENERATED:
        path = folder / f"{name}-{locale}-{scenario}.xlsx"
        options = WorkbookOptions(locale=locale, scenario=scenario, start=START, months=2)
        sources[(name, locale, scenario)] = write_workbook(template.load(name), path, options)
    for name, edits in EDITS.items():
        sources[(name, "edited")] = edit(sources[(name, "en-US", "realistic")], name, edits)
    outputs = recalculate(list(sources.values()), folder / "recalculated")
    return dict(zip(sources, outputs, strict=True))


def edit(source: Path, name: str, edits: dict[str, float]) -> Path:
    """Type new realistic values over the Inputs sheet, as a finance director would."""
    model = template.load(name)
    wb = load_workbook(source)
    ws = wb[load_locale("en-US").sheets["inputs"]]
    rows = {ws.cell(r, 9).value: r for r in range(1, ws.max_row + 1)}
    for key, value in edits.items():
        assert key in model.input_keys
        ws.cell(rows[key], SCENARIO_COLS["realistic"] + 1).value = value
    target = source.with_name(f"edited-{source.name}")
    wb.save(target)
    return target


def scenario_values(name: str, key: tuple) -> tuple[dict[str, dict[str, float]], str]:
    model = template.load(name)
    scenarios = defaults(model)
    if key[1] == "edited":
        scenarios["realistic"] = {**scenarios["realistic"], **EDITS[name]}
        return scenarios, "realistic"
    return scenarios, key[2]


def sheet(path: Path, locale: str):
    return load_workbook(path, data_only=True)[load_locale(locale).sheets["sensitivity"]]


KEYS = [*GENERATED, *((n, "edited") for n in EDITS)]


def opened(workbooks: dict[tuple, Path], key: tuple):
    """The model, the locale, a reader of the recalculated sheet's cells (zero-based), the
    layout and the scenarios (with the base) that workbook holds."""
    name = key[0]
    model = template.load(name)
    locale = "en-US" if key[1] == "edited" else key[1]
    ws = sheet(workbooks[key], locale)

    def value(row: int, col: int) -> object:
        return ws.cell(row + 1, col + 1).value

    scenarios, base = scenario_values(name, key)
    return model, locale, value, sensitivity_layout(model), scenarios, base


@pytest.mark.parametrize("key", KEYS, ids=str)
def test_libreoffice_tornado_equals_python(workbooks: dict[tuple, Path], key: tuple) -> None:
    model, locale, value, plan, scenarios, base = opened(workbooks, key)
    tornado = sensitivity(model, scenarios, base, (plan.metric,))[plan.metric]

    assert close(value(*plan.base_cell), tornado.base)
    points = 100 if model.metric(plan.metric).kind == "percent" else 1  # a rate's change in pts
    compared = 0
    for bar in tornado.bars:
        if bar.input not in plan.move_rows:
            assert bar.swing == 0, f"{bar.input} moves the ROI but is not on the sheet"
            continue
        row = plan.move_rows[bar.input]
        for index, move in enumerate(MOVES):
            assert close(value(row, FIRST_MOVE + index), bar.inputs[move]), (bar.input, move)
            assert close(value(row, FIRST_RESULT + index), bar.outputs[move]), (bar.input, move)
            compared += 1
        assert close(value(row, LOWEST), bar.low)
        assert close(value(row, HIGHEST), bar.high)
        assert close(value(row, SWING), bar.swing * points)
    assert compared == len(MOVES) * len(plan.move_rows)
    on_sheet = [b for b in tornado.bars if b.input in plan.move_rows]
    labels = [model.input(b.input).label[load_locale(locale).language] for b in on_sheet]
    assert [value(row, SORTED_LABEL) for row in plan.tornado_rows] == labels
    assert [value(row, POSITION) for row in plan.tornado_rows] == list(range(1, len(labels) + 1))
    ranks = sorted(value(row, RANK) for row in plan.move_rows.values())
    assert ranks == list(range(1, len(plan.move_rows) + 1))
    for row, bar in zip(plan.tornado_rows, on_sheet, strict=True):
        assert close(value(row, SORTED_LOW), (bar.low - tornado.base) * points)
        assert close(value(row, SORTED_HIGH), (bar.high - tornado.base) * points)


@pytest.mark.parametrize("key", KEYS, ids=str)
def test_libreoffice_break_even_equals_python(workbooks: dict[tuple, Path], key: tuple) -> None:
    model, locale, value, plan, scenarios, base = opened(workbooks, key)
    none = load_locale(locale)["no_break_even"]

    for rows in plan.break_evens:
        result = break_even(
            model, scenarios[base], rows.driver, plan.metric, tuple(rows.companions)
        )
        assert close(value(rows.row, TODAY), scenarios[base][rows.driver])
        shown = value(rows.row, BREAK_EVEN)
        if not result.found:
            assert shown == none, (rows.driver, shown)
            continue
        assert result.value is not None
        assert close(shown, result.value), (rows.driver, shown, result.value)
        assert abs(value(rows.row, ROI_CHECK)) < 1e-9
        back = engine.compute(model, {**scenarios[base], rows.driver: float(shown)})
        assert abs(back[plan.metric]) < 1e-9, "the sheet's break-even does not zero the ROI"
        for companion, row in rows.companions.items():
            assert close(value(row, BREAK_EVEN), result.companions[companion]), companion
        assert close(value(rows.last_solver_row, CANDIDATE), float(shown))


def test_edits_move_the_sheet(workbooks: dict[tuple, Path]) -> None:
    """The edited copies really differ: the sheet is live, not pasted numbers."""
    for name in EDITS:
        model = template.load(name)
        plan = sensitivity_layout(model)
        before = sheet(workbooks[(name, "en-US", "realistic")], "en-US")
        after = sheet(workbooks[(name, "edited")], "en-US")
        cell = (plan.base_cell[0] + 1, plan.base_cell[1] + 1)
        assert before.cell(*cell).value != after.cell(*cell).value, name
        first = plan.break_evens[0]
        assert (
            before.cell(first.row + 1, BREAK_EVEN + 1).value
            != after.cell(first.row + 1, BREAK_EVEN + 1).value
        )


def test_some_break_even_is_outside_the_range() -> None:
    """The CRM's ROI stays positive whatever the hours saved: the sheet must say so."""
    model = template.load("crm")
    result = break_even(model, defaults(model)["realistic"], "hours_saved_per_user_month")
    assert not result.found


# -- structure, without LibreOffice

CELL = re.compile(r"(?:'[^']+'|[A-Za-z]+)?!?\$?[A-Z]{1,3}\$?\d+")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("structure")
    return {
        name: write_workbook(
            template.load(name), folder / f"{name}.xlsx", WorkbookOptions(start=START, months=1)
        )
        for name in template.builtin_names()
    }


@pytest.mark.parametrize("name", template.builtin_names())
def test_each_result_re_evaluates_the_headline_formula(
    generated: dict[str, Path], name: str
) -> None:
    model = template.load(name)
    plan = sensitivity_layout(model)
    wb = load_workbook(generated[name])
    ws = wb["Sensitivity"]
    inputs_sheet = "Inputs"
    live_col = chr(ord("A") + LIVE_COL)
    flexed = flexed_inputs(model, plan.metric)
    assert list(plan.move_rows) == flexed
    used = expr.names(engine.expanded(model, plan.metric))
    assert set(flexed) == used & set(model.input_keys)
    for key, row in plan.move_rows.items():
        for index in range(len(MOVES)):
            formula = ws.cell(row + 1, FIRST_RESULT + index + 1).value
            assert isinstance(formula, str) and formula.startswith("=")
            moved = ws.cell(row + 1, FIRST_MOVE + index + 1).coordinate
            # the flexed input comes from its moved cell, every other input from Live
            assert re.search(rf"(?<![A-Z$]){moved}(?!\d)", formula), (key, formula)
            live_refs = set(re.findall(rf"'{inputs_sheet}'!\${live_col}\$(\d+)", formula))
            assert len(live_refs) == len(flexed) - 1, (key, formula)
    # Lowest, highest, swing, ranks and the tornado are formulas too.
    for row in [*plan.move_rows.values()]:
        for col in (LOWEST, HIGHEST, SWING, RANK):
            assert str(ws.cell(row + 1, col + 1).value).startswith("=")
    for row in plan.tornado_rows:
        for col in (SORTED_LABEL, SORTED_LOW, SORTED_HIGH):
            assert str(ws.cell(row + 1, col + 1).value).startswith("=")
    assert ws.protection.sheet


@pytest.mark.parametrize("name", template.builtin_names())
def test_the_tornado_chart_and_the_sheet_order(generated: dict[str, Path], name: str) -> None:
    from zipfile import ZipFile

    wb = load_workbook(generated[name])
    names = wb.sheetnames
    assert names.index("Sensitivity") == names.index("Dashboard") + 1
    with ZipFile(generated[name]) as package:
        charts = [
            package.read(n).decode() for n in package.namelist() if n.startswith("xl/charts/chart")
        ]
    tornado = [c for c in charts if "Sensitivity" in c and '<c:barDir val="bar"/>' in c]
    assert len(tornado) == 1
    assert tornado[0].count("<c:ser>") == 2
    assert '<c:overlap val="100"/>' in tornado[0]


def test_an_edited_recalculated_workbook_audits_clean(workbooks: dict[tuple, Path]) -> None:
    """The reader rebuilds the same Sensitivity sheet from edited inputs: no finding there."""
    for name in EDITS:
        result = CliRunner().invoke(app, ["audit", str(workbooks[(name, "edited")]), "--json"])
        findings = json.loads(result.stdout)["findings"]
        assert [f for f in findings if f["sheet"] == "Sensitivity"] == [], name
        assert result.exit_code == 0, findings


def test_read_json_reports_each_break_even_recomputed_and_as_the_sheet_shows_it(
    workbooks: dict[tuple, Path],
) -> None:
    for key in KEYS:
        name = key[0]
        model = template.load(name)
        scenarios, base = scenario_values(name, key)
        result = CliRunner().invoke(app, ["read", str(workbooks[key]), "--json"])
        assert result.exit_code == 0, result.stdout
        read = json.loads(result.stdout)["break_even"]
        plan = sensitivity_layout(model)
        assert [item["driver"] for item in read] == [rows.driver for rows in plan.break_evens]
        for item in read:
            expected = break_even(model, scenarios[base], item["driver"], plan.metric)
            assert item["today"] == scenarios[base][item["driver"]]
            if expected.value is None:
                assert item["value"] is None
                assert isinstance(item["cached"], str), item
            else:
                assert close(item["value"], expected.value)
                assert close(item["cached"], expected.value), (key, item)


@pytest.mark.parametrize("name", template.builtin_names())
def test_the_dashboard_shows_each_break_even_from_the_sensitivity_sheet(
    workbooks: dict[tuple, Path], generated: dict[str, Path], name: str
) -> None:
    model = template.load(name)
    plan = sensitivity_layout(model)
    formulas = load_workbook(generated[name])["Dashboard"]
    links = {
        c.value: (c.row, c.column)
        for row in formulas.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("='Sensitivity'!")
    }
    expected = {
        f"='Sensitivity'!${chr(ord('A') + BREAK_EVEN)}${rows.row + 1}" for rows in plan.break_evens
    }
    assert set(links) == expected
    key = (name, "edited")  # LibreOffice-recalculated, with inputs changed by hand
    dashboard = load_workbook(workbooks[key], data_only=True)["Dashboard"]
    sensitivity_sheet = sheet(workbooks[key], "en-US")
    for rows in plan.break_evens:
        row, col = links[f"='Sensitivity'!${chr(ord('A') + BREAK_EVEN)}${rows.row + 1}"]
        shown = sensitivity_sheet.cell(rows.row + 1, BREAK_EVEN + 1).value
        assert dashboard.cell(row, col).value == shown
        assert (
            dashboard.cell(row, col - 1).value
            == scenario_values(name, key)[0]["realistic"][rows.driver]
        )
