"""Time ``roi-xl calls`` on a million calls of a PBX log against a pandas version.

Run from the project folder with the project's virtualenv (pandas is needed for the
baseline only: ``pip install pandas``):

    python benchmarks/calls.py [--calls 1000000] [--distinct 300000] [--keep DIR]

It writes an Asterisk / FreePBX ``Master.csv`` (no header, every field quoted, local
time America/New_York, year 2025) of ``--calls`` calls from about ``--distinct``
callers, numbers typed several ways: a fifth of the inbound calls ring two or three
extensions (one row per leg, tied by linkedid), about one call in ten is an agent's
outbound call, most of them calling back a caller shortly after their call, and a
few rows are impossible (an ``infinity`` start, a duration of 1e300, local times
inside the spring-forward gap). A list of 500 spam numbers is passed as
``--exclude-numbers``. Then, each in a fresh subprocess (so peak memory is the child's
own ``ru_maxrss``, DuckDB's native memory included):

- **roi_xl**: ``analyse_calls`` as the CLI calls it, plus ``to_json()``;
- **pandas**: the same monthly figures with pandas (legs merged, callbacks and retries,
  spam, service level, first-time callers), numbers normalised by the same
  ``roi_xl.calls.phones.normalise_keys`` (so the comparison is of the engines).

It prints, for each, the time of the analysis inside the process, the wall time of the
whole subprocess (interpreter start and imports included), the CPU time it used and
its peak memory; then the ratios pandas / roi_xl of the analysis times and of the CPU
times, roi_xl's figures summed over the months, whether each target is met (roi_xl
under 5 s end to end, at least 4x pandas, under 1 GiB) and whether both found the same
figures. Timings swing with other work on the machine: the load average before and
after each run is printed, and the CPU times say what each used whatever the load.
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
TARGET_RATIO = 4.0
TARGET_MEMORY = 1024**3
WINDOW = 3600  # the default callback window, seconds
LEVEL = 20.0  # the default service level, seconds
AREA_CODES = np.array(["212", "646", "718", "917", "347", "516", "914", "201", "973", "203"])
KPIS = (
    "received",
    "answered",
    "missed",
    "spam",
    "missed_business_hours",
    "missed_after_hours",
    "unique_callers",
    "recovered",
    "recovered_by_callback",
    "recovered_by_retry",
    "missed_not_recovered",
    "outbound",
    "outbound_connected",
    "first_time_callers",
    "service_level",
    "speed_to_answer_median_s",
    "speed_to_answer_p90_s",
)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the log


def write_log(path: Path, spam_path: Path, calls: int, distinct: int, seed: int = 7) -> int:
    """Write Master.csv and the spam list; return the number of rows (legs) written."""
    rng = np.random.default_rng(seed)
    nationals = np.char.add(
        rng.choice(AREA_CODES, distinct),
        np.char.zfill(rng.integers(2_000_000, 10_000_000, distinct).astype(str), 7),
    )
    inbound = calls - calls // 10
    who = rng.integers(0, distinct, inbound)
    start = np.datetime64("2025-01-01T00:00:00")
    hours = rng.choice(24, inbound, p=_hour_weights())
    seconds = rng.integers(0, 365, inbound) * 86400 + hours * 3600 + rng.integers(0, 3600, inbound)
    # outbound calls: most call back the caller of an inbound call 5 to 90 minutes later
    outbound = calls - inbound
    base = rng.integers(0, inbound, outbound)
    out_seconds = seconds[base] + rng.integers(300, 5400, outbound)
    out_who = np.where(rng.random(outbound) < 0.8, who[base], rng.integers(0, distinct, outbound))
    all_seconds = np.concatenate([seconds, out_seconds])
    all_who = np.concatenate([who, out_who])
    is_out = np.concatenate([np.zeros(inbound, bool), np.ones(outbound, bool)])
    order = np.argsort(all_seconds, kind="stable")
    all_seconds, all_who, is_out = all_seconds[order], all_who[order], is_out[order]
    starts = (start + all_seconds.astype("timedelta64[s]")).astype(str)
    legs = np.where(is_out, 1, rng.choice([1, 2, 3], calls, p=[0.8, 0.15, 0.05]))
    answered = rng.random(calls) < np.where(is_out, 0.6, 0.66)
    waits = np.clip(rng.lognormal(2.4, 0.6, calls).round(), 1, 300).astype(int)
    talk = rng.integers(5, 1200, calls)
    forms = rng.integers(0, 4, calls)
    failures = rng.choice(["NO ANSWER", "BUSY", "FAILED"], calls, p=[0.8, 0.15, 0.05])
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for i in range(calls):
            number = _typed(str(nationals[all_who[i]]), int(forms[i]))
            begin = starts[i].replace("T", " ")
            linked = f"{1735689600 + i}.{i}"
            for k in range(int(legs[i])):
                last = k == legs[i] - 1
                ok = bool(answered[i]) and last
                answer = _plus(all_seconds[i], int(waits[i])) if ok else ""
                ring = int(waits[i]) + int(talk[i]) if ok else 30
                when = "infinity" if i % 200_003 == 100_001 else begin
                length = "1e300" if i % 300_007 == 150_003 else str(ring)
                if is_out[i]:
                    src, dst, context = "201", number, "from-internal"
                else:
                    src, dst = number, "600" if legs[i] > 1 else "201"
                    context = "ext-group" if legs[i] > 1 else "from-trunk"
                writer.writerow(
                    [
                        "", src, dst, context, f'"" <{src}>', f"SIP/trunk-{i:08x}",
                        f"SIP/20{k + 1}-{i:08x}", "Dial", "SIP/201,30", when, answer,
                        _plus(all_seconds[i], ring), length, str(talk[i]) if ok else "0",
                        "ANSWERED" if ok else str(failures[i]), "DOCUMENTATION",
                        linked if k == 0 else f"{1735689600 + i}.{i}{k}", "", "", linked,
                        str(k),
                    ]
                )  # fmt: skip
                rows += 1
    spam = rng.choice(nationals, 500, replace=False)
    spam_path.write_text("".join(f"{n}\n" for n in spam), "utf-8")
    return rows


def _plus(second: int, extra: int) -> str:
    moment = np.datetime64("2025-01-01T00:00:00") + np.timedelta64(int(second) + extra, "s")
    return str(moment).replace("T", " ")


def _hour_weights() -> np.ndarray:
    weights = np.array(
        [1, 1, 1, 1, 1, 2, 5, 12, 22, 32, 38, 34, 20, 24, 33, 35, 26, 18, 12, 8, 6, 4, 3, 2],
        dtype=float,
    )
    return weights / weights.sum()


def _typed(n: str, form: int) -> str:
    return (n, f"1{n}", f"+1{n}", f"({n[:3]}) {n[3:6]}-{n[6:]}")[form]


# ------------------------------------------------------------------ the two contenders


def run_roi_xl(path: Path, spam: Path) -> dict[str, dict[str, float | int | None]]:
    from roi_xl.calls import CallOptions, analyse_calls

    options = CallOptions(time_zone=TIME_ZONE, exclude_numbers=spam)
    result = analyse_calls(path, options)
    result.to_json()
    return {
        month: {k: getattr(figures, k) for k in KPIS} for month, figures in result.months.items()
    } | {
        "_rows": {
            "read": result.rows_read,
            "counted": result.rows_counted,
            "rejected": result.rows_rejected,
            "legs_merged": result.legs_merged,
        }
    }


NAMES = [
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
    "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
    "uniqueid", "userfield", "peeraccount", "linkedid", "sequence",
]  # fmt: skip


def run_pandas(path: Path, spam_path: Path) -> dict[str, dict[str, float | int | None]]:
    """The same figures as roi_xl, written the way a pandas user would."""
    import pandas as pd

    from roi_xl.calls import phones
    from roi_xl.calls.hours import parse_business_hours

    hours = parse_business_hours("mon-fri 09:00-18:00")
    df = pd.read_csv(path, header=None, names=NAMES, dtype=str, keep_default_na=False)
    df["line"] = np.arange(len(df)) + 1
    naive = pd.to_datetime(df["start"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    aware = naive.dt.tz_localize(TIME_ZONE, ambiguous=False, nonexistent="NaT")
    df["t"] = (aware - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(seconds=1)
    answer = pd.to_datetime(df["answer"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    answer_t = answer.dt.tz_localize(TIME_ZONE, ambiguous=False, nonexistent="NaT")
    df["wait"] = (answer_t - aware) / pd.Timedelta(seconds=1)
    duration = pd.to_numeric(df["duration"], errors="coerce")
    ok = df["t"].notna() & (duration <= 86400) & (df["wait"].isna() | (df["wait"] <= 86400))
    df = df[ok].copy()
    rejected = int((~ok).sum())
    df["inbound"] = df["dcontext"] != "from-internal"
    df["answered"] = df["disposition"] == "ANSWERED"
    customer = df["dst"].where(~df["inbound"], df["src"])

    def e164(texts: pd.Series) -> pd.Series:
        punctuated = texts.str.fullmatch(phones.PUNCTUATED_NUMBER[1:-1]).fillna(False)
        digits = texts.str.replace(r"[^0-9]", "", regex=True)
        keys = texts.where(~punctuated.astype(bool), texts.str[:1].where(
            texts.str[:1] == "+", "") + digits)  # fmt: skip
        distinct = keys.dropna().unique().tolist()
        found = dict(zip(distinct, phones.normalise_keys(distinct, "US"), strict=True))
        return keys.map(found).where(lambda n: n.notna(), texts)

    df["caller"] = e164(customer)
    spam_numbers = set(e164(pd.Series(spam_path.read_text("utf-8").split())).dropna())

    # one call per linkedid: the first leg (by start, then line) speaks for it
    df = df.sort_values(["t", "line"])
    df["answer_t"] = (df["t"] + df["wait"]).where(df["answered"])
    grouped = df.groupby("linkedid", sort=False)
    calls = grouped.first()[["t", "line", "inbound", "caller"]]
    calls["answered"] = grouped["answered"].any()
    calls["wait"] = grouped["answer_t"].min() - calls["t"]
    legs_merged = len(df) - len(calls)
    local = pd.to_datetime(calls["t"], unit="s", utc=True).dt.tz_convert(TIME_ZONE)
    calls["month"] = local.dt.year * 100 + local.dt.month
    dow, minute = local.dt.day_of_week + 1, local.dt.hour * 60 + local.dt.minute
    business = pd.Series(False, index=calls.index)
    for day, begin, end in hours.spans:
        business |= (dow == day) & (minute >= begin) & (minute < end)
    calls["business"] = business
    calls["spam"] = calls["caller"].isin(spam_numbers)

    # recovery: the next answered inbound call, the next connected outbound call
    calls = calls.sort_values(["caller", "t", "line"])
    rev = calls[::-1]
    for name, mask in (
        ("next_retry", rev["inbound"] & rev["answered"]),
        ("next_callback", ~rev["inbound"] & rev["answered"]),
    ):
        later = rev["t"].where(mask).groupby(rev["caller"], sort=False).cummin()
        later = later.groupby(rev["caller"], sort=False).ffill()  # cummin leaves NaN gaps
        calls[name] = later.groupby(rev["caller"], sort=False).shift()[::-1]
    missed = calls["inbound"] & ~calls["answered"]
    retry_ok = (calls["next_retry"] - calls["t"]) <= WINDOW
    callback_ok = (calls["next_callback"] - calls["t"]) <= WINDOW
    retry_first = calls["next_callback"].isna() | ~callback_ok | (
        calls["next_retry"] <= calls["next_callback"])  # fmt: skip
    calls["recovery"] = np.where(
        missed & retry_ok & retry_first, "retry", np.where(missed & callback_ok, "callback", "")
    )
    nth = calls[calls["inbound"]].groupby("caller", sort=False).cumcount()
    calls["new"] = (nth == 0).reindex(calls.index, fill_value=False) & calls["inbound"]

    months: dict[str, dict[str, float | int | None]] = {}
    for month, group in calls.groupby("month"):
        inbound = group[group["inbound"]]
        clean = inbound[~inbound["spam"]]
        lost = clean[~clean["answered"]]
        waits = inbound.loc[inbound["answered"], "wait"].dropna()
        ordered = lost.sort_values(["t", "line"]).assign(lost=lambda d: d["recovery"] == "")
        per_caller = ordered.groupby("caller")
        not_recovered = per_caller["lost"].any()
        how = per_caller["recovery"].last()[~not_recovered]
        answered = int(inbound["answered"].sum())
        waited = len(waits) > 0
        within = int(((clean["wait"] <= LEVEL) & clean["answered"]).sum())
        level = within / len(clean) if len(clean) and waited else None
        months[f"{month // 100}-{month % 100:02d}"] = {
            "received": len(inbound),
            "answered": answered,
            "missed": len(inbound) - answered,
            "spam": int(inbound["spam"].sum()),
            "missed_business_hours": int((~inbound["answered"] & inbound["business"]).sum()),
            "missed_after_hours": int((~inbound["answered"] & ~inbound["business"]).sum()),
            "unique_callers": int(inbound["caller"].nunique()),
            "recovered": len(how),
            "recovered_by_callback": int((how == "callback").sum()),
            "recovered_by_retry": int((how == "retry").sum()),
            "missed_not_recovered": int(not_recovered.sum()),
            "outbound": int((~group["inbound"]).sum()),
            "outbound_connected": int((~group["inbound"] & group["answered"]).sum()),
            "first_time_callers": int(clean.loc[clean["new"], "caller"].nunique()),
            "service_level": level,
            "speed_to_answer_median_s": round(float(waits.quantile(0.5)), 3) if waited else None,
            "speed_to_answer_p90_s": round(float(waits.quantile(0.9)), 3) if waited else None,
        }
    months["_rows"] = {
        "read": len(df) + rejected,
        "counted": len(calls),
        "rejected": rejected,
        "legs_merged": legs_merged,
    }
    return months


def child(kind: str, path: Path, spam: Path) -> None:
    """In a subprocess: run one contender, print its time and figures as JSON."""
    begin = time.perf_counter()
    figures = run_roi_xl(path, spam) if kind == "roi_xl" else run_pandas(path, spam)
    seconds = time.perf_counter() - begin
    print(json.dumps({"seconds": seconds, "figures": figures}))


def measure(kind: str, path: Path, spam: Path) -> tuple[float, float, int, dict, float]:
    """(analysis s, subprocess wall s, peak RSS bytes, figures, CPU s) of one contender."""
    begin = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", kind, str(path), str(spam)],
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
            x, y = a.get(key), b.get(key)
            if isinstance(x, float) and isinstance(y, float) and abs(x - y) <= 1e-9 * abs(y):
                continue
            if x != y:
                problems.append(f"{month} {key}: roi_xl {x} vs pandas {y}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--distinct", type=int, default=300_000, help="distinct callers")
    parser.add_argument("--keep", type=Path, help="write the log here, keep it and reuse it")
    parser.add_argument(
        "--child", nargs=3, metavar=("KIND", "FILE", "SPAM"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"Master-{args.calls}-{args.distinct}.csv"
        spam = folder / f"spam-{args.calls}-{args.distinct}.txt"
        if args.keep and path.exists() and spam.exists():
            progress(f"reusing {path}")
        else:
            progress(f"writing {args.calls:,} calls from ~{args.distinct:,} callers to {path}")
            begin = time.perf_counter()
            rows = write_log(path, spam, args.calls, args.distinct)
            seconds = time.perf_counter() - begin
            size = path.stat().st_size / 1024**2
            progress(f"  {rows:,} rows, {seconds:.1f} s, {size:.0f} MiB")
        loads: dict[str, tuple[float, float]] = {}
        results = {}
        for kind, label in (("roi_xl", "roi_xl (DuckDB)"), ("pandas", "pandas")):
            progress(f"{label} in a subprocess ...")
            before = os.getloadavg()[0]
            results[kind] = measure(kind, path, spam)
            loads[kind] = (before, os.getloadavg()[0])
        report(args.calls, results["roi_xl"], results["pandas"], loads)
    return 0


def report(calls: int, ours: tuple, theirs: tuple, loads: dict[str, tuple[float, float]]) -> None:
    print(f"{'':8}  {'analysis s':>10}  {'process s':>9}  {'CPU s':>6}  {'peak memory':>11}  load")
    for name, (seconds, wall, peak, _, cpu) in (("roi_xl", ours), ("pandas", theirs)):
        before, after = loads[name]
        print(
            f"{name:8}  {seconds:10.2f}  {wall:9.2f}  {cpu:6.2f}  {peak / 1024**2:7.0f} MiB"
            f"  {before:.1f} -> {after:.1f}"
        )
    ratio = theirs[0] / ours[0]
    rows = ours[3]["_rows"]
    print(
        f"\n{calls:,} calls ({rows['read']:,} rows, {rows['legs_merged']:,} legs merged, "
        f"{rows['rejected']:,} rejected) on {os.cpu_count()} cores; load = 1-minute load "
        f"average before -> after each run\n"
        f"ratio pandas / roi_xl = {ratio:.1f}x (analysis times), "
        f"{theirs[4] / ours[4]:.1f}x (CPU times)"
    )
    print("\nroi_xl's figures, all months (pandas found the same where it says so below):")
    for key in KPIS:
        values = [m[key] for name, m in ours[3].items() if name != "_rows"]
        if all(isinstance(v, int) for v in values):
            print(f"  {key:28} {sum(values):>12,}")
    checks = [
        (f"roi_xl under {TARGET_SECONDS:.0f} s end to end", ours[1] < TARGET_SECONDS),
        (f"at least {TARGET_RATIO:.0f}x faster than pandas", ratio >= TARGET_RATIO),
        ("peak memory under 1 GiB", ours[2] < TARGET_MEMORY),
    ]
    for label, ok in checks:
        print(f"  {'met' if ok else 'MISSED'}: {label}")
    problems = compare(ours[3], theirs[3])
    if problems:
        print(f"  figures differ in {len(problems)} place(s):", *problems[:10], sep="\n    ")
    else:
        print(f"  same figures: {len(ours[3]) - 1} months, every figure compared")


if __name__ == "__main__":
    sys.exit(main())
