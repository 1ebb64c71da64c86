"""Write a template as a formula-driven workbook, atomically.

The file is written under a temporary name beside the target and renamed
when complete, so a crash never leaves a half-written workbook, and an
existing file is only replaced when the caller says so.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

import xlsxwriter

from roi_xl import __version__
from roi_xl.errors import InputError, RoiXlError
from roi_xl.files import replacing
from roi_xl.locale import Locale, load_locale
from roi_xl.model import engine
from roi_xl.model.excel_errors import ERROR_TEXTS, from_text
from roi_xl.model.template import SCENARIOS, Template
from roi_xl.model.timeline import TimelineValues
from roi_xl.workbook.actuals_sheet import write_actuals
from roi_xl.workbook.calculations_sheet import write_calculations
from roi_xl.workbook.channels_sheet import write_channels
from roi_xl.workbook.checks_sheet import write_checks
from roi_xl.workbook.context import Context
from roi_xl.workbook.cover_sheet import write_cover
from roi_xl.workbook.dashboard_sheet import write_dashboard
from roi_xl.workbook.inputs_sheet import write_inputs
from roi_xl.workbook.lambdas import define_lambdas
from roi_xl.workbook.layout import Layout, build_layout
from roi_xl.workbook.monthly_sheets import write_month
from roi_xl.workbook.package import PartCache, PartsWorkbook, zip_parts
from roi_xl.workbook.sensitivity_sheet import write_sensitivity
from roi_xl.workbook.styles import Styles
from roi_xl.workbook.text_width import WIDEST_PX, ColumnFits, fit_columns
from roi_xl.workbook.timeline_sheet import write_timeline
from roi_xl.workbook.values import Grid, MonthFigures, WorkbookValues, compute_values
from roi_xl.workbook.worksheet import FastWorksheet, ReferenceCell, ReferenceWorksheet

MAX_MONTHS = 60
KEPT_LAYOUTS = 8  # layouts a batch's worker keeps


class OutputExistsError(RoiXlError):
    """The target file exists and overwriting was not asked for."""


@dataclass(frozen=True)
class WorkbookOptions:
    """Everything ``roi-xl new`` can set."""

    locale: str = "en-US"
    overrides: Mapping[str, float] = field(default_factory=dict)
    scenario: str = "realistic"
    start: dt.date | None = None
    months: int = 12
    force: bool = False
    password: str = ""
    actuals: Sequence[MonthFigures] = ()
    heatmaps: Sequence[Grid | None] = ()
    created: dt.date | None = None
    inputs: Mapping[str, Mapping[str, float]] | None = None  # exact values per scenario
    lambdas: bool = False  # also define each business function as an Excel 365 LAMBDA


def write_workbook(
    template: Template,
    path: str | Path,
    options: WorkbookOptions,
    timelines: Mapping[str, TimelineValues] | None = None,
    worksheet_class: type[FastWorksheet] = FastWorksheet,
    reuse: Reuse | None = None,
    swept: bool = False,
) -> Path:
    """Write ``template`` to ``path`` as an .xlsx workbook and return the path.

    ``timelines`` are the scenarios' timelines of exactly these options when a batch has
    computed them already (many workbooks in one pass); otherwise they are computed here.
    A batch passes the ``worksheet_class`` that splices numbers into skeletons of its sheets
    (same file, written faster from the second workbook of a shape on), and what it
    ``reuse``s from the workbooks written before (the same file again); ``swept``: it removed
    the stale temporary files of its folder once for all its workbooks."""
    target = Path(path)
    check_target(target, options.force)
    plan = _plan(template, options, timelines, reuse)
    package = io.BytesIO()  # assembled in memory, so a failing disk leaves no open zip behind
    if reuse is None:
        workbook = xlsxwriter.Workbook(package, _XLSXWRITER_OPTIONS)
    else:
        workbook = PartsWorkbook(io.BytesIO(), _XLSXWRITER_OPTIONS, reuse.parts)
    _write_sheets(workbook, template, options, plan, worksheet_class, reuse and reuse.fits)
    workbook.close()
    if isinstance(workbook, PartsWorkbook) and reuse is not None:
        zip_parts(workbook, reuse.parts, package)
    _release(workbook)
    with replacing(target, swept=swept) as temporary:
        temporary.write_bytes(package.getbuffer())
    return target


def _release(workbook: xlsxwriter.Workbook) -> None:
    """Drop the sheets' cells once the file is assembled. A sheet and its workbook refer to
    each other, so without this the cells (tens of thousands of tuples) would wait for the
    garbage collector, whose passes over them cost a batch a tenth of its time; emptied
    here, reference counting frees them at once."""
    for worksheet in workbook.worksheets():
        worksheet.table.clear()
        worksheet.row_info.clear()
        worksheet.col_info.clear()


@dataclass
class Reuse:
    """What a batch's worker carries from one workbook to the next, each bounded: the parts
    of the zip it wrote last, and how each sheet shape met had its columns fitted."""

    parts: PartCache = field(default_factory=PartCache)
    fits: ColumnFits = field(default_factory=ColumnFits)
    # The locale and layout of a template, locale, start and period: every row of a batch
    # shares them, and the layout keeps the reference maps its cells ask for.
    layouts: dict[tuple[object, ...], tuple[Locale, Layout]] = field(default_factory=dict)

    def layout(
        self, template: Template, code: str, start: dt.date, months: int
    ) -> tuple[Locale, Layout]:
        """The locale ``code`` and the layout built from it, made once."""
        key = (id(template), template.key, template.digest, code, start, months)
        known = self.layouts.get(key)
        if known is None:
            if len(self.layouts) >= KEPT_LAYOUTS:
                self.layouts.clear()
            locale = load_locale(code)
            known = self.layouts[key] = (locale, build_layout(template, locale, start, months))
        return known


@dataclass(frozen=True)
class Reference:
    """The workbook the generator would write, held in memory: what the reader compares with."""

    layout: Layout
    values: WorkbookValues
    cells: dict[str, dict[tuple[int, int], ReferenceCell]]
    names: dict[str, str] = field(default_factory=dict)  # workbook-level name -> its target


def build_reference(template: Template, options: WorkbookOptions) -> Reference:
    """Lay out and compute the workbook without writing a file."""
    plan = _plan(template, options)
    workbook = xlsxwriter.Workbook(io.BytesIO(), _XLSXWRITER_OPTIONS)
    _write_sheets(workbook, template, options, plan, ReferenceWorksheet)
    cells: dict[str, dict[tuple[int, int], ReferenceCell]] = {}
    for worksheet in workbook.worksheets():
        sheet_cells = {}
        for row, columns in worksheet.table.items():
            if set(map(type, columns.values())) == _ONLY_REFERENCE_CELLS:  # most rows, at C speed
                sheet_cells.update(zip(zip(repeat(row), columns), columns.values(), strict=True))
                continue
            for col, entry in columns.items():
                if type(entry) is ReferenceCell:
                    sheet_cells[(row, col)] = entry
                    continue
                formula = getattr(entry, "formula", None)
                value = entry.value if formula is not None else getattr(entry, "number", None)
                if isinstance(value, str) and value in ERROR_TEXTS:
                    value = from_text(value)
                style = getattr(entry, "format", None)
                number_format = getattr(style, "num_format", 0) if style is not None else 0
                sheet_cells[(row, col)] = ReferenceCell(formula, value, number_format or "General")
        cells[worksheet.get_name()] = sheet_cells
    names = {name: target for name, scope, target, _ in workbook.defined_names if scope == -1}
    _release(workbook)
    return Reference(layout=plan.layout, values=plan.values, cells=cells, names=names)


_ONLY_REFERENCE_CELLS = {ReferenceCell}


@dataclass(frozen=True)
class _Plan:
    locale: Locale
    layout: Layout
    values: WorkbookValues
    created: dt.date
    start: dt.date


_XLSXWRITER_OPTIONS = {
    "in_memory": True,  # assemble the package in memory: no temporary file per part
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
}


def _plan(
    template: Template,
    options: WorkbookOptions,
    timelines: Mapping[str, TimelineValues] | None = None,
    reuse: Reuse | None = None,
) -> _Plan:
    """Check the options, lay the workbook out (or take the layout ``reuse`` has) and compute
    every value."""
    if options.scenario not in SCENARIOS:
        raise InputError(f"unknown scenario '{options.scenario}' (choose {', '.join(SCENARIOS)})")
    if not 1 <= options.months <= MAX_MONTHS:
        raise InputError(f"--months must be between 1 and {MAX_MONTHS}; got {options.months}")
    created = options.created or dt.date.today()
    start = options.start or created.replace(day=1)
    if reuse is None:
        locale = load_locale(options.locale)
        layout = build_layout(template, locale, start, options.months)
    else:
        locale, layout = reuse.layout(template, options.locale, start, options.months)
    scenario_inputs = stored_inputs(template, options)
    values = compute_values(
        template,
        scenario_inputs,
        options.scenario,
        options.months,
        options.actuals,
        options.heatmaps,
        timelines,
    )
    return _Plan(locale, layout, values, created, start)


def stored_inputs(template: Template, options: WorkbookOptions) -> dict[str, dict[str, float]]:
    """Each scenario's inputs (checked) as the file will hold them."""
    if options.inputs is not None:
        return {s: _as_stored(options.inputs[s]) for s in SCENARIOS}
    return {
        s: _as_stored(engine.scenario_inputs(template, s, options.overrides)) for s in SCENARIOS
    }


def _as_stored(values: Mapping[str, float]) -> dict[str, float]:
    """Numbers as the file will hold them (XlsxWriter writes 16 significant digits), so the
    cached results are computed from exactly what a reader will find."""
    return {key: float(f"{value:.16G}") for key, value in values.items()}


def _write_sheets(
    workbook: xlsxwriter.Workbook,
    template: Template,
    options: WorkbookOptions,
    plan: _Plan,
    worksheet_class: type[FastWorksheet] = FastWorksheet,
    fits: ColumnFits | None = None,
) -> None:
    """Every sheet, names and properties. On ``ReferenceWorksheet`` sheets (never written to
    a file) no column widths are fitted to the texts: they change widths and text wrapping
    only, never a cell's formula, value or number format, and the sheets hold no texts."""
    layout = plan.layout
    fit_widths = not issubclass(worksheet_class, ReferenceWorksheet)
    for name in layout.sheet_order:
        workbook.add_worksheet(name, worksheet_class=worksheet_class)
    ctx = Context(
        workbook,
        template,
        plan.locale,
        layout,
        Styles(workbook, plan.locale),
        plan.values,
        options.password,
    )
    write_cover(ctx, plan.created)
    write_inputs(ctx)
    for index in range(len(layout.month_sheets)):
        write_month(ctx, index)
    write_actuals(ctx)
    write_calculations(ctx)
    write_timeline(ctx, plan.start)
    break_evens = write_sensitivity(ctx)
    write_dashboard(ctx, break_evens)
    if layout.channels:
        write_channels(ctx)
    write_checks(ctx)
    for name in layout.sheet_order if fit_widths else ():  # widths from the texts, wrapping
        fit_columns(workbook.get_worksheet_by_name(name), ctx.styles.wrapped, WIDEST_PX, fits)
    if options.lambdas:
        define_lambdas(workbook)
    _set_properties(workbook, template, options, plan.start, plan.locale.code)
    workbook.get_worksheet_by_name(layout.dashboard).activate()


def check_target(target: Path, force: bool) -> None:
    """Refuse a target that is not .xlsx, a folder, in a missing folder, or exists unasked."""
    if target.suffix.lower() != ".xlsx":
        raise InputError(f"{target}: the output must be an .xlsx file")
    if (target.exists() or target.is_symlink()) and not force:  # a dangling link too
        raise OutputExistsError(f"{target} already exists; use --force to replace it")
    if target.exists() and target.is_dir():
        raise InputError(f"{target} is a folder")
    if not target.parent.is_dir():
        raise InputError(f"{target.parent}: no such folder")


def _set_properties(
    workbook: xlsxwriter.Workbook,
    template: Template,
    options: WorkbookOptions,
    start: dt.date,
    locale: str,
) -> None:
    """Template, versions and period in the file, so the reader recognises it later."""
    language = "fr" if locale.startswith("fr") else "en"
    workbook.set_properties(
        {
            "title": template.title[language],
            "subject": template.purpose[language][:255],
            "author": "roi_xl",
            "keywords": f"ROI, {template.key}",
            "comments": f"Generated by roi_xl {__version__} from template {template.key} "
            f"{template.version}",
        }
    )
    for name, value in (
        ("roi_xl_template", template.key),
        ("roi_xl_template_version", template.version),
        ("roi_xl_template_sha256", template.digest),
        ("roi_xl_generator_version", __version__),
        ("roi_xl_locale", locale),
        ("roi_xl_start", f"{start.year:04d}-{start.month:02d}"),
        ("roi_xl_months", str(options.months)),
    ):
        workbook.set_custom_property(name, value)
