"""Every sheet of every template and locale, and the roll-up, prints legibly.

Each workbook is printed to PDF by LibreOffice. The footer names the sheet on
every page, so each page is traced back to its sheet; the footer's 8 pt text
shrinks with the sheet's zoom, so its height against the same footer on a
sheet printed at 100 % gives the scale LibreOffice chose. The file's own page
setup is read too: paper, fit to one page wide and any number tall.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
import xlsxwriter

from roi_xl.demo import write_demo
from roi_xl.locale import load_locale
from roi_xl.model import template
from roi_xl.rollup.consolidate import rollup
from roi_xl.workbook.printing import PAPER_CODES, footer

MIN_SCALE = 0.60
# Page sizes in points, either orientation.
PAPER_POINTS = {"A4": (595.3, 841.9), "Letter": (612.0, 792.0)}
CALIBRATION = "calibration.xlsx"
_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    sheet: str
    footer_height: float  # height of the footer's words, which scale with the sheet


@dataclass(frozen=True)
class Printed:
    workbooks: dict[str, Path]
    pages: dict[str, list[Page]]
    unit: float  # footer height at 100 %


def _calibration(path: Path) -> None:
    """One narrow column, certainly printed at 100 %, with the workbooks' footer."""
    workbook = xlsxwriter.Workbook(str(path))
    ws = workbook.add_worksheet("Calibration")
    ws.write_string(0, 0, "x")
    ws.set_paper(PAPER_CODES["A4"])
    ws.set_footer(footer("Page {page} of {pages}"), {"margin": 0.25})
    workbook.close()


def _to_pdf(soffice: str, sources: list[Path], outdir: Path) -> None:
    profile = outdir / "profile"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            *map(str, sources),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )


def _pages(pdf: Path, workbook_name: str) -> list[Page]:
    """Each page's size, the sheet its footer names and the footer's text height."""
    text = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = []
    for chunk in text.split("<page ")[1:]:
        width = float(re.search(r'width="([\d.]+)"', chunk).group(1))
        height = float(re.search(r'height="([\d.]+)"', chunk).group(1))
        words = [
            (float(a), float(b), float(c), float(d), w) for a, b, c, d, w in _WORD.findall(chunk)
        ]
        lines: dict[float, list] = defaultdict(list)
        for word in words:
            lines[round(word[3], 1)].append(word)
        found = None
        for _, line in sorted(lines.items(), reverse=True):  # the footer is near the bottom
            line.sort(key=lambda w: w[0])
            joined = " ".join(w[4] for w in line)
            match = re.match(re.escape(workbook_name) + r" - (.+?) Page \d+ ", joined)
            if match:
                found = (match.group(1), line[0][3] - line[0][1])
                break
        assert found, f"{pdf.name}: a page without the footer naming file and sheet"
        pages.append(Page(width, height, *found))
    return pages


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory, soffice: str) -> Printed:
    work = tmp_path_factory.mktemp("printing")
    sources = write_demo(work / "demo")
    rolled = work / "demo" / "rollup.xlsx"
    rollup([work / "demo"], rolled, workers=1)
    _calibration(work / CALIBRATION)
    all_sources = [*sources, rolled, work / CALIBRATION]
    outdir = work / "pdf"
    outdir.mkdir()
    _to_pdf(soffice, all_sources, outdir)
    pages = {src.name: _pages(outdir / (src.stem + ".pdf"), src.name) for src in all_sources}
    [unit] = {page.footer_height for page in pages.pop(CALIBRATION)}
    return Printed({src.name: src for src in all_sources[:-1]}, pages, unit)


def _sheet_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/workbook.xml").decode()
    return [_unescape(name) for name in re.findall(r'<sheet name="([^"]+)"', xml)]


def _unescape(text: str) -> str:
    return text.replace("&apos;", "'").replace("&quot;", '"').replace("&amp;", "&")


def _paper(name: str) -> str:
    return "A4" if "fr-FR" in name else "Letter"


def test_every_sheet_prints_on_the_locales_paper_at_a_legible_scale(printed: Printed) -> None:
    small = []
    for name, path in printed.workbooks.items():
        pages = printed.pages[name]
        by_sheet: dict[str, list[Page]] = defaultdict(list)
        for page in pages:
            by_sheet[page.sheet].append(page)
            expected = PAPER_POINTS[_paper(name)]
            assert sorted((page.width, page.height)) == pytest.approx(expected, abs=1), (
                f"{name} / {page.sheet}: page {page.width:g} x {page.height:g} pt, "
                f"not {_paper(name)}"
            )
            scale = page.footer_height / printed.unit
            if scale < MIN_SCALE:
                small.append(f"{name} / {page.sheet}: {scale:.0%}")
        assert set(by_sheet) == set(_sheet_names(path)), f"{name}: a sheet printed nothing"
    assert not small, "pages printed below 60 %: " + "; ".join(sorted(set(small)))


def test_each_sheet_is_set_to_fit_the_page_width_only(printed: Printed) -> None:
    for name, path in printed.workbooks.items():
        with zipfile.ZipFile(path) as archive:
            sheets = [n for n in archive.namelist() if re.match(r"xl/worksheets/sheet\d+\.xml", n)]
            for sheet in sheets:
                xml = archive.read(sheet).decode()
                setup = re.search(r"<pageSetup [^>]*/>", xml)
                assert setup, f"{name} {sheet}: no page setup"
                attributes = dict(re.findall(r'(\w+)="([^"]*)"', setup.group(0)))
                assert attributes.get("paperSize", "1") == str(PAPER_CODES[_paper(name)])
                assert "&amp;F" in xml and "&amp;A" in xml and "&amp;P" in xml, sheet
                if name == "rollup.xlsx" and sheet not in (sheets[0], sheets[-1]):
                    # one column per output: printed at full size across pages instead
                    assert "fitToPage" not in xml, f"{name} {sheet}"
                    continue
                assert attributes.get("fitToHeight") == "0", f"{name} {sheet}"
                assert "fitToPage" in xml, f"{name} {sheet}: not fitted to the page width"


def test_the_footer_names_file_sheet_page_and_date() -> None:
    for code in ("en-US", "fr-FR"):
        text = footer(load_locale(code)["footer_page"])
        for field in ("&F", "&A", "&P", "&N", "&D"):
            assert field in text, (code, field)


def test_every_template_is_printed(printed: Printed) -> None:
    keys = {model.key for model in template.load_all()}
    assert {name.rsplit("-", 2)[0] for name in printed.workbooks if name != "rollup.xlsx"} == keys
