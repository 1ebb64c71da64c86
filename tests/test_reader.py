"""Reading workbooks back: round trips, properties, a tamper corpus and the CLI.

A workbook is generated, edited the way people and scripts edit it (openpyxl,
LibreOffice, or the package XML itself), and read back. Round trips must give
back exactly the inputs written and the engine's outputs; every tampering must
be reported with its rule, its sheet and its cell. All LibreOffice work that can
be prepared up front goes through ONE `recalculate` batch (module fixture
`recalculated`), since soffice start-up dominates the cost.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from roi_xl.cli import app
from roi_xl.inspect.findings import Finding
from roi_xl.inspect.guard import scan
from roi_xl.inspect.reader import WorkbookRead, read_workbook
from roi_xl.inspect.recalc import recalculate
from roi_xl.locale import LOCALES, load_locale
from roi_xl.model import engine, template
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.template import SCENARIOS, Input, Template
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.layout import (
    LIVE_COL,
    MONTH_ACTUAL_COL,
    SCENARIO_COLS,
    SELECTOR_ROW,
    VALUE_COL,
    Layout,
    build_layout,
    cell,
)

TEMPLATES = tuple(template.builtin_names())
START = dt.date(2026, 1, 1)
MONTHS = 12
# Files that only LibreOffice reads are kept short: its time grows with the sheets.
SHORT_MONTHS = 3
REL_TOL = 1e-9
# Results that should be 0 may come out as 1e-14 from another summation order.
ABS_TOL = 1e-9
TAMPER_TEMPLATE = "crm"

Inputs = dict[str, dict[str, float]]  # scenario -> input key -> value

runner = CliRunner()


# ----------------------------------------------------------------- helpers


def load_model(name: str) -> Template:
    return template.load(name)


def layout_of(model: Template, locale: str, months: int = MONTHS) -> Layout:
    return build_layout(model, load_locale(locale), START, months)


def default_inputs(model: Template) -> Inputs:
    return {s: engine.scenario_inputs(model, s) for s in SCENARIOS}


def generate(
    model: Template,
    path: Path,
    locale: str = "en-US",
    scenario: str = "realistic",
    inputs: Mapping[str, Mapping[str, float]] | None = None,
    months: int = MONTHS,
) -> Path:
    options = WorkbookOptions(
        locale=locale,
        scenario=scenario,
        start=START,
        months=months,
        force=True,
        inputs=inputs,
    )
    return write_workbook(model, path, options)


def a1(row: int, col: int) -> str:
    """A1 address of a zero-based cell, as findings name cells."""
    return cell(row, col)


def same_value(expected: engine.Value, found: object) -> bool:
    """Numbers within 1e-9 relative; Excel errors equal when they are the same error."""
    if isinstance(expected, ExcelError) or isinstance(found, ExcelError):
        return (
            isinstance(expected, ExcelError) and isinstance(found, ExcelError) and expected == found
        )
    if isinstance(found, bool) or not isinstance(found, int | float):
        return False
    return math.isclose(float(found), float(expected), rel_tol=REL_TOL, abs_tol=ABS_TOL)


def mismatches(expected: Mapping[str, engine.Value], found: Mapping[str, object]) -> list[str]:
    """Keys whose values differ (or are missing), described for an assertion message."""
    problems = [f"{key}: missing" for key in expected if key not in found]
    problems += [
        f"{key}: expected {expected[key]!r}, found {found[key]!r}"
        for key in expected
        if key in found and not same_value(expected[key], found[key])
    ]
    problems += [f"{key}: unexpected" for key in found if key not in expected]
    return problems


def described(findings: list[Finding]) -> str:
    return "\n".join(
        f"  {f.severity} {f.rule} {f.sheet}!{f.cell}: found {f.found!r}, expected {f.expected!r}"
        for f in findings
    )


def summary(findings: list[Finding]) -> list[tuple[str, str, str | None, str | None]]:
    """(severity, rule, sheet, cell) of every finding, in the reader's order."""
    return [(f.severity, f.rule, f.sheet, f.cell) for f in findings]


def errors_of(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def the_finding(findings: list[Finding], rule: str, sheet: str | None, ref: str | None) -> Finding:
    """The one finding of ``rule`` on ``sheet``!``ref``; fail with every finding listed."""
    matching = [f for f in findings if (f.rule, f.sheet, f.cell) == (rule, sheet, ref)]
    assert len(matching) == 1, (
        f"expected one {rule} finding at {sheet}!{ref}, got {len(matching)}:\n"
        + described(findings)
    )
    return matching[0]


def engine_errors(model: Template, inputs: Inputs) -> set[str]:
    """Texts of the Excel errors the engine gives for any scenario, in its metrics or in the
    monthly KPIs over the plan (no lead planned: no conversion rate)."""
    errors = set()
    for scenario in SCENARIOS:
        outputs = engine.compute(model, inputs[scenario])
        result = engine.ScenarioResult(inputs=dict(inputs[scenario]), outputs=outputs)
        for value in [*outputs.values(), *engine.planned_kpis(model, result).values()]:
            if isinstance(value, ExcelError):
                errors.add(value.text)
    return errors


def assert_matches_engine(model: Template, read: WorkbookRead, written: Inputs) -> None:
    """Inputs read are those written; recomputed and cached outputs are the engine's."""
    for scenario in SCENARIOS:
        got = read.scenarios[scenario]
        assert got.inputs == written[scenario], scenario
        expected = engine.compute(model, written[scenario])
        assert got.outputs is not None, scenario
        assert not mismatches(expected, got.outputs), (scenario, mismatches(expected, got.outputs))
        assert not mismatches(expected, got.cached), (scenario, mismatches(expected, got.cached))


def assert_only_engine_errors(model: Template, read: WorkbookRead, written: Inputs) -> None:
    """No finding at all, except cells showing an error value the engine also gives.

    (Past 25 cells per sheet the reader lists one summary finding, without a cell.)
    """
    computed_errors = engine_errors(model, written)
    if not computed_errors:
        assert read.findings == [], described(read.findings)
        return
    unexpected = [
        f
        for f in read.findings
        if f.rule != "error_value" or (f.cell is not None and f.found not in computed_errors)
    ]
    assert unexpected == [], described(unexpected)


# -- editing a package without any spreadsheet library


def rewrite_package(
    source: Path,
    target: Path,
    edits: Mapping[str, Callable[[str], str]] | None = None,
    additions: Mapping[str, str] | None = None,
) -> Path:
    """Copy an .xlsx package, transforming some XML parts and adding others."""
    edits = dict(edits or {})
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename in edits:
                text = data.decode("utf-8")
                changed = edits.pop(info.filename)(text)
                assert changed != text, f"the edit of {info.filename} changed nothing"
                data = changed.encode("utf-8")
            new.writestr(info, data)
        for name, text in (additions or {}).items():
            new.writestr(name, text)
    assert not edits, f"no such parts: {sorted(edits)}"
    return target


def sheet_part(path: Path, sheet: str) -> str:
    """The zip part holding ``sheet``."""
    part = scan(path).sheet(sheet)
    assert part is not None and part.part, f"no sheet {sheet!r} in {path}"
    return part.part


def _cell_pattern(ref: str) -> re.Pattern[str]:
    return re.compile(rf'<c r="{ref}"(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</c>)', re.S)


def replace_cell(xml: str, ref: str, build: Callable[[str, str], str]) -> str:
    """Replace the <c> element of ``ref``; ``build(style_attr, body)`` gives the new one."""
    pattern = _cell_pattern(ref)
    match = pattern.search(xml)
    assert match, f"no cell {ref} in the sheet XML"
    style = re.search(r'\ss="\d+"', match.group("attrs"))
    new = build(style.group(0) if style else "", match.group("body") or "")
    return xml[: match.start()] + new + xml[match.end() :]


def constant_cell(ref: str, number: float) -> Callable[[str], str]:
    return lambda xml: replace_cell(xml, ref, lambda s, _: f'<c r="{ref}"{s}><v>{number!r}</v></c>')


def text_cell(ref: str, text: str) -> Callable[[str], str]:
    return lambda xml: replace_cell(
        xml, ref, lambda s, _: f'<c r="{ref}"{s} t="inlineStr"><is><t>{text}</t></is></c>'
    )


def formula_text(ref: str, formula: str) -> Callable[[str], str]:
    """Change a formula's text and keep its cached value."""

    def build(style: str, body: str) -> str:
        cached = re.search(r"<v>[^<]*</v>", body)
        assert cached, f"{ref} has no cached value"
        return f'<c r="{ref}"{style}><f>{formula}</f>{cached.group(0)}</c>'

    return lambda xml: replace_cell(xml, ref, build)


def cached_number(ref: str, number: float) -> Callable[[str], str]:
    """Change the stored number of a constant cell, as a script editing the XML would."""

    def build(style: str, body: str) -> str:
        assert "<f" not in body, f"{ref} holds a formula"
        return f'<c r="{ref}"{style}><v>{number!r}</v></c>'

    return lambda xml: replace_cell(xml, ref, build)


def sheet_element(sheet: str) -> re.Pattern[str]:
    return re.compile(rf'<sheet name="{re.escape(sheet)}"[^>]*/>')


def rename_sheet(old: str, new: str) -> Callable[[str], str]:
    return lambda xml: xml.replace(f'<sheet name="{old}"', f'<sheet name="{new}"')


def hide_sheet(sheet: str) -> Callable[[str], str]:
    return lambda xml: sheet_element(sheet).sub(
        lambda m: m.group(0).replace("/>", ' state="hidden"/>'), xml
    )


def delete_sheet(sheet: str) -> Callable[[str], str]:
    return lambda xml: sheet_element(sheet).sub("", xml)


EXTERNAL_LINK_PART = "xl/externalLinks/externalLink1.xml"
EXTERNAL_LINK_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
<externalBook r:id="rId1"><sheetNames><sheetName val="Prices"/></sheetNames>\
<sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>42</v></cell></row>\
</sheetData></sheetDataSet></externalBook></externalLink>"""
EXTERNAL_LINK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" \
Target="prices.xlsx" TargetMode="External"/></Relationships>"""


def add_external_link(source: Path, target: Path) -> Path:
    """What Excel writes when a formula refers to [prices.xlsx]Prices!A1."""
    content_type = (
        '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>'
    )
    relationship = (
        '<Relationship Id="rIdLink1" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/externalLink" Target="externalLinks/externalLink1.xml"/>'
    )
    reference = '<externalReferences><externalReference r:id="rIdLink1"/></externalReferences>'
    return rewrite_package(
        source,
        target,
        edits={
            "[Content_Types].xml": lambda x: x.replace("</Types>", content_type + "</Types>"),
            "xl/_rels/workbook.xml.rels": lambda x: x.replace(
                "</Relationships>", relationship + "</Relationships>"
            ),
            "xl/workbook.xml": lambda x: x.replace("</sheets>", "</sheets>" + reference),
        },
        additions={
            EXTERNAL_LINK_PART: EXTERNAL_LINK_XML,
            "xl/externalLinks/_rels/externalLink1.xml.rels": EXTERNAL_LINK_RELS,
        },
    )


# -- editing with openpyxl, as a script does


def edit_with_openpyxl(
    source: Path, target: Path, edit: Callable[[openpyxl.Workbook], None]
) -> Path:
    book = openpyxl.load_workbook(source)
    edit(book)
    book.save(target)
    return target


def set_inputs(
    layout: Layout, values: Mapping[str, Mapping[str, float | str]]
) -> Callable[[openpyxl.Workbook], None]:
    """Type over input cells (scenario -> key -> value), as a person or a script does."""

    def edit(book: openpyxl.Workbook) -> None:
        sheet = book[layout.inputs]
        for scenario, changes in values.items():
            for key, value in changes.items():
                row = layout.input_rows[key]
                sheet.cell(row=row + 1, column=SCENARIO_COLS[scenario] + 1).value = value

    return edit


def set_selector(layout: Layout, scenario: str) -> Callable[[openpyxl.Workbook], None]:
    def edit(book: openpyxl.Workbook) -> None:
        selector = book[layout.inputs].cell(row=SELECTOR_ROW + 1, column=VALUE_COL + 1)
        selector.value = layout.locale.scenarios[scenario]

    return edit


def both(*edits: Callable[[openpyxl.Workbook], None]) -> Callable[[openpyxl.Workbook], None]:
    def edit(book: openpyxl.Workbook) -> None:
        for one in edits:
            one(book)

    return edit


# ------------------------------------------------------- round-trip cases


@dataclass(frozen=True)
class RoundTrip:
    """One workbook generated, edited with openpyxl, recalculated by LibreOffice, read."""

    template: str
    locale: str
    scenario: str  # selected after the edit (the file is generated with another one)

    @property
    def name(self) -> str:
        return f"roundtrip-{self.template}-{self.locale}-{self.scenario}"

    @property
    def generated_with(self) -> str:
        return SCENARIOS[(SCENARIOS.index(self.scenario) + 1) % len(SCENARIOS)]


ROUND_TRIPS = [RoundTrip(t, "en-US", s) for t in TEMPLATES for s in SCENARIOS] + [
    RoundTrip(TAMPER_TEMPLATE, "fr-FR", s) for s in SCENARIOS
]


def edited_value(item: Input, scenario: str) -> float:
    """A valid value a little above the default (halfway to the maximum when that is closer)."""
    factor = {"prudent": 1.2, "realistic": 1.1, "optimistic": 1.05}[scenario]
    default = item.defaults[scenario]
    value = default * factor
    if value > item.maximum:
        value = (default + item.maximum) / 2
    return float(f"{value:.6g}")


def round_trip_edits(model: Template) -> Inputs:
    """New valid values for four inputs of each scenario column, different per column.

    Chosen so that no output is an Excel error: error cells are covered elsewhere.
    """
    edits: Inputs = {}
    for index, scenario in enumerate(SCENARIOS):
        chosen = [item for item in model.inputs[index::4] if item.defaults[scenario] != 0][:4]
        edits[scenario] = {item.key: edited_value(item, scenario) for item in chosen}
    return edits


def expected_inputs(model: Template, edits: Inputs) -> Inputs:
    inputs = default_inputs(model)
    for scenario, changes in edits.items():
        inputs[scenario].update(changes)
    return inputs


# ---------------------------------------------- tamper cases needing LibreOffice


def tamper_layout(locale: str = "en-US", months: int = MONTHS) -> Layout:
    return layout_of(load_model(TAMPER_TEMPLATE), locale, months)


def input_ref(layout: Layout, key: str, scenario: str) -> str:
    return a1(layout.input_rows[key], SCENARIO_COLS[scenario])


@dataclass(frozen=True)
class InputTyped:
    """One input cell typed over: which input, in which scenario column, with what."""

    key: str
    scenario: str
    value: float | str

    def ref(self, layout: Layout) -> str:
        return input_ref(layout, self.key, self.scenario)

    def edit(self, layout: Layout) -> Callable[[openpyxl.Workbook], None]:
        return set_inputs(layout, {self.scenario: {self.key: self.value}})


OUT_OF_RANGE = InputTyped("annual_leads", "realistic", 2e8)  # max 1e8
PERCENT_AS_NUMBER = InputTyped("conversion_rate_current", "prudent", 37.0)  # meant 37 %
TEXT_INPUT = InputTyped("customers", "optimistic", "lots")
NOTES_SHEET = "Notes"
# Zero-based columns L, M, N: right of the notes column J, where people jot things down.
SIDE_TEXT_COL, SIDE_NUMBER_COL, SIDE_FORMULA_COL = 11, 12, 13


def _write_notes(layout: Layout) -> Callable[[openpyxl.Workbook], None]:
    """A notes sheet, and comments and side calculations right of the Inputs columns."""

    def edit(book: openpyxl.Workbook) -> None:
        notes = book.create_sheet(NOTES_SHEET)
        notes["A1"] = "Meeting of 12 March: the CFO wants the prudent case first."
        notes["A2"] = 42
        inputs = book[layout.inputs]
        row = layout.input_rows["annual_leads"] + 1
        inputs.cell(row=row, column=SIDE_TEXT_COL + 1).value = "checked with marketing"
        inputs.cell(row=row, column=SIDE_NUMBER_COL + 1).value = 1234.5
        inputs.cell(row=row, column=SIDE_FORMULA_COL + 1).value = f"=D{row}*1.1"

    return edit


def libreoffice_tampers(clean: Path, folder: Path) -> dict[str, Path]:
    """Edits whose consequences only show once a spreadsheet has recalculated.

    ``clean`` has SHORT_MONTHS monthly tabs: LibreOffice's time grows with the sheets.
    """
    layout = tamper_layout(months=SHORT_MONTHS)
    cases = {
        "out-of-range": OUT_OF_RANGE.edit(layout),
        "percent-as-number": PERCENT_AS_NUMBER.edit(layout),
        "text-input": TEXT_INPUT.edit(layout),
        "notes": _write_notes(layout),
    }
    return {
        name: edit_with_openpyxl(clean, folder / f"tamper-{name}.xlsx", edit)
        for name, edit in cases.items()
    }


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A clean generated workbook of the tamper template per locale."""
    folder = tmp_path_factory.mktemp("generated")
    model = load_model(TAMPER_TEMPLATE)
    return {loc: generate(model, folder / f"clean-{loc}.xlsx", loc) for loc in LOCALES}


@dataclass(frozen=True)
class Recalculated:
    """Everything the module's single LibreOffice batch produced."""

    round_trips: dict[RoundTrip, tuple[Path, Inputs]]  # recalculated file, inputs written
    clean: dict[str, Path]  # locale -> clean workbook recalculated
    tampers: dict[str, Path]  # tamper case -> recalculated file


@pytest.fixture(scope="module")
def recalculated(
    soffice: str, generated: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Recalculated:
    """Round-trip edits, clean files and tampered files: ONE LibreOffice batch."""
    folder = tmp_path_factory.mktemp("before-recalc")
    outdir = tmp_path_factory.mktemp("recalculated")
    sources: list[Path] = []
    written: dict[RoundTrip, Inputs] = {}
    for case in ROUND_TRIPS:
        model = load_model(case.template)
        layout = layout_of(model, case.locale, SHORT_MONTHS)
        base = generate(
            model,
            folder / f"{case.name}-base.xlsx",
            case.locale,
            case.generated_with,
            months=SHORT_MONTHS,
        )
        edits = round_trip_edits(model)
        edit = both(set_inputs(layout, edits), set_selector(layout, case.scenario))
        sources.append(edit_with_openpyxl(base, folder / f"{case.name}.xlsx", edit))
        written[case] = expected_inputs(model, edits)
    short = generate(load_model(TAMPER_TEMPLATE), folder / "short.xlsx", months=SHORT_MONTHS)
    tampers = libreoffice_tampers(short, folder)
    sources += tampers.values()
    sources += generated.values()
    recalculate(sources, outdir)
    return Recalculated(
        round_trips={
            case: (outdir / f"{case.name}.xlsx", inputs) for case, inputs in written.items()
        },
        clean={loc: outdir / path.name for loc, path in generated.items()},
        tampers={name: outdir / path.name for name, path in tampers.items()},
    )


# ---------------------------------------------------------- 1. round trips


@pytest.mark.parametrize("case", ROUND_TRIPS, ids=lambda case: case.name)
def test_round_trip_through_openpyxl_and_libreoffice(
    recalculated: Recalculated, case: RoundTrip
) -> None:
    path, written = recalculated.round_trips[case]
    model = load_model(case.template)
    read = read_workbook(path)
    assert (read.template, read.locale, read.selected_scenario) == (
        case.template,
        case.locale,
        case.scenario,
    )
    assert_matches_engine(model, read, written)
    assert read.findings == [], described(read.findings)


def test_round_trip_edits_really_change_inputs() -> None:
    """Guard of the round trip itself: each scenario column gets edits that differ."""
    for name in TEMPLATES:
        model = load_model(name)
        edits = round_trip_edits(model)
        defaults = default_inputs(model)
        for scenario in SCENARIOS:
            assert edits[scenario], (name, scenario)
            assert all(v != defaults[scenario][k] for k, v in edits[scenario].items())
        inputs = expected_inputs(model, edits)
        for scenario in SCENARIOS:
            engine.validate_inputs(model, inputs[scenario])
        assert engine_errors(model, inputs) == set(), name


# ----------------------------------------------------- 2. properties


def typable(value: float) -> float:
    """A number as a person types it: at most 15 significant digits, as Excel shows them."""
    return float(f"{value:.15g}")


def input_value(item: Input) -> st.SearchStrategy[float]:
    if item.integer:  # a number of months is a whole number
        return st.integers(int(item.minimum), int(item.maximum)).map(float)
    return (
        st.floats(item.minimum, item.maximum, allow_nan=False, allow_infinity=False)
        .map(typable)
        .filter(lambda v: item.minimum <= v <= item.maximum)
    )


@st.composite
def random_changes(draw: st.DrawFn, model: Template, per_scenario: int = 4) -> Inputs:
    """A handful of inputs per scenario, drawn within their ranges."""
    changes: Inputs = {}
    for scenario in SCENARIOS:
        keys = draw(
            st.lists(
                st.sampled_from(model.input_keys), min_size=1, max_size=per_scenario, unique=True
            )
        )
        changes[scenario] = {key: draw(input_value(model.input(key))) for key in keys}
    return changes


@dataclass(frozen=True)
class RandomWorkbook:
    """A workbook to generate: the defaults with ``changes``; printed short on failure."""

    template: str
    locale: str
    scenario: str
    changes: Inputs

    @property
    def model(self) -> Template:
        return load_model(self.template)

    @property
    def inputs(self) -> Inputs:
        return expected_inputs(self.model, self.changes)


@st.composite
def random_workbook(draw: st.DrawFn, template_name: str | None = None) -> RandomWorkbook:
    name = template_name or draw(st.sampled_from(TEMPLATES))
    return RandomWorkbook(
        template=name,
        locale=draw(st.sampled_from(LOCALES)),
        scenario=draw(st.sampled_from(SCENARIOS)),
        changes=draw(random_changes(load_model(name))),
    )


# Each run writes and reads a workbook (~0.5 s): no shrinking, the failing example is printed.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


@pytest.mark.parametrize("template_name", TEMPLATES)
@settings(
    max_examples=8,
    deadline=None,
    phases=NO_SHRINK,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_workbook_reads_back_exactly(template_name: str, data: st.DataObject) -> None:
    spec = data.draw(random_workbook(template_name))
    model, inputs = spec.model, spec.inputs
    with tempfile.TemporaryDirectory() as folder:
        path = generate(model, Path(folder) / "random.xlsx", spec.locale, spec.scenario, inputs)
        read = read_workbook(path)
    assert read.selected_scenario == spec.scenario
    assert_matches_engine(model, read, inputs)
    assert_only_engine_errors(model, read, inputs)


BATCH_SIZE = 6


# No shrinking either: each run of an example costs a LibreOffice start. New examples every run
# (inputs at the far ends of their ranges included: IRRs of -90 % or +10,000 % a month, secant
# steps that would leave the driver's range); a failure prints the example to replay.
@settings(
    max_examples=2,
    deadline=None,
    phases=NO_SHRINK,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(specs=st.lists(random_workbook(), min_size=BATCH_SIZE, max_size=BATCH_SIZE))
def test_random_workbooks_survive_libreoffice(soffice: str, specs: list[RandomWorkbook]) -> None:
    """Random inputs, generated, recalculated by LibreOffice (one batch per example), read.

    Values first for every file, findings last, so a finding bug cannot hide a value bug.
    """
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        sources = [
            generate(
                spec.model,
                folder / f"random-{index}.xlsx",
                spec.locale,
                spec.scenario,
                spec.inputs,
                months=SHORT_MONTHS,
            )
            for index, spec in enumerate(specs)
        ]
        outputs = recalculate(sources, folder / "recalculated")
        reads = [read_workbook(path) for path in outputs]
    for spec, read in zip(specs, reads, strict=True):
        assert read.selected_scenario == spec.scenario
        assert_matches_engine(spec.model, read, spec.inputs)
    for spec, read in zip(specs, reads, strict=True):
        assert_only_engine_errors(spec.model, read, spec.inputs)


def test_error_values_the_engine_predicts_are_only_error_values(tmp_path: Path) -> None:
    """No calls made: ratios per call are #DIV/0! in the model, the file and the engine alike.

    Such cells are error_value findings (the rule flags every error shown), never
    stale_value ones: the cached #DIV/0! is exactly what the formula gives.
    """
    model = load_model("phoning-b2b")
    inputs = default_inputs(model)
    inputs["optimistic"]["calls_made"] = 0.0
    assert engine_errors(model, inputs) == {"#DIV/0!"}
    read = read_workbook(generate(model, tmp_path / "no-calls.xlsx", inputs=inputs))
    assert_matches_engine(model, read, inputs)
    assert {f.rule for f in read.findings} == {"error_value"}, described(read.findings)


def test_inputs_are_read_as_the_file_stores_them(tmp_path: Path) -> None:
    """The file holds 16 significant digits (as XlsxWriter writes them); the cached results are
    computed from exactly those, so a 17-digit input reads back rounded and the file is clean."""
    model = load_model("phoning-b2b")
    inputs = default_inputs(model)
    inputs["realistic"]["reach_rate"] = 0.1 + 0.2 - 0.25  # 0.050000000000000044
    inputs["realistic"]["caller_hourly_cost"] = 62.50000000000001
    read = read_workbook(generate(model, tmp_path / "precise.xlsx", inputs=inputs))
    got = read.scenarios["realistic"].inputs
    assert (got["reach_rate"], got["caller_hourly_cost"]) == (
        float(f"{inputs['realistic']['reach_rate']:.16G}"),
        float(f"{inputs['realistic']['caller_hourly_cost']:.16G}"),
    )
    assert read.findings == [], described(read.findings)


# ------------------------------------------------------- 3. tamper corpus


@pytest.mark.parametrize("locale", LOCALES)
def test_clean_generated_workbook_has_no_findings(generated: dict[str, Path], locale: str) -> None:
    read = read_workbook(generated[locale])
    assert read.findings == [], described(read.findings)
    assert read.selected_scenario == "realistic"
    model = load_model(TAMPER_TEMPLATE)
    assert_matches_engine(model, read, default_inputs(model))


@pytest.mark.parametrize("locale", LOCALES)
def test_clean_recalculated_workbook_has_no_findings(
    recalculated: Recalculated, locale: str
) -> None:
    read = read_workbook(recalculated.clean[locale])
    assert read.findings == [], described(read.findings)
    model = load_model(TAMPER_TEMPLATE)
    assert_matches_engine(model, read, default_inputs(model))


def metric_ref(layout: Layout, key: str, scenario: str = "realistic") -> str:
    return a1(layout.metric_rows[key], SCENARIO_COLS[scenario])


def tampered(
    generated: dict[str, Path], tmp_path: Path, edits: Mapping[str, Callable[[str], str]]
) -> WorkbookRead:
    """Read an edited copy of the clean en-US workbook.

    ``edits`` are keyed by package part ("xl/workbook.xml") or by sheet name.
    """
    source = generated["en-US"]
    parts = {
        (name if "/" in name else sheet_part(source, name)): edit for name, edit in edits.items()
    }
    return read_workbook(rewrite_package(source, tmp_path / "tampered.xlsx", parts))


def test_formula_replaced_by_a_number(generated: dict[str, Path], tmp_path: Path) -> None:
    layout = tamper_layout()
    ref = metric_ref(layout, "deals_current")
    read = tampered(generated, tmp_path, {layout.calculations: constant_cell(ref, 260.0)})
    assert summary(read.findings) == [("error", "formula_overwritten", layout.calculations, ref)]
    assert read.findings[0].found == "260"


def test_formula_edited(generated: dict[str, Path], tmp_path: Path) -> None:
    layout = tamper_layout()
    ref = metric_ref(layout, "deals_current")
    prudent = metric_ref(layout, "deals_current", "prudent")
    read = tampered(generated, tmp_path, {layout.calculations: formula_text(ref, f"{prudent}*2")})
    assert summary(read.findings) == [("error", "formula_changed", layout.calculations, ref)]
    assert read.findings[0].found == f"={prudent}*2"


def test_formula_edited_with_a_hard_coded_number(
    generated: dict[str, Path], tmp_path: Path
) -> None:
    layout = tamper_layout()
    ref = metric_ref(layout, "deals_current")
    prudent = metric_ref(layout, "deals_current", "prudent")
    read = tampered(
        generated, tmp_path, {layout.calculations: formula_text(ref, f"{prudent}*1.07")}
    )
    assert summary(read.findings) == [
        ("error", "formula_changed", layout.calculations, ref),
        ("warning", "hard_coded_number", layout.calculations, ref),
    ]
    assert read.findings[1].found == "1.07"


def test_text_in_a_monthly_figure(generated: dict[str, Path], tmp_path: Path) -> None:
    layout = tamper_layout()
    month = layout.month_sheets[2]
    key = next(iter(layout.monthly.field_rows))
    ref = a1(layout.monthly.field_rows[key], MONTH_ACTUAL_COL)
    read = tampered(generated, tmp_path, {month: text_cell(ref, "about 150")})
    assert summary(read.findings) == [("error", "figure_not_number", month, ref)]
    assert read.actuals[month][key] is None


def test_sheet_renamed(generated: dict[str, Path], tmp_path: Path) -> None:
    layout = tamper_layout()
    read = tampered(
        generated, tmp_path, {"xl/workbook.xml": rename_sheet(layout.inputs, "Assumptions")}
    )
    assert summary(read.findings) == [("error", "sheet_renamed", "Assumptions", None)]
    model = load_model(TAMPER_TEMPLATE)
    assert_matches_engine(model, read, default_inputs(model))


def test_sheet_deleted(generated: dict[str, Path], tmp_path: Path) -> None:
    layout = tamper_layout()
    month = layout.month_sheets[-1]
    read = tampered(generated, tmp_path, {"xl/workbook.xml": delete_sheet(month)})
    assert summary(read.findings) == [("error", "sheet_missing", month, None)]
    assert all(v is None for v in read.actuals[month].values())


def test_hidden_sheet(generated: dict[str, Path], tmp_path: Path) -> None:
    layout = tamper_layout()
    month = layout.month_sheets[5]
    read = tampered(generated, tmp_path, {"xl/workbook.xml": hide_sheet(month)})
    assert summary(read.findings) == [("error", "hidden_sheet", month, None)]


def test_external_link(generated: dict[str, Path], tmp_path: Path) -> None:
    linked = add_external_link(generated["en-US"], tmp_path / "linked.xlsx")
    read = read_workbook(linked)
    links = [f for f in read.findings if f.rule == "external_link"]
    assert EXTERNAL_LINK_PART in [f.found for f in links], described(read.findings)
    assert all((f.severity, f.sheet, f.cell) == ("error", None, None) for f in links)
    assert {f.rule for f in read.findings} == {"external_link"}, described(read.findings)


def test_one_external_link_is_one_finding(generated: dict[str, Path], tmp_path: Path) -> None:
    """A link's relationship part (xl/externalLinks/_rels/...) is not a second link."""
    read = read_workbook(add_external_link(generated["en-US"], tmp_path / "linked.xlsx"))
    assert [(f.rule, f.found) for f in read.findings] == [("external_link", EXTERNAL_LINK_PART)]


def test_row_inserted_inside_inputs(generated: dict[str, Path], tmp_path: Path) -> None:
    layout = tamper_layout()
    key = "average_deal_baseline"
    row = layout.input_rows[key]

    def insert_row(book: openpyxl.Workbook) -> None:
        book[layout.inputs].insert_rows(row + 1)

    path = edit_with_openpyxl(generated["en-US"], tmp_path / "inserted.xlsx", insert_row)
    read = read_workbook(path)
    the_finding(read.findings, "rows_inserted", layout.inputs, a1(row, 0))
    # openpyxl drops cached values; that is the only other consequence.
    assert {f.rule for f in read.findings} <= {"rows_inserted", "not_recalculated"}, described(
        read.findings
    )
    model = load_model(TAMPER_TEMPLATE)
    for scenario in SCENARIOS:
        assert read.scenarios[scenario].inputs == default_inputs(model)[scenario]


def test_input_out_of_range(recalculated: Recalculated) -> None:
    layout = tamper_layout(months=SHORT_MONTHS)
    read = read_workbook(recalculated.tampers["out-of-range"])
    assert summary(read.findings) == [
        ("error", "input_out_of_range", layout.inputs, OUT_OF_RANGE.ref(layout)),
        ("error", "master_check", layout.checks, a1(layout.master_check_row, 1)),
    ], described(read.findings)
    assert read.scenarios[OUT_OF_RANGE.scenario].inputs[OUT_OF_RANGE.key] == OUT_OF_RANGE.value


def test_percent_typed_as_number(recalculated: Recalculated) -> None:
    layout = tamper_layout(months=SHORT_MONTHS)
    typed = PERCENT_AS_NUMBER
    read = read_workbook(recalculated.tampers["percent-as-number"])
    assert summary(read.findings) == [
        ("error", "percent_typed_as_number", layout.inputs, typed.ref(layout)),
        ("error", "master_check", layout.checks, a1(layout.master_check_row, 1)),
    ], described(read.findings)
    assert read.findings[0].expected == "0.37 (37 %)"
    assert read.scenarios[typed.scenario].inputs[typed.key] == typed.value


def test_text_in_a_number_input(recalculated: Recalculated) -> None:
    layout = tamper_layout(months=SHORT_MONTHS)
    read = read_workbook(recalculated.tampers["text-input"])
    the_finding(read.findings, "input_not_number", layout.inputs, TEXT_INPUT.ref(layout))
    assert read.findings[0].rule == "input_not_number", described(read.findings)
    # Consequences only: the spreadsheet's #VALUE! cells and the failing master check.
    assert {f.rule for f in read.findings} <= {"input_not_number", "error_value", "master_check"}
    assert read.scenarios[TEXT_INPUT.scenario].inputs[TEXT_INPUT.key] is None
    assert read.scenarios[TEXT_INPUT.scenario].outputs is None


def test_master_check_the_file_shows_is_reported_when_an_input_is_text(
    recalculated: Recalculated,
) -> None:
    """LibreOffice computed the master check at 1 (an input range check fails): say so.

    audit._master reports "the master check as the file shows it"; with an input that is
    not a number it must not fall back to a recomputation from the template's defaults.
    """
    layout = tamper_layout(months=SHORT_MONTHS)
    read = read_workbook(recalculated.tampers["text-input"])
    the_finding(read.findings, "master_check", layout.checks, a1(layout.master_check_row, 1))


def test_notes_sheet_and_side_columns_are_at_most_warnings(recalculated: Recalculated) -> None:
    layout = tamper_layout(months=SHORT_MONTHS)
    read = read_workbook(recalculated.tampers["notes"])
    assert errors_of(read.findings) == [], described(read.findings)
    the_finding(read.findings, "sheet_added", NOTES_SHEET, None)
    # The side formula's 1.1 may be pointed out (a warning) or left alone as the user's
    # own extension; nothing else may be said.
    side = a1(layout.input_rows["annual_leads"], SIDE_FORMULA_COL)
    others = [f for f in read.findings if f.rule != "sheet_added"]
    assert summary(others) in ([], [("warning", "hard_coded_number", layout.inputs, side)])
    model = load_model(TAMPER_TEMPLATE)
    assert_matches_engine(model, read, default_inputs(model))


def test_stale_cached_values(recalculated: Recalculated, tmp_path: Path) -> None:
    """An input changed inside the XML of a recalculated file: dependents keep old values."""
    layout = tamper_layout()
    source = recalculated.clean["en-US"]
    key = "annual_leads"
    ref = input_ref(layout, key, "realistic")
    edited = rewrite_package(
        source,
        tmp_path / "stale.xlsx",
        {sheet_part(source, layout.inputs): cached_number(ref, 2500.0)},
    )
    read = read_workbook(edited)
    assert read.scenarios["realistic"].inputs[key] == 2500.0
    assert errors_of(read.findings), "an input changed without recalculation went unnoticed"
    assert {f.rule for f in read.findings} == {"stale_value"}, described(read.findings)
    stale = {(f.sheet, f.cell) for f in read.findings}
    live = a1(layout.input_rows[key], LIVE_COL)
    assert (layout.inputs, live) in stale
    assert (layout.calculations, metric_ref(layout, "deals_current")) in stale
    untouched = ("prudent", "optimistic")
    assert not any(
        (layout.calculations, metric_ref(layout, "deals_current", s)) in stale for s in untouched
    )


def test_saved_by_openpyxl_is_not_recalculated(recalculated: Recalculated, tmp_path: Path) -> None:
    layout = tamper_layout()
    edit = set_inputs(layout, {"realistic": {"annual_leads": 2500.0}})
    path = edit_with_openpyxl(recalculated.clean["en-US"], tmp_path / "script.xlsx", edit)
    read = read_workbook(path)
    assert summary(read.findings) == [("error", "not_recalculated", None, None)], described(
        read.findings
    )
    assert read.scenarios["realistic"].inputs["annual_leads"] == 2500.0


# --------------------------------------------------------------- 4. the CLI


@pytest.mark.parametrize("locale", LOCALES)
def test_read_json_shape_and_file_untouched(
    generated: dict[str, Path], tmp_path: Path, locale: str
) -> None:
    path = shutil.copy(generated[locale], tmp_path / "model.xlsx")
    before = Path(path).read_bytes()
    result = runner.invoke(app, ["read", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {"template", "version", "selected_scenario", "scenarios", "actuals", "findings"} <= set(
        payload
    )
    model = load_model(TAMPER_TEMPLATE)
    assert payload["template"] == TAMPER_TEMPLATE
    assert payload["version"] == model.version
    assert payload["selected_scenario"] == "realistic"
    assert list(payload["scenarios"]) == list(SCENARIOS)
    for scenario, inputs in default_inputs(model).items():
        body = payload["scenarios"][scenario]
        assert {"inputs", "outputs"} <= set(body)
        assert body["inputs"] == inputs
        expected = {k: engine.as_displayed(v) for k, v in engine.compute(model, inputs).items()}
        assert body["outputs"] == expected
    assert list(payload["actuals"]) == tamper_layout(locale).month_sheets
    assert payload["findings"] == []
    assert Path(path).read_bytes() == before


def test_audit_exit_codes_and_file_untouched(generated: dict[str, Path], tmp_path: Path) -> None:
    clean = Path(shutil.copy(generated["en-US"], tmp_path / "clean.xlsx"))
    layout = tamper_layout()
    broken = rewrite_package(
        clean,
        tmp_path / "broken.xlsx",
        {
            sheet_part(clean, layout.calculations): constant_cell(
                metric_ref(layout, "deals_current"), 1.0
            )
        },
    )
    for path, code in ((clean, 0), (broken, 1)):
        before = path.read_bytes()
        result = runner.invoke(app, ["audit", str(path)])
        assert result.exit_code == code, result.output
        assert path.read_bytes() == before
    result = runner.invoke(app, ["audit", str(broken), "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["clean"] is False
    assert [(f["rule"], f["sheet"], f["cell"]) for f in payload["findings"]] == [
        ("formula_overwritten", layout.calculations, metric_ref(layout, "deals_current"))
    ]
