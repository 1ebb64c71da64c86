"""A batch writes exactly the workbooks `roi-xl new` writes for the same rows.

The batch computes many workbooks' values together, reuses what does not
depend on them and splices each sheet's numbers into a skeleton of its cells;
each of its files is compared here, part by part, with a workbook written
alone from the same inputs, on every template and locale, with random inputs
(values at the ranges' bounds included); and a batch file must audit clean.
The splicing is also followed in this process: a sheet met again is spliced, a
number format that depends on a value gives another skeleton, and a skeleton
that fails its check is not used. So is what a batch's worker carries from one
workbook to the next: zip parts copied already deflated, columns fitted by
replaying the steps of their sheet's shape, conditional formats and data
validations written as before, charts written from a skeleton of their
options with their cached values put in, the monthly tabs' frame and the
Checks and Actuals sheets' texts made once per layout; each checked on a hit
and on a miss. And so are the Timeline's rows of formulas, made from a frame of
their first workbook and standing in the sheet's shape as one token each: on
every template, both locales and several periods, for a row holding an error
value (written as always), a frame failing its check, and a row changed after
it was put in.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import CellFormulaTuple, Worksheet

from roi_xl import batch
from roi_xl.batch import generate_batch
from roi_xl.errors import InputError
from roi_xl.inspect.reader import read_workbook
from roi_xl.locale import LOCALES
from roi_xl.model import engine
from roi_xl.model import template as templates
from roi_xl.model.excel_errors import DIV0
from roi_xl.model.expr import Evaluated
from roi_xl.model.template import SCENARIOS, Template
from roi_xl.model.timeline import TimelineValues
from roi_xl.workbook import (
    WorkbookOptions,
    actuals_sheet,
    chart_reuse,
    checks_sheet,
    monthly_sheets,
    package,
    per_layout,
    skeleton,
    text_width,
    timeline_frame,
    timeline_runs,
    write_workbook,
)
from roi_xl.workbook.package import PartCache, PartsWorkbook
from roi_xl.workbook.skeleton import SplicingWorksheet
from roi_xl.workbook.writer import Reuse, stored_inputs

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


def _switching_input(model: Template) -> str:
    """A currency input whose format turns finer below 100 (currency_precise)."""
    return next(
        item.key
        for item in model.inputs
        if item.kind == "currency" and item.minimum < 100 < item.maximum
    )


@pytest.fixture
def fresh_skeletons(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """No skeleton yet in this process; the counts of sheets written each way."""
    monkeypatch.setattr(skeleton, "_SKELETONS", {})
    monkeypatch.setattr(skeleton, "_UNSPLICEABLE", set())
    monkeypatch.setattr(skeleton, "_KEPT", {"chars": 0})
    monkeypatch.setattr(skeleton, "_SECTIONS", {})
    monkeypatch.setattr(skeleton, "SECTION_STATS", {"reused": 0, "written": 0})
    stats = {"spliced": 0, "made": 0, "plain": 0, "dropped": 0}
    monkeypatch.setattr(skeleton, "STATS", stats)
    return stats


def _spliced_and_alone(
    model: Template,
    locale: str,
    row: dict[str, float],
    folder: Path,
    number: int,
    reuse: Reuse | None = None,
    months: int = 12,
    timelines: dict[str, TimelineValues] | None = None,
) -> None:
    options = WorkbookOptions(
        locale=locale, overrides=row, start=dt.date(2026, 3, 1), months=months
    )
    spliced = write_workbook(
        model,
        folder / f"spliced-{number}.xlsx",
        options,
        timelines,
        worksheet_class=SplicingWorksheet,
        reuse=reuse,
    )
    alone = write_workbook(model, folder / f"alone-{number}.xlsx", options, timelines)
    spliced_parts, alone_parts = _parts(spliced), _parts(alone)
    assert list(spliced_parts) == list(alone_parts)
    for part, content in alone_parts.items():
        assert spliced_parts[part] == content, f"row {number}: {part} differs"
    if reuse is not None:
        with zipfile.ZipFile(spliced) as written:
            assert written.testzip() is None  # every part's CRC checks out
            assert {i.compress_type for i in written.infolist()} == {zipfile.ZIP_DEFLATED}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", templates.builtin_names())
def test_spliced_sheets_are_the_sheets_written_alone(
    name: str, locale: str, tmp_path: Path, fresh_skeletons: dict[str, int]
) -> None:
    model = templates.load(name)
    key = _switching_input(model)
    rng = random.Random(f"splice-{name}-{locale}")
    reuse = Reuse()
    _spliced_and_alone(model, locale, {key: 500.0}, tmp_path, 0, reuse)
    made = fresh_skeletons["made"]
    assert made > 0 and fresh_skeletons["spliced"] == 0  # every sheet met for the first time
    assert reuse.parts.reused == 0 and reuse.fits.replayed == 0  # nothing to reuse yet
    _spliced_and_alone(model, locale, {key: 700.0}, tmp_path, 1, reuse)
    assert fresh_skeletons["spliced"] > 0  # the same shapes, other numbers
    assert reuse.parts.reused > 0  # styles, theme, workbook.xml... copied deflated
    assert reuse.parts.strings_reused == 1  # the same labels: the same shared strings XML
    assert reuse.fits.replayed > 0  # the same texts in the same cells
    assert skeleton.SECTION_STATS["reused"] > 0  # the same conditional formats
    _spliced_and_alone(model, locale, {key: 50.0}, tmp_path, 2, reuse)
    assert fresh_skeletons["made"] > made  # the input's finer format: another skeleton
    made = fresh_skeletons["made"]
    spliced = fresh_skeletons["spliced"]
    _spliced_and_alone(model, locale, {key: 51.0}, tmp_path, 3, reuse)
    assert fresh_skeletons["made"] == made  # that pattern again: every sheet spliced
    assert fresh_skeletons["spliced"] > spliced
    for number in range(4, 7):
        _spliced_and_alone(model, locale, _random_row(model, rng), tmp_path, number, reuse)
    assert fresh_skeletons["plain"] == 0
    assert reuse.parts.deflated > 0 and reuse.fits.fitted > 0
    assert 0 < len(reuse.parts.strings) <= package.KEPT_STRINGS
    assert len(reuse.layouts) == 1  # one template, locale and period: one layout for all


def test_a_skeleton_failing_its_check_is_not_used(
    tmp_path: Path, fresh_skeletons: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A number's cell that does not end as the skeleton expects cannot be cut: the check
    refuses the skeleton and XlsxWriter's text is written, then and for that shape again.
    Only sheets without a number keep one (their whole text, no hole)."""
    monkeypatch.setattr(skeleton, "number_tail", lambda text: f"<v>{text}0</v></c>")
    model = templates.load("phoning-b2b")
    key = _switching_input(model)
    for number, value in enumerate((500.0, 700.0)):
        _spliced_and_alone(model, "en-US", {key: value}, tmp_path, number)
    assert fresh_skeletons["plain"] > 0
    assert all(len(pieces) == 1 for pieces in skeleton._SKELETONS.values())


def test_skeletons_kept_stay_within_their_budget(
    tmp_path: Path, fresh_skeletons: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process meeting more patterns than its budget holds starts again: what it keeps does
    not grow with the rows, and the files stay the same."""
    budget = 1_500_000  # one Timeline skeleton and the small sheets, not two Timelines
    monkeypatch.setattr(skeleton, "_BUDGET_CHARS", budget)
    model = templates.load("phoning-b2b")
    key = _switching_input(model)
    for number, value in enumerate((500.0, 50.0, 700.0, 60.0)):
        _spliced_and_alone(model, "en-US", {key: value}, tmp_path, number)
        assert 0 < skeleton._KEPT["chars"] <= budget
    assert fresh_skeletons["dropped"] > 0 and fresh_skeletons["plain"] == 0


def test_a_part_is_copied_deflated_only_while_it_comes_back_the_same() -> None:
    cache = PartCache()
    first = cache.part("xl/styles.xml", b"<styleSheet/>")
    assert cache.part("xl/styles.xml", b"<styleSheet/>") is first
    assert (cache.reused, cache.deflated) == (1, 1)
    changed = cache.part("xl/styles.xml", b"<styleSheet></styleSheet>")
    assert changed is not first and (cache.reused, cache.deflated) == (1, 2)
    assert zlib.decompress(changed.deflated, -zlib.MAX_WBITS) == b"<styleSheet></styleSheet>"
    assert changed.crc == zlib.crc32(b"<styleSheet></styleSheet>")
    assert len(cache.parts) == 1  # one part kept per name, however many workbooks


def _workbook_xml(cache: PartCache | None, target: str, active: str) -> str:
    """The workbook.xml of two sheets and a name, written alone (no cache) or in a batch."""
    package = io.BytesIO()
    options = {"in_memory": True}
    book = Workbook(package, options) if cache is None else PartsWorkbook(package, options, cache)
    for name in ("Inputs", "Results"):
        book.add_worksheet(name).write_number(0, 0, 1.5)
    book.define_name("rate", target)
    book.get_worksheet_by_name(active).activate()
    book.close()
    if isinstance(book, PartsWorkbook):
        return next(h.getvalue() for h, name, _ in book.parts if name == "xl/workbook.xml")
    with zipfile.ZipFile(package) as written:
        return written.read("xl/workbook.xml").decode("utf-8")


def test_workbook_xml_is_reused_only_while_what_it_is_written_from_is_equal() -> None:
    """The same sheets, names and views give the text written before; a changed name or
    active sheet gives XlsxWriter's own text again, each equal to the workbook written
    alone."""
    cache = PartCache()
    cases = [
        ("=Inputs!$A$1", "Results", 0),
        ("=Inputs!$A$1", "Results", 1),  # equal: reused
        ("=Inputs!$B$1", "Results", 1),  # another name's target
        ("=Inputs!$B$1", "Inputs", 1),  # another active sheet
        ("=Inputs!$B$1", "Inputs", 2),  # equal again
    ]
    for target, active, reused in cases:
        assert _workbook_xml(cache, target, active) == _workbook_xml(None, target, active)
        assert cache.workbook_xml_reused == reused
    assert 'activeTab="1"' not in _workbook_xml(cache, "=Inputs!$B$1", "Inputs")


def _cols_xml(worksheet_class: type, widths: tuple[int, int], shared: bool) -> str:
    """The <cols> of a sheet whose columns B and C have ``widths`` and a bold format: one
    format for both (``shared``) or two equal ones."""
    package = io.BytesIO()
    book = Workbook(package, {"in_memory": True})
    sheet = book.add_worksheet("Sheet", worksheet_class=worksheet_class)
    bold = book.add_format({"bold": True})
    sheet.set_column_pixels(1, 1, widths[0], bold)
    sheet.set_column_pixels(2, 2, widths[1], bold if shared else book.add_format({"bold": True}))
    sheet.write_number(0, 1, 2.5)
    book.close()
    with zipfile.ZipFile(package) as written:
        text = written.read("xl/worksheets/sheet1.xml").decode("utf-8")
    return re.search(r"<cols>.*</cols>", text).group()  # type: ignore[union-attr]


def test_columns_are_reused_only_for_equal_columns(fresh_skeletons: dict[str, int]) -> None:
    """Equal columns give the text written before; another width, or an equal format that
    is not the very same one (XlsxWriter then writes the columns apart), gives XlsxWriter's
    own text again, each equal to the sheet written alone."""
    cases = [((80, 80), True), ((80, 80), True), ((80, 90), True), ((80, 80), False)]
    written = []  # sections written anew for each sheet (the others are reused)
    for widths, shared in cases:
        before = skeleton.SECTION_STATS["written"]
        spliced = _cols_xml(SplicingWorksheet, widths, shared)
        assert spliced == _cols_xml(Worksheet, widths, shared)
        written.append(skeleton.SECTION_STATS["written"] - before)
    # the first sheet: columns, conditional formats, validations; then only the columns
    assert written == [3, 0, 1, 1]
    assert _cols_xml(Worksheet, (80, 80), True).count("<col ") == 1  # one range: B and C
    assert _cols_xml(Worksheet, (80, 80), False).count("<col ") == 2


def test_a_package_too_large_for_a_plain_zip_goes_through_zipfile(
    tmp_path: Path, fresh_skeletons: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part past the zip's 4 GiB fields (here: past a lowered limit) needs zip64, which the
    batch's own zip does not write: the package is zipped by zipfile, the parts the same."""
    monkeypatch.setattr(package, "_LIMIT", 1_000)
    model = templates.load("crm")
    written = []
    monkeypatch.setattr(package, "_write_zip", _spying(package._write_zip, written))
    _spliced_and_alone(model, "en-US", {}, tmp_path, 0, Reuse())
    assert written == [False]


def _spying(function, outcomes: list[object]):  # type: ignore[no-untyped-def]
    def spy(*args: object) -> object:
        outcomes.append(function(*args))
        return outcomes[-1]

    return spy


def test_column_fits_are_replayed_for_a_shape_met_and_made_again_for_another(
    tmp_path: Path, fresh_skeletons: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sheet of a shape fitted before takes the same steps; another shape (other texts:
    another locale) is fitted anew. The steps are kept for at most KEPT_FITS shapes: a
    process meeting more starts again, and every file stays the one written alone."""
    model = templates.load("phoning-b2b")
    reuse = Reuse()
    _spliced_and_alone(model, "fr-FR", {}, tmp_path, 0, reuse)
    sheets = reuse.fits.fitted
    assert sheets > 0 and reuse.fits.replayed == 0
    _spliced_and_alone(model, "fr-FR", {"calls_made": 8100.0}, tmp_path, 1, reuse)
    assert (reuse.fits.fitted, reuse.fits.replayed) == (sheets, sheets)
    _spliced_and_alone(model, "en-US", {}, tmp_path, 2, reuse)
    assert reuse.fits.fitted > sheets  # English labels: other shapes
    monkeypatch.setattr(text_width, "KEPT_FITS", 4)
    bounded = Reuse()
    for number in (3, 4):
        _spliced_and_alone(model, "en-US", {}, tmp_path, number, bounded)
        assert 0 < len(bounded.fits.steps) <= 4


def test_section_keys_tell_apart_what_is_written_apart() -> None:
    frozen = skeleton.frozen
    written = [1, 1.0, True, "1", 0.0, -0.0, None, [1], (1,), {"value": 1}, {"value": 1.0}]
    keys = [frozen(value) for value in written]
    assert None not in keys
    assert len(set(keys)) == len(written)
    assert frozen({"a": 1, "b": 2}) != frozen({"b": 2, "a": 1})  # written in their order
    assert frozen({"format": object()}) is None  # not a plain value: never reused
    assert frozen([{"value": 2}]) == frozen([{"value": 2}])


@pytest.fixture
def fresh_frames(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """No Timeline row or block frame yet in this process; the counts of rows put in and
    kept, and of blocks put in whole."""
    monkeypatch.setattr(timeline_runs, "_FRAMES", {})
    monkeypatch.setattr(timeline_runs, "_BLOCKS", {})
    stats = {"put": 0, "kept": 0, "blocks": 0}
    monkeypatch.setattr(timeline_runs, "STATS", stats)
    return stats


def _timeline_rows(model: Template) -> int:
    """The Timeline's rows of formulas: each scenario's block rows and the 3 month headers."""
    assert model.timeline is not None
    return len(SCENARIOS) * len(model.timeline.rows) + 3


@pytest.mark.parametrize("months", [3, 12, 36])
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", templates.builtin_names())
def test_timeline_rows_from_frames_are_the_rows_written_alone(
    name: str,
    locale: str,
    months: int,
    tmp_path: Path,
    fresh_skeletons: dict[str, int],
    fresh_frames: dict[str, int],
) -> None:
    """The first workbook keeps a frame of every row (each checked) and of each block, the
    next ones put each block in whole from its frame (a hit), and every file is the one
    written alone."""
    model = templates.load(name)
    rng = random.Random(f"timeline-{name}-{locale}-{months}")
    reuse = Reuse()
    rows = _timeline_rows(model)
    _spliced_and_alone(model, locale, {}, tmp_path, 0, reuse, months)
    assert fresh_frames == {"put": 0, "kept": rows, "blocks": 0}
    assert len(timeline_runs._BLOCKS) == len(SCENARIOS)
    for number in range(1, 4):
        _spliced_and_alone(model, locale, _random_row(model, rng), tmp_path, number, reuse, months)
        assert fresh_frames == {"put": rows * number, "kept": rows, "blocks": 3 * number}
    assert fresh_skeletons["plain"] == 0 and fresh_skeletons["spliced"] > 0


def test_timeline_frames_are_met_again_only_for_their_template_locale_and_period(
    tmp_path: Path, fresh_skeletons: dict[str, int], fresh_frames: dict[str, int]
) -> None:
    """Another locale, period or template is a miss: its rows are written and kept anew."""
    crm, phoning = templates.load("crm"), templates.load("phoning-b2b")
    cases = [(crm, "en-US", 12), (crm, "fr-FR", 12), (crm, "en-US", 3), (phoning, "en-US", 12)]
    kept = 0
    for number, (model, locale, months) in enumerate(cases):
        _spliced_and_alone(model, locale, {}, tmp_path, number, Reuse(), months)
        kept += _timeline_rows(model)
        assert fresh_frames == {"put": 0, "kept": kept, "blocks": 0}
    _spliced_and_alone(crm, "fr-FR", {}, tmp_path, len(cases), Reuse(), 12)
    assert fresh_frames == {"put": _timeline_rows(crm), "kept": kept, "blocks": 3}


def _with_errors(model: Template, row: dict[str, float]) -> dict[str, TimelineValues]:
    """The timelines of ``row``, with an error value in one month of a flow row and of a
    stock row of the realistic scenario (as a division by zero would leave them)."""
    options = WorkbookOptions(overrides=row, start=dt.date(2026, 3, 1))
    timelines = batch._timelines(model, [stored_inputs(model, options)])[0]
    assert timelines is not None and model.timeline is not None
    flow = next(item.key for item in model.timeline.rows if item.is_flow)
    stock = next(item.key for item in model.timeline.rows if not item.is_flow)
    for key, month in ((flow, 4), (stock, 0)):
        evaluated = timelines["realistic"].rows[key]
        values, errors = evaluated.values.copy(), evaluated.errors.copy()
        values.reshape(-1)[month], errors.reshape(-1)[month] = float("nan"), DIV0.code
        timelines["realistic"].rows[key] = Evaluated(values, errors)
    return timelines


@pytest.mark.parametrize("locale", LOCALES)
def test_a_timeline_row_holding_an_error_is_written_as_always(
    locale: str, tmp_path: Path, fresh_skeletons: dict[str, int], fresh_frames: dict[str, int]
) -> None:
    """A row with an error value is not put in from its frame (its cells are written and
    read one by one): the file is still the one written alone, before and after a frame."""
    model = templates.load("phoning-b2b")
    rows = _timeline_rows(model)
    reuse = Reuse()
    _spliced_and_alone(model, locale, {}, tmp_path, 0, reuse, timelines=_with_errors(model, {}))
    # No frame from a row with an error, nor for its block: the two others are kept whole.
    assert fresh_frames == {"put": 0, "kept": rows - 2, "blocks": 0}
    assert len(timeline_runs._BLOCKS) == 2
    _spliced_and_alone(model, locale, {}, tmp_path, 1, reuse)
    # Two blocks put in whole; the third row by row, its two rows kept now, and it whole.
    assert fresh_frames == {"put": rows - 2, "kept": rows, "blocks": 2}
    assert len(timeline_runs._BLOCKS) == 3
    row = {"calls_made": 9000.0}
    _spliced_and_alone(model, locale, row, tmp_path, 2, reuse, timelines=_with_errors(model, row))
    # A hit, but for the two rows: their block is written row by row.
    assert fresh_frames == {"put": 2 * rows - 4, "kept": rows, "blocks": 4}
    assert fresh_skeletons["plain"] == 0


def _reshaped(model: Template, row: dict[str, float]) -> dict[str, TimelineValues]:
    """The timelines of ``row`` with, in the realistic scenario, a currency flow row made
    small (its number format turns finer), a -0.0 in one month of a stock row and a flow
    row of -0.0s (its total and years -0.0 too)."""
    options = WorkbookOptions(overrides=row, start=dt.date(2026, 3, 1))
    timelines = batch._timelines(model, [stored_inputs(model, options)])[0]
    assert timelines is not None and model.timeline is not None
    rows = timelines["realistic"].rows
    flows = [item.key for item in model.timeline.rows if item.is_flow]
    small = next(
        k for k in flows if model.timeline.row(k).kind == "currency" and rows[k].values.any()
    )
    stock = next(item.key for item in model.timeline.rows if not item.is_flow)
    signed = next(k for k in flows if k != small)
    values = rows[small].values * 1e-6
    assert 0 < np.abs(values[values != 0]).max() < 100
    rows[small] = Evaluated(values, rows[small].errors)
    values = rows[stock].values.copy()
    values.reshape(-1)[2] = -0.0
    rows[stock] = Evaluated(values, rows[stock].errors)
    rows[signed] = Evaluated(np.full(rows[signed].values.shape, -0.0), rows[signed].errors)
    return timelines


@pytest.mark.parametrize("locale", LOCALES)
def test_a_block_from_its_frame_follows_formats_and_signed_zeros(
    locale: str, tmp_path: Path, fresh_skeletons: dict[str, int], fresh_frames: dict[str, int]
) -> None:
    """A block put in whole gives each row the number format its values ask for (finer for
    small figures) and writes -0.0 as -0.0, as the plain writer does: on a hit and on the
    workbook that keeps the frames."""
    model = templates.load("phoning-b2b")
    rows = _timeline_rows(model)
    reuse = Reuse()
    _spliced_and_alone(model, locale, {}, tmp_path, 0, reuse)
    assert fresh_frames == {"put": 0, "kept": rows, "blocks": 0}
    row = {"calls_made": 9000.0}
    _spliced_and_alone(model, locale, row, tmp_path, 1, reuse, timelines=_reshaped(model, row))
    assert fresh_frames == {"put": rows, "kept": rows, "blocks": 3}
    _spliced_and_alone(model, locale, {}, tmp_path, 2, Reuse(), timelines=_reshaped(model, {}))
    assert fresh_frames["blocks"] == 6
    with zipfile.ZipFile(tmp_path / "alone-1.xlsx") as written:
        sheets = [written.read(name) for name in written.namelist() if "worksheets/sheet" in name]
    assert any(b"<v>-0.0</v>" in sheet for sheet in sheets)
    assert fresh_skeletons["plain"] == 0


def test_a_timeline_frame_failing_its_check_is_not_kept(
    tmp_path: Path,
    fresh_skeletons: dict[str, int],
    fresh_frames: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Block rows made from their frame that would not be the rows written (here: a total
    off by one) keep no frame: they are written every time, the files stay the same."""
    made = timeline_runs.RowNumbers.cells

    def off_by_one(numbers: timeline_runs.RowNumbers, cells: int) -> list[float] | None:
        values = made(numbers, cells)
        return None if values is None else [values[0] + 1.0, *values[1:]]

    monkeypatch.setattr(timeline_runs.RowNumbers, "cells", off_by_one)
    model = templates.load("crm")
    for number in range(3):
        _spliced_and_alone(model, "en-US", {}, tmp_path, number, Reuse())
    # Only the month headers' rows, and no block: each of its rows lacks a frame.
    assert fresh_frames == {"put": 2 * 3, "kept": 3, "blocks": 0}
    assert not timeline_runs._BLOCKS


def _sheet_xml(worksheet_class: type, write: object) -> bytes:
    """The first sheet's XML of a workbook whose one sheet ``write`` fills."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    worksheet = workbook.add_worksheet("Sheet1", worksheet_class=worksheet_class)
    write(workbook, worksheet)  # type: ignore[operator]
    workbook.close()
    with zipfile.ZipFile(buffer) as written:
        return written.read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize("change", ["replaced", "added inside"])
def test_a_run_is_read_cell_by_cell_once_its_row_changed(
    change: str, fresh_skeletons: dict[str, int]
) -> None:
    """A run stands in the shape as its token only while its row holds its very cells and
    nothing between them; else the row is read cell by cell. Either way the sheet is the
    one XlsxWriter writes from the same cells, the formats numbered as it numbers them."""
    columns = skeleton.RunColumns((2, 3, 5))

    def cells(changed: bool) -> list[tuple[int, str, float, int]]:
        """Column, formula, value and which format (0: bold, the first used; 1: plain)."""
        final = [(2, "=B5*2", 1.5, 0), (3, "=C5+1", -0.0, 1), (5, "=D5", 7.25, 1)]
        if changed and change == "replaced":
            final[0] = (2, "=B5*2", 2.5, 0)
        if changed and change == "added inside":
            final.append((4, "=E5", 3.0, 1))
        return final

    def formats(workbook: xlsxwriter.Workbook) -> tuple[object, object]:
        return (
            workbook.add_format({"num_format": "0.00", "bold": True}),
            workbook.add_format({"num_format": "0.000"}),
        )

    def splicing(changed: bool):  # type: ignore[no-untyped-def]
        def write(workbook: xlsxwriter.Workbook, worksheet: SplicingWorksheet) -> None:
            styles = formats(workbook)
            run = cells(False)
            made = [CellFormulaTuple(f[1:], styles[i], value) for _, f, value, i in run]
            worksheet.put_run(4, columns, made, [f"{v}" for _, _, v, _ in run], styles)
            if changed and change == "replaced":
                worksheet.write_formula(4, 2, "=B5*2", styles[0], 2.5)
            if changed and change == "added inside":
                worksheet.write_formula(4, 4, "=E5", styles[1], 3.0)

        return write

    def plain(changed: bool):  # type: ignore[no-untyped-def]
        def write(workbook: xlsxwriter.Workbook, worksheet: object) -> None:
            styles = formats(workbook)
            for col, formula, value, index in sorted(cells(changed)):
                worksheet.write_formula(4, col, formula, styles[index], value)  # type: ignore[attr-defined]

        return write

    same, changed = (_sheet_xml(xlsxwriter.worksheet.Worksheet, plain(c)) for c in (False, True))
    assert b'<c r="C5" s="1">' in same  # the formats numbered as the cells first use them
    assert b'<c r="D5" s="2"><f>C5+1</f><v>-0.0</v></c>' in same
    assert _sheet_xml(SplicingWorksheet, splicing(False)) == same
    assert fresh_skeletons["made"] == 1
    assert _sheet_xml(SplicingWorksheet, splicing(True)) == changed  # not the kept skeleton
    assert fresh_skeletons["made"] == 2
    assert _sheet_xml(SplicingWorksheet, splicing(False)) == same
    assert fresh_skeletons["spliced"] == 1


def test_a_row_frame_gives_its_formats_in_the_order_its_cells_first_use_them() -> None:
    """The file numbers formats as its cells first use them: a flow row's total (its own
    format) comes before its months."""
    columns = skeleton.RunColumns((3, 5, 6))
    frame = timeline_runs._RowFrame(
        templates.load("crm"), columns, ("a", "b", "c"), (1, 0, 0), None, None
    )
    month, total = object(), object()
    assert frame.used((month, total)) == (total, month)  # type: ignore[arg-type]
    assert frame.used((month, month)) == (month, month)  # type: ignore[arg-type]


def test_a_run_s_columns_must_ascend() -> None:
    with pytest.raises(ValueError, match="ascend"):
        skeleton.RunColumns((3, 2))
    assert skeleton.RunColumns((1, 2)).token != skeleton.RunColumns((1, 2)).token


def test_numbers_as_text_are_written_as_the_row_writer_writes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """0.0 and -0.0 are equal numbers and two texts in a file; each other value is written
    as ``float.__repr__`` writes it, however often it comes. What is kept stays within its
    bound."""
    monkeypatch.setattr(timeline_runs, "_KNOWN_TEXTS", timeline_runs._Texts({0.0: "0.0"}))
    monkeypatch.setattr(timeline_runs, "_TEXTS_LIMIT", 8)

    def texts(values: list[float]) -> list[str]:
        return timeline_runs._flat_texts(np.array(values), values)

    values = [0.0, 1.5, -0.0, 1e16, float("nan"), 1.5, -2.25e-7, float("inf"), 5e-324, 0.1]
    assert texts(values) == [f"{value}" for value in values]
    assert texts(values)[:5] == ["0.0", "1.5", "-0.0", "1e+16", "nan"]
    assert texts([-0.0, 0.0]) == ["-0.0", "0.0"]
    assert texts([]) == []
    for value in range(20):
        assert texts([value + 0.25, 0.0, -0.0]) == [f"{value + 0.25}", "0.0", "-0.0"]
        assert 0 < len(timeline_runs._KNOWN_TEXTS) <= 8


def test_block_sums_are_the_writer_s_sums_row_by_row() -> None:
    """A block's totals and yearly sums, worked out for all its rows at once, are the sums
    the plain writer makes of each row (a horizon that is not whole years included)."""
    rng = np.random.default_rng(7)
    for months in (120, 36, 30, 12, 7):
        table = rng.standard_normal((31, months)) * 10.0 ** rng.integers(-9, 12, (31, months))
        table[rng.random((31, months)) < 0.6] = 0.0
        summed = timeline_runs._with_sums(table)
        for row, values in zip(table, summed, strict=True):
            objects = np.array(row).astype(object)
            years = [
                timeline_frame.total(objects[start : start + 12]) for start in range(0, months, 12)
            ]
            assert values.tolist() == [timeline_frame.total(objects), *row.tolist(), *years]


def test_timeline_frames_kept_stay_within_their_bound(
    tmp_path: Path,
    fresh_skeletons: dict[str, int],
    fresh_frames: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fewer frames allowed than a Timeline has rows (or blocks): the process starts again
    each time it reaches the bound, and every file is still the one written alone."""
    monkeypatch.setattr(timeline_runs, "_FRAMES_LIMIT", 40)
    model = templates.load("phone-system")
    for number in range(3):
        _spliced_and_alone(model, "fr-FR", {}, tmp_path, number, Reuse())
        assert 0 < len(timeline_runs._FRAMES) <= 40
    assert fresh_frames["kept"] > _timeline_rows(model)  # kept again after each new start
    monkeypatch.setattr(timeline_runs, "_FRAMES_LIMIT", 4096)
    monkeypatch.setattr(timeline_runs, "_BLOCKS_LIMIT", 2)  # fewer than a Timeline's blocks
    for number in range(3, 6):
        _spliced_and_alone(model, "fr-FR", {}, tmp_path, number, Reuse())
        assert 0 < len(timeline_runs._BLOCKS) <= 2


@pytest.mark.parametrize(
    ("name", "locale", "months"),
    [
        ("phoning-b2b", "en-US", 3),
        ("phoning-b2b", "fr-FR", 36),
        ("crm", "fr-FR", 12),
        ("crm", "en-US", 3),
        ("phone-system", "en-US", 36),
        ("phone-system", "fr-FR", 12),
    ],
)
def test_charts_from_skeletons_are_the_charts_written_alone(
    name: str, locale: str, months: int, tmp_path: Path, fresh_skeletons: dict[str, int]
) -> None:
    """The first workbook's charts are written by XlsxWriter and kept as skeletons; the
    next ones, of the same options with other numbers, are written from them; every file
    is the one written alone."""
    model = templates.load(name)
    rng = random.Random(f"charts-{name}-{locale}-{months}")
    reuse = Reuse()
    _spliced_and_alone(model, locale, {}, tmp_path, 0, reuse, months)
    charts = reuse.parts.charts
    assert charts.written > 0 and charts.reused == 0 and charts.skeletons
    for number in range(1, 4):
        _spliced_and_alone(model, locale, _random_row(model, rng), tmp_path, number, reuse, months)
    assert charts.reused > 0
    assert not charts.refused


def test_a_chart_of_other_options_is_written_anew(
    tmp_path: Path, fresh_skeletons: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other titles (another locale) or another period make other charts: written by
    XlsxWriter, not from the skeletons kept; at most KEPT_CHARTS of them are kept."""
    model = templates.load("phoning-b2b")
    reuse = Reuse()
    charts = reuse.parts.charts
    _spliced_and_alone(model, "en-US", {}, tmp_path, 0, reuse)
    written = charts.written
    _spliced_and_alone(model, "fr-FR", {}, tmp_path, 1, reuse)
    assert charts.written == 2 * written and charts.reused == 0
    _spliced_and_alone(model, "fr-FR", {}, tmp_path, 2, reuse, months=24)
    assert charts.written > 2 * written
    monkeypatch.setattr(chart_reuse, "KEPT_CHARTS", 3)
    bounded = Reuse()
    for number, months in enumerate((12, 24, 12), start=3):
        _spliced_and_alone(model, "en-US", {}, tmp_path, number, bounded, months)
        assert 0 < len(bounded.parts.charts.skeletons) <= 3


def test_a_chart_skeleton_failing_its_check_is_not_used(
    tmp_path: Path, fresh_skeletons: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mark that also stands in the chart's own text splits it wrongly: the skeleton is
    refused, and the chart written by XlsxWriter, then and for those options again."""
    monkeypatch.setattr(chart_reuse, "MARK", "<c:")
    model = templates.load("crm")
    reuse = Reuse()
    for number in range(2):
        _spliced_and_alone(model, "en-US", {}, tmp_path, number, reuse)
    charts = reuse.parts.charts
    assert charts.reused == 0 and not charts.skeletons and charts.refused
    assert charts.written > 0


def test_a_chart_number_written_past_its_mark_refuses_the_skeleton(
    tmp_path: Path, fresh_skeletons: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were a number written some other way than through its mark, the skeleton would keep
    that chart's number as fixed text: the marked number's own value is a probe no cell
    holds, so the check fails, the skeleton is refused and every file stays right."""
    monkeypatch.setattr(chart_reuse._Marked, "__format__", lambda self, spec: repr(float(self)))
    model = templates.load("phoning-b2b")
    reuse = Reuse()
    rng = random.Random("probe")
    for number in range(2):
        _spliced_and_alone(model, "en-US", _random_row(model, rng), tmp_path, number, reuse)
    charts = reuse.parts.charts
    assert not charts.skeletons and charts.refused and charts.reused == 0


def test_chart_keys_tell_apart_what_is_written_apart() -> None:
    """A number is a hole, and so is a text in a text series (a chart's labels sorted by
    their values); anything else (an int, a text in a number series, a blank, an option)
    is in the key."""
    workbook = Workbook(io.BytesIO(), {"in_memory": True})
    chart = workbook.add_chart({"type": "column"})
    chart.add_series({"values": "=Sheet1!$A$1:$A$3"})
    keys = []
    for data in (
        [1.0, 2.0, 3.0],
        [4.0, 5.0, 6.0],
        [1, 2.0, 3.0],
        ["1", 2.0, 3.0],
        [None, 2.0, 3.0],
        ["2", 2.0, 3.0],
    ):
        chart.formula_data = [data]
        keys.append(chart_reuse._key(chart))
    assert keys[0][0] == keys[1][0] and keys[0][1] == ["1.0", "2.0", "3.0"]
    assert len({key for key, _ in keys[1:]}) == 5
    labels = []
    for data in (["Win rate", "Calls & hours"], ["Calls & hours", "Win rate"]):
        chart.formula_data = [data]
        labels.append(chart_reuse._key(chart))
    assert labels[0][0] == labels[1][0]  # the same chart, its labels in another order
    assert labels[1][1] == ["Calls &amp; hours", "Win rate"]  # as XlsxWriter writes them
    chart.set_title({"name": "Other"})
    chart.formula_data = [[1.0, 2.0, 3.0]]
    assert chart_reuse._key(chart)[0] != keys[0][0]
    workbook.close()


@pytest.mark.parametrize("deflater", ["isal", "zlib"])
def test_parts_deflate_alike_with_either_deflater(
    deflater: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ISA-L's deflate where installed, zlib's otherwise: both inflate to the part."""
    if deflater == "zlib":
        monkeypatch.setattr(package, "deflater", zlib)
    else:
        try:
            from isal import isal_zlib
        except ImportError:  # a dependency of roi_xl: CI has it; a platform without it, zlib
            if os.environ.get("CI", "").lower() == "true":
                raise
            pytest.skip("isal is not installed (run scripts/setup.sh)")
        assert package.deflater is isal_zlib  # installed with roi_xl: used
    data = b"<c r='A1'><v>1.5</v></c>" * 5_000
    part = package.PartCache().part("xl/worksheets/sheet1.xml", data)
    assert zlib.decompress(part.deflated, -zlib.MAX_WBITS) == data
    assert part.crc == zlib.crc32(data)
    assert len(part.deflated) < len(data) // 10


def test_monthly_formulas_are_rendered_once_per_layout(
    tmp_path: Path, fresh_skeletons: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tabs' formulas are rendered for the first tab of a layout (36 tabs here) and
    reused by the others and by the next workbook of that layout; another layout renders
    its own; the files stay the ones written alone."""
    rendered = []
    original = monthly_sheets._plan_formula

    def counting(ctx, item):  # type: ignore[no-untyped-def]
        rendered.append(item.key)
        return original(ctx, item)

    monkeypatch.setattr(monthly_sheets, "_plan_formula", counting)
    monkeypatch.setattr(per_layout, "_LAYOUT_TEXTS", {})
    model = templates.load("phoning-b2b")
    planned = sum(1 for item in model.monthly.fields if item.plan is not None)
    assert planned > 0
    reuse = Reuse()
    for number, (locale, months) in enumerate((("en-US", 36), ("en-US", 36), ("fr-FR", 3))):
        options = WorkbookOptions(locale=locale, start=dt.date(2026, 3, 1), months=months)
        path = tmp_path / f"batch-{number}.xlsx"
        write_workbook(model, path, options, worksheet_class=SplicingWorksheet, reuse=reuse)
        assert len(rendered) == (planned if number < 2 else 2 * planned)  # once per layout
    _spliced_and_alone(model, "fr-FR", {"calls_made": 8100.0}, tmp_path, 3, reuse, months=3)


def test_checks_and_actuals_texts_are_made_once_per_layout(
    tmp_path: Path, fresh_skeletons: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Checks sheet's labels and formulas and the Actuals sheet's lines are made for the
    first workbook of a layout and reused by the next; another layout (here another locale)
    makes its own, and only the last layout's are kept."""
    made: list[str] = []
    for module, name in ((checks_sheet, "_check"), (actuals_sheet, "_field")):
        original = getattr(module, name)

        def counting(ctx, key, original=original, name=name):  # type: ignore[no-untyped-def]
            made.append(name)
            return original(ctx, key)

        monkeypatch.setattr(module, name, counting)
    monkeypatch.setattr(per_layout, "_LAYOUT_TEXTS", {})
    model = templates.load("crm")
    reuse = Reuse()
    rng = random.Random("layout-texts")

    def batch_file(number: int, locale: str, row: dict[str, float]) -> None:
        options = WorkbookOptions(locale=locale, overrides=row, start=dt.date(2026, 3, 1), months=3)
        path = tmp_path / f"batch-{number}.xlsx"
        write_workbook(model, path, options, worksheet_class=SplicingWorksheet, reuse=reuse)

    batch_file(0, "fr-FR", {})
    first = len(made)
    assert first > 0
    batch_file(1, "fr-FR", _random_row(model, rng))
    assert len(made) == first  # the same layout: nothing made again
    batch_file(2, "en-US", {})
    assert len(made) == 2 * first  # another layout: its own texts
    assert len(per_layout._LAYOUT_TEXTS) == 1
    # and the files are the ones written alone, texts made once or not
    _spliced_and_alone(model, "en-US", _random_row(model, rng), tmp_path, 3, reuse, months=3)


def test_validations_and_check_rules_are_stored_as_xlsxwriter_stores_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A validation or a cell or formula rule met before is stored as XlsxWriter stored it
    (a copy of its own; a formula rule with its own formula), a rule with its sheet's next
    priority; other options are XlsxWriter's again."""
    monkeypatch.setattr(per_layout, "_VALIDATIONS", {})
    monkeypatch.setattr(per_layout, "_RULES", {})
    workbook = Workbook(io.BytesIO(), {"in_memory": True})
    fast, plain = workbook.add_worksheet("fast"), workbook.add_worksheet("plain")
    good = workbook.add_format({"bg_color": "#C6EFCE"})
    options = {"validate": "integer", "criteria": ">=", "value": 0, "input_title": "Calls"}
    for sheet_options in (options, options, {**options, "value": 0.0}):
        per_layout.validate(fast, 4, 2, 4, 2, sheet_options)
        plain.data_validation(4, 2, 4, 2, sheet_options)
    assert fast.validations == plain.validations
    assert fast.validations[0] is not fast.validations[1]
    assert len(per_layout._VALIDATIONS) == 2  # 0 and 0.0 are written apart
    for row in (5, 5, 6):
        rule = {"type": "cell", "criteria": "==", "value": 0, "format": good}
        per_layout.conditional(fast, row, 2, row, 2, rule)
        plain.conditional_format(row, 2, row, 2, dict(rule))
    bad = workbook.add_format({"bg_color": "#FFC7CE"})
    for row, style in ((7, good), (8, good), (8, bad), (9, good)):  # a formula rule per line
        rule = {"type": "formula", "criteria": f"=AND(ISNUMBER(C{row}),C{row}>0)", "format": style}
        per_layout.conditional(fast, row, 2, row, 2, rule)
        plain.conditional_format(row, 2, row, 2, dict(rule))
    for rule in (  # a criterion's name, a range, another type: each as XlsxWriter stores it
        {"type": "formula", "criteria": "today", "format": good},
        {"type": "formula", "criteria": "today", "format": good},
        {"type": "cell", "criteria": ">", "value": 0.0, "format": bad},
        {"type": "cell", "criteria": ">", "value": 0, "format": bad},
        {"type": "blanks", "format": bad},
    ):
        per_layout.conditional(fast, 10, 2, 12, 4, rule)
        plain.conditional_format(10, 2, 12, 4, dict(rule))
    assert fast.cond_formats == plain.cond_formats
    assert [type(rule["value"]) for rule in fast.cond_formats["C11:E13"][2:4]] == [float, int]
    assert fast.dxf_priority == plain.dxf_priority == 13
    assert per_layout.conditional(fast, 10, 2, 12, 16_384, {"type": "cell"}) is None
    assert "C11:XFE13" not in fast.cond_formats  # out of the sheet: refused, as XlsxWriter does
    workbook.close()
