"""The HTML report: every section, the figures of `roi-xl read`, self-contained, both languages.

Workbooks are generated (with three months of actuals) and read back, or edited the way a
person edits them, and the report of each is checked figure by figure against
`WorkbookRead.to_dict()`: each output carries its value in a data attribute, and the text a
reader sees is parsed back and compared within the precision it shows. Chromium renders it
to a PNG and a PDF; without Chromium those tests skip, except under CI=true where they fail.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
import subprocess
from html import escape, unescape
from pathlib import Path

import openpyxl
import pytest

from roi_xl.demo import sample_actuals
from roi_xl.inspect.reader import WorkbookRead, read_workbook
from roi_xl.locale import LOCALES, load_locale
from roi_xl.model import engine, template
from roi_xl.model.functions import PAYBACK_NEVER
from roi_xl.model.template import SCENARIOS
from roi_xl.report.facts import build_facts
from roi_xl.report.page import render_report
from roi_xl.report.pdf import render_pdf
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.layout import SCENARIO_COLS, SELECTOR_ROW, VALUE_COL, build_layout

TEMPLATES = tuple(template.builtin_names())
START = dt.date(2026, 1, 1)
MONTHS = 6
AS_OF = dt.date(2026, 4, 2)
SECTIONS = (
    "summary",
    "business-case",
    "current-state",
    "impact",
    "returns",
    "decide",
    "measurement",
    "assumptions",
    "audit",
)
OUTPUT = re.compile(
    r'<span(?: class="neg")? data-key="outputs\.(\w+)\.(\w+)" data-value="([^"]*)">([^<]*)</span>'
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    folder = tmp_path_factory.mktemp("report")
    paths = {}
    for name in TEMPLATES:
        model = template.load(name)
        for locale in LOCALES:
            options = WorkbookOptions(
                locale=locale, start=START, months=MONTHS, actuals=sample_actuals(name)
            )
            paths[name, locale] = write_workbook(model, folder / f"{name}-{locale}.xlsx", options)
    return paths


@pytest.fixture(scope="module")
def reads(generated: dict[tuple[str, str], Path]) -> dict[tuple[str, str], WorkbookRead]:
    return {key: read_workbook(path) for key, path in generated.items()}


def edit(source: Path, target: Path, locale: str, changes: dict, selector: str | None) -> Path:
    """Type over input cells (scenario -> key -> value) and the selector, with openpyxl."""
    model = template.load("phone-system")
    layout = build_layout(model, load_locale(locale), START, MONTHS)
    book = openpyxl.load_workbook(source)
    sheet = book[layout.inputs]
    for scenario, values in changes.items():
        for key, value in values.items():
            row = layout.input_rows[key] + 1
            sheet.cell(row=row, column=SCENARIO_COLS[scenario] + 1).value = value
    if selector:
        sheet.cell(row=SELECTOR_ROW + 1, column=VALUE_COL + 1).value = selector
    book.save(target)
    return target


def shown_number(text: str, locale: str) -> tuple[float, float]:
    """A number as the report shows it, and half a unit of its last digit (its precision)."""
    text = unescape(text).replace("−", "-").replace("\u202f", "").replace("\u00a0", "")
    text = re.sub(r"[^\d,.\-]", "", text)
    text = text.replace(",", "." if locale == "fr-FR" else "")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text), 0.5 * 10**-decimals


def assert_outputs_match(html: str, read: WorkbookRead, locale: str) -> set[tuple[str, str]]:
    """Every output in the report equals `roi-xl read --json`; returns those found."""
    expected = read.to_dict()["scenarios"]
    model = template.load(read.template)
    found = set()
    for scenario, key, value, text in OUTPUT.findall(html):
        found.add((scenario, key))
        if expected[scenario]["outputs"] is None:  # an input of that scenario is not a number
            assert value == "" and text == "–"
            continue
        want = expected[scenario]["outputs"][key]
        if isinstance(want, str):  # an Excel error such as #DIV/0!
            assert value == want and unescape(text) == want
            continue
        assert float(value) == want, (scenario, key)
        if model.metric(key).kind == "months" and want == PAYBACK_NEVER:  # shown in words
            assert unescape(text) == load_locale(locale).unit("never"), (scenario, key, text)
            continue
        number, precision = shown_number(text, locale)
        scale = 100 if model.metric(key).kind == "percent" else 1
        assert abs(number - want * scale) <= precision * 1.0001 + 1e-9, (scenario, key, text)
    return found


BREAK_EVEN = re.compile(r'data-key="break_even\.(\w+)" data-value="([^"]*)"')


def assert_break_evens_match(html: str, read: WorkbookRead) -> None:
    """Each break-even the report gives is the one `roi-xl read --json` gives."""
    expected = {item["driver"]: item["value"] for item in read.to_dict()["break_even"]}
    shown = dict(BREAK_EVEN.findall(html))
    assert expected, "the workbook has no break-even to report"
    assert set(shown) == {driver for driver, value in expected.items() if value is not None}
    for driver, value in shown.items():
        assert float(value) == expected[driver], driver


def visible_text(html: str) -> str:
    """The words a reader sees, tags removed, runs of spaces collapsed (no-break spaces kept)."""
    return re.sub(r"[ \n\t]+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def assert_self_contained(html: str) -> None:
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"<(?:script|link|img|iframe|object)\b", html, re.I)
    assert "url(" not in html and "@import" not in html


# ------------------------------------------------------------------ generated workbooks


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", TEMPLATES)
def test_the_report_of_a_generated_workbook(
    reads: dict[tuple[str, str], WorkbookRead], name: str, locale: str
) -> None:
    read = reads[name, locale]
    assert not read.has_errors
    html = render_report(read, locale, seed=1, as_of=AS_OF)
    for section in SECTIONS:
        assert f'<section id="{section}">' in html
    assert html.count("<svg ") >= 5  # funnel, actual vs plan, scenarios, tornado, risk
    assert_self_contained(html)
    found = assert_outputs_match(html, read, locale)
    assert_break_evens_match(html, read)
    model = template.load(name)
    headline = {(s, key) for s in SCENARIOS for key in model.headline}
    assert headline <= found
    language = load_locale(locale).language
    assert f'<html lang="{language}">' in html
    assert model.title[language] in html
    for item in model.inputs:  # every assumption with its source
        assert item.label[language].replace("'", "&#x27;") in html
    if language == "fr":
        assert "ROI net" in html and "Multiple de retour" in html and "€" in html
        assert "02/04/2026" in html
    else:
        assert "Net ROI" in html and "Return multiple" in html and "$" in html
        assert "04/02/2026" in html


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_report_leads_with_the_business_case(
    reads: dict[tuple[str, str], WorkbookRead], name: str
) -> None:
    """NPV, ROI over the horizon (risk-adjusted beside), payback month and IRR come first,
    as the engine computes them from the workbook's inputs; the two charts are drawn."""
    read = reads[name, "en-US"]
    html = render_report(read, "en-US", seed=1, as_of=AS_OF)
    facts = build_facts(read, "en-US", seed=1)
    scenario = read.scenarios[facts.base]
    result = engine.ScenarioResult(
        {k: float(v) for k, v in scenario.inputs.items() if v is not None}, scenario.outputs or {}
    )
    outputs = engine.scenario_payload(facts.model, result)["outputs"]
    summary = html[
        html.index('<section id="summary">') : html.index('<section id="business-case">')
    ]
    assert summary.index("NPV over the horizon") < summary.index("Net ROI")
    for key, kind in (("npv", "currency"), ("npv_risk_adjusted", "currency"), ("irr", "percent")):
        value = outputs[key]
        if value is not None:
            assert escape(facts.numbers.format(value, kind)) in summary, key
    # A yearly IRR past 1,000 % (payback within months) is named as such, its value beneath.
    irr = outputs["irr"]
    assert ("above 1,000%" in summary) == (irr is not None and irr > 10)
    case = html[html.index('<section id="business-case">') :]
    case = case[: case.index("</section>")]
    assert case.count("<svg ") == 2
    assert "Risk-adjusted (Forrester TEI)" in case and "Unadjusted" in case


def test_the_report_shows_the_current_state_impact_and_plan_of_the_phone_system(
    reads: dict[tuple[str, str], WorkbookRead],
) -> None:
    read = reads["phone-system", "en-US"]
    html = render_report(read, "en-US", as_of=AS_OF)
    text = visible_text(html)
    for kpi in ("Answer rate", "Abandonment rate", "Speed to answer", "First contact resolution"):
        assert kpi in text
    assert "61.0%" in text and "80.0%" in text and "+19.0 pts" in text
    assert "4.41%" in text and "17.11 s" in text  # inputs shown as typed
    assert "Missed-call loss before (lost revenue)" in text
    assert "3 of 6 month(s) marked complete" in text
    assert "Weekly (operations)" in text and "Monthly (ROI)" in text
    assert "Clean: the workbook is as the model expects" in text
    # Break-even of the answer rate, also as recovered calls (48 a month instead of 171:
    # 3,400 / (0.3 x 0.37 x 850) callers no longer lost, a quarter being recovered anyway).
    assert "Net ROI = 0 at" in text and "66.3%" in text
    assert re.search(
        r"Calls recovered \(missed before, answered now\): 48 \(Base value: 171 ?\)", text
    )


def test_the_phoning_report_shows_the_funnel_and_the_cost_per_meeting_at_break_even(
    reads: dict[tuple[str, str], WorkbookRead],
) -> None:
    html = render_report(reads["phoning-b2b", "fr-FR"], "fr-FR", as_of=AS_OF)
    text = visible_text(html)
    for stage in ("Appels sortants passés", "Conversations utiles", "Rendez-vous posés"):
        assert stage in text
    assert "Coût par rendez-vous (opportunité qualifiée)\u202f: 450\u202f€" in text
    assert "10,0\u202f%" in text  # the win rate at break-even


def test_the_same_seed_gives_the_same_report(reads: dict[tuple[str, str], WorkbookRead]) -> None:
    read = reads["crm", "en-US"]
    first = render_report(read, "en-US", seed=4, as_of=AS_OF)
    assert first == render_report(read, "en-US", seed=4, as_of=AS_OF)
    assert first != render_report(read, "en-US", seed=5, as_of=AS_OF)


def test_numbers_are_written_the_way_each_locale_reads_them(
    reads: dict[tuple[str, str], WorkbookRead],
) -> None:
    en = build_facts(reads["crm", "en-US"], "en-US").numbers
    fr = build_facts(reads["crm", "fr-FR"], "fr-FR").numbers
    assert en.format(1234567.4, "currency") == "$1,234,567"
    assert fr.format(1234567.4, "currency") == "1\u202f234\u202f567\u202f€"
    assert en.format(-3000.0, "currency") == "−$3,000"
    assert fr.format(6.5, "currency") == "6,50\u202f€"
    assert en.format(3.1834625, "percent") == "318.3%"
    assert fr.format(3.1834625, "percent") == "318,3\u202f%"
    assert en.format(0.0441, "percent", style="exact") == "4.41%"
    assert en.format(0.19, "percent", "pts", signed=True) == "+19.0 pts"
    assert en.format(4.1834625, "multiple") == "4.18x"
    assert fr.format(0.785, "months") == "0,8\u00a0mois".replace("\u00a0", " ")
    assert en.format(18.981, "count") == "19"
    # counts are whole from ten up; a tenth is kept below ten (0.8 deals is not 1 deal)
    assert en.format(79.92, "count") == "80"
    assert en.format(14.2, "count") == "14"
    assert en.format(0.84, "count") == "0.8"
    assert en.format(8.0, "count") == "8"
    assert fr.format(1234.4, "count") == "1\u202f234"
    assert en.format(None, "count") == "–"


# ------------------------------------------------------------------ edited workbooks


def test_the_report_of_an_edited_workbook(
    generated: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    source = generated["phone-system", "fr-FR"]
    path = edit(
        source,
        tmp_path / "edited.xlsx",
        "fr-FR",
        {"realistic": {"answer_rate_after": 0.7}, "prudent": {"incremental_phone_cost": 2600}},
        selector="Prudent",
    )
    read = read_workbook(path)
    assert read.selected_scenario == "prudent"
    assert read.scenarios["realistic"].inputs["answer_rate_after"] == 0.7
    assert read.has_errors  # saved by openpyxl: cached values no longer match the inputs
    html = render_report(read, "fr-FR", as_of=AS_OF)
    for section in SECTIONS:
        assert f'<section id="{section}">' in html
    assert_self_contained(html)
    found = assert_outputs_match(html, read, "fr-FR")
    assert {(s, "phone_roi") for s in SCENARIOS} <= found
    assert_break_evens_match(html, read)
    text = visible_text(html)
    assert "Modifiée dans le classeur" in text  # the edited assumptions are marked
    assert "70,0\u202f%" in text and "2\u202f600\u202f€" in text
    assert "Prudent (sélectionné dans le classeur)" in text
    errors = sum(f.severity == "error" for f in read.findings)
    assert f"{errors} erreur(s)" in text
    assert read.findings[0].rule in text
    # The decision figures start from the selected (prudent) scenario as edited.
    facts = build_facts(read, "fr-FR")
    assert facts.base == "prudent"
    assert (
        facts.tornado is not None
        and facts.tornado.base == read.scenarios["prudent"].outputs["phone_roi"]
    )


def test_the_report_of_a_workbook_with_an_input_that_is_not_a_number(
    generated: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    source = generated["phone-system", "en-US"]
    path = edit(source, tmp_path / "text.xlsx", "en-US", {"prudent": {"lead_rate": "n/a"}}, None)
    read = read_workbook(path)
    assert read.scenarios["prudent"].outputs is None
    html = render_report(read, "en-US", as_of=AS_OF)
    for section in SECTIONS:
        assert f'<section id="{section}">' in html
    assert "Not computable: some inputs of the workbook are not valid numbers" in html
    assert "input_not_number" in html
    assert_outputs_match(html, read, "en-US")


# ------------------------------------------------------------------ Chromium


@pytest.mark.parametrize("locale", LOCALES)
def test_chromium_renders_the_report_to_a_png(
    chromium: str, reads: dict[tuple[str, str], WorkbookRead], tmp_path: Path, locale: str
) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_report(reads["phone-system", locale], locale), encoding="utf-8")
    png = tmp_path / "report.png"
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={png}",
        "--window-size=1240,1754",
        page.as_uri(),
    ]
    subprocess.run(command, capture_output=True, timeout=120, check=True)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1240, 1754)
    assert len(data) > 50_000  # a page of text and charts, not a blank one


def test_render_pdf_prints_a_pdf(
    chromium: str, reads: dict[tuple[str, str], WorkbookRead], tmp_path: Path
) -> None:
    html = render_report(reads["crm", "en-US"], "en-US")
    pdf = render_pdf(html, tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 2
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"], "a partial file was left"


def test_an_existing_pdf_is_not_replaced_unasked(
    generated: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from roi_xl.cli import app

    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    pdf.write_bytes(b"the user's own PDF")
    args = ["report", str(generated["crm", "en-US"]), "-o", str(html), "--pdf"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "r.pdf already exists; use --force" in " ".join(result.output.split())
    assert pdf.read_bytes() == b"the user's own PDF" and not html.exists()
