"""Write monthly figures into a workbook made by ``roi-xl new``, changing nothing else.

openpyxl cannot do this: it drops charts and rewrites every part when it saves.
The package is patched instead. Each monthly sheet's XML is parsed with expat
only to learn where every row and cell starts and ends; the bytes of the cells
written are then replaced in place, so every other byte of the sheet, and every
other part of the zip, is copied as it was (same order, names, dates and
compression method). The formula cells whose value the new figures change
get their recomputed cached value in place (``cached``), so previewers, LibreOffice
under its default settings and ``roi-xl read`` see the imported numbers without a
recalculation. The one other change outside the monthly tabs is
``fullCalcOnLoad="1"`` on ``<calcPr>`` in xl/workbook.xml, which makes Excel
recalculate on open anyway (XlsxWriter sets it already; Excel drops it on save).
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import re
import stat
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from defusedxml import ElementTree as SafeXml

from roi_xl.errors import InputError, RoiXlError
from roi_xl.files import locked, partial_file, usual_mode
from roi_xl.inspect.cached import refresh_cached_values
from roi_xl.inspect.findings import shown
from roi_xl.inspect.guard import NS_MAIN, NS_PKG_REL, custom_properties, part_name, scan
from roi_xl.inspect.reader import recorded_period, recorded_template
from roi_xl.inspect.sheet_xml import (
    Node,
    Part,
    SharedStrings,
    SheetXml,
    SheetXmlError,
    cell_value,
    parse_part,
    read_start_tag,
)
from roi_xl.locale import load_locale
from roi_xl.model.template import Template
from roi_xl.workbook import OutputExistsError
from roi_xl.workbook.layout import (
    HEATMAP_FIRST_COL,
    HOURS,
    INPUT_KEY_COL,
    MONTH_ACTUAL_COL,
    MONTH_KEY_COL,
    SCENARIO_COLS,
    WEEKDAYS,
    Layout,
    build_layout,
    cell,
    column_name,
)

Figures = Mapping[str, Mapping[str, float]]  # month "YYYY-MM" -> field key -> value
Grids = Mapping[str, Sequence[Sequence[float]]]  # month -> 7 weekdays x 24 hours

WORKBOOK_PART = "xl/workbook.xml"
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
# Attributes of a cell that describe its old value, dropped when a number replaces it.
_VALUE_ATTRIBUTES = {"t", "cm", "vm"}
# Children of <workbook> that come after <calcPr> in the schema's order.
_AFTER_CALC_PR = (
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
)


class FigureImportError(RoiXlError):
    """The figures cannot be written into this workbook; nothing was written."""


class FigureConflictError(FigureImportError):
    """Cells already hold other values and overwriting was not asked for; nothing was written."""

    def __init__(self, message: str, conflicts: list[CellChange]) -> None:
        super().__init__(message)
        self.conflicts = conflicts


@dataclass(frozen=True)
class CellChange:
    """One targeted cell: where it is, what it held (None if blank) and the imported value."""

    month: str
    sheet: str
    cell: str
    item: str  # the field key, or "heatmap weekday <1-7> hour <0-23>"
    old: object
    new: float

    def to_dict(self) -> dict[str, object]:
        old = self.old if self.old is None or isinstance(self.old, float) else shown(self.old)
        return {
            "month": self.month,
            "sheet": self.sheet,
            "cell": self.cell,
            "item": self.item,
            "old": old,
            "new": self.new,
        }

    def describe(self) -> str:
        return (
            f"{self.month}: sheet '{self.sheet}' cell {self.cell} ({self.item}): "
            f"{shown(self.old)} in the file, {self.new:,.10g} imported"
        )


@dataclass
class ImportReport:
    """What an import did, for the command line to print."""

    path: Path  # the workbook written, or left as it was when nothing changed
    template: str
    imported: list[str]  # months whose tab now holds the figures
    missing: list[str]  # months given that the workbook has no tab for (skipped)
    changes: list[CellChange]  # cells written: blank ones filled, others replaced (force)
    unchanged: int  # targeted cells that already held the imported value
    calc_on_load: str  # "already set" or "set": fullCalcOnLoad on xl/workbook.xml's calcPr
    written: bool
    notes: list[str] = field(default_factory=list)
    formulas_refreshed: int = 0  # formula cells given their recomputed cached value

    @property
    def overwritten(self) -> list[CellChange]:
        return [change for change in self.changes if change.old is not None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "template": self.template,
            "imported": self.imported,
            "missing": self.missing,
            "changes": [change.to_dict() for change in self.changes],
            "overwritten": len(self.overwritten),
            "unchanged": self.unchanged,
            "calc_on_load": self.calc_on_load,
            "written": self.written,
            "formulas_refreshed": self.formulas_refreshed,
            "notes": self.notes,
        }


def import_figures(
    path: str | Path,
    figures: Figures,
    grids: Grids | None = None,
    *,
    force: bool = False,
    output: str | Path | None = None,
    supplied: Template | None = None,
    inputs: Mapping[str, float] | None = None,
) -> ImportReport:
    """Write ``figures`` (and missed-call ``grids``) into the monthly tabs of ``path``.

    Written to ``output`` when given, else in place. Without ``force`` a cell
    that already holds a different value stops the import (FigureConflictError)
    before anything is written; ``force`` overwrites such cells and an existing
    ``output``. Formula cells are never overwritten. The workbook stays locked
    from reading to renaming, so two imports into it run one after the other.
    ``supplied``: the user's template file (``--template``) the workbook was made from.
    ``inputs`` (input key -> value) replace those inputs in every scenario of the Inputs
    sheet: measured values, such as the answer rates of a baseline and a test window.
    """
    with locked(Path(path)):
        return _import_figures(Path(path), figures, grids, force, output, supplied, inputs)


def _import_figures(
    source: Path,
    figures: Figures,
    grids: Grids | None,
    force: bool,
    output: str | Path | None,
    supplied: Template | None,
    inputs: Mapping[str, float] | None = None,
) -> ImportReport:
    target = _target(source, output, force)
    package = scan(source)
    grids = grids or {}
    with zipfile.ZipFile(source) as archive, _as_figure_import_error():
        model, layout = _model(source, archive, supplied)
        _check_request(source, model, figures, grids)
        _check_inputs(source, model, inputs or {})
        parts = {sheet.name: sheet.part for sheet in package.sheets}
        strings = SharedStrings(lambda: _shared_string_texts(source, archive))
        plans: list[_MonthPlan] = []
        missing: list[str] = []
        notes: list[str] = []
        for month in sorted({*figures, *grids}):
            if month not in layout.month_sheets or not parts.get(month):
                missing.append(month)
                if month in layout.month_sheets:
                    notes.append(f"the tab '{month}' was deleted or renamed; {month} skipped")
                continue
            plans.append(
                _plan_month(
                    source,
                    archive,
                    _MonthRequest(month, parts[month], figures.get(month, {}), grids.get(month)),
                    layout,
                    strings,
                    notes,
                )
            )
        if inputs:
            plans.append(_plan_inputs(source, archive, layout, parts, strings, inputs))
        _check_conflicts(source, plans, force)
        patched = {plan.part: _patch_sheet(plan) for plan in plans if plan.writes}
        refreshed = None
        if patched:
            refreshed = refresh_cached_values(
                source, archive, patched, (model, layout), parts, _apply
            )
        calc_on_load = "unchanged (nothing written)"
        if patched:
            workbook = archive.read(WORKBOOK_PART)
            flagged = _set_full_calc_on_load(workbook, f"{source}: {WORKBOOK_PART}")
            calc_on_load = "already set" if flagged == workbook else "set"
            if flagged != workbook:
                patched[WORKBOOK_PART] = flagged
        written = bool(patched) or target != source.resolve()
        if written:
            _write_package(source, target, archive, patched)
    changes = [w.change for plan in plans for w in plan.writes]
    if changes and refreshed is not None:
        notes.append(
            f"{refreshed} formula cell(s) hold their recomputed values: the workbook is right "
            "without recalculation"
        )
    elif changes:
        notes.append(
            "formulas keep their previous cached values until the workbook is recalculated: "
            "Excel does it on open (fullCalcOnLoad); LibreOffice needs Data > Calculate > "
            "Recalculate Hard, or 'Recalculation on file load: Always'. Until it is saved "
            "recalculated, 'roi-xl read' and 'roi-xl audit' report those values as stale_value"
        )
    imported = [plan.month for plan in plans if plan.month != "inputs"]
    if imported:
        notes.append(
            "a call log gives the call figures only, so no month is marked complete: each "
            f"of {', '.join(imported)} counts in the year to date once its tab's Month complete "
            "cell says 1"
        )
    return ImportReport(
        path=target,
        template=model.key,
        imported=imported,
        missing=missing,
        changes=changes,
        unchanged=sum(plan.unchanged for plan in plans),
        calc_on_load=calc_on_load,
        written=written,
        formulas_refreshed=refreshed or 0,
        notes=notes,
    )


# ------------------------------------------------------------------ request


def _target(source: Path, output: str | Path | None, force: bool) -> Path:
    """The file to write: the source itself (through any symlink) unless ``output`` is given."""
    if output is None:
        return source.resolve()
    target = Path(output)
    if target.suffix.lower() != ".xlsx":
        raise InputError(f"{target}: the output must be an .xlsx file")
    if target.exists() and source.exists() and target.samefile(source):
        return source.resolve()
    if target.is_dir():
        raise InputError(f"{target} is a folder")
    if target.exists() and not force:
        raise OutputExistsError(f"{target} already exists; use --force to replace it")
    if not target.parent.is_dir():
        raise InputError(f"{target.parent}: no such folder")
    return target


def workbook_template(path: Path, supplied: Template | None = None) -> Template:
    """The template a workbook made by roi-xl new records, read from the package alone."""
    scan(path)
    with zipfile.ZipFile(path) as archive:
        return _model(path, archive, supplied)[0]


def _model(
    source: Path, archive: zipfile.ZipFile, supplied: Template | None = None
) -> tuple[Template, Layout]:
    """The template and layout recorded in the file's custom properties (as the reader does)."""
    properties = custom_properties(source, archive)
    model = recorded_template(source, properties, supplied)
    locale, start, months = recorded_period(source, properties)
    return model, build_layout(model, load_locale(locale), start, months)


def _check_request(source: Path, model: Template, figures: Figures, grids: Grids) -> None:
    """Refuse, before reading any sheet, months, fields and values that cannot be written."""
    problems: list[str] = []
    for month in sorted({*figures, *grids}):
        if not isinstance(month, str) or not _MONTH.fullmatch(month):
            problems.append(f"month {month!r} is not written YYYY-MM (rule month_format)")
    fields = [item.key for item in model.monthly.fields]
    unknown = [
        f"'{key}' ({month})"
        for month, values in sorted(figures.items())
        for key in values
        if key not in fields
    ]
    if unknown:
        problems.append(
            f"template '{model.key}' has no monthly field {', '.join(unknown)} "
            f"(rule unknown_field); its fields are {', '.join(fields)}"
        )
    for month, values in sorted(figures.items()):
        problems += [
            f"{month} {key}: {reason}"
            for key, value in values.items()
            if key in fields and (reason := _bad_number(value, whole=False))
        ]
    for month, grid in sorted(grids.items()):
        if not model.monthly.heatmap:
            problems.append(
                f"{month}: template '{model.key}' has no missed-call grid (rule no_grid)"
            )
        elif len(grid) != WEEKDAYS or any(len(row) != HOURS for row in grid):
            shape = f"{len(grid)} rows of " + "/".join(sorted({str(len(r)) for r in grid}))
            problems.append(
                f"{month}: the missed-call grid must be {WEEKDAYS} weekdays x {HOURS} hours, "
                f"not {shape} (rule grid_shape)"
            )
        else:
            problems += [
                f"{month} grid weekday {day + 1} hour {hour}: {reason}"
                for day, row in enumerate(grid)
                for hour, value in enumerate(row)
                if (reason := _bad_number(value, whole=True))
            ]
    if problems:
        raise FigureImportError(f"{source}: nothing was written; " + "; ".join(problems))


def _bad_number(value: object, whole: bool) -> str:
    """Why ``value`` cannot be a figure, or "" (the cells' validation: a number >= 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"{value!r} is not a number (rule figure_not_number)"
    if not math.isfinite(value):
        return f"{value!r} is not a finite number (rule figure_not_number)"
    if value < 0:
        return f"{value:,.10g} is negative (rule figure_negative)"
    if whole and value != int(value):
        return f"{value:,.10g} is not a whole number of calls (rule figure_not_whole)"
    return ""


# ------------------------------------------------------------------ planning


@dataclass(frozen=True)
class _MonthRequest:
    month: str
    part: str
    figures: Mapping[str, float]
    grid: Sequence[Sequence[float]] | None


@dataclass(frozen=True)
class _Write:
    row: int  # zero-based
    col: int
    text: bytes  # the number as the <v> element will hold it
    existing: Node | None  # the cell element, None when the row has none there
    formula: bool  # the cell holds a formula: never overwritten
    change: CellChange


@dataclass
class _MonthPlan:
    month: str
    part: str
    where: str
    sheet: SheetXml
    writes: list[_Write] = field(default_factory=list)
    conflicts: list[_Write] = field(default_factory=list)
    unchanged: int = 0
    sheet_name: str = ""  # when it is not the month's own tab (the Inputs sheet)


def _plan_month(
    source: Path,
    archive: zipfile.ZipFile,
    request: _MonthRequest,
    layout: Layout,
    strings: SharedStrings,
    notes: list[str],
) -> _MonthPlan:
    """Find each targeted cell by its row's key and sort it: fill, keep, or conflict."""
    month = request.month
    where = f"{source}: sheet '{month}' ({request.part})"
    sheet = SheetXml(parse_part(archive.read(request.part), where), where)
    plan = _MonthPlan(month, request.part, where, sheet)
    keys = sheet.keys(MONTH_KEY_COL, strings)
    wanted = [*request.figures, *(["heatmap"] if request.grid is not None else [])]
    lost = [key for key in wanted if key not in keys]
    if lost:
        raise FigureImportError(
            f"{where}: no row with the key {', '.join(repr(k) for k in lost)} in column "
            f"{column_name(MONTH_KEY_COL)} (rule row_missing): a row was deleted or its key "
            "overwritten; nothing was written"
        )
    moved = [key for key in wanted if key in layout.monthly.field_rows]
    if any(keys[key] != layout.monthly.field_rows[key] for key in moved):
        notes.append(f"rows were inserted or deleted on '{month}'; figures written by key")
    targets = [(keys[key], MONTH_ACTUAL_COL, key, value) for key, value in request.figures.items()]
    if request.grid is not None:
        rows = layout.monthly
        assert rows.heatmap_first_row is not None and rows.heatmap_check_row is not None
        first = keys["heatmap"] + rows.heatmap_first_row - rows.heatmap_check_row
        targets += [
            (first + day, HEATMAP_FIRST_COL + hour, f"heatmap weekday {day + 1} hour {hour}", v)
            for day, values in enumerate(request.grid)
            for hour, v in enumerate(values)
        ]
    for row, col, item, value in targets:
        _plan_cell(plan, strings, row, col, item, float(value))
    return plan


def _plan_cell(
    plan: _MonthPlan, strings: SharedStrings, row: int, col: int, item: str, value: float
) -> None:
    existing = plan.sheet.cell(row, col)
    old = None if existing is None else cell_value(existing, strings, plan.where)
    formula = None if existing is None else existing.child("f")
    if isinstance(old, float) and _same(old, value):
        plan.unchanged += 1
        return
    if formula is not None:
        old = "=" + formula.text
    change = CellChange(
        plan.month, plan.sheet_name or plan.month, cell(row, col), item, old, value + 0.0
    )
    write = _Write(row, col, _number_text(value), existing, formula is not None, change)
    if write.formula or old is not None:
        plan.conflicts.append(write)
    plan.writes.append(write)


def _check_inputs(source: Path, model: Template, inputs: Mapping[str, float]) -> None:
    """Refuse inputs the template lacks and values outside an input's range."""
    known = {item.key: item for item in model.inputs}
    problems = []
    for key, value in sorted(inputs.items()):
        item = known.get(key)
        if item is None:
            problems.append(f"template '{model.key}' has no input '{key}' (rule unknown_input)")
        elif reason := _bad_number(value, whole=False):
            problems.append(f"input {key}: {reason}")
        elif not item.minimum <= value <= item.maximum:
            problems.append(
                f"input {key}: {value:,.10g} is outside {item.minimum:g}..{item.maximum:g} "
                "(rule input_out_of_range)"
            )
        elif item.integer and value != int(value):
            problems.append(
                f"input {key}: {value:,.10g} is not a whole number of {item.unit} "
                "(rule input_not_whole)"
            )
    if problems:
        raise FigureImportError(f"{source}: nothing was written; " + "; ".join(problems))


def _plan_inputs(
    source: Path,
    archive: zipfile.ZipFile,
    layout: Layout,
    parts: Mapping[str, str],
    strings: SharedStrings,
    inputs: Mapping[str, float],
) -> _MonthPlan:
    """The Inputs sheet's cells of ``inputs``, every scenario: replaced, never a conflict."""
    sheet_name = layout.inputs
    part = parts.get(sheet_name)
    if not part:
        raise FigureImportError(
            f"{source}: the sheet '{sheet_name}' was deleted or renamed; nothing was written"
        )
    where = f"{source}: sheet '{sheet_name}' ({part})"
    sheet = SheetXml(parse_part(archive.read(part), where), where)
    plan = _MonthPlan("inputs", part, where, sheet)
    plan.sheet_name = sheet_name
    keys = sheet.keys(INPUT_KEY_COL, strings)
    lost = [key for key in inputs if key not in keys]
    if lost:
        raise FigureImportError(
            f"{where}: no row with the key {', '.join(repr(k) for k in lost)} in column "
            f"{column_name(INPUT_KEY_COL)} (rule row_missing); nothing was written"
        )
    for key, value in inputs.items():
        for scenario, col in SCENARIO_COLS.items():
            _plan_cell(plan, strings, keys[key], col, f"{key} ({scenario})", float(value))
    plan.conflicts = [write for write in plan.conflicts if write.formula]
    return plan


def _same(old: float, new: float) -> bool:
    """Equal as Excel shows them (XlsxWriter stores 16 significant digits)."""
    return math.isclose(old, new, rel_tol=1e-15, abs_tol=0.0)


def _number_text(value: float) -> bytes:
    """The shortest text that reads back as exactly ``value`` (123, not 123.0)."""
    text = repr(float(value) + 0.0)
    return (text[:-2] if text.endswith(".0") else text).encode()


def _check_conflicts(source: Path, plans: list[_MonthPlan], force: bool) -> None:
    """Stop before writing anything if a cell holds another value (or any formula)."""
    conflicts = [w.change for plan in plans for w in plan.conflicts]
    formulas = [w.change for plan in plans for w in plan.conflicts if w.formula]
    if conflicts and not force:
        lines = "\n  ".join(change.describe() for change in conflicts)
        raise FigureConflictError(
            f"{source}: {len(conflicts)} cell(s) already hold other values (rule "
            f"figure_conflict); nothing was written. Check the figures, or use --force to "
            f"overwrite them:\n  {lines}",
            conflicts,
        )
    if formulas:
        lines = "\n  ".join(change.describe() for change in formulas)
        raise FigureImportError(
            f"{source}: {len(formulas)} targeted cell(s) hold a formula (rule "
            "formula_in_figure_cell); roi_xl never overwrites a formula, even with --force. "
            f"Clear these cells in Excel first; nothing was written:\n  {lines}"
        )


# ------------------------------------------------------------------ reading XML


@contextlib.contextmanager
def _as_figure_import_error() -> Iterator[None]:
    """Turn a part the sheet reader refuses into a FigureImportError with the same message:
    the error import_figures raises for every file it cannot write into."""
    try:
        yield
    except SheetXmlError as exc:
        raise FigureImportError(str(exc)) from None


def _shared_string_texts(source: Path, archive: zipfile.ZipFile) -> list[str]:
    """The texts of the shared-string table the workbook points to, in order ([] if none)."""
    rels = "xl/_rels/workbook.xml.rels"
    part = _related_part(source, archive, rels, "xl", "sharedStrings")
    if not part or part not in archive.namelist():
        return []
    root = _safe_parse(source, archive, part)
    texts = []
    for item in root.iter(f"{NS_MAIN}si"):
        runs = [item, *item.findall(f"{NS_MAIN}r")]
        texts.append("".join(run.findtext(f"{NS_MAIN}t") or "" for run in runs))
    return texts


def _related_part(
    source: Path, archive: zipfile.ZipFile, rels: str, base: str, kind: str
) -> str | None:
    """The part a relationships file points to with a relationship of type ``kind``."""
    if rels not in archive.namelist():
        return None
    for rel in _safe_parse(source, archive, rels).iter(f"{NS_PKG_REL}Relationship"):
        if rel.get("Type", "") == _REL_TYPE + kind:
            target = rel.get("Target", "")
            return part_name(target if target.startswith("/") else f"{base}/{target}")
    return None


def _safe_parse(source: Path, archive: zipfile.ZipFile, part: str) -> Any:
    try:
        return SafeXml.fromstring(archive.read(part))
    except Exception as exc:  # defusedxml raises several types for hostile or broken XML
        raise FigureImportError(f"{source}: part {part} is not valid XML ({exc})") from None


# ------------------------------------------------------------------ patching


def _patch_sheet(plan: _MonthPlan) -> bytes:
    """The sheet's bytes with each targeted cell replaced or inserted, in column order."""
    sheet = plan.sheet
    edits: list[tuple[int, int, int, bytes]] = []  # start, end, order, new bytes
    by_row: dict[int, list[_Write]] = {}
    for write in plan.writes:
        if write.existing is not None:
            node = write.existing
            edits.append((node.start, node.end, write.col, _replaced_cell(sheet, node, write)))
        else:
            by_row.setdefault(write.row, []).append(write)
    if by_row and sheet.implicit:
        missing = ", ".join(w.change.cell for writes in by_row.values() for w in writes)
        raise FigureImportError(
            f"{plan.where}: cells {missing} must be created, but this sheet gives rows or cells "
            "no address (r=) and they would move; open and save the file in Excel first"
        )
    new_rows: list[tuple[int, bytes]] = []
    for number, writes in sorted(by_row.items()):
        writes.sort(key=lambda w: w.col)
        if number not in sheet.rows:
            new_rows.append((number, _new_row(sheet, number, writes)))
            continue
        row, cells = sheet.rows[number]
        if row.empty:
            inner = b"".join(_new_cell(sheet, row, w) for w in writes)
            edits.append((row.start, row.end, 0, _opened(sheet.part, row, inner)))
            continue
        for write in writes:
            after = [node.start for col, node in cells.items() if col > write.col]
            position = min(after, default=row.close)
            edits.append((position, position, write.col, _new_cell(sheet, row, write)))
    if new_rows:
        edits += _row_edits(sheet, new_rows)
    return _apply(sheet.part.data, edits, plan.where)


def _replaced_cell(sheet: SheetXml, node: Node, write: _Write) -> bytes:
    """The cell with its start tag's attributes as written, less the old value's type."""
    data = sheet.part.data
    qname, _, _, attrs = read_start_tag(data, node.start)
    kept = b"".join(data[a:b] for name, a, b in attrs if name not in _VALUE_ATTRIBUTES)
    p = node.prefix
    return b"<" + qname + kept + b"><" + p + b"v>" + write.text + b"</" + p + b"v></" + qname + b">"


def _new_cell(sheet: SheetXml, row: Node | None, write: _Write) -> bytes:
    """A cell the row lacks, styled as Excel would style a typed cell (row, then column)."""
    style = None
    if row is not None and row.attrs.get("customFormat") in ("1", "true"):
        style = row.attrs.get("s")
    style = style or sheet.col_styles.get(write.col)
    p = (row or sheet.sheet_data).prefix
    styled = b"" if style is None else b' s="' + style.encode() + b'"'
    ref = write.change.cell.encode()
    return (
        b"<" + p + b'c r="' + ref + b'"' + styled + b"><" + p + b"v>" + write.text
        + b"</" + p + b"v></" + p + b"c>"
    )  # fmt: skip


def _new_row(sheet: SheetXml, number: int, writes: list[_Write]) -> bytes:
    p = sheet.sheet_data.prefix
    cells = b"".join(_new_cell(sheet, None, w) for w in writes)
    return b"<" + p + b'row r="' + str(number + 1).encode() + b'">' + cells + b"</" + p + b"row>"


def _row_edits(
    sheet: SheetXml, new_rows: list[tuple[int, bytes]]
) -> list[tuple[int, int, int, bytes]]:
    """Insert rows the sheet lacks before the first row below them (or at the end)."""
    data = sheet.sheet_data
    if data.empty:
        inner = b"".join(xml for _, xml in new_rows)
        return [(data.start, data.end, 0, _opened(sheet.part, data, inner))]
    edits = []
    for number, xml in new_rows:
        after = [row.start for n, row in sheet.row_order if n > number]
        position = min(after, default=data.close)
        edits.append((position, position, number, xml))
    return edits


def _opened(part: Part, node: Node, inner: bytes) -> bytes:
    """A self-closing element rewritten with content: ``<x a="1"/>`` -> ``<x a="1">..</x>``."""
    return part.data[node.start : node.tag_end - 2] + b">" + inner + b"</" + node.qname + b">"


def _apply(data: bytes, edits: list[tuple[int, int, int, bytes]], where: str) -> bytes:
    """Splice ``edits`` into ``data``; every byte outside them is kept."""
    pieces: list[bytes] = []
    position = 0
    for start, end, _, replacement in sorted(edits, key=lambda e: (e[0], e[1] > e[0], e[2])):
        if start < position:
            raise FigureImportError(f"{where}: overlapping edits at byte {start}; nothing written")
        pieces += [data[position:start], replacement]
        position = end
    pieces.append(data[position:])
    return b"".join(pieces)


def _set_full_calc_on_load(workbook: bytes, where: str) -> bytes:
    """xl/workbook.xml with ``fullCalcOnLoad="1"`` on calcPr, every other byte kept."""
    part = parse_part(workbook, where)
    root = part.root
    calc = root.child("calcPr")
    if calc is None:
        after = [c.start for c in root.children if c.name in {NS_MAIN + n for n in _AFTER_CALC_PR}]
        position = min(after, default=root.close)
        element = b"<" + root.prefix + b'calcPr fullCalcOnLoad="1"/>'
        return _apply(workbook, [(position, position, 0, element)], where)
    if calc.attrs.get("fullCalcOnLoad") in ("1", "true"):
        return workbook
    _, tag_end, empty, attrs = read_start_tag(workbook, calc.start)
    old = next(((a, b) for name, a, b in attrs if name == "fullCalcOnLoad"), None)
    if old is not None:
        return _apply(workbook, [(old[0], old[1], 0, b' fullCalcOnLoad="1"')], where)
    position = tag_end - (2 if empty else 1)
    return _apply(workbook, [(position, position, 0, b' fullCalcOnLoad="1"')], where)


# ------------------------------------------------------------------ writing


def _write_package(
    source: Path, target: Path, archive: zipfile.ZipFile, patched: Mapping[str, bytes]
) -> None:
    """Copy every entry in order, the patched parts replaced, into a temporary file beside
    ``target``, then rename it: a crash leaves the old file whole and no temporary file."""
    descriptor, temporary = partial_file(target)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            with zipfile.ZipFile(handle, "w") as out:
                for info in archive.infolist():
                    data = patched.get(info.filename)
                    entry = _entry(info)
                    out.writestr(entry, archive.read(info) if data is None else data)
                    # zipfile turns attributes of 0 into 0o600 << 16 while writing; the
                    # central directory, written on close, takes them from ``entry``.
                    entry.external_attr = info.external_attr
                out.comment = archive.comment
            handle.flush()
            os.fsync(handle.fileno())
        mode = os.stat(source).st_mode if target == source.resolve() else usual_mode()
        os.chmod(temporary, stat.S_IMODE(mode))
        try:
            os.replace(temporary, target)
        except PermissionError as exc:
            raise FigureImportError(
                f"{target}: cannot be replaced ({exc.strerror}); is it open in Excel? Close it "
                "and import again; nothing was written"
            ) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _entry(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A fresh entry with the original's name, date, method and attributes."""
    entry = zipfile.ZipInfo(info.filename, info.date_time)
    entry.compress_type = info.compress_type
    entry.external_attr = info.external_attr
    entry.create_system = info.create_system
    entry.comment = info.comment
    return entry
