"""The French workbook and report are French: no text left in English, French spacing.

Every string a French reader can see (cells, validation titles and messages,
chart titles, quoted texts in formulas; the report's visible text) is
compared with the English edition of the same template: a phrase found in
both is an English text the French edition forgot to translate, unless it is
a formula over input names or a name that reads the same in both languages.
"""

from __future__ import annotations

import re
import zipfile
from html import unescape
from pathlib import Path

import pytest

from roi_xl.demo import sample_actuals
from roi_xl.inspect.reader import read_workbook
from roi_xl.model import template
from roi_xl.report.page import render_report
from roi_xl.typography import NNBSP
from roi_xl.workbook.writer import WorkbookOptions, write_workbook

KEYS = [model.key for model in template.load_all()]
# Identical in both editions by design: names, acronyms, the workbook's own identifiers.
SAME_IN_BOTH = {"Net Promoter Score (NPS)…", "ROI (net)", "-100 points – 100 points", "LTV / CAC"}
_PHRASE = re.compile(r"[A-Za-z]{3,}\W+[A-Za-z]{3,}")
_FORMULA = re.compile(r"[\w\s*+\-/().,:]+")  # input and metric names joined by operators
_TITLE_OF_A_SOURCE = re.compile(r"^(Measuring Phone|How to Measure|Phoning B2B)")


def workbook_strings(path: Path) -> set[str]:
    """Shared and inline strings, validation texts, chart texts and quoted formula texts."""
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
    assert spacing_faults(french) == []
    assert any(NNBSP in text for text in french)


@pytest.mark.parametrize("key", KEYS)
def test_the_french_report_has_no_english_text(
    editions: dict[tuple[str, str], Path], key: str
) -> None:
    french = report_strings(render_report(read_workbook(editions[key, "fr-FR"]), "fr-FR", seed=1))
    english = report_strings(render_report(read_workbook(editions[key, "en-US"]), "en-US", seed=1))
    assert english_left(french, english) == []
    assert spacing_faults(french) == []


def test_the_scan_finds_an_untranslated_text() -> None:
    assert english_left({"Source / note", "12"}, {"Source / note", "12"}) == ["Source / note"]
    assert spacing_faults({"Total : 12 %", f"Total{NNBSP}: 12{NNBSP}%"}) == ["Total : 12 %"]
