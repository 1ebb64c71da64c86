"""Time many workbooks at once: a batch of 1,000 from a people CSV, then their roll-up.

Run from the project folder with the project's virtualenv:

    python benchmarks/batch_rollup.py [--files 1000] [--workers N] [--template phoning-b2b]
                                      [--baseline-files 100] [--full-files 40]

In one run, on one machine:

- **batch**: ``generate_batch`` writes ``--files`` workbooks from a CSV whose rows vary the
  template's count, currency and percent inputs (seeded, within their ranges); its workers'
  peak memory is shown;
- **full generation**: ``write_workbook`` of the first ``--generate-files`` rows one after the
  other in one process, each computed alone, as ``roi-xl new`` does: the batch's baseline;
- **roll-up**: ``rollup`` reads them all (values-only read, fast audit) and writes the
  consolidated workbook; its read and write phases are shown apart;
- **baseline**: a plain openpyxl loop, ``load_workbook(path, data_only=True)`` of each file
  reading the same numbers (selected scenario, its inputs and outputs, each month's figures),
  one process, on the first ``--baseline-files`` files; the roll-up of those same files with
  one worker is timed too, so the ratio is shown per core as well as with all workers;
- **full audit**: the roll-up with ``audit="full"`` (formulas compared too) on the first
  ``--full-files`` files.

Ratios compare seconds per workbook: full generation / batch, openpyxl loop / roll-up. The
load average is printed before and after, since the machine may be shared. Targets on a
2-core machine: a batch of at least 50 workbooks/s, a roll-up of 1,000 workbooks in under 8 s, a
full-audit roll-up under 40 ms a workbook, peak memory under 500 MiB.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from roi_xl.batch import generate_batch
from roi_xl.locale import load_locale
from roi_xl.model import template
from roi_xl.model.template import Template
from roi_xl.overrides import parse_number
from roi_xl.rollup.consolidate import rollup
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.layout import (
    INPUT_KEY_COL,
    METRIC_KEY_COL,
    MONTH_ACTUAL_COL,
    MONTH_KEY_COL,
    SCENARIO_COLS,
    SELECTOR_ROW,
    VALUE_COL,
    build_layout,
)

START = dt.date(2026, 1, 1)
TARGET_SECONDS = 8.0  # the roll-up of TARGET_FILES workbooks, fast audit
TARGET_FILES = 1000
TARGET_BATCH_PER_SECOND = 50.0
TARGET_FULL_MS = 40.0  # per workbook, --audit full
TARGET_MIB = 500  # peak memory of the roll-up (parent, and its largest worker)


@dataclass
class Step:
    name: str
    files: int
    seconds: float
    note: str = ""
    cpu: float = 0.0  # CPU seconds of every process of the step, which load does not inflate

    @property
    def per_second(self) -> float:
        return self.files / self.seconds if self.seconds else float("inf")

    @property
    def per_file(self) -> float:
        return self.seconds / self.files if self.files else 0.0


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ticker(label: str):
    def tick(done: int, total: int, path: str) -> None:
        if done % 100 == 0 or done == total:
            progress(f"  {label}: {done}/{total}")

    return tick


def people_csv(model: Template, path: Path, files: int, seed: int) -> Path:
    """A row per branch, varying the count, currency and percent inputs within their ranges."""
    rng = random.Random(seed)
    varied = [i for i in model.inputs if i.kind in ("count", "currency", "percent")]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "owner", *(i.key for i in varied)])
        for number in range(1, files + 1):
            values = []
            for item in varied:
                value = item.defaults["realistic"] * rng.uniform(0.7, 1.3)
                values.append(f"{min(max(value, item.minimum), item.maximum):.6g}")
            writer.writerow([f"branch-{number:04d}", f"lead-{number % 37:02d}", *values])
    return path


def openpyxl_loop(paths: list[Path]) -> float:
    """The baseline: load each file with openpyxl (data_only) and read the same numbers."""
    total = 0.0
    for path in paths:
        book = openpyxl.load_workbook(path, data_only=True)
        props = {p.name: p.value for p in book.custom_doc_props.props}
        model = template.load(props["roi_xl_template"])
        year, month = (int(part) for part in props["roi_xl_start"].split("-"))
        start, months = dt.date(year, month, 1), int(props["roi_xl_months"])
        layout = build_layout(model, load_locale(props["roi_xl_locale"]), start, months)
        inputs = book[layout.inputs]
        names = {label: key for key, label in layout.locale.scenarios.items()}
        col = SCENARIO_COLS[names[inputs.cell(SELECTOR_ROW + 1, VALUE_COL + 1).value]] + 1
        rows = _rows(inputs, INPUT_KEY_COL)
        numbers = [inputs.cell(rows[k], col).value for k in model.input_keys]
        calculations = book[layout.calculations]
        rows = _rows(calculations, METRIC_KEY_COL)
        numbers += [calculations.cell(rows[k], col).value for k in model.metric_keys]
        for month in layout.month_sheets:
            sheet = book[month]
            rows = _rows(sheet, MONTH_KEY_COL)
            for item in model.monthly.fields:
                numbers.append(sheet.cell(rows[item.key], MONTH_ACTUAL_COL + 1).value)
        total += sum(v for v in numbers if isinstance(v, (int, float)))
    return total


def _rows(sheet, key_col: int) -> dict[object, int]:
    return {sheet.cell(r, key_col + 1).value: r for r in range(1, sheet.max_row + 1)}


def run(args: argparse.Namespace, folder: Path) -> list[Step]:
    model = template.load(args.template)
    people = people_csv(model, folder / "people.csv", args.files, args.seed)
    out = folder / "workbooks"
    progress(f"batch: {args.files} workbooks of {model.key}, {args.workers} workers")
    begin, cpu = time.perf_counter(), cpu_seconds()
    report = generate_batch(
        model, people, out, start=START, workers=args.workers, progress=ticker("batch")
    )
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    note = f"{len(report.skipped)} skipped, largest worker peak RSS {rss:.0f} MiB"
    steps = [
        Step(
            f"batch, {args.workers} workers",
            len(report.written),
            since(begin),
            note,
            cpu_seconds() - cpu,
        )
    ]
    files = sorted(out.glob("*.xlsx"))

    alone = folder / "alone"
    alone.mkdir()
    rows = list(csv.DictReader(people.read_text(encoding="utf-8").splitlines()))
    rows = rows[: args.generate_files]
    progress(f"full generation: {len(rows)} workbooks one by one, 1 process")
    begin, cpu = time.perf_counter(), cpu_seconds()
    for row in rows:
        overrides = {
            key: parse_number(value, key)
            for key, value in row.items()
            if key not in ("name", "owner") and value
        }
        options = WorkbookOptions(start=START, overrides=overrides)
        write_workbook(model, alone / f"{row['name']}.xlsx", options)
    steps.append(
        Step(
            "full generation, 1 process",
            len(rows),
            since(begin),
            "roi-xl new each",
            cpu_seconds() - cpu,
        )
    )

    progress(f"roll-up: {len(files)} workbooks, {args.workers} workers")
    begin = time.perf_counter()
    summary = rollup([out], folder / "rollup.xlsx", workers=args.workers, progress=ticker("read"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    note = (
        f"read {summary.read_seconds:.1f} s + write {summary.write_seconds:.1f} s, "
        f"{len(summary.failures)} failures, parent peak RSS {rss:.0f} MiB"
    )
    steps.append(Step(f"roll-up, {args.workers} workers", len(files), since(begin), note))

    sample = files[: args.baseline_files or len(files)]
    progress(f"roll-up of {len(sample)} workbooks, 1 worker")
    begin = time.perf_counter()
    rollup(sample, folder / "rollup-1.xlsx", workers=1)
    steps.append(Step("roll-up, 1 worker", len(sample), since(begin)))
    progress(f"baseline: openpyxl loop over {len(sample)} workbooks")
    begin = time.perf_counter()
    openpyxl_loop(sample)
    steps.append(Step("openpyxl loop, 1 process", len(sample), since(begin), "data_only=True"))

    if args.full_files:
        full = files[: args.full_files]
        progress(f"roll-up with the full audit: {len(full)} workbooks, {args.workers} workers")
        begin = time.perf_counter()
        rollup(full, folder / "rollup-full.xlsx", workers=args.workers, audit="full")
        steps.append(Step(f"roll-up --audit full, {args.workers} workers", len(full), since(begin)))
    return steps


def cpu_seconds() -> float:
    """User and system time of this process and of its finished workers."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def load_text() -> str:
    return " ".join(f"{load:.1f}" for load in os.getloadavg())


def since(begin: float) -> float:
    return time.perf_counter() - begin


def print_table(steps: list[Step]) -> None:
    header = ("step", "workbooks", "seconds", "workbooks/s", "ms/workbook", "note")
    rows = [
        (
            s.name,
            str(s.files),
            f"{s.seconds:.2f}",
            f"{s.per_second:.1f}",
            f"{s.per_file * 1000:.1f}",
            s.note,
        )
        for s in steps
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        numbers = [c.rjust(w) for c, w in zip(row[1:-1], widths[1:-1], strict=True)]
        print("  ".join([row[0].ljust(widths[0]), *numbers, row[-1]]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=TARGET_FILES, help="workbooks to generate")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--template", default="phoning-b2b")
    parser.add_argument("--baseline-files", type=int, default=100, help="0: all files")
    parser.add_argument("--full-files", type=int, default=40, help="0: skip the full audit")
    parser.add_argument(
        "--generate-files", type=int, default=40, help="rows also written one by one"
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    load_before = load_text()
    with tempfile.TemporaryDirectory(prefix="roi_xl-bench-") as folder:
        steps = run(args, Path(folder))
    batch, alone, rollup_all, rollup_one, loop = steps[:5]
    batch_cpu, alone_cpu = batch.cpu / batch.files, alone.cpu / alone.files
    print(
        f"\nroi_xl batch and roll-up: {args.files} workbooks of {args.template}, "
        f"{args.workers} workers on {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"openpyxl {openpyxl.__version__}; load average before {load_before}, "
        f"after {load_text()}\n"
    )
    print_table(steps)
    print(
        "\nbatch vs full generation, seconds per workbook: "
        f"{alone.per_file / batch.per_file:.1f}x faster with {args.workers} workers, "
        f"{alone.per_file / (batch.per_file * args.workers):.1f}x per core (wall clock); "
        f"CPU per workbook {batch_cpu * 1000:.0f} ms against {alone_cpu * 1000:.0f} ms: "
        f"{alone_cpu / batch_cpu:.2f}x."
    )
    verdict = "met" if batch.per_second >= TARGET_BATCH_PER_SECOND else "MISSED"
    measured = "" if batch.files >= TARGET_FILES else f", measured on {batch.files} only"
    print(
        f"target: batch of {TARGET_FILES} workbooks at {TARGET_BATCH_PER_SECOND:.0f} "
        f"workbooks/s or more: {verdict} ({batch.per_second:.1f} workbooks/s{measured})."
    )
    print(
        "\nroll-up vs openpyxl loop, seconds per workbook: "
        f"{loop.per_file / rollup_all.per_file:.1f}x faster with {args.workers} workers, "
        f"{loop.per_file / rollup_one.per_file:.1f}x per core (1 worker)."
    )
    if rollup_all.files >= TARGET_FILES:
        verdict = "met" if rollup_all.seconds < TARGET_SECONDS else "MISSED"
        print(
            f"target: roll-up of {TARGET_FILES} workbooks in under {TARGET_SECONDS:.0f} s: "
            f"{verdict} ({rollup_all.seconds:.1f} s)."
        )
    if args.full_files:
        full = steps[5]
        verdict = "met" if full.per_file * 1000 < TARGET_FULL_MS else "MISSED"
        print(
            f"target: --audit full under {TARGET_FULL_MS:.0f} ms a workbook: {verdict} "
            f"({full.per_file * 1000:.0f} ms)."
        )
    worker_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    parent_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verdict = "met" if max(worker_mib, parent_mib) < TARGET_MIB else "MISSED"
    print(
        f"memory under {TARGET_MIB} MiB: {verdict} (peak RSS: parent {parent_mib:.0f} MiB, "
        f"largest child {worker_mib:.0f} MiB)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
