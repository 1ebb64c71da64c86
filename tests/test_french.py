"""The French workbook and report are French: no text left in English, French spacing.

Every string a French reader can see (cells, validation titles and messages,
chart titles, quoted texts in formulas; the report's visible text) is
compared with the English edition of the same template: a phrase found in
both is an English text the French edition forgot to translate, unless it is
a formula over input names or a name that reads the same in both languages.
"""

from __future__ import annotations

import re
import tomllib
import zipfile
from html import unescape
from pathlib import Path

import pytest

from roi_xl.demo import sample_actuals
from roi_xl.inspect.reader import read_workbook
from roi_xl.locale import load_locale
from roi_xl.model import template
from roi_xl.report.page import render_report
from roi_xl.typography import NNBSP
from roi_xl.workbook.monthly_sheets import titled
from roi_xl.workbook.writer import WorkbookOptions, write_workbook

KEYS = [model.key for model in template.load_all()]
# Identical in both editions by design: names, acronyms, the workbook's own identifiers.
SAME_IN_BOTH = {"Net Promoter Score (NPS)…", "ROI (net)", "-100 points – 100 points", "LTV / CAC"}
_PHRASE = re.compile(r"[A-Za-z]{3,}\W+[A-Za-z]{3,}")
_FORMULA = re.compile(r"[\w\s*+\-/().,:]+")  # input and metric names joined by operators
_TITLE_OF_A_SOURCE = re.compile(r"^(Measuring Phone|How to Measure|Phoning B2B)")

# -- the word-level scan
# What is not prose: identifiers (keys, formulas over them, Excel functions, cell and sheet
# references), file names, the roi-xl commands, and the English titles of cited sources.
_NOT_PROSE = re.compile(
    r"\b\w*_\w*\b|\b[A-Z][A-Z0-9]+\(|\S+\.xlsx|\b(?:input|month|funnel):\w+"
    r"|\$?\b[A-Z]{1,3}\$?\d+\b|'[^']*'!|roi-xl \w+|\b[a-z]+(?:-[a-z0-9]+)+ \d+\.\d+\.\d+"
    r"|How to Measure CRM ROI with Key KPIs|Measuring Phone System ROI for Your Business"
    r"|Call Conversion Industry Benchmarks Report|Net Promoter Score"
    r"|Indirect Benefits\W+The Invisible ROI Drivers|Total Economic Impact|CRM Experts Online"
)
_WORD = re.compile(r"[A-Za-zÀ-ÿœŒ]+")
# Words the French texts rightly share with the English ones: French words spelt alike,
# words French business writing uses as they are, units and one-letter symbols, and the
# proper nouns, brands and acronyms of the sources. Anything else an English text uses
# and a French text shows is English left in the French edition.
FRENCH_TOO = set(
    [
        "a",
        "acquisition",
        "administration",
        "adoption",
        "agent",
        "an",
        "article",
        "attribution",
        "audiences",
        "audit",
        "base",
        "benchmark",
        "briefing",
        "budget",
        "capital",
        "certain",
        "change",
        "charges",
        "comment",
        "compare",
        "contact",
        "contacts",
        "convention",
        "conversation",
        "conversations",
        "conversion",
        "correction",
        "cycle",
        "cycles",
        "date",
        "digital",
        "direct",
        "face",
        "finance",
        "gain",
        "gains",
        "guide",
        "horizon",
        "impact",
        "import",
        "indirect",
        "installation",
        "interactions",
        "justification",
        "licence",
        "licences",
        "maintenance",
        "management",
        "marketing",
        "max",
        "min",
        "multiple",
        "ne",
        "non",
        "note",
        "orange",
        "page",
        "part",
        "place",
        "plan",
        "plus",
        "point",
        "points",
        "prudent",
        "qualification",
        "quartile",
        "ratios",
        "reporting",
        "satisfaction",
        "script",
        "scripts",
        "service",
        "signature",
        "source",
        "sources",
        "stand",
        "stock",
        "structure",
        "support",
        "test",
        "total",
        "variable",
        "version",
        "volume",
        "mail",
        "mails",
        "mailing",
        "e",
        "h",
        "s",
        "t",
        "x",
        "pts",
        "nov",
        "le",
        "sur",
        "retour",
        "investissement",
        "réel",
        "calculer",
        "blog",
        "net",
        "lead",
        "leads",
        "b",
        "crm",
        "roi",
        "kpi",
        "kpis",
        "nps",
        "csat",
        "ltv",
        "cac",
        "tei",
        "fast",
        "forrester",
        "nucleus",
        "research",
        "invoca",
        "maxcontact",
        "transunion",
        "jobphoning",
        "phase",
        "active",
        "euro",
        "phoning",
    ]
)


def words_of(texts: set[str]) -> dict[str, str]:
    """Each word of the prose in ``texts`` (lower case), with a text it comes from."""
    found: dict[str, str] = {}
    for text in texts:
        if re.fullmatch(r"[a-z][a-z0-9_-]*", text) or (_FORMULA.fullmatch(text) and "_" in text):
            continue  # a key of the key columns, or a formula over input names
        prose = _NOT_PROSE.sub(" ", text)
        for word in _WORD.findall(prose):
            found.setdefault(word.lower(), text)
    return found


def english_words(french: set[str], english: set[str]) -> list[str]:
    """The words of the French texts that only the English texts use, with where they are."""
    english_only = set(words_of(english)) - FRENCH_TOO
    return sorted(f"{w!r} in {text!r}" for w, text in words_of(french).items() if w in english_only)


def workbook_strings(path: Path) -> set[str]:
    """Shared and inline strings, validation texts, chart texts, quoted formula texts and the
    texts of number formats."""
    found: set[str] = set()
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if not name.endswith(".xml"):
                continue
            xml = archive.read(name).decode()
            found.update(unescape(t) for t in re.findall(r"<t[^>]*>([^<]*)</t>", xml))
            found.update(unescape(t) for t in re.findall(r"<a:t>([^<]*)</a:t>", xml))
            found.update(
                unescape(t)
                for t in re.findall(r'(?:prompt|error|promptTitle|errorTitle)="([^"]*)"', xml)
            )
            for formula in re.findall(r"<f>([^<]*)</f>", xml):
                found.update(re.findall(r'"([^"]+)"', unescape(formula)))
            for code in re.findall(r'formatCode="([^"]*)"', xml):  # "never", " pts", "Yes"
                found.update(t.strip() for t in re.findall(r'"([^"]+)"', unescape(code)))
    return found


def report_strings(html: str) -> set[str]:
    """The report's visible text, one string per text node."""
    body = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return {unescape(t).strip() for t in re.findall(r">([^<]+)<", body) if t.strip()}


def english_left(french: set[str], english: set[str]) -> list[str]:
    return sorted(
        text
        for text in french & english
        if _PHRASE.search(text)
        and not (_FORMULA.fullmatch(text) and ("_" in text or "(" in text or text.islower()))
        and text not in SAME_IN_BOTH
        and not _TITLE_OF_A_SOURCE.match(text)
    )


def spacing_faults(texts: set[str]) -> list[str]:
    """French texts with an ordinary space, or none, before : ; % € (narrow no-break wanted)."""
    faults = []
    for text in texts:
        if (
            re.search(r"[ \u00a0][:;]|\d[ \u00a0][%€]", text)
            or re.search(r"[A-Za-zÀ-ÿ)][;:](?=\s)", text)
            or re.search(r"\b1 ans\b", text)
        ):
            faults.append(text)
    return sorted(faults)


@pytest.fixture(scope="module")
def editions(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    folder = tmp_path_factory.mktemp("french")
    paths = {}
    for key in KEYS:
        for locale in ("en-US", "fr-FR"):
            options = WorkbookOptions(locale=locale, months=3, actuals=sample_actuals(key))
            paths[key, locale] = write_workbook(
                template.load(key), folder / f"{key}-{locale}.xlsx", options
            )
    return paths


@pytest.mark.parametrize("key", KEYS)
def test_the_french_workbook_has_no_english_text(
    editions: dict[tuple[str, str], Path], key: str
) -> None:
    french = workbook_strings(editions[key, "fr-FR"])
    english = workbook_strings(editions[key, "en-US"])
    assert english_left(french, english) == []
    assert english_words(french, english) == []
    assert spacing_faults(french) == []
    assert any(NNBSP in text for text in french)


@pytest.mark.parametrize("key", KEYS)
def test_the_french_report_has_no_english_text(
    editions: dict[tuple[str, str], Path], key: str
) -> None:
    french = report_strings(render_report(read_workbook(editions[key, "fr-FR"]), "fr-FR", seed=1))
    english = report_strings(render_report(read_workbook(editions[key, "en-US"]), "en-US", seed=1))
    assert english_left(french, english) == []
    assert english_words(french, english) == []
    assert spacing_faults(french) == []


def test_the_word_scan_finds_an_english_word_inside_a_french_text() -> None:
    english = {"1 calls/h – 1,000 calls/h", "calls_made", "Net margin"}
    french = {"1 calls/h – 1 000 calls/h", "calls_made", "Marge nette"}
    assert english_words(french, english) == ["'calls' in '1 calls/h – 1 000 calls/h'"]
    assert english_words({"Marge des no…"}, {"no deal"}) == ["'no' in 'Marge des no…'"]


def test_the_scan_finds_an_untranslated_text() -> None:
    assert english_left({"Source / note", "12"}, {"Source / note", "12"}) == ["Source / note"]
    assert spacing_faults({"Total : 12 %", f"Total{NNBSP}: 12{NNBSP}%"}) == ["Total : 12 %"]


def _units(node: object) -> set[str]:
    """Every ``unit = ...`` of a template's TOML, at any depth."""
    if isinstance(node, dict):
        found = {node["unit"]} if isinstance(node.get("unit"), str) else set()
        return found.union(*(_units(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_units(item) for item in node))
    return set()


def test_every_unit_shows_in_french() -> None:
    """A unit is one lower-case word, which the scans above take for a key: held here instead."""
    sources = [Path(template.load(key).path).read_text("utf-8") for key in KEYS]
    units = set().union(*(_units(tomllib.loads(source)) for source in sources))
    assert {"month", "flag", "calls"} <= units  # the scan sees the templates' units
    french, english = load_locale("fr-FR"), load_locale("en-US")
    english_only = {w for u in units for w in _lower_words(english.unit(u))} - FRENCH_TOO
    left = sorted(u for u in units if set(_lower_words(french.unit(u))) & english_only)
    assert left == [], f"units shown in English in the French edition: {left}"


def _lower_words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def test_month_titles_elide_before_a_vowel() -> None:
    assert titled("Réalisé de", "avril 2026") == "Réalisé d'avril 2026"
    assert titled("Réalisé de", "octobre 2026") == "Réalisé d'octobre 2026"
    assert titled("Réalisé de", "mars 2026") == "Réalisé de mars 2026"
    assert titled("Actuals for", "April 2026") == "Actuals for April 2026"
