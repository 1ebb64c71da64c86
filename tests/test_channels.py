"""Phoning against the other acquisition channels: template, engine, Channels sheet, report.

The phoning template compares the in-house campaign with outbound e-mailing, paid ads,
events and outsourced phoning on one basis (same month, same gross margin rate). These tests
check that a template's ``[[channels]]`` are validated like the rest of it, that every channel
figure equals a hand calculation, that the Channels sheet links each figure to the live
scenario and recalculates in LibreOffice to the values it carries, and that the report shows
the figures of `roi-xl read`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from html import unescape
from pathlib import Path, PurePosixPath

import defusedxml.ElementTree as DET
import openpyxl
import pytest

from roi_xl.errors import TemplateError
from roi_xl.inspect.audit import hard_coded_numbers
from roi_xl.inspect.reader import WorkbookRead, read_workbook
from roi_xl.inspect.recalc import recalculate
from roi_xl.locale import LOCALES, load_locale
from roi_xl.model import engine, template
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.template import CHANNEL_FIGURES, SCENARIOS
from roi_xl.report.facts import build_facts
from roi_xl.report.page import render_report
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.channels_sheet import COLUMNS, FIRST_COL, HEADER_ROW, KEY_COL, NET_GAIN
from roi_xl.workbook.layout import LIVE_COL, SCENARIO_COLS, build_layout

PHONING = "phoning-b2b"
CHANNELS = ("phoning", "emailing", "paid_ads", "events", "outsourced_phoning")
START = dt.date(2026, 1, 1)
MONTHS = 3
AS_OF = dt.date(2026, 4, 2)
TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "templates" / f"{PHONING}.toml"
NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
}

# The realistic scenario, by hand: the article's worked example for the in-house campaign
# (12,000 EUR, 80 meetings, 15 deals, 40 % margin on 6,000 EUR deals), and the template's
# documented assumptions for the other channels, at the same 40 % gross margin rate.
REALISTIC: dict[str, dict[str, float]] = {
    "phoning": {
        "cost": 8000 + 1000 + 1500 + 1500 + 0,
        "opportunities": 8000 * 0.04 * 0.25,
        "deals": 8000 * 0.04 * 0.25 * 0.625 * 0.3,
        "margin": 15 * 6000 * 0.4,
        "cost_per_opportunity": 12000 / 80,
        "cac": 12000 / 15,
        "roi": (36000 - 12000) / 12000,
    },
    "emailing": {
        "cost": 3000,
        "opportunities": 12,
        "deals": 12 * 0.15,
        "margin": 12 * 0.15 * 6000 * 0.4,
        "cost_per_opportunity": 3000 / 12,
        "cac": 3000 / 1.8,
        "roi": (4320 - 3000) / 3000,
    },
    "paid_ads": {
        "cost": 6000,
        "opportunities": 20,
        "deals": 20 * 0.15,
        "margin": 3 * 5000 * 0.4,
        "cost_per_opportunity": 6000 / 20,
        "cac": 6000 / 3,
        "roi": (6000 - 6000) / 6000,
    },
    "events": {
        "cost": 15000,
        "opportunities": 40,
        "deals": 40 * 0.2,
        "margin": 8 * 7500 * 0.4,
        "cost_per_opportunity": 15000 / 40,
        "cac": 15000 / 8,
        "roi": (24000 - 15000) / 15000,
    },
    "outsourced_phoning": {
        "cost": 9000,
        "opportunities": 50,
        "deals": 50 * 0.15,
        "margin": 7.5 * 6000 * 0.4,
        "cost_per_opportunity": 9000 / 50,
        "cac": 9000 / 7.5,
        "roi": (18000 - 9000) / 9000,
    },
}


def channel_values(model: template.Template, scenario: str) -> dict[str, dict[str, object]]:
    """Each channel's figures as the engine computes them for a scenario's defaults."""
    inputs = engine.scenario_inputs(model, scenario)
    values = {**inputs, **engine.compute(model, inputs)}
    return {c.key: {f: values[c.figures[f]] for f in CHANNEL_FIGURES} for c in model.channels}


def same(expected: object, found: object) -> bool:
    if isinstance(expected, ExcelError):
        return found == expected.text
    if isinstance(expected, (int, float)) and isinstance(found, (int, float)):
        return math.isclose(expected, found, rel_tol=1e-9, abs_tol=1e-9)
    return expected == found


# ------------------------------------------------------------------ template


def test_the_phoning_template_compares_five_channels() -> None:
    model = template.load(PHONING)
    assert model.version == "1.2.0"
    assert tuple(c.key for c in model.channels) == CHANNELS
    phoning = model.channels[0]
    assert phoning.figures == {
        "cost": "total_cost",
        "opportunities": "meetings",
        "deals": "deals_won",
        "margin": "gross_margin",
        "cost_per_opportunity": "cost_per_meeting",
        "cac": "cac",
        "roi": "roi",
    }
    assert phoning.label.en == "In-house phoning" and phoning.label.fr == "Phoning interne"
    for channel in model.channels[1:]:
        key = channel.key
        for suffix, kind in (
            ("cost", "currency"),
            ("opportunities", "count"),
            ("win_rate", "percent"),
            ("deal_value", "currency"),
        ):
            item = model.input(f"{key}_{suffix}")
            assert item.kind == kind and item.section == "channels"
            assert all("replace" in item.notes[s] for s in SCENARIOS), item.key
        assert channel.figures["margin"] == f"{key}_margin"
        assert "gross_margin_rate" in model.metric(f"{key}_margin").formula
    for code in LOCALES:
        assert load_locale(code).section("channels") != "Channels"  # a real title


def test_templates_without_channels_have_no_channels_sheet() -> None:
    for name in ("crm", "phone-system"):
        model = template.load(name)
        assert model.channels == ()
        assert build_layout(model, load_locale("en-US"), START, MONTHS).channels is None


def test_the_worked_example_is_unchanged() -> None:
    model = template.load(PHONING)
    out = engine.compute(model, engine.scenario_inputs(model, "realistic"))
    assert (out["total_cost"], out["meetings"], out["deals_won"]) == (12000, 80, 15)
    assert (out["cost_per_meeting"], out["cac"], out["gross_margin"]) == (150, 800, 36000)
    assert out["roi"] == 2.0 and out["return_multiple"] == 3.0


@pytest.mark.parametrize("key", CHANNELS)
def test_each_channel_figure_matches_a_hand_calculation(key: str) -> None:
    found = channel_values(template.load(PHONING), "realistic")[key]
    for figure, value in REALISTIC[key].items():
        assert found[figure] == pytest.approx(value, rel=1e-12, abs=1e-9), (key, figure)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_gives_every_channel_a_number(scenario: str) -> None:
    for key, figures in channel_values(template.load(PHONING), scenario).items():
        for figure, value in figures.items():
            assert isinstance(value, float) and math.isfinite(value), (scenario, key, figure)


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    source = TEMPLATE_PATH.read_text(encoding="utf-8")
    assert source.count(old) == 1, old
    text = source.replace(old, new, 1)
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path, text


def line_of(text: str, needle: str, start: int = 0) -> int:
    """1-based line of the first line holding ``needle`` from line ``start`` (0-based)."""
    lines = text.splitlines()
    return next(n for n in range(start, len(lines)) if needle in lines[n]) + 1


def test_an_unknown_metric_name_is_refused_with_its_line(tmp_path: Path) -> None:
    path, text = broken(tmp_path, 'cac = "emailing_cac"', 'cac = "emailing_cost_per_deal"')
    with pytest.raises(TemplateError) as caught:
        template.load(str(path))
    message = str(caught.value)
    line = line_of(text, 'cac = "emailing_cost_per_deal"')
    assert f"{path}, line {line}: channel 'emailing': cac = 'emailing_cost_per_deal' is not" in (
        message
    )
    assert "a known input or metric" in message


def test_an_unknown_channel_field_is_refused_with_its_line(tmp_path: Path) -> None:
    path, text = broken(tmp_path, 'roi = "events_roi"', 'roi = "events_roi"\ncolour = "red"')
    with pytest.raises(TemplateError) as caught:
        template.load(str(path))
    line = line_of(text, "colour = ")
    assert f"{path}, line {line}: [[channels]]: unknown field 'colour'" in str(caught.value)


def test_a_channel_key_used_twice_is_refused_with_its_line(tmp_path: Path) -> None:
    path, text = broken(tmp_path, 'key = "paid_ads"', 'key = "emailing"')
    with pytest.raises(TemplateError) as caught:
        template.load(str(path))
    line = line_of(text, 'key = "emailing"')  # the first of the two
    assert f"{path}, line {line}: the channel key 'emailing' is used twice" in str(caught.value)


def test_a_channel_missing_a_figure_is_refused(tmp_path: Path) -> None:
    path, _ = broken(tmp_path, 'cost_per_opportunity = "events_cost_per_opportunity"\n', "")
    with pytest.raises(TemplateError, match="missing field 'cost_per_opportunity'") as caught:
        template.load(str(path))
    assert str(path) in str(caught.value)


# ------------------------------------------------------------------ the Channels sheet


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Phoning workbooks per locale and selected scenario (realistic, and prudent in French)."""
    folder = tmp_path_factory.mktemp("channels")
    model = template.load(PHONING)
    paths = {}
    for code, scenario in (("en-US", "realistic"), ("fr-FR", "prudent"), ("en-US", "optimistic")):
        options = WorkbookOptions(locale=code, start=START, months=MONTHS, scenario=scenario)
        paths[code, scenario] = write_workbook(model, folder / f"{code}-{scenario}.xlsx", options)
    return paths


def channel_rows(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, int]:
    """Channel key -> 1-based row, found by the key column."""
    return {
        ws.cell(row, KEY_COL + 1).value: row
        for row in range(HEADER_ROW + 2, ws.max_row + 1)
        if ws.cell(row, KEY_COL + 1).value
    }


def chart_parts(path: Path, sheet: str) -> list[str]:
    """The chart XML of every chart drawn on ``sheet``."""
    with zipfile.ZipFile(path) as package:

        def rels(part: str) -> dict[str, str]:
            where = PurePosixPath(part)
            name = str(where.parent / "_rels" / (where.name + ".rels"))
            if name not in package.namelist():
                return {}
            root = DET.fromstring(package.read(name))
            return {
                r.get("Id"): str(PurePosixPath(where.parent, r.get("Target")))
                for r in root.findall("p:Relationship", NS)
            }

        book = DET.fromstring(package.read("xl/workbook.xml"))
        targets = rels("xl/workbook.xml")
        part = next(
            targets[s.get(f"{{{NS['r']}}}id")]
            for s in book.findall("m:sheets/m:sheet", NS)
            if s.get("name") == sheet
        )
        charts = []
        for drawing in rels(part).values():
            for target in rels(_normal(drawing)).values():
                if "/charts/" in target:
                    charts.append(package.read(_normal(target)).decode("utf-8"))
        return charts


def _normal(path: str) -> str:
    parts: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            parts.pop()
        else:
            parts.append(piece)
    return "/".join(parts)


@pytest.mark.parametrize(
    ("code", "scenario"), [("en-US", "realistic"), ("fr-FR", "prudent"), ("en-US", "optimistic")]
)
def test_the_channels_sheet_links_every_figure_to_the_live_scenario(
    workbooks: dict[tuple[str, str], Path], code: str, scenario: str
) -> None:
    path = workbooks[code, scenario]
    model = template.load(PHONING)
    locale = load_locale(code)
    layout = build_layout(model, locale, START, MONTHS)
    refs = layout.live_refs()
    book = openpyxl.load_workbook(path)
    cached = openpyxl.load_workbook(path, data_only=True)
    name = locale.sheets["channels"]
    order = book.sheetnames
    assert order.index(name) == order.index(locale.sheets["sensitivity"]) + 1
    assert order.index(locale.sheets["checks"]) == order.index(name) + 1
    ws, values = book[name], cached[name]
    assert ws.protection.sheet
    rows = channel_rows(ws)
    assert list(rows) == list(CHANNELS)
    expected = channel_values(model, scenario)
    live = f"${openpyxl.utils.get_column_letter(LIVE_COL + 1)}$"
    for channel in model.channels:
        row = rows[channel.key]
        assert ws.cell(row, 1).value == channel.label[locale.language]
        for offset, column in enumerate(COLUMNS):
            cell = ws.cell(row, FIRST_COL + offset + 1)
            formula = cell.value
            assert isinstance(formula, str) and formula.startswith("="), (channel.key, column)
            assert cell.protection.locked
            assert not hard_coded_numbers(formula), formula
            if column == NET_GAIN:
                margin, cost = channel.figures["margin"], channel.figures["cost"]
                assert formula == f"={refs[margin]}-{refs[cost]}"
                want = expected[channel.key]["margin"] - expected[channel.key]["cost"]
            else:
                assert formula == "=" + refs[channel.figures[column]]
                want = expected[channel.key][column]
            assert live in formula, formula  # the Live column of Inputs or Calculations
            found = values.cell(row, FIRST_COL + offset + 1).value
            assert same(want, found), (channel.key, column, want, found)
    charts = chart_parts(path, name)
    assert len(charts) == 2
    directions = sorted(re.findall(r'<c:barDir val="(\w+)"/>', "".join(charts)))
    assert directions == ["bar", "col"]  # ROI as columns, unit costs as clustered bars
    roi_chart = next(c for c in charts if 'barDir val="col"' in c)
    costs_chart = next(c for c in charts if 'barDir val="bar"' in c)
    assert roi_chart.count("<c:ser>") == 1 and costs_chart.count("<c:ser>") == 2
    assert 'c:grouping val="clustered"' in costs_chart


def test_a_generated_workbook_reads_back_clean(workbooks: dict[tuple[str, str], Path]) -> None:
    read = read_workbook(workbooks["fr-FR", "prudent"])
    assert read.findings == [], [f.rule for f in read.findings]


def set_input(source: Path, target: Path, key: str, value: float) -> Path:
    """Type over an input's realistic value in an en-US workbook, with openpyxl."""
    layout = build_layout(template.load(PHONING), load_locale("en-US"), START, MONTHS)
    book = openpyxl.load_workbook(source)
    sheet = book[layout.inputs]
    sheet.cell(layout.input_rows[key] + 1, SCENARIO_COLS["realistic"] + 1).value = value
    book.save(target)
    return target


def test_libreoffice_recalculates_the_channels_sheet_to_its_cached_values(
    soffice: str, workbooks: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    model = template.load(PHONING)
    sources = list(workbooks.values())
    edited = set_input(
        workbooks["en-US", "realistic"], tmp_path / "edited.xlsx", "emailing_cost", 4000
    )
    outputs = recalculate([*sources, edited], tmp_path / "out")
    for (code, _), source, output in zip(workbooks, sources, outputs[:-1], strict=True):
        name = load_locale(code).sheets["channels"]
        before = openpyxl.load_workbook(source, data_only=True)[name]
        after = openpyxl.load_workbook(output, data_only=True)[name]
        formulas = openpyxl.load_workbook(source)[name]
        checked = 0
        for row in formulas.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    was, now = before[cell.coordinate].value, after[cell.coordinate].value
                    assert same(was, now), (source.name, cell.coordinate, cell.value, was, now)
                    assert not (isinstance(now, str) and now.startswith("#")), cell.coordinate
                    checked += 1
        assert checked == 1 + len(model.channels) * len(COLUMNS)
    # An input typed over moves the channel's row as the engine predicts.
    sheet = openpyxl.load_workbook(outputs[-1], data_only=True)["Channels"]
    row = channel_rows(sheet)["emailing"]
    shown = {c: sheet.cell(row, FIRST_COL + i + 1).value for i, c in enumerate(COLUMNS)}
    expected = {
        "cost": 4000,
        "opportunities": 12,
        "deals": 12 * 0.15,
        "margin": 12 * 0.15 * 6000 * 0.4,
        NET_GAIN: 4320 - 4000,
        "cost_per_opportunity": 4000 / 12,
        "cac": 4000 / 1.8,
        "roi": (4320 - 4000) / 4000,
    }
    for column, value in expected.items():
        assert same(value, shown[column]), (column, value, shown[column])


# ------------------------------------------------------------------ the report


@pytest.fixture(scope="module")
def reads(workbooks: dict[tuple[str, str], Path]) -> dict[tuple[str, str], WorkbookRead]:
    return {key: read_workbook(path) for key, path in workbooks.items()}


def section(html: str, anchor: str) -> str:
    found = re.search(rf'<section id="{anchor}">.*?</section>', html, re.S)
    assert found, anchor
    return found.group(0)


def visible(html: str) -> str:
    return re.sub(r"[ \n\t]+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.parametrize(
    ("code", "scenario"), [("en-US", "realistic"), ("fr-FR", "prudent"), ("en-US", "optimistic")]
)
def test_the_report_compares_the_channels_with_the_figures_of_read(
    reads: dict[tuple[str, str], WorkbookRead], code: str, scenario: str
) -> None:
    read = reads[code, scenario]
    html = render_report(read, code, seed=1, as_of=AS_OF)
    part = section(html, "channels")
    facts = build_facts(read, code)
    model, numbers = facts.model, facts.numbers
    data = read.to_dict()["scenarios"][scenario]
    rows = re.findall(r"<tr>(.*?)</tr>", part.split("<tbody>")[1], re.S)
    assert len(rows) == len(model.channels)
    for channel, row in zip(model.channels, rows, strict=True):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        assert visible(cells[0]).strip() == channel.label[facts.lang]
        figures = ("cost", "opportunities", "cost_per_opportunity", "deals", "cac", "margin", "roi")
        for figure, shown in zip(figures, cells[1:], strict=True):
            key = channel.figures[figure]
            if key in model.input_keys:
                value = data["inputs"][key]
                text = numbers.format(value, model.input(key).kind, style="exact")
            else:
                value = data["outputs"][key]
                marked = re.search(r'data-key="outputs\.(\w+)\.(\w+)" data-value="([^"]*)"', shown)
                assert marked and marked.groups()[:2] == (scenario, key), shown
                assert float(marked.group(3)) == value
                text = numbers.format(value, model.metric(key).kind)
            assert visible(shown).strip() == text, (channel.key, figure)
    assert part.count("<svg ") == 1
    for channel in model.channels:
        assert channel.label[facts.lang] in unescape(part)
    titles = re.findall(r"<h2>(\d+)\. ", html)
    assert titles == [str(n) for n in range(1, len(titles) + 1)]  # numbered in order


def test_the_report_names_the_leading_channels(reads: dict[tuple[str, str], WorkbookRead]) -> None:
    text = visible(
        section(render_report(reads["en-US", "realistic"], "en-US", as_of=AS_OF), "channels")
    )
    assert "5. Channel comparison" in text
    for shown in ("$12,000", "$150", "$800", "$36,000", "200.0%"):  # the worked example
        assert shown in text
    for shown in ("$3,000", "$250", "$1,667", "$4,320", "44.0%", "$180", "$1,200", "100.0%"):
        assert shown in text
    assert (
        "In-house phoning has the highest net ROI (200.0%), the lowest CAC ($800) and the lowest "
        "cost per opportunity ($150)."
    ) in text
    prudent = visible(
        section(render_report(reads["fr-FR", "prudent"], "fr-FR", as_of=AS_OF), "channels")
    )
    assert "5. Comparaison des canaux d'acquisition" in prudent
    assert (
        "Phoning externalisé (plateforme) a le ROI net le plus élevé (−2,8\u202f%), le CAC le plus "
        "bas (1\u202f800\u202f€) et le coût par opportunité le plus bas (180\u202f€)."
    ) in prudent


def test_a_report_without_channels_keeps_its_numbering(tmp_path: Path) -> None:
    options = WorkbookOptions(start=START, months=MONTHS)
    path = write_workbook(template.load("crm"), tmp_path / "crm.xlsx", options)
    html = render_report(read_workbook(path), "en-US", as_of=AS_OF)
    assert '<section id="channels">' not in html
    assert "<h2>5. Sensitivity, break-even and risk</h2>" in html
    assert "<h2>8. Workbook audit</h2>" in html
