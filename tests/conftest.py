"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from roi_xl.inspect import recalc
from roi_xl.report.pdf import chromium_path

pytest_plugins = ["pytester"]  # tests of the `soffice` fixture run it in an inner session


@pytest.fixture(scope="session")
def soffice() -> str:
    """The LibreOffice executable: skip without it, but fail under CI=true.

    CI must never skip silently, or a runner without LibreOffice would pass
    every recalculation test by not running it. Session-scoped so module-scoped
    fixtures (one soffice batch per module) can depend on it.
    """
    path = recalc.soffice_path()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(
                "CI=true but LibreOffice (soffice) is not on PATH: install it "
                "(e.g. apt-get install libreoffice-calc); recalculation tests may not skip in CI.",
                pytrace=False,
            )
        pytest.skip("LibreOffice (soffice) is not on PATH")
    return path


NODE_TOOLS = Path(__file__).resolve().parent / "node"


def _missing(what: str, how: str) -> None:
    """Skip without the tool, but fail under CI=true: CI must never pass by not running."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {what} is missing: {how}", pytrace=False)
    pytest.skip(f"{what} is missing: {how}")


@pytest.fixture(scope="session")
def node() -> str:
    """Node.js, to run the generated Office.js functions as Excel's JavaScript runtime would."""
    path = shutil.which("node")
    if path is None:
        _missing(
            "Node.js (node)", "install it (apt-get install nodejs npm) or run scripts/setup.sh"
        )
    return str(path)


@pytest.fixture(scope="session")
def office_tools(node: str) -> Path:
    """Microsoft's custom-functions-metadata and office-addin-manifest, from scripts/setup.sh."""
    for package in ("custom-functions-metadata", "office-addin-manifest", "typescript"):
        if not (NODE_TOOLS / "node_modules" / package / "package.json").is_file():
            _missing(
                f"the npm package {package} (in tests/node/node_modules)",
                "run scripts/setup.sh, which installs tests/node/package.json",
            )
    return NODE_TOOLS


@pytest.fixture(scope="session")
def ssconvert() -> str:
    """Gnumeric's ssconvert, the third engine: skip without it, but fail under CI=true."""
    path = recalc.ssconvert_path()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(
                "CI=true but Gnumeric (ssconvert) is not on PATH: install it "
                "(e.g. apt-get install gnumeric); recalculation tests may not skip in CI.",
                pytrace=False,
            )
        pytest.skip("Gnumeric (ssconvert) is not on PATH")
    return path


@pytest.fixture(scope="session")
def chromium() -> str:
    """Headless Chromium, which prints the report: skip without it, but fail under CI=true."""
    path = chromium_path()
    if path is None:
        _missing("Chromium", "install it (apt-get install chromium) or run scripts/setup.sh")
    return str(path)


@pytest.fixture(scope="session")
def pdftotext() -> str:
    """Poppler's pdftotext, to read a printed PDF page by page."""
    path = shutil.which("pdftotext")
    if path is None:
        _missing("pdftotext", "install it (apt-get install poppler-utils) or run scripts/setup.sh")
    return str(path)
