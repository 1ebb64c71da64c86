"""The report's first page is the one-page justification, printed on one page; the detail follows.

Every template x locale is printed by headless Chromium through ``render_pdf`` (the path of
``roi-xl report --pdf``) and the PDF is read page by page with pdftotext: page 1 holds every
text of the one-page justification and nothing of the appendix, page 2 opens the appendix,
every page is on the locale's paper and numbered, and no page ends with a heading (or a
heading followed only by its introduction). The recommendation's rule is checked on
workbooks whose figures put it on each side.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import unicodedata
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import openpyxl
import pytest

from roi_xl.demo import sample_actuals
from roi_xl.inspect.reader import WorkbookRead, read_workbook
from roi_xl.locale import LOCALES
from roi_xl.model import template
from roi_xl.report.facts import build_facts
from roi_xl.report.page import render_report
from roi_xl.report.pdf import render_pdf
from roi_xl.report.recommend import APPROVE, FIX_FIRST, REJECT, TEST_FIRST, recommend
from roi_xl.workbook import WorkbookOptions, write_workbook

TEMPLATES = tuple(template.builtin_names())
START = dt.date(2026, 1, 1)
AS_OF = dt.date(2026, 4, 2)
PAPER = {"en-US": (612.0, 792.0), "fr-FR": (595.28, 841.89)}  # Letter and A4, in points
PAGE_NUMBER = {"en-US": "Page {page} of {pages}", "fr-FR": "Page {page} sur {pages}"}
_SIZE = re.compile(r"Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts")


def squeezed(text: str) -> str:
    """Text compared as printed: case, spacing, hyphens (a word cut at a line's end loses its
    hyphen in pdftotext), ligatures and letter-spacing set aside."""
    return re.sub(r"[\s\-\u00ad]+", "", unicodedata.normalize("NFKC", unescape(text))).casefold()


def plain(html: str) -> str:
    """What a reader sees of an HTML fragment, on one line."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html)))


def texts(html: str) -> list[str]:
    """The visible text nodes of an HTML fragment."""
    return [t for t in (unescape(x).strip() for x in re.findall(r">([^<>]+)<", html)) if t]


def element_texts(html: str, pattern: str) -> list[str]:
    """The whole text of each element matching ``pattern`` (tags inside removed)."""
    return [" ".join(texts(f">{inner}<")) for inner in re.findall(pattern, html, re.S)]


@dataclass(frozen=True)
class Printed:
    html: str
    title: str  # the running title printed at the foot of each page
    pages: list[str]  # each page's text, as pdftotext reads it
    sizes: list[tuple[float, float]]


def print_report(read: WorkbookRead, locale: str, folder: Path, pdftotext: str) -> Printed:
    html = render_report(read, locale, seed=1, as_of=AS_OF)
    pdf = render_pdf(html, folder / f"{read.template}-{locale}.pdf")
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    sizes = [(float(w), float(h)) for _, w, h in _SIZE.findall(info)]
    pages = [
        subprocess.run(
            [pdftotext, "-f", str(n), "-l", str(n), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for n in range(1, len(sizes) + 1)
    ]
    title = unescape(re.search(r"<title>([^<]*)</title>", html).group(1))  # type: ignore[union-attr]
    return Printed(html, title, pages, sizes)


@pytest.fixture(scope="module")
def printed(
    chromium: str, pdftotext: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], Printed]:
    folder = tmp_path_factory.mktemp("first-page")
    found = {}
    for name in TEMPLATES:
        for locale in LOCALES:
            options = WorkbookOptions(
                locale=locale, start=START, months=6, actuals=sample_actuals(name)
            )
            path = write_workbook(template.load(name), folder / f"{name}-{locale}.xlsx", options)
            found[name, locale] = print_report(read_workbook(path), locale, folder, pdftotext)
    return found


def body_of(page: str, printed: Printed, number: int, locale: str) -> str:
    """A page's text without its foot (running title, page number), which must be there."""
    total = len(printed.pages)
    foot = PAGE_NUMBER[locale].format(page=number, pages=total)
    lines = [line.strip() for line in page.splitlines()]
    assert foot in lines, f"page {number} has no page number"
    assert printed.title in lines, f"page {number} has no running title"
    return "\n".join(line for line in lines if line not in (foot, printed.title))


def summary_of(html: str) -> str:
    """The header and the first page's section of the HTML."""
    start = html.index('<header class="top">')
    return html[start : html.index("</section>", html.index('<section id="summary">'))]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", TEMPLATES)
def test_page_one_is_the_whole_justification_and_nothing_else(
    printed: dict[tuple[str, str], Printed], name: str, locale: str
) -> None:
    report = printed[name, locale]
    first = squeezed(body_of(report.pages[0], report, 1, locale))
    summary = summary_of(report.html)
    missing = [t for t in texts(summary) if squeezed(t) not in first]
    assert missing == [], f"page 1 lacks {missing}"
    # The six parts the page must hold, by their headings.
    headings = element_texts(summary, r"<h2>(.*?)</h2>")
    assert len(headings) == 6, headings
    appendix = report.html[report.html.index('<div class="appendix">') :]
    appendix_title = element_texts(appendix, r'<h1 class="appendix">(.*?)</h1>')[0]
    numbered = element_texts(appendix, r"<h2>(\d+\..*?)</h2>")
    assert len(numbered) >= 8
    for heading in [appendix_title, *numbered]:
        assert squeezed(heading) not in first, f"page 1 holds {heading!r} of the appendix"
    method = element_texts(appendix, r"<footer><p>(.*?)</p>")[0]
    assert squeezed(method) not in first
    second = body_of(report.pages[1], report, 2, locale)
    assert squeezed(second).startswith(squeezed(appendix_title)), second[:200]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", TEMPLATES)
def test_every_page_is_on_the_locale_paper_and_numbered(
    printed: dict[tuple[str, str], Printed], name: str, locale: str
) -> None:
    report = printed[name, locale]
    assert len(report.sizes) == len(report.pages) >= 5
    width, height = PAPER[locale]
    for number, (w, h) in enumerate(report.sizes, start=1):
        assert abs(w - width) < 1 and abs(h - height) < 1, (number, w, h)
    for number, page in enumerate(report.pages, start=1):
        body_of(page, report, number, locale)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", TEMPLATES)
def test_no_page_ends_with_a_heading(
    printed: dict[tuple[str, str], Printed], name: str, locale: str
) -> None:
    """After the last heading of a page comes more than that heading's introduction."""
    report = printed[name, locale]
    headings = {squeezed(t) for t in element_texts(report.html, r"<h[123][^>]*>(.*?)</h[123]>")}
    intros = {
        squeezed(t)
        for t in element_texts(report.html, r'<p class="(?:help|impact-title)">(.*?)</p>')
    }
    for number, page in enumerate(report.pages, start=1):
        text = squeezed(body_of(page, report, number, locale))
        ends = [text.rfind(h) + len(h) for h in headings if h in text]
        rest = text[max(ends, default=0) :]
        for intro in sorted(intros, key=len, reverse=True):
            rest = rest.replace(intro, "")
        only_an_intro = not rest or any(intro.startswith(rest) for intro in intros)
        assert not only_an_intro, (
            f"page {number} ends with a heading: {body_of(page, report, number, locale)[-300:]}"
        )


# ------------------------------------------------------------------ the recommendation


def phone_system(tmp_path: Path, overrides: dict[str, float]) -> WorkbookRead:
    options = WorkbookOptions(start=START, months=3, overrides=overrides)
    model = template.load("phone-system")
    return read_workbook(write_workbook(model, tmp_path / "phone.xlsx", options))


def test_a_case_that_pays_back_only_in_the_realistic_scenario_starts_with_a_first_phase(
    tmp_path: Path,
) -> None:
    read = phone_system(tmp_path, {})
    facts = build_facts(read, "en-US", seed=1)
    found = recommend(facts)
    assert found.verdict == TEST_FIRST
    assert found.npv_adjusted is not None and found.npv_adjusted > 0
    assert found.prudent_npv is not None and found.prudent_npv < 0
    assert found.threshold is not None and found.threshold.driver == "answer_rate_after"
    assert found.at_least  # fewer answered calls than the break-even lose money
    html = render_report(read, "en-US", seed=1, as_of=AS_OF)
    page = plain(summary_of(html))
    assert "Approve a first phase only" in page
    assert "reaches at least 66.3%, its break-even (80.0% in the realistic scenario)" in page


@pytest.mark.parametrize(
    ("cost", "verdict", "words"),
    [(500, APPROVE, "Approve"), (9000, REJECT, "Do not approve as modelled")],
)
def test_the_recommendation_follows_the_npv_of_both_scenarios(
    tmp_path: Path, cost: float, verdict: str, words: str
) -> None:
    read = phone_system(tmp_path, {"incremental_phone_cost": cost})
    found = recommend(build_facts(read, "en-US", seed=1))
    assert found.verdict == verdict
    assert found.npv_adjusted is not None and found.prudent_npv is not None
    if verdict == APPROVE:
        assert found.npv_adjusted >= 0 and found.prudent_npv >= 0
    else:
        assert found.npv_adjusted < 0
    html = render_report(read, "fr-FR" if verdict == REJECT else "en-US", seed=1, as_of=AS_OF)
    badge = re.search(r"<span class='badge (\w+)'>([^<]*)</span>", summary_of(html))
    assert badge is not None
    if verdict == APPROVE:
        assert badge.groups() == ("good", words)
    else:
        assert badge.groups() == ("bad", "Ne pas approuver en l'état")


def test_a_workbook_with_audit_errors_is_corrected_before_a_decision(
    tmp_path: Path,
) -> None:
    path = write_workbook(
        template.load("crm"), tmp_path / "crm.xlsx", WorkbookOptions(start=START, months=3)
    )
    book = openpyxl.load_workbook(path)
    book.save(path)  # openpyxl drops the cached values: the audit reports errors
    read = read_workbook(path)
    assert read.has_errors
    found = recommend(build_facts(read, "en-US", seed=1))
    assert found.verdict == FIX_FIRST and found.errors > 0
    html = render_report(read, "en-US", seed=1, as_of=AS_OF)
    assert "Correct the workbook first" in summary_of(html)
