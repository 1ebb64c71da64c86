"""Time MISSEDCALLLOSS over a whole range through the UDF against a per-cell Python loop.

Run from the project folder with the project's virtualenv (xlwings installed):

    python benchmarks/udfs.py [--rows 100000] [--runs 5] [--loop-rows N]

The UDF receives four columns as xlwings passes them (lists of one-cell rows) and evaluates
them as numpy arrays in one go; the time includes turning those lists into arrays. The
baseline calls the same UDF once per row on Python floats, as Excel would if the formula were
filled down instead of given ranges (without the COM or HTTP cost of each call, which would
only make the loop slower). Both are measured in this run; ``--loop-rows`` times the loop on
the first N rows only and scales it up, for a quicker estimate.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from roi_xl.excel.udfs import UDFS
from roi_xl.model.functions import FUNCTIONS

NAME = "MISSEDCALLLOSS"


def median_time(action: Callable[[], object], runs: int) -> float:
    """Median wall time of ``runs`` calls, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def columns(rows: int) -> list[np.ndarray]:
    """Plausible inputs: missed calls, lead rate, conversion rate, average value."""
    rng = np.random.default_rng(2026)
    return [
        rng.integers(0, 500, rows).astype(float),
        rng.uniform(0.1, 0.6, rows),
        rng.uniform(0.1, 0.5, rows),
        rng.uniform(100, 5000, rows),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="runs of each timing (median)")
    parser.add_argument(
        "--loop-rows", type=int, default=None, help="time the loop on this many rows, scaled"
    )
    args = parser.parse_args(argv)
    udf = UDFS[NAME]
    data = columns(args.rows)
    as_passed = [[[value] for value in column.tolist()] for column in data]

    result = udf(*as_passed)
    expected = FUNCTIONS[NAME](*data).astype(float)
    if not np.array_equal(result[:, 0], expected):
        print("the UDF and FUNCTIONS disagree", file=sys.stderr)
        return 1

    vectorised = median_time(lambda: udf(*as_passed), args.runs)
    as_arrays = [column[:, np.newaxis] for column in data]
    on_arrays = median_time(lambda: udf(*as_arrays), args.runs)

    loop_rows = min(args.loop_rows or args.rows, args.rows)
    scalars = list(zip(*(column[:loop_rows].tolist() for column in data), strict=True))
    print(f"per-cell loop over {loop_rows:,} rows...", file=sys.stderr, flush=True)
    loop = median_time(lambda: [udf(*row) for row in scalars], max(1, args.runs // 5))
    loop_scaled = loop * args.rows / loop_rows

    print(f"{NAME} over {args.rows:,} rows x 4 columns")
    print(f"  UDF, whole range (numpy)   {vectorised * 1000:10.1f} ms")
    print(f"  UDF on numpy columns       {on_arrays * 1000:10.1f} ms  (no list conversion)")
    scaled = "" if loop_rows == args.rows else f"  (timed on {loop_rows:,} rows, scaled)"
    print(f"  UDF, per-cell Python loop  {loop_scaled * 1000:10.1f} ms{scaled}")
    print(
        f"  per row: {vectorised / args.rows * 1e9:.0f} ns vectorised,"
        f" {loop_scaled / args.rows * 1e6:.1f} us per call"
    )
    print(f"  ratio loop / vectorised    {loop_scaled / vectorised:10.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
