"""Time ``roi-xl calls`` on a million-row log against a straightforward pandas version.

Run from the project folder with the project's virtualenv (pandas is needed for the
baseline only: ``pip install pandas``):

    python benchmarks/calls.py [--rows 1000000] [--distinct 300000] [--keep DIR]

It writes a call-tracking log of ``--rows`` calls over a year (2025, America/New_York)
from about ``--distinct`` callers whose numbers are typed eight ways, plus a few invalid,
withheld and broken rows, into a temporary folder. Then, each in a fresh subprocess (so
peak memory is the child's own ``ru_maxrss``, DuckDB's native memory included):

- **roi_xl**: ``analyse_calls`` as the CLI calls it, plus ``to_json()``;
- **pandas**: the same KPIs with pandas, numbers normalised by the same
  ``roi_xl.calls.phones.normalise_keys`` (so the comparison is of the engines, not of
  phonenumbers), read with ``pandas.read_csv``.

It prints, for each, the time of the analysis inside the process, the wall time of the
whole subprocess (interpreter start and imports included), the CPU time it used (all
threads) and its peak memory; then the ratio pandas / roi_xl, whether each target is met
(roi_xl under 5 s end to end, 3x faster than pandas, under 2 GiB) and whether both found
the same monthly figures. Timings swing with other work on the machine: the load
average is printed beside them.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TIME_ZONE = "America/New_York"
TARGET_SECONDS = 5.0
TARGET_RATIO = 3.0
TARGET_MEMORY = 2 * 1024**3
AREA_CODES = np.array(
    ["617", "781", "857", "508", "978", "212", "646", "718", "415", "312", "305", "404", "206"]
)
STATUSES = np.array(["Answered", "Missed", "Abandoned", "Voicemail", "No Answer", "Completed"])
STATUS_WEIGHTS = np.array([0.62, 0.12, 0.08, 0.08, 0.04, 0.06])
SOURCES = np.array(["Google Ads", "Website", "Mailer", "Referral", "Facebook"])
OUTCOMES = np.array(["Booked", "Qualified Lead", "Existing Customer", "Spam", "No Action", ""])
HEADER = [
    "Call ID",
    "Start Time",
    "Customer Phone Number",
    "Source",
    "Call Status",
    "Ring Time",
    "Duration",
    "Outcome",
]
KPIS = (
    "received",
    "answered",
    "missed",
    "abandoned",
    "voicemail",
    "unique_callers",
    "repeat_callers",
    "missed_business_hours",
    "missed_after_hours",
    "missed_not_recovered",
    "speed_to_answer_median_s",
    "speed_to_answer_p90_s",
)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the log


def write_log(path: Path, rows: int, distinct: int, seed: int = 7) -> None:
    """A call-tracking export: ISO local start times, numbers typed in mixed ways."""
    rng = np.random.default_rng(seed)
    nationals = np.char.add(
        rng.choice(AREA_CODES, distinct),
        np.char.zfill(rng.integers(2_000_000, 10_000_000, distinct).astype(str), 7),
    )
    callers = nationals[rng.integers(0, distinct, rows)]
    start = np.datetime64("2025-01-01T00:00:00")
    hours = rng.choice(24, rows, p=_hour_weights())
    days = rng.integers(0, 365, rows)
    seconds = days * 86400 + hours * 3600 + rng.integers(0, 3600, rows)
    seconds.sort()
    starts = (start + seconds.astype("timedelta64[s]")).astype(str)
    statuses = rng.choice(STATUSES, rows, p=STATUS_WEIGHTS)
    waits = np.clip(rng.lognormal(2.4, 0.6, rows).round(), 1, 300).astype(int).astype(str)
    talk = rng.integers(0, 1200, rows)
    forms = rng.integers(0, 8, rows)
    sources = rng.choice(SOURCES, rows)
    outcomes = rng.choice(OUTCOMES, rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for i in range(rows):
            number = _typed(str(callers[i]), int(forms[i]))
            if i % 997 == 0:
                number = ("Anonymous", "", "555-0100", "12")[i % 4]
            writer.writerow(
                [
                    f"C{i:08d}",
                    starts[i],
                    number,
                    sources[i],
                    statuses[i] if i % 10_007 else "Transferred",
                    waits[i],
                    f"{talk[i] // 3600}:{talk[i] // 60 % 60:02d}:{talk[i] % 60:02d}",
                    outcomes[i],
                ]
            )


def _hour_weights() -> np.ndarray:
    weights = np.array(
        [1, 1, 1, 1, 1, 2, 5, 12, 22, 32, 38, 34, 20, 24, 33, 35, 26, 18, 12, 8, 6, 4, 3, 2],
        dtype=float,
    )
    return weights / weights.sum()


def _typed(n: str, form: int) -> str:
    a, b, c = n[:3], n[3:6], n[6:]
    return (
        f"({a}) {b}-{c}",
        f"{a}-{b}-{c}",
        f"{a}.{b}.{c}",
        f"+1 {a} {b} {c}",
        f"+1{n}",
        n,
        f"1-{a}-{b}-{c}",
        f"+1 ({a}) {b}-{c}",
    )[form]


# ------------------------------------------------------------------ the two contenders


def run_roi_xl(path: Path) -> dict[str, dict[str, float | int | None]]:
    from roi_xl.calls import CallOptions, analyse_calls

    result = analyse_calls(path, CallOptions(mapping="call-tracking", time_zone=TIME_ZONE))
    result.to_json()
    return {
        month: {k: getattr(figures, k) for k in KPIS} for month, figures in result.months.items()
    } | {
        "_rows": {
            "read": result.rows_read,
            "counted": result.rows_counted,
            "rejected": result.rows_rejected,
            "invalid_numbers": result.invalid_numbers,
        }
    }


def run_pandas(path: Path) -> dict[str, dict[str, float | int | None]]:
    """The same KPIs as roi_xl, written the way a pandas user would."""
    import pandas as pd

    from roi_xl.calls import phones
    from roi_xl.calls.hours import parse_business_hours
    from roi_xl.calls.presets import load_mapping, normalise_word

    mapping = load_mapping("call-tracking")
    hours = parse_business_hours("mon-fri 09:00-18:00")
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    df = df.apply(lambda s: s.str.strip())
    df["line"] = np.arange(len(df)) + 2
    local = pd.to_datetime(df["Start Time"], format="ISO8601", errors="coerce")
    df["local"] = local
    aware = local.dt.tz_localize(TIME_ZONE, ambiguous=False, nonexistent="shift_forward")
    df["t"] = (aware - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(seconds=1)
    status_raw = df["Call Status"].dropna().unique()
    status_map = {s: mapping.statuses.get(normalise_word(s)) for s in status_raw}
    df["status"] = df["Call Status"].map(status_map)
    df["wait"] = pd.to_numeric(df["Ring Time"], errors="coerce")
    df["duration"] = pd.to_timedelta(df["Duration"], errors="coerce").dt.total_seconds()
    ok = df["local"].notna() & df["status"].notna() & ~(df["wait"] < 0) & ~(df["duration"] < 0)
    ok &= ~(df["Call ID"].notna() & df["Call ID"].where(ok).duplicated(keep="first"))
    calls = df[ok].copy()
    rejected = int((~ok).sum())

    caller = calls["Customer Phone Number"]
    withheld = caller.isna() | caller.str.lower().isin(mapping.withheld_callers)
    punctuated = caller.str.fullmatch(phones.PUNCTUATED_NUMBER[1:-1]).fillna(False).astype(bool)
    digits = caller.str.replace(r"[^0-9]", "", regex=True)
    key = caller.where(~punctuated, caller.str[:1].where(caller.str[:1] == "+", "") + digits)
    key = key.where(~withheld)
    distinct = key.dropna().unique().tolist()
    e164 = dict(zip(distinct, phones.normalise_keys(distinct, "US"), strict=True))
    number = key.map(e164)
    calls["invalid"] = key.notna() & number.isna()
    calls["caller"] = number.where(number.notna(), caller).where(key.notna())

    calls["answered"] = calls["status"] == "answered"
    calls["month"] = calls["local"].dt.year * 100 + calls["local"].dt.month
    calls["dow"] = calls["local"].dt.day_of_week + 1
    calls["hour"] = calls["local"].dt.hour
    minute = calls["hour"] * 60 + calls["local"].dt.minute
    business = pd.Series(False, index=calls.index)
    for day, begin, end in hours.spans:
        business |= (calls["dow"] == day) & (minute >= begin) & (minute < end)
    calls["business"] = business

    calls = calls.sort_values(["caller", "t", "line"])
    by_caller = calls.groupby("caller", sort=False)
    calls["repeat"] = calls["caller"].notna() & ((calls["t"] - by_caller["t"].shift()) <= 86400)
    answered_t = calls["t"].where(calls["answered"])
    reverse = answered_t[::-1].groupby(calls["caller"][::-1], sort=False)
    next_answer = reverse.cummin().groupby(calls["caller"][::-1], sort=False).shift()[::-1]
    calls["unrecovered"] = (
        calls["caller"].notna() & ~calls["answered"] & ~((next_answer - calls["t"]) <= 3600)
    )

    months: dict[str, dict[str, float | int | None]] = {}
    for month, group in calls.groupby("month"):
        waits = group.loc[group["answered"], "wait"].dropna()
        answered = int(group["answered"].sum())
        missed = group[~group["answered"]]
        months[f"{month // 100}-{month % 100:02d}"] = {
            "received": len(group),
            "answered": answered,
            "missed": len(group) - answered,
            "abandoned": int((group["status"] == "abandoned").sum()),
            "voicemail": int((group["status"] == "voicemail").sum()),
            "unique_callers": int(group["caller"].nunique()),
            "repeat_callers": int(group.loc[group["repeat"], "caller"].nunique()),
            "missed_business_hours": int(missed["business"].sum()),
            "missed_after_hours": int((~missed["business"]).sum()),
            "missed_not_recovered": int(group.loc[group["unrecovered"], "caller"].nunique()),
            "speed_to_answer_median_s": round(float(waits.quantile(0.5)), 3),
            "speed_to_answer_p90_s": round(float(waits.quantile(0.9)), 3),
        }
        group.groupby("Source").agg(
            calls=("line", "size"), answered=("answered", "sum")
        )  # by source, as roi_xl reports it
        missed.groupby(["dow", "hour"]).size()  # the month's missed-call grid
    calls.groupby(["dow", "hour"]).size()
    months["_rows"] = {
        "read": len(df),
        "counted": len(calls),
        "rejected": rejected,
        "invalid_numbers": int(calls.loc[calls["invalid"], "Customer Phone Number"].nunique()),
    }
    return months


def child(kind: str, path: Path) -> None:
    """In a subprocess: run one contender, print its time and figures as JSON."""
    begin = time.perf_counter()
    figures = run_roi_xl(path) if kind == "roi_xl" else run_pandas(path)
    seconds = time.perf_counter() - begin
    print(json.dumps({"seconds": seconds, "figures": figures}))


def measure(kind: str, path: Path) -> tuple[float, float, int, dict, float]:
    """(analysis s, subprocess wall s, peak RSS bytes, figures, CPU s) of one contender."""
    begin = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", kind, str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - begin
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{kind} failed with exit code {proc.returncode}")
    data = json.loads(output)
    cpu = usage.ru_utime + usage.ru_stime
    return data["seconds"], wall, usage.ru_maxrss * 1024, data["figures"], cpu


def compare(ours: dict, theirs: dict) -> list[str]:
    problems = []
    for month in sorted(set(ours) | set(theirs)):
        a, b = ours.get(month, {}), theirs.get(month, {})
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                problems.append(f"{month} {key}: roi_xl {a.get(key)} vs pandas {b.get(key)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--distinct", type=int, default=300_000, help="distinct callers")
    parser.add_argument("--keep", type=Path, help="write the log here, keep it and reuse it")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"calls-{args.rows}-{args.distinct}.csv"
        if args.keep and path.exists():
            progress(f"reusing {path}")
        else:
            progress(f"writing {args.rows:,} calls from ~{args.distinct:,} callers to {path}")
            begin = time.perf_counter()
            write_log(path, args.rows, args.distinct)
            seconds = time.perf_counter() - begin
            progress(f"  {seconds:.1f} s, {path.stat().st_size / 1024**2:.0f} MiB")
        progress("roi_xl (DuckDB) in a subprocess ...")
        ours = measure("roi_xl", path)
        progress("pandas in a subprocess ...")
        theirs = measure("pandas", path)
        report(args.rows, ours, theirs)
    return 0


def report(rows: int, ours: tuple, theirs: tuple) -> None:
    load = os.getloadavg()[0]
    print(f"{'':8}  {'analysis s':>10}  {'process s':>9}  {'CPU s':>6}  {'peak memory':>11}")
    for name, (seconds, wall, peak, _, cpu) in (("roi_xl", ours), ("pandas", theirs)):
        print(f"{name:8}  {seconds:10.2f}  {wall:9.2f}  {cpu:6.2f}  {peak / 1024**2:7.0f} MiB")
    ratio = theirs[0] / ours[0]
    print(
        f"\n{rows:,} rows on {os.cpu_count()} cores (load average {load:.1f}); "
        f"ratio pandas / roi_xl = {ratio:.1f}x (analysis times)"
    )
    checks = [
        (f"roi_xl under {TARGET_SECONDS:.0f} s end to end", ours[1] < TARGET_SECONDS),
        (f"at least {TARGET_RATIO:.0f}x faster than pandas", ratio >= TARGET_RATIO),
        ("peak memory under 2 GiB", ours[2] < TARGET_MEMORY),
    ]
    for label, ok in checks:
        print(f"  {'met' if ok else 'MISSED'}: {label}")
    problems = compare(ours[3], theirs[3])
    if problems:
        print(f"  figures differ in {len(problems)} place(s):", *problems[:10], sep="\n    ")
    else:
        print(f"  same figures: {len(ours[3]) - 1} months, every KPI compared")


if __name__ == "__main__":
    sys.exit(main())
