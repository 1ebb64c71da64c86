"""Time workbook generation against a bare XlsxWriter baseline, per built-in template.

Run from the project folder with the project's virtualenv:

    python benchmarks/generate.py [--runs 5] [--months 12] [--locale en-US]

For each template it times ``write_workbook`` (median of ``--runs`` runs),
reads the generated workbook once with openpyxl to collect every cell's value
or formula by sheet, then times a plain XlsxWriter loop writing exactly those
cells with no formats, validations, names or charts (median of the same number
of runs, in the same process). The ratio generate / baseline is the cost of
everything roi_xl adds on top of putting the cells in a file.
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
import xlsxwriter
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.worksheet.formula import ArrayFormula

from roi_xl.locale import LOCALES
from roi_xl.model import template
from roi_xl.workbook import WorkbookOptions, write_workbook

START = dt.date(2026, 1, 1)
CellValue = str | float | int | bool | dt.datetime
Sheet = tuple[str, list[tuple[int, int, CellValue]]]


@dataclass
class Result:
    name: str
    generate: float
    baseline: float
    size: int
    formulas: int
    cells: int

    @property
    def ratio(self) -> float:
        return self.generate / self.baseline if self.baseline else float("inf")


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


def collect_cells(path: Path) -> list[Sheet]:
    """Every non-empty cell of every sheet: (sheet, [(row, col, value or '=formula')])."""
    wb = openpyxl.load_workbook(path)
    sheets = []
    for ws in wb.worksheets:
        cells = []
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell, XlCell) or cell.value is None:
                    continue  # merged-away cells and styled blanks
                value = cell.value
                if isinstance(value, ArrayFormula):
                    value = value.text
                cells.append((cell.row - 1, cell.column - 1, value))
        sheets.append((ws.title, cells))
    return sheets


def write_baseline(path: Path, sheets: list[Sheet]) -> None:
    """The same cells with a bare XlsxWriter loop: no formats, names, validations or charts."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    for title, cells in sheets:
        ws = workbook.add_worksheet(title)
        for row, col, value in cells:
            if isinstance(value, str) and value.startswith("="):
                ws.write_formula(row, col, value)
            elif isinstance(value, str):
                ws.write_string(row, col, value)
            elif isinstance(value, bool):
                ws.write_boolean(row, col, value)
            elif isinstance(value, dt.datetime | dt.date):
                ws.write_datetime(row, col, value)
            else:
                ws.write_number(row, col, value)
    workbook.close()


def bench(name: str, folder: Path, runs: int, months: int, locale: str) -> Result:
    model = template.load(name)
    target = folder / f"{name}.xlsx"
    options = WorkbookOptions(locale=locale, start=START, months=months, force=True)
    progress(f"[{name}] generate with roi_xl ({runs} runs)")
    generate = median_time(lambda: write_workbook(model, target, options), runs, "generate")
    progress(f"[{name}] read the workbook back with openpyxl")
    sheets = collect_cells(target)
    cells = sum(len(c) for _, c in sheets)
    formulas = sum(1 for _, c in sheets for *_, v in c if isinstance(v, str) and v.startswith("="))
    progress(f"[{name}] baseline: bare XlsxWriter, {cells} cells ({runs} runs)")
    baseline_path = folder / f"{name}-baseline.xlsx"
    baseline = median_time(lambda: write_baseline(baseline_path, sheets), runs, "baseline")
    return Result(name, generate, baseline, target.stat().st_size, formulas, cells)


def print_table(results: list[Result]) -> None:
    header = ("template", "generate s", "baseline s", "ratio", "file size", "formulas", "cells")
    rows = [
        (
            r.name,
            f"{r.generate:.3f}",
            f"{r.baseline:.3f}",
            f"{r.ratio:.1f}x",
            f"{r.size / 1024:.1f} KiB",
            str(r.formulas),
            str(r.cells),
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
    with tempfile.TemporaryDirectory(prefix="roi_xl-bench-") as folder:
        for name in names:
            results.append(bench(name, Path(folder), args.runs, args.months, args.locale))
    print(
        f"\nroi_xl generation vs bare XlsxWriter: median of {args.runs} runs, "
        f"{args.months} months, {args.locale}, Python {sys.version.split()[0]}, "
        f"XlsxWriter {xlsxwriter.__version__}\n"
    )
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
