"""Time reading a workbook back (read + recompute + audit) against a plain openpyxl load.

Run from the project folder with the project's virtualenv:

    python benchmarks/read_audit.py [--runs 5] [--months 12] [--locale en-US] [TEMPLATE ...]

For each template it writes a workbook with the demo's sample actuals (and, for
templates with a heatmap, the demo's missed-call grids), then times, in the same
process and on the same file (median of ``--runs`` runs each):

- ``read_workbook``: the package guard, openpyxl (formulas), python-calamine
  (values), the engine's recomputation and every audit check;
- the baseline: a plain ``openpyxl.load_workbook(path)`` full load of the file;
- ``xlsx_guard.scan`` alone;
- python-calamine reading every sheet's values alone, as the reader does.

The ratio read / baseline is the cost of reading a workbook back, relative to
only parsing it with openpyxl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import python_calamine

from roi_xl.demo import missed_call_grid, sample_actuals
from roi_xl.inspect import guard as xlsx_guard
from roi_xl.inspect.reader import read_workbook
from roi_xl.locale import LOCALES
from roi_xl.model import template
from roi_xl.workbook import WorkbookOptions, write_workbook

START = dt.date(2026, 1, 1)


@dataclass
class Result:
    name: str
    read: float
    baseline: float
    scan: float
    calamine: float
    size: int
    sheets: int
    actual_months: int
    findings: int
    errors: int

    @property
    def ratio(self) -> float:
        return self.read / self.baseline if self.baseline else float("inf")

    @property
    def rest(self) -> float:
        """Roughly what recomputation and the audit add to the three loads."""
        return max(0.0, self.read - self.baseline - self.scan - self.calamine)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def median_time(action: Callable[[], object], runs: int, label: str) -> float:
    times = []
    for run in range(1, runs + 1):
        begin = time.perf_counter()
        action()
        times.append(time.perf_counter() - begin)
        progress(f"  {label} run {run}/{runs}: {times[-1]:.3f} s")
    return statistics.median(times)


def openpyxl_load(path: Path) -> None:
    """The baseline: a full (not read-only) load, formulas as text, nothing else."""
    openpyxl.load_workbook(path).close()


def calamine_values(path: Path) -> int:
    """Every sheet's values as a grid anchored at A1, as roi_xl.inspect.reader reads them."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    cells = 0
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        cells += sum(len(row) for row in rows)
    book.close()
    return cells


def write_demo_workbook(name: str, path: Path, months: int, locale: str) -> int:
    """A workbook with the demo's sample actuals; returns how many months carry actuals."""
    model = template.load(name)
    actuals = sample_actuals(name)[:months]
    heatmaps = (
        [missed_call_grid(int(month["calls_missed"])) for month in actuals]
        if model.monthly.heatmap
        else []
    )
    options = WorkbookOptions(
        locale=locale,
        start=START,
        months=months,
        force=True,
        actuals=actuals,
        heatmaps=heatmaps,
    )
    write_workbook(model, path, options)
    return len(actuals)


def bench(name: str, folder: Path, runs: int, months: int, locale: str) -> Result:
    path = folder / f"{name}-{locale}.xlsx"
    progress(f"[{name}] write the workbook ({months} months, {locale}, demo actuals)")
    filled = write_demo_workbook(name, path, months, locale)
    first = read_workbook(path)  # also checks the file reads cleanly before timing it
    errors = sum(f.severity == "error" for f in first.findings)
    if errors:
        progress(f"  warning: {errors} error finding(s) in a freshly written workbook")
    progress(f"[{name}] read_workbook: read + recompute + audit ({runs} runs)")
    read = median_time(lambda: read_workbook(path), runs, "read")
    progress(f"[{name}] baseline: openpyxl.load_workbook ({runs} runs)")
    baseline = median_time(lambda: openpyxl_load(path), runs, "openpyxl")
    progress(f"[{name}] xlsx_guard.scan alone ({runs} runs)")
    scan = median_time(lambda: xlsx_guard.scan(path), runs, "scan")
    progress(f"[{name}] python-calamine values alone ({runs} runs)")
    calamine = median_time(lambda: calamine_values(path), runs, "calamine")
    return Result(
        name=name,
        read=read,
        baseline=baseline,
        scan=scan,
        calamine=calamine,
        size=path.stat().st_size,
        sheets=len(xlsx_guard.scan(path).sheets),
        actual_months=filled,
        findings=len(first.findings),
        errors=errors,
    )


def print_table(results: list[Result]) -> None:
    header = (
        "template",
        "read s",
        "openpyxl s",
        "ratio",
        "scan s",
        "calamine s",
        "rest s",
        "file size",
        "sheets",
        "findings",
    )
    rows = [
        (
            r.name,
            f"{r.read:.3f}",
            f"{r.baseline:.3f}",
            f"{r.ratio:.2f}x",
            f"{r.scan:.3f}",
            f"{r.calamine:.3f}",
            f"{r.rest:.3f}",
            f"{r.size / 1024:.1f} KiB",
            str(r.sheets),
            f"{r.findings} ({r.errors} err)",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    print(line(header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print(
        "\nread s: read_workbook (guard + openpyxl + calamine + recompute + audit); "
        "openpyxl s: the baseline,\nopenpyxl.load_workbook(path); ratio = read / openpyxl; "
        "rest s = read - openpyxl - scan - calamine,\nroughly the recomputation and the audit."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measure (median)")
    parser.add_argument("--months", type=int, default=12, help="monthly tabs per workbook")
    parser.add_argument("--locale", default="en-US", choices=LOCALES)
    parser.add_argument("templates", nargs="*", help="templates to time (default: all built-in)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    names = args.templates or template.builtin_names()
    results = []
    with tempfile.TemporaryDirectory(prefix="roi_xl-bench-read-") as folder:
        for name in names:
            results.append(bench(name, Path(folder), args.runs, args.months, args.locale))
    print(
        f"\nroi_xl read + audit vs plain openpyxl load: median of {args.runs} runs, "
        f"{args.months} months with demo actuals, {args.locale}, "
        f"Python {sys.version.split()[0]}, openpyxl {openpyxl.__version__}, "
        f"python-calamine {_version('python-calamine')}\n"
    )
    print_table(results)
    return 0


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
