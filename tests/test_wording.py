"""Validation titles and messages read as the locale writes them."""

from __future__ import annotations

import re
import zipfile
from html import unescape
from pathlib import Path

import pytest

from roi_xl.locale import load_locale
from roi_xl.model import template
from roi_xl.workbook.wording import ELLIPSIS, NNBSP, TITLE_LIMIT, range_text, shorten
from roi_xl.workbook.writer import WorkbookOptions, write_workbook

FR, EN = load_locale("fr-FR"), load_locale("en-US")


def test_a_long_title_is_cut_on_a_word_boundary() -> None:
    title = shorten("Taux de joignabilité (conversations utiles)")
    assert len(title) <= TITLE_LIMIT
    assert title == "Taux de joignabilité" + ELLIPSIS
    assert shorten("Appels reçus") == "Appels reçus"


def test_ranges_use_the_locales_separators_and_units() -> None:
    assert range_text(0, 100_000_000, "currency", "currency", FR) == (
        f"0{NNBSP}€ – 100{NNBSP}000{NNBSP}000{NNBSP}€"
    )
    assert range_text(0, 100_000_000, "currency", "currency", EN) == "$0 – $100,000,000"
    assert range_text(0, 1, "percent", "%", FR) == f"0{NNBSP}% – 100{NNBSP}%"
    assert range_text(0.5, 3600, "number", "s", FR) == f"0,5 s – 3{NNBSP}600 s"
    assert range_text(0, 10_000, "count", "calls", FR) == f"0 appels – 10{NNBSP}000 appels"


@pytest.mark.parametrize("key", [model.key for model in template.load_all()])
def test_french_validations_are_french_and_whole(key: str, tmp_path: Path) -> None:
    path = write_workbook(
        template.load(key), tmp_path / f"{key}.xlsx", WorkbookOptions(locale="fr-FR")
    )
    with zipfile.ZipFile(path) as archive:
        xml = "".join(
            archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("xl/worksheets/sheet")
        )
    validations = re.findall(r"<dataValidation [^>]*>", xml)
    assert validations
    for validation in validations:
        attributes = {k: unescape(v) for k, v in re.findall(r'(\w+)="([^"]*)"', validation)}
        for field in ("promptTitle", "errorTitle"):
            title = attributes.get(field, "")
            assert len(title) <= TITLE_LIMIT, title
        for field in ("prompt", "error"):
            text = attributes.get(field, "").split(". ")[0]  # the range; the note follows
            assert not re.search(r"\d,\d{3}", text), f"US thousands separator in {text!r}"
            assert " currency" not in text and ">=" not in text, text
    whole = re.findall(r'<dataValidation type="whole"[^>]*sqref="C\d+"', xml)
    assert whole, "monthly counts take whole numbers"
    monthly = [v for v in validations if 'sqref="C' in v and "inconnu" in v]
    assert monthly, "each monthly figure says what to type"
    for validation in monthly:  # the field's definition, then the rule, never cut short
        prompt = unescape(re.search(r'prompt="([^"]*)"', validation).group(1))
        assert prompt.endswith("Laissez vide si inconnu.") and len(prompt) > 60, prompt
