"""Write one workbook per branch or sales lead, from a CSV file, in parallel.

The CSV has a ``name`` column, an optional ``owner`` column, and columns named
after the template's inputs whose values override that input in every
scenario (empty cell: the template's default). A column the template does not
know stops everything before anything is written, since every row would be
misread; a bad row (no name, a value that is not a number or out of range, a
file name another row already takes, a file that exists without ``force``) is
reported with its line and skipped, and the others are written, one worker
process per core.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import difflib
import gc
import os
import re
import string
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roi_xl.errors import InputError, RoiXlError
from roi_xl.files import remove_stale_partials_of
from roi_xl.locale import load_locale
from roi_xl.model import engine, timeline
from roi_xl.model.template import MAX_HORIZON_MONTHS, SCENARIOS, Template
from roi_xl.model.timeline import TimelineValues
from roi_xl.overrides import parse_number
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.skeleton import SplicingWorksheet
from roi_xl.workbook.writer import MAX_MONTHS, Reuse, stored_inputs

Progress = Callable[[int, int, str], None]  # files done, files in all, the file just written
NAME, OWNER = "name", "owner"
PLACEHOLDERS = (NAME, OWNER)
DELIMITERS = (",", ";", "\t")  # Excel writes ";" where the decimal mark is a comma
MAX_PART = 100  # characters kept of a name or owner in a file name
MAX_FILE_NAME_BYTES = 255
_UNSAFE = re.compile(r'[<>:"/\\|?*]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])$", re.IGNORECASE)


class BatchError(RoiXlError):
    """The people file or the name pattern cannot be used at all."""


@dataclass(frozen=True)
class Written:
    line: int
    name: str
    path: Path
    seconds: float


@dataclass(frozen=True)
class Skipped:
    line: int
    name: str
    reason: str


@dataclass
class BatchReport:
    """What was written, what was skipped and why, and how long it took."""

    written: list[Written] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 1

    @property
    def per_second(self) -> float:
        return len(self.written) / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``roi-xl batch --json``."""
        return {
            "written": [
                {
                    "line": w.line,
                    "name": w.name,
                    "path": str(w.path),
                    "seconds": round(w.seconds, 3),
                }
                for w in self.written
            ],
            "skipped": [{"line": s.line, "name": s.name, "reason": s.reason} for s in self.skipped],
            "seconds": round(self.seconds, 3),
            "workers": self.workers,
        }


@dataclass(frozen=True)
class _Job:
    line: int
    name: str
    path: Path
    options: WorkbookOptions


def generate_batch(
    template: Template,
    people_csv: Path,
    out_dir: Path,
    *,
    locale: str = "en-US",
    scenario: str = "realistic",
    start: dt.date | None = None,
    months: int = 12,
    force: bool = False,
    name_pattern: str = "{name}.xlsx",
    workers: int | None = None,
    progress: Progress | None = None,
) -> BatchReport:
    """Write a workbook per good row of ``people_csv`` into ``out_dir``."""
    begin = time.perf_counter()
    people_csv, out_dir = Path(people_csv), Path(out_dir)
    load_locale(locale)
    engine.scenario_inputs(template, scenario)
    if not 1 <= months <= MAX_MONTHS:
        raise InputError(f"--months must be between 1 and {MAX_MONTHS}; got {months}")
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise InputError(f"--workers must be at least 1; got {workers}")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir} is not a folder")
    uses_owner = OWNER in _placeholders(name_pattern)
    header, rows = _read_people(people_csv, template, uses_owner)
    base = WorkbookOptions(
        locale=locale, scenario=scenario, start=start, months=months, force=force
    )
    report = BatchReport(workers=workers)
    jobs = _plan(template, header, rows, name_pattern, base, out_dir, report.skipped)
    if jobs:
        out_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_partials_of(out_dir, {job.path.name for job in jobs})
        _write_all(template, jobs, workers, report, progress)
    report.written.sort(key=lambda w: w.line)
    report.skipped.sort(key=lambda s: s.line)
    report.seconds = time.perf_counter() - begin
    return report


def _plan(
    template: Template,
    header: list[str],
    rows: list[tuple[int, list[str]]],
    pattern: str,
    base: WorkbookOptions,
    out_dir: Path,
    skipped: list[Skipped],
) -> list[_Job]:
    """The workbooks to write; each row that cannot be written goes to ``skipped``."""
    jobs = []
    taken: dict[str, int] = {}
    for line, cells in rows:
        named = dict(zip(header, cells, strict=False))
        try:
            job = _job(template, line, named, len(cells) - len(header), pattern, base, out_dir)
        except InputError as exc:
            skipped.append(Skipped(line, named.get(NAME, "").strip(), str(exc)))
            continue
        first = taken.setdefault(job.path.name.casefold(), line)
        if first != line:
            reason = f"the file name {job.path.name} is already taken by line {first}"
            skipped.append(Skipped(line, job.name, reason))
        elif job.path.exists() and not base.force:
            reason = f"{job.path} already exists; use --force to replace it"
            skipped.append(Skipped(line, job.name, reason))
        else:
            jobs.append(job)
    return jobs


def safe_file_part(text: str) -> str:
    """``text`` fit for a file name on any system: no folder separators, control or
    reserved characters, no leading or trailing dot or space, no device name (CON...)."""
    kept = "".join(
        "_" if unicodedata.category(c).startswith("C") else c
        for c in unicodedata.normalize("NFC", text)
    )
    kept = _UNSAFE.sub("_", kept)[:MAX_PART].strip(" .")
    return f"_{kept}" if _RESERVED.match(kept.split(".")[0]) else kept


# ------------------------------------------------------------------ reading


def _read_people(
    path: Path, template: Template, uses_owner: bool
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (checked) and every row that is not blank, with the line it starts on."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise BatchError(
            f"{path}: not UTF-8 text; in Excel, save it as 'CSV UTF-8 (comma delimited)'"
        ) from None
    except OSError as exc:
        raise BatchError(f"{path}: cannot read the file ({exc.strerror})") from None
    lines = text.splitlines()
    delimiter = max(DELIMITERS, key=lines[0].count) if lines else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header = [cell.strip().lower() for cell in next(reader, [])]
    _check_header(path, header, template, uses_owner)
    rows = []
    previous = reader.line_num
    for cells in reader:
        line, previous = previous + 1, reader.line_num
        if any(cell.strip() for cell in cells):
            rows.append((line, cells))
    return header, rows


def _check_header(path: Path, header: list[str], template: Template, uses_owner: bool) -> None:
    where = f"{path}, line 1"
    if not header:
        raise BatchError(f"{path}: the file is empty; its first line must name the columns")
    allowed = {NAME, OWNER, *template.input_keys}
    for index, column in enumerate(header, start=1):
        if not column:
            raise BatchError(f"{where}: column {index} has no name")
        if header.count(column) > 1:
            raise BatchError(f"{where}: column '{column}' appears twice")
        if column not in allowed:
            hint = difflib.get_close_matches(column, sorted(allowed), n=1)
            raise BatchError(
                f"{where}: unknown column '{column}': not 'name', 'owner' or an input of template "
                f"'{template.key}'" + (f" (did you mean '{hint[0]}'?)" if hint else "")
            )
    if NAME not in header:
        raise BatchError(f"{where}: no 'name' column; it names each workbook")
    if uses_owner and OWNER not in header:
        raise BatchError(f"{where}: the name pattern uses {{owner}} but there is no owner column")


def _placeholders(pattern: str) -> set[str]:
    """The fields a name pattern uses; only {name} and {owner}, plain, in an .xlsx name."""
    problem = ""
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        parts, problem = [], str(exc)
    used = set()
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            problem = f"{{{name}}} is not {{name}} or {{owner}}"
        used.add(name)
    if "/" in pattern or "\\" in pattern:
        problem = "it may not contain a folder"
    elif not pattern.lower().endswith(".xlsx"):
        problem = "it must end with .xlsx"
    if problem:
        raise BatchError(f"--name-pattern {pattern!r}: {problem}")
    return used


def _job(
    template: Template,
    line: int,
    cells: dict[str, str],
    extra: int,
    pattern: str,
    base: WorkbookOptions,
    out_dir: Path,
) -> _Job:
    """The workbook a row asks for, or InputError saying what is wrong with the row."""
    if extra > 0:
        raise InputError(f"{extra} value(s) more than there are columns")
    name, owner = cells.get(NAME, "").strip(), cells.get(OWNER, "").strip()
    if not name:
        raise InputError("no name")
    overrides = {
        key: parse_number(raw.strip(), f"column {key}")
        for key, raw in cells.items()
        if key not in PLACEHOLDERS and raw.strip()
    }
    engine.require_defined(template, overrides)
    if "{owner}" in pattern and not owner:
        raise InputError("no owner, and the name pattern uses {owner}")
    file_name = pattern.format(name=safe_file_part(name), owner=safe_file_part(owner))
    if file_name.startswith(".") or Path(file_name).stem.strip(" ._") == "":
        raise InputError(f"the name {name!r} leaves nothing usable for a file name")
    if len(file_name.encode("utf-8")) > MAX_FILE_NAME_BYTES:
        raise InputError(f"the file name {file_name!r} is too long")
    return _Job(line, name, out_dir / file_name, dataclasses.replace(base, overrides=overrides))


# ------------------------------------------------------------------ writing


def _write_all(
    template: Template,
    jobs: list[_Job],
    workers: int,
    report: BatchReport,
    progress: Progress | None,
) -> None:
    # The template goes to each worker once, not with every job: its trees are large, and a
    # worker keeps it (and the formulas rendered from it) for all the workbooks it writes.
    chunks = _chunks(jobs, workers)
    done = 0
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_receive_template, initargs=(template,)
    ) as pool:
        futures = {pool.submit(_write_chunk, chunk): chunk for chunk in chunks}
        for future in as_completed(futures):
            for job, outcome in zip(futures[future], future.result(), strict=True):
                if isinstance(outcome, str):
                    report.skipped.append(Skipped(job.line, job.name, outcome))
                else:
                    report.written.append(Written(job.line, job.name, job.path, outcome))
                done += 1
                if progress:
                    progress(done, len(jobs), str(job.path))


def _chunks(jobs: list[_Job], workers: int) -> list[list[_Job]]:
    """The jobs in order, cut in chunks: a worker computes a chunk's timelines in one pass,
    and a chunk is small, so memory does not grow with the number of rows. The last round
    (a chunk per worker) goes out in quarters: whichever worker is free takes the next, so
    the workers finish within a small chunk of each other instead of one waiting a whole
    chunk for the other."""
    size = max(1, min(CHUNK, -(-len(jobs) // (workers * 4))))
    tail = min(len(jobs), workers * size)
    head, small = len(jobs) - tail, max(1, size // 4)
    return [jobs[i : min(i + size, head)] for i in range(0, head, size)] + [
        jobs[i : i + small] for i in range(head, len(jobs), small)
    ]


CHUNK = 25  # workbooks a worker computes together
_WORKER_TEMPLATE: list[Template] = []
FULL_COLLECTION_CHUNKS = 8
_CHUNKS_WRITTEN = [0]  # by this worker
_REUSE = Reuse()  # what this worker keeps from one workbook to the next


def _receive_template(template: Template) -> None:
    """Keep the batch's template in this worker process."""
    _WORKER_TEMPLATE[:] = [template]


def _write_chunk(jobs: list[_Job]) -> list[float | str]:
    """Write a chunk of workbooks (in a worker process): for each, the seconds it took, or
    why it could not be written.

    The collector's automatic passes go through every object alive, the template's trees and
    the skeletons included, and a workbook makes hundreds of thousands of objects: they cost
    a quarter of the time. So they are off while the chunk is written; the young objects are
    collected after each workbook (what a workbook leaves in cycles is freed there, so memory
    does not grow with the rows), and everything once every ``FULL_COLLECTION_CHUNKS`` chunks
    (a full pass costs about as much as three workbooks and, measured, finds nothing left by
    then: it is kept as a bound, not run after each chunk)."""
    automatic = gc.isenabled()
    gc.disable()
    try:
        return _write_each(jobs)
    finally:
        _CHUNKS_WRITTEN[0] += 1
        if _CHUNKS_WRITTEN[0] % FULL_COLLECTION_CHUNKS == 0:
            gc.collect()
        if automatic:
            gc.enable()


def _write_each(jobs: list[_Job]) -> list[float | str]:
    template = _WORKER_TEMPLATE[0]
    begin = time.perf_counter()
    outcomes: list[float | str] = []
    inputs: list[dict[str, dict[str, float]]] = []
    for job in jobs:
        try:
            inputs.append(stored_inputs(template, job.options))
            outcomes.append(0.0)
        except RoiXlError as exc:
            inputs.append({})
            outcomes.append(str(exc))
    good = [index for index, outcome in enumerate(outcomes) if not isinstance(outcome, str)]
    timelines = _timelines(template, [inputs[index] for index in good])
    shared = (time.perf_counter() - begin) / max(1, len(good))
    for index, computed in zip(good, timelines, strict=True):
        begin = time.perf_counter()
        try:
            write_workbook(
                template,
                jobs[index].path,
                jobs[index].options,
                computed,
                SplicingWorksheet,
                _REUSE,
                swept=True,
            )
            outcomes[index] = shared + time.perf_counter() - begin
        except (RoiXlError, OSError) as exc:
            outcomes[index] = str(exc)
        gc.collect(1)
    return outcomes


def _timelines(
    template: Template, inputs: list[dict[str, dict[str, float]]]
) -> list[dict[str, TimelineValues] | None]:
    """Every scenario's timeline of every workbook, computed in one pass."""
    if template.timeline is None:
        return [None] * len(inputs)
    sets = [(book, scenario) for book in range(len(inputs)) for scenario in SCENARIOS]
    chosen = [inputs[book][scenario] for book, scenario in sets]
    outputs = [engine.compute(template, one) for one in chosen]
    computed = timeline.compute_many(template, chosen, outputs, MAX_HORIZON_MONTHS)
    per_book: list[dict[str, TimelineValues]] = [{} for _ in inputs]
    for (book, scenario), values in zip(sets, computed, strict=True):
        per_book[book][scenario] = values
    return per_book
