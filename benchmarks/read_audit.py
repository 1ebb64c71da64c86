"""Time reading a workbook back (read + recompute + audit) against a plain openpyxl load.

Run from the project folder with the project's virtualenv:

    python benchmarks/read_audit.py [--runs 5] [--months 12] [--locale en-US] [TEMPLATE ...]

For each template it writes a workbook with the demo's sample actuals (and, for
templates with a heatmap, the demo's missed-call grids), then times, in the same
process and on the same file (median of ``--runs`` runs each):

- ``read_workbook``: the package guard, the streaming formula reader (formulas,
  formats, names), python-calamine (values), the reference workbook rebuilt from
  the inputs read, the engine's recomputation and every audit check;
- the baseline: a plain ``openpyxl.load_workbook(path)`` full load of the file;
- ``xlsx_guard.scan`` alone;
- the streaming formula reader alone (what replaced the openpyxl load);
- python-calamine reading every sheet's values alone, as the reader does.

The ratio read / baseline is the cost of reading a workbook back, relative to
only parsing it with openpyxl (below 1: faster than openpyxl). The load average
is printed before and after, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
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
from roi_xl.inspect.formula_book import read_formula_book
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
    formulas: float
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
        """Roughly what the reference, the recomputation and the audit add to the three reads."""
        return max(0.0, self.read - self.scan - self.formulas - self.calamine)


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
    progress(f"[{name}] streaming formula reader alone ({runs} runs)")
    package = xlsx_guard.scan(path)
    formulas = median_time(lambda: read_formula_book(path, package), runs, "formulas")
    progress(f"[{name}] python-calamine values alone ({runs} runs)")
    calamine = median_time(lambda: calamine_values(path), runs, "calamine")
    return Result(
        name=name,
        read=read,
        baseline=baseline,
        scan=scan,
        formulas=formulas,
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
        "formulas s",
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
            _speed(r.ratio),
            f"{r.scan:.3f}",
            f"{r.formulas:.3f}",
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
        "\nread s: read_workbook (guard + formulas + calamine + reference + recompute + audit);"
        "\nopenpyxl s: the baseline, openpyxl.load_workbook(path); ratio = read / openpyxl "
        "(shown as slower or faster);\nformulas s: the streaming formula reader alone; "
        "rest s = read - scan - formulas - calamine,\nroughly the reference, the recomputation "
        "and the audit."
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
    load_before = os.getloadavg()
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
    load_after = os.getloadavg()
    print(
        f"\nload average (1, 5, 15 min): before {_loads(load_before)}, after "
        f"{_loads(load_after)} on {os.cpu_count()} cores"
    )
    return 0


def _speed(ratio: float) -> str:
    """read / openpyxl as people say it: "2.10x slower" or "4.00x faster"."""
    return f"{ratio:.2f}x slower" if ratio >= 1 else f"{1 / ratio:.2f}x faster"


def _loads(loads: tuple[float, float, float]) -> str:
    return " / ".join(f"{load:.1f}" for load in loads)


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
