"""Write ``samples/calls/calls-2026-q1.csv``: a synthetic inbound call log, always the same.

A plumbing-and-heating business near Boston, January to March 2026, exported from a
call-tracking tool (``roi-xl calls samples/calls/calls-2026-q1.csv --tz America/New_York``).
Calls peak late morning and mid-afternoon on weekdays; after-hours calls mostly reach
voicemail or are missed; missed callers often call back; numbers are typed in every
usual way, with a few invalid, blank and withheld ones; three rows are deliberately
broken (an unknown status, an impossible date, a repeated call id) to show rejection.

    python samples/make_call_log.py [OUTPUT.csv]
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sys
from pathlib import Path

SEED = 20260101
START = dt.date(2026, 1, 1)
END = dt.date(2026, 3, 31)
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "calls" / "calls-2026-q1.csv"
HEADER = [
    "Call ID",
    "Start Time",
    "Customer Phone Number",
    "Source",
    "Campaign",
    "Call Status",
    "Ring Time",
    "Duration",
    "First-Time Caller",
    "Outcome",
]
AREA_CODES = ["617", "781", "857", "508", "978", "339", "603", "401"]
# Calls per weekday (Mon..Sun) and relative weight per hour: late morning and mid-afternoon.
DAY_CALLS = [42, 36, 34, 35, 38, 12, 5]
HOUR_WEIGHTS = [
    0.1, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.2, 2.2, 3.2, 3.8, 3.4,
    2.0, 2.4, 3.3, 3.5, 2.6, 1.8, 1.2, 0.8, 0.6, 0.4, 0.3, 0.2,
]  # fmt: skip
SOURCES = [
    ("Google Ads", 0.4, ["Brand", "Emergency repair", "Boiler service"]),
    ("Website", 0.25, [""]),
    ("Mailer", 0.15, ["Winter mailer"]),
    ("Referral", 0.2, [""]),
]
OUTCOMES = [
    ("Booked", 0.27),
    ("Qualified Lead", 0.2),
    ("Existing Customer", 0.2),
    ("Wrong Number", 0.05),
    ("Spam", 0.03),
    ("No Action", 0.1),
    ("", 0.15),
]


def write_sample(output: Path = DEFAULT_OUTPUT, seed: int = SEED) -> int:
    """Write the log; returns the number of data rows."""
    rng = random.Random(seed)
    callers = [_national(rng) for _ in range(1800)]
    rows: list[list[str]] = []
    day = START
    while day <= END:
        for _ in range(_poisson(rng, DAY_CALLS[day.weekday()])):
            hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
            start = dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)))
            # a returning caller one time in four, a new face otherwise
            number = rng.choice(callers[:300]) if rng.random() < 0.25 else rng.choice(callers)
            rows.extend(_call(rng, start, number))
        day += dt.timedelta(days=1)
    rows.sort(key=lambda row: row[1])
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        row[0] = f"CT{number:06d}"
        national = row[2]
        row[8] = "No" if national in seen else "Yes"
        seen.add(national)
        row[2] = _written(rng, national)
    _break_some(rows)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow(_out(row))
    return len(rows)


def _out(row: list) -> list[str]:
    start = row[1]
    text = start.strftime("%Y-%m-%d %H:%M:%S") if isinstance(start, dt.datetime) else start
    return [row[0], text, *row[2:]]


def _poisson(rng: random.Random, mean: float) -> int:
    return max(0, round(rng.gauss(mean, mean**0.5)))


def _national(rng: random.Random) -> str:
    return f"{rng.choice(AREA_CODES)}{rng.randint(2, 9)}{rng.randrange(10**6):06d}"


def _call(rng: random.Random, start: dt.datetime, number: str) -> list[list]:
    """One call, and sometimes the caller's call back after a miss."""
    open_hours = start.weekday() < 5 and 8 <= start.hour < 18
    if open_hours:
        status = rng.choices(["Answered", "Missed", "Abandoned", "Voicemail"], [80, 8, 7, 5])[0]
    else:
        status = rng.choices(["Answered", "Missed", "Abandoned", "Voicemail"], [12, 38, 10, 40])[0]
    source, _, campaigns = rng.choices(SOURCES, [s[1] for s in SOURCES])[0]
    campaign = rng.choice(campaigns)
    if status == "Answered":
        ring = min(90, max(2, round(rng.lognormvariate(2.4, 0.6))))
        talk = max(20, round(rng.lognormvariate(5.3, 0.6)))
        outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
    elif status == "Abandoned":
        ring, talk, outcome = rng.randint(3, 40), 0, ""
    elif status == "Voicemail":
        ring, talk, outcome = 30, rng.randint(15, 70), ""
    else:
        ring, talk, outcome = 30, 0, ""
    call = [
        "",
        start,
        number,
        source,
        campaign,
        status,
        str(ring),
        _clock(talk),
        "",
        outcome,
    ]
    calls = [call]
    if status != "Answered" and rng.random() < 0.45:
        later = start + dt.timedelta(minutes=rng.choice([4, 9, 15, 25, 40, 75, 180, 600]))
        if later.date() <= END:
            back = _call(rng, later, number)[0]
            back[3], back[4] = source, campaign
            calls.append(back)
    return calls


def _clock(seconds: int) -> str:
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _written(rng: random.Random, national: str) -> str:
    """The number as a person or a tool might have typed it; a few are not numbers at all."""
    a, b, c = national[:3], national[3:6], national[6:]
    pick = rng.random()
    if pick < 0.006:
        return rng.choice(["", "Anonymous", "Restricted"])
    if pick < 0.012:
        return rng.choice([f"{b}-{c}", f"{a}{b}{c}0", "000-000-0000", f"1-{a}-{b}"])
    forms = [
        f"({a}) {b}-{c}",
        f"{a}-{b}-{c}",
        f"{a}.{b}.{c}",
        f"+1 {a} {b} {c}",
        f"+1{a}{b}{c}",
        f"{a}{b}{c}",
        f"1-{a}-{b}-{c}",
        f"+1 ({a}) {b}-{c}",
    ]
    return rng.choice(forms)


def _break_some(rows: list[list]) -> None:
    """Three rows a real export could carry: each is rejected with its line and reason."""
    rows[100][5] = "Transferred"  # no synonym in the call-tracking preset
    rows[1200][1] = "2026-02-30 10:15:00"  # not a date
    rows[2000][0] = rows[1999][0]  # a call id exported twice


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
    count = write_sample(target)
    print(f"wrote {count} calls to {target}")
