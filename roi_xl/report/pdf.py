"""The report printed to PDF by headless Chromium, written atomically.

The paper (A4 or Letter), the margins and the page numbers are the page's own print CSS,
which Chromium follows.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from roi_xl.errors import RoiXlError
from roi_xl.files import replacing

PDF_TIMEOUT_SECONDS = 120


class ReportError(RoiXlError):
    """The PDF cannot be written (no Chromium, Chromium failed...)."""


def chromium_path() -> str | None:
    """Headless Chromium or Chrome, if installed."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def render_pdf(html: str, path: str | Path) -> Path:
    """Print the report to PDF with headless Chromium; ``path`` appears only when complete."""
    browser = chromium_path()
    if browser is None:
        raise ReportError(
            "a PDF needs Chromium: install it (apt-get install chromium) or open the HTML report "
            "in a browser and print it"
        )
    target = Path(path).resolve()
    with (
        tempfile.TemporaryDirectory(prefix="roi-xl-report-") as folder,
        replacing(target) as partial,
    ):
        page = Path(folder) / "report.html"
        page.write_text(html, encoding="utf-8")
        printed = Path(folder) / "report.pdf"
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={folder}/profile",
            "--no-pdf-header-footer",
            f"--print-to-pdf={printed}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=PDF_TIMEOUT_SECONDS
            )
        except subprocess.TimeoutExpired:
            raise ReportError(
                f"Chromium did not print the PDF in {PDF_TIMEOUT_SECONDS} s"
            ) from None
        if done.returncode != 0 or not printed.is_file():
            raise ReportError(f"Chromium could not print the PDF: {done.stderr.strip()[-300:]}")
        shutil.move(printed, partial)
    return target
