"""Fixtures shared by the test modules."""

from __future__ import annotations

import os

import pytest

from roi_xl.inspect import recalc

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
