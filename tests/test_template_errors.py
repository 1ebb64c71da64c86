"""A user's template is checked as strictly as a built-in one, and errors say where."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from roi_xl.errors import TemplateError
from roi_xl.model import engine, template
from roi_xl.workbook import WorkbookOptions, write_workbook

GOOD = """[template]
key = "mini"
version = "0.1"
title = { en = "Mini", fr = "Mini" }
purpose = { en = "Test", fr = "Test" }
headline = ["roi"]

[[inputs]]
key = "gain"
section = "main"
label = { en = "Gain", fr = "Gain" }
unit = "currency"
kind = "currency"
min = 0
max = 1000
defaults = { prudent = 100, realistic = 200, optimistic = 300 }
source = "Example"

[[inputs]]
key = "cost"
section = "main"
label = { en = "Cost", fr = "Coût" }
unit = "currency"
kind = "currency"
min = 0
max = 1000
defaults = { prudent = 100, realistic = 100, optimistic = 100 }
source = "Example"

[[metrics]]
key = "roi"
section = "main"
label = { en = "ROI", fr = "ROI" }
unit = "%"
kind = "percent"
expr = "ROI(gain, cost)"

[monthly]
chart = "gain_actual"

[[monthly.fields]]
key = "gain_actual"
label = { en = "Gain of the month", fr = "Gain du mois" }
unit = "currency"
kind = "currency"
plan = "gain"

[[monthly.fields]]
key = "cost_actual"
label = { en = "Cost of the month", fr = "Coût du mois" }
unit = "currency"
kind = "currency"
plan = "cost"

[[monthly.kpis]]
key = "roi_actual"
label = { en = "ROI of the month", fr = "ROI du mois" }
unit = "%"
kind = "percent"
expr = "ROI(gain_actual, cost_actual)"

[[monthly.checks]]
key = "cost_positive"
label = { en = "Some cost was spent", fr = "Un coût a été engagé" }
rule = "cost_actual > 0"
"""


def test_a_user_template_from_a_path_works(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(GOOD, encoding="utf-8")
    model = template.load(str(path))
    results = engine.calculate(model)
    assert [results[s].outputs["roi"] for s in template.SCENARIOS] == [0.0, 1.0, 2.0]


def test_a_user_template_makes_a_workbook_that_reads_back_clean(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(GOOD, encoding="utf-8")
    model = template.load(str(path))
    target = tmp_path / "mini.xlsx"
    options = WorkbookOptions(
        start=dt.date(2026, 1, 1), months=3, actuals=[{"gain_actual": 150, "cost_actual": 100}]
    )
    write_workbook(model, target, options)
    wb = openpyxl.load_workbook(target, data_only=True)
    calc_rows = {row[7].value: row for row in wb["Calculations"].iter_rows() if row[7].value}
    assert [c.value for c in calc_rows["roi"][2:6]] == [0.0, 1.0, 2.0, 1.0]
    assert (wb["Actuals"]["C6"].value, wb["Actuals"]["C7"].value) == (150, 100)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('expr = "ROI(gain, cost)"', 'expr = "gain.real"'),
            "line 36: metric 'roi': attribute access",
        ),
        (
            ('expr = "ROI(gain, cost)"', 'expr = "__import__(gain)"'),
            "line 36: metric 'roi': unknown function '__import__'",
        ),
        (
            ('expr = "ROI(gain, cost)"', 'expr = "ROI(gain, costs)"'),
            "line 36: metric 'roi': unknown name 'costs'",
        ),
        (('expr = "ROI(gain, cost)"', 'expr = "roi * 2"'), "circular reference: roi -> roi"),
        (
            ('expr = "ROI(gain, cost)"', 'expr = "gain ** 100000"'),
            "line 36: metric 'roi': the exponent 100000 is too large",
        ),
        (
            ("realistic = 200", "realistic = 2000"),
            "input 'gain': realistic default 2000 is outside 0 to 1000",
        ),
        (
            ('source = "Example"\n\n[[inputs]]', "\n[[inputs]]"),
            "input 'gain': every default needs a source",
        ),
        (
            (
                'kind = "currency"\nmin = 0\nmax = 1000\ndefaults = { prudent = 100, realistic = 100',
                'kind = "percent"\nmin = 0\nmax = 1000\ndefaults = { prudent = 100, realistic = 100',
            ),
            "a percent is a fraction",
        ),
        (('headline = ["roi"]', 'headline = ["nope"]'), "headline: 'nope' is not a known metric"),
        (
            ('unit = "%"', 'unit = "%"\ncolour = "red"'),
            "line 35: [[metrics]]: unknown field 'colour'",
        ),
        (('key = "cost"', 'key = "gain"'), "the key 'gain' is used twice"),
        (('version = "0.1"', "version = "), "not valid TOML"),
        (('label = { en = "Gain", fr = "Gain" }', 'label = "Gain"'), "must give both languages"),
        (
            ('expr = "ROI(gain_actual, cost_actual)"', 'expr = "ROI(gain_actual, costs)"'),
            "monthly KPI 'roi_actual': unknown name 'costs'",
        ),
        (('rule = "cost_actual > 0"', 'rule = "cost_actual"'), "the rule must be a comparison"),
        (
            ('chart = "gain_actual"', 'chart = "nope"'),
            "[monthly] chart: 'nope' is not a monthly field",
        ),
    ],
)
def test_a_broken_template_is_refused_with_its_line(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in GOOD
    path = tmp_path / "broken.toml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        template.load(str(path))
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_an_unknown_template_lists_the_known_ones() -> None:
    with pytest.raises(TemplateError, match="built-in: crm, phone-system, phoning-b2b"):
        template.load("nope")


def test_a_missing_template_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"absent\.toml: cannot read"):
        template.load(str(tmp_path / "absent.toml"))
