"""A batch writes exactly the workbooks `roi-xl new` writes for the same rows.

The batch computes many workbooks' values together and reuses what does not
depend on them; each of its files is compared here, part by part, with a
workbook written alone from the same inputs, on every template and locale,
with random inputs (values at the ranges' bounds included); and a batch file
must audit clean.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
import zipfile
from pathlib import Path

import pytest

from roi_xl.batch import generate_batch
from roi_xl.errors import InputError
from roi_xl.inspect.reader import read_workbook
from roi_xl.locale import LOCALES
from roi_xl.model import engine
from roi_xl.model import template as templates
from roi_xl.model.template import SCENARIOS, Template
from roi_xl.workbook import WorkbookOptions, write_workbook

ROWS = 6  # random rows per case, beside one with the template's defaults


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    parts["docProps/core.xml"] = re.sub(
        rb"<dcterms:(created|modified)[^>]*>[^<]*<", b"", parts["docProps/core.xml"]
    )
    return parts


def _random_row(model: Template, rng: random.Random) -> dict[str, float]:
    """Some inputs overridden, anywhere in range or at a bound, as a batch accepts them (no
    result left undefined)."""
    while True:
        row = _draw(model, rng)
        try:
            engine.require_defined(model, row)
        except InputError:
            continue
        return row


def _draw(model: Template, rng: random.Random) -> dict[str, float]:
    row = {}
    for item in model.inputs:
        if rng.random() < 0.5:
            continue
        draw = rng.random()
        if draw < 0.15:
            value = item.minimum
        elif draw < 0.25:
            value = item.maximum
        else:
            value = rng.uniform(item.minimum, item.maximum)
        row[item.key] = float(round(value)) if item.kind == "count" else value
    return row


def _people(model: Template, folder: Path, rows: list[dict[str, float]]) -> Path:
    path = folder / "people.csv"
    keys = [item.key for item in model.inputs]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", *keys])
        for number, row in enumerate(rows):
            writer.writerow([f"row-{number}", *(repr(row[k]) if k in row else "" for k in keys)])
    return path


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", templates.builtin_names())
def test_batch_files_are_the_files_written_alone(name: str, locale: str, tmp_path: Path) -> None:
    model = templates.load(name)
    rng = random.Random(f"{name}-{locale}")
    rows = [{}] + [_random_row(model, rng) for _ in range(ROWS)]
    scenario = rng.choice(SCENARIOS)
    start = dt.date(2026, rng.randint(1, 12), 1)
    months = rng.choice((1, 12, 24))
    report = generate_batch(
        model,
        _people(model, tmp_path, rows),
        tmp_path / "batch",
        locale=locale,
        scenario=scenario,
        start=start,
        months=months,
        workers=2,
    )
    assert not report.skipped
    assert len(report.written) == len(rows)
    for number, (row, written) in enumerate(zip(rows, report.written, strict=True)):
        alone = write_workbook(
            model,
            tmp_path / f"alone-{number}.xlsx",
            WorkbookOptions(
                locale=locale, overrides=row, scenario=scenario, start=start, months=months
            ),
        )
        batch_parts, alone_parts = _parts(written.path), _parts(alone)
        assert list(batch_parts) == list(alone_parts)
        for part, content in alone_parts.items():
            assert batch_parts[part] == content, f"{name} {locale} row {number}: {part} differs"


@pytest.mark.parametrize("name", templates.builtin_names())
def test_batch_files_audit_clean(name: str, tmp_path: Path) -> None:
    model = templates.load(name)
    rng = random.Random(name)
    rows = [_random_row(model, rng) for _ in range(3)]
    report = generate_batch(model, _people(model, tmp_path, rows), tmp_path / "batch", workers=1)
    assert len(report.written) == len(rows)
    for written in report.written:
        result = read_workbook(written.path)
        assert not result.has_errors, [f.to_dict() for f in result.findings]
