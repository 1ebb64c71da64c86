"""Roll many workbooks up into one consolidated, formula-driven workbook.

Every file is read in a worker process (``ProcessPoolExecutor``, one per core
by default) and comes back as a small summary; summaries are counted into the
Portfolio totals and parked on disk as they arrive, in the order the files
were given, so memory does not grow with the number of files. A file that
cannot be read is listed with its reason and the roll-up goes on. The
workbook groups files by template, one sheet each (see ``roi_xl.rollup``).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from roi_xl.errors import InputError
from roi_xl.locale import load_locale
from roi_xl.model import engine, template
from roi_xl.rollup import (
    AUDITS,
    FAST,
    Failure,
    FileSummary,
    Portfolio,
    Row,
    Spool,
    TemplateSheet,
    check_output,
    plan_sheet,
    sheet_names,
    summarise,
    write_rollup,
)
from roi_xl.rollup.additivity import RATIO, SUM
from roi_xl.rollup.columns import ACTUALS, INPUTS, OUTPUTS

Progress = Callable[[int, int, str], None]  # files done, files in all, the file just read
IN_FLIGHT_PER_WORKER = 4  # files queued per worker: keeps workers busy, memory bounded


@dataclass(frozen=True)
class Figure:
    """One Portfolio figure: its column, how it is made and its value."""

    group: str  # inputs, actuals or outputs
    key: str
    how: str  # sum, ratio, weighted or average
    words: str  # how, in the words of the sheet
    value: engine.Value


@dataclass(frozen=True)
class TemplateTotals:
    """One template's part of the roll-up."""

    template: str
    title: str
    sheet: str
    files: int
    files_with_errors: int
    locales: list[str]  # all in one currency: a file in another is refused (currency_mix)
    figures: list[Figure]

    def to_dict(self) -> dict[str, Any]:
        """Sums of sizes, ratios from those sums, labelled averages, year-to-date actuals."""
        out: dict[str, Any] = {
            "title": self.title,
            "sheet": self.sheet,
            "files": self.files,
            "files_with_errors": self.files_with_errors,
            "locales": self.locales,
            "totals": {},
            "ratios": {},
            "averages": {},
            "actuals_ytd": {},
        }
        for figure in self.figures:
            value = engine.as_displayed(figure.value)
            if figure.group == ACTUALS:
                out["actuals_ytd"][figure.key] = value
            elif figure.how == SUM:
                out["totals"][figure.key] = value
            elif figure.how == RATIO:
                out["ratios"][figure.key] = value
            else:
                out["averages"][figure.key] = {"value": value, "how": figure.words}
        return out


@dataclass
class RollupReport:
    """What a roll-up read, wrote and could not read."""

    output: Path
    audit: str
    workers: int
    templates: list[TemplateTotals] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    findings: int = 0
    read_seconds: float = 0.0
    write_seconds: float = 0.0

    @property
    def files_read(self) -> int:
        return sum(t.files for t in self.templates)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``roi-xl rollup --json``."""
        return {
            "output": str(self.output),
            "audit": self.audit,
            "files_read": self.files_read,
            "findings": self.findings,
            "seconds": round(self.read_seconds + self.write_seconds, 3),
            "templates": {t.template: t.to_dict() for t in self.templates},
            "failures": [{"path": f.path, "reason": f.reason} for f in self.failures],
        }


def rollup(
    paths: Sequence[Path],
    output: Path,
    *,
    force: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    audit: str = FAST,
    supplied: template.Template | None = None,
) -> RollupReport:
    """Read every workbook in ``paths`` (folders: their .xlsx files) and write the roll-up.

    ``supplied``: the user's template file (``--template``), for workbooks made from it.
    """
    output = Path(output)
    if audit not in AUDITS:
        raise InputError(f"--audit {audit!r}: choose {' or '.join(AUDITS)}")
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise InputError(f"--workers must be at least 1; got {workers}")
    check_output(output, force)
    files = expand(paths, exclude=output)
    report = RollupReport(output=output, audit=audit, workers=workers)
    portfolios: dict[str, Portfolio] = {}
    currencies: dict[str, tuple[str, str]] = {}  # template -> its sheet's currency, first file
    symbols: dict[str, str] = {}  # locale -> its currency symbol, each locale file read once
    begin = time.perf_counter()
    with Spool() as spool:
        results = _read_all(files, workers, audit, supplied)
        for done, result in enumerate(results, start=1):
            if progress:
                progress(done, len(files), result.path)
            if isinstance(result, Failure):
                report.failures.append(result)
                continue
            if result.locale not in symbols:
                symbols[result.locale] = load_locale(result.locale).currency_symbol
            currency = symbols[result.locale]
            first = currencies.setdefault(result.template, (currency, result.path))
            if currency != first[0]:
                report.failures.append(_other_currency(result, currency, *first))
                continue
            portfolio = portfolios.get(result.template)
            if portfolio is None:
                portfolio = portfolios[result.template] = Portfolio(
                    plan_sheet(_template(result.template, supplied))
                )
            row = _row(portfolio, result)
            portfolio.add(row.values, row.errors, row.warnings, result.locale)
            spool.add(result.template, row, result.findings)
        report.read_seconds = time.perf_counter() - begin
        names = sheet_names(sorted(portfolios))
        sheets = [TemplateSheet(names[k], portfolios[k].plan, portfolios[k]) for k in sorted(names)]
        begin = time.perf_counter()
        report.findings = write_rollup(
            output, sheets, spool, report.failures, force=force, audit_level=audit
        )
        report.write_seconds = time.perf_counter() - begin
    report.templates = [_totals(sheet) for sheet in sheets]
    return report


def expand(paths: Iterable[Path], exclude: Path | None = None) -> list[Path]:
    """Files as given and each folder's .xlsx files (sorted, not recursive), each once.

    Excel's lock files (``~$book.xlsx``) and hidden files are skipped, and so is
    ``exclude`` (the roll-up's own output when it is written into a source folder).
    """
    seen = {exclude.resolve()} if exclude is not None else set()
    files = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if _is_workbook_file(p))
        else:
            found = [path]
        for item in found:
            if item.resolve() not in seen:
                seen.add(item.resolve())
                files.append(item)
    if not files:
        raise InputError(f"no .xlsx file found in {', '.join(str(p) for p in paths) or 'nothing'}")
    return files


def _is_workbook_file(path: Path) -> bool:
    hidden_or_lock = path.name.startswith(("~$", "."))
    return path.suffix.lower() == ".xlsx" and path.is_file() and not hidden_or_lock


def _other_currency(
    summary: FileSummary, currency: str, sheet_currency: str, first: str
) -> Failure:
    """A workbook whose amounts are in another currency than its template's sheet: never
    added into the same totals (no exchange rate is assumed), listed with its reason."""
    return Failure(
        summary.path,
        f"its amounts are in {currency}, the '{summary.template}' totals in {sheet_currency} "
        f"(as in {first}); amounts in two currencies are never added together: roll up each "
        "currency separately (rule currency_mix)",
    )


def _template(key: str, supplied: template.Template | None) -> template.Template:
    """The template a summary was read with: the supplied one, or the built-in of that key."""
    if supplied is not None and supplied.key == key:
        return supplied
    return template.load_builtin(key)


def _read_all(
    files: Sequence[Path], workers: int, audit: str, supplied: template.Template | None
) -> Iterator[FileSummary | Failure]:
    """Summaries in the order of ``files``, read by ``workers`` processes, a few files ahead.

    A worker that dies (a reader library aborting on a hostile file) breaks the pool: the
    files then in flight are read again one by one, each in a process of its own, so the
    one that kills its reader is reported as that file's failure; then a new pool goes on.
    """
    queue = iter(files)
    while True:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            pending: deque[tuple[Path, Future[FileSummary | Failure]]] = deque(
                (path, pool.submit(summarise, str(path), audit, supplied))
                for path in itertools.islice(queue, workers * IN_FLIGHT_PER_WORKER)
            )
            broken: list[Path] = []
            while pending:
                path, future = pending.popleft()
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken = [path, *(item for item, _ in pending)]
                    break
                following = next(queue, None)
                if following is not None:
                    pending.append(
                        (following, pool.submit(summarise, str(following), audit, supplied))
                    )
                yield result
        if not broken:
            return
        for path in broken:
            yield _read_alone(path, audit, supplied)


def _read_alone(
    path: Path, audit: str, supplied: template.Template | None
) -> FileSummary | Failure:
    """Read one file in a process of its own; its death becomes the file's Failure."""
    context = multiprocessing.get_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_summarise_into, args=(sender, str(path), audit, supplied))
    process.start()
    sender.close()
    try:
        result: FileSummary | Failure | None = receiver.recv()
    except EOFError:
        result = None
    finally:
        receiver.close()
        process.join()
    if result is not None:
        return result
    code = process.exitcode or 0
    how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
    return Failure(
        str(path),
        f"the reader process died while reading it ({how}): the file is damaged or built to "
        "crash spreadsheet readers",
    )


def _summarise_into(
    sender: Connection, path: str, audit: str, supplied: template.Template | None
) -> None:
    sender.send(summarise(path, audit, supplied))
    sender.close()


def _row(portfolio: Portfolio, summary: FileSummary) -> Row:
    sources = {INPUTS: summary.inputs, ACTUALS: summary.actuals, OUTPUTS: summary.outputs}
    return Row(
        path=summary.path,
        scenario=summary.selected_scenario,
        errors=summary.errors,
        warnings=summary.warnings,
        months=summary.months_with_actuals,
        values=[sources[c.group].get(c.key) for c in portfolio.plan.columns],
    )


def _totals(sheet: TemplateSheet) -> TemplateTotals:
    plan, portfolio = sheet.plan, sheet.portfolio
    figures = [
        Figure(column.group, column.key, column.totalling.how, plan.how(column), value)
        for column, value in zip(plan.columns, portfolio.values(), strict=True)
    ]
    return TemplateTotals(
        template=plan.template.key,
        title=plan.template.title.en,
        sheet=sheet.name,
        files=portfolio.files,
        files_with_errors=portfolio.files_with_errors,
        locales=sorted(portfolio.locales),
        figures=figures,
    )
