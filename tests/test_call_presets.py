"""Phone systems' own exports: each preset's sample file against figures worked out by hand.

The samples (samples/make_preset_samples.py) log the same week of calls four ways; its
docstring lists the calls. By hand, March 2026 in America/New_York: 9 inbound calls
(two of them logged as two legs each), 4 answered, 5 missed, 2 of them after hours;
D is spam; A is recovered by a callback, B and F by calling again (F across the DST
change: 01:50 EST -> 03:10 EDT is 20 minutes); only E is a missed caller not recovered.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from roi_xl.calls import CallAnalysis, CallLogError, CallOptions, analyse_calls
from roi_xl.cli import app
from roi_xl.inspect.reader import read_workbook
from roi_xl.model import engine, template
from roi_xl.model.template import SCENARIOS
from roi_xl.workbook.values import compute_values

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "calls"
BLOCKED = SAMPLES / "blocked-numbers.txt"
KNOWN = SAMPLES / "known-customers.txt"
ZONE = "America/New_York"
# file, preset, rows, legs merged
PRESETS = [
    ("asterisk-Master.csv", "asterisk-cdr", 13, 2),
    ("twilio-calls.csv", "twilio", 15, 4),
    ("callrail-calls.csv", "callrail", 11, 0),
    ("ringcentral-calls.csv", "ringcentral", 13, 2),
    ("aircall-calls.csv", "aircall", 11, 0),
    ("3cx-cdr.csv", "3cx", 13, 2),
]


def analyse(path: Path, **options: object) -> CallAnalysis:
    result = analyse_calls(path, CallOptions(time_zone=ZONE, **options))  # type: ignore[arg-type]
    assert result.rows_read == result.rows_counted + result.rows_rejected + result.legs_merged
    return result


@pytest.mark.parametrize(("name", "preset", "rows", "legs"), PRESETS)
def test_each_preset_sample_by_hand(name: str, preset: str, rows: int, legs: int) -> None:
    result = analyse(SAMPLES / name, exclude_numbers=BLOCKED)
    assert result.mapping == preset  # detected: by header, or by shape for Master.csv
    assert (result.rows_read, result.rows_rejected, result.legs_merged) == (rows, 0, legs)
    assert result.rows_counted == 11  # 9 inbound + 2 outbound calls
    march = result.months["2026-03"]
    assert (march.received, march.answered, march.missed, march.spam) == (9, 4, 5, 1)
    assert (march.missed_business_hours, march.missed_after_hours) == (3, 2)  # E Sat, F Sun
    assert (march.recovered, march.recovered_by_callback, march.recovered_by_retry) == (3, 1, 2)
    assert march.missed_not_recovered == 1  # E; D is spam
    assert (march.outbound, march.outbound_connected) == (2, 1)
    assert march.answer_rate == 4 / 9
    assert march.answer_rate_excluding_spam == 4 / 8
    # weeks: Fri 6 to Sun 8 in ISO week 10, Mon 9 in week 11
    assert {w: f.received for w, f in result.weeks.items()} == {"2026-W10": 8, "2026-W11": 1}
    assert result.weeks["2026-W10"].missed_not_recovered == 1


def test_asterisk_waits_and_service_level() -> None:
    march = analyse(SAMPLES / "asterisk-Master.csv", exclude_numbers=BLOCKED).months["2026-03"]
    # waits from the first leg's start to the first answer: B 8, C 25 (second leg), F 5, G 3
    assert march.speed_to_answer_median_s == 6.5
    # within 20 s: B, F, G of the 8 calls that are not spam
    assert march.service_level == 3 / 8
    level_30 = analyse(
        SAMPLES / "asterisk-Master.csv", exclude_numbers=BLOCKED, service_level_seconds=30
    )
    assert level_30.months["2026-03"].service_level == 4 / 8


@pytest.mark.parametrize("name", ["aircall-calls.csv", "3cx-cdr.csv"])
def test_answered_when_an_answer_time_is_there(name: str) -> None:
    """Aircall and 3CX: answered = answered_at / time-answered set; wait = answer - start."""
    result = analyse(SAMPLES / name, exclude_numbers=BLOCKED)
    march = result.months["2026-03"]
    assert march.speed_to_answer_median_s == 6.5  # B 8, C 25, F 5, G 3
    assert march.service_level == 3 / 8
    # D, the robocall, hung up at once (short_abandoned / TerminatedBySrc): abandoned, spam
    assert (march.abandoned, march.spam_abandoned) == (1, 1)
    # H, called with no answer time: an outbound call that did not connect, whatever the
    # reason column says (blank for Aircall, TerminatedBySrc for 3CX)
    assert (march.outbound, march.outbound_connected) == (2, 1)


def test_aircall_rows_with_a_bad_answer_time_or_unix_time(tmp_path: Path) -> None:
    lines = (SAMPLES / "aircall-calls.csv").read_text("utf-8").splitlines()
    bad = [
        "1,inbound,done,,1773061800,soon,1773061923,123,+1 212-555-0111,,",
        "2,inbound,done,,0,,1773061923,123,+1 212-555-0112,,",
        "3,inbound,done,lost_in_space,1773061800,,1773061923,123,+1 212-555-0113,,",
        "4,inbound,done,,2026-03-09T14:10:00Z,2026-03-09T14:10:04Z,,60,+1 212-555-0114,,",
    ]
    path = tmp_path / "calls.csv"
    path.write_text("\n".join([*lines, *bad]) + "\n", "utf-8")
    result = analyse(path, exclude_numbers=BLOCKED)
    first = len(lines) + 1
    assert [(r.line, r.rule) for r in result.rejected] == [
        (first, "answered_at_invalid"),
        (first + 1, "start_out_of_range"),  # Unix 0 is 1970
        (first + 2, "status_unknown"),
    ]
    assert "answer time 'soon'" in result.rejected[0].reason
    # ISO 8601 is read too: the fourth row is one more answered call, waiting 4 s
    assert result.months["2026-03"].answered == 5


def test_3cx_and_aircall_forced_or_detected() -> None:
    # the 3CX CDR file has no header: recognised by its first line's 27 fields, its
    # YYYY/MM/DD start and its reason-terminated word
    assert analyse(SAMPLES / "3cx-cdr.csv", exclude_numbers=BLOCKED).mapping == "3cx"
    forced = analyse(SAMPLES / "3cx-cdr.csv", mapping="3cx", exclude_numbers=BLOCKED)
    assert (forced.mapping, forced.legs_merged) == ("3cx", 2)
    with pytest.raises(CallLogError, match=r"line 1: 11 field\(s\); a 3cx file has no header"):
        analyse(SAMPLES / "aircall-calls.csv", mapping="3cx")
    with pytest.raises(CallLogError, match=r"needs the column\(s\) 'started_at'"):
        analyse(SAMPLES / "twilio-calls.csv", mapping="aircall")


# A 3CX V20 CDR line as one was published (numbers and names changed): "Call " before the
# historyid, an answered queue call ended by the agent (TerminatedByDst), the times in UTC.
V20_ANSWERED = (
    "Call 265500,89d3af2d8f010000_3456,00:08:10,2024/04/30 06:27:28,2024/04/30 06:27:36,"
    "2024/04/30 06:35:46,TerminatedByDst,0701234567,Ext.80002,10020,80002,80002,ReplacedDst,"
    "Ext.10013,10013,,,,,Chain: 0701234567;Ext.80002;Ext.10013;,Line,Queue,Extension,"
    "0701234567,Partnersupport,Agent Name,"
)


def test_3cx_times_are_utc_counted_in_the_local_time_zone(tmp_path: Path) -> None:
    # Tuesday 2024-04-30, Stockholm is UTC+2 (summer time). By hand: 06:27:28 UTC is
    # 08:27 local, answered after 8 s; 06:50 UTC is 08:50 local, before the 09:00
    # opening (after hours), the caller hangs up; 07:10 UTC is 09:10 local, in business
    # hours, no agent answers. Read as local times, both misses would be after hours.
    missed = [
        "Call 265501,89d3af2d8f010000_3457,00:00:00,2024/04/30 06:50:00,,2024/04/30 06:50:20,"
        "TerminatedBySrc,0701234568,Ext.80002,10020,80002,80002,,,,,,,,"
        "Chain: 0701234568;Ext.80002;,Line,Queue,Queue,0701234568,Partnersupport,,",
        "Call 265502,89d3af2d8f010000_3458,00:00:00,2024/04/30 07:10:00,,2024/04/30 07:10:40,"
        "TerminatedByRule,0701234569,Ext.80002,10020,80002,80002,,,,,,,,"
        "Chain: 0701234569;Ext.80002;,Line,Queue,Queue,0701234569,Partnersupport,,",
    ]
    path = tmp_path / "cdr.log.csv"
    path.write_text("\n".join([V20_ANSWERED, *missed]) + "\n", "utf-8")
    local = analyse_calls(path, CallOptions(time_zone="Europe/Stockholm", country="SE"))
    assert (local.mapping, local.rows_counted, local.rows_rejected) == ("3cx", 3, 0)
    april = local.months["2024-04"]
    assert (april.received, april.answered, april.abandoned) == (3, 1, 1)
    assert (april.missed_business_hours, april.missed_after_hours) == (1, 1)
    assert april.speed_to_answer_median_s == 8.0
    tuesday = april.missed_by_weekday_hour[1]
    assert (tuesday[8], tuesday[9]) == (1, 1)
    assert sum(map(sum, april.missed_by_weekday_hour)) == 2
    # the same file counted in UTC: the clock hours are the file's own, 06:50 and 07:10
    in_utc = analyse_calls(path, CallOptions(time_zone="UTC", country="SE")).months["2024-04"]
    assert (in_utc.missed_by_weekday_hour[1][6], in_utc.missed_by_weekday_hour[1][7]) == (1, 1)
    assert (in_utc.missed_business_hours, in_utc.missed_after_hours) == (0, 2)


def test_callrail_answer_statuses_as_callrail_documents_them(tmp_path: Path) -> None:
    # By hand: X missed at 10:00, called back at 10:20 ("Outbound call": it lasted 15 s
    # or more) -> recovered by a callback. Y missed at 11:00, the 11:05 callback ended
    # within 15 s ("Abandoned call") -> not recovered. Z left a voicemail at 12:00.
    header = "Start Time,Customer Phone Number,Direction,Call Status,Duration (seconds),First-Time Caller"
    lines = [
        header,
        "2026-03-06 10:00 AM,(212) 555-0121,Inbound,Inbound Missed Call,0,true",
        "2026-03-06 10:20 AM,(212) 555-0121,Outbound,Outbound Call,95,",
        "2026-03-06 11:00 AM,(212) 555-0122,Inbound,Missed Call,0,true",
        "2026-03-06 11:05 AM,(212) 555-0122,Outbound,Abandoned Call,9,",
        "2026-03-06 12:00 PM,(212) 555-0123,Inbound,Voicemail Call,40,true",
    ]
    path = tmp_path / "callrail.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    march = analyse(path, mapping="callrail").months["2026-03"]
    assert (march.received, march.answered, march.missed, march.voicemail) == (3, 0, 3, 1)
    assert (march.outbound, march.outbound_connected) == (2, 1)
    assert (march.recovered, march.recovered_by_callback) == (1, 1)
    assert march.missed_not_recovered == 2  # Y and Z


def test_without_the_blocked_list_spam_is_only_what_the_export_says() -> None:
    asterisk = analyse(SAMPLES / "asterisk-Master.csv").months["2026-03"]
    assert (asterisk.spam, asterisk.missed_not_recovered) == (0, 2)  # D counts as lost
    callrail = analyse(SAMPLES / "callrail-calls.csv").months["2026-03"]
    assert (callrail.spam, callrail.missed_not_recovered) == (1, 1)  # Lead Status: Spam


def test_new_and_existing_callers() -> None:
    # CallRail flags first-time callers itself: A, B, E, F (D is spam)
    callrail = analyse(SAMPLES / "callrail-calls.csv").months["2026-03"]
    assert callrail.first_time_callers == 4
    types = callrail.by_caller_type
    # new: A, B (missed), E, F (missed); existing: B again, C, F again, G
    assert (types["new"].calls, types["existing"].calls) == (4, 4)
    # leads (Good Lead): B's retry, C, F's retry, all flagged as not first-time calls
    assert (types["new"].leads, types["existing"].leads) == (0, 3)
    assert types["existing"].lead_rate == 3 / 4
    assert (types["new"].missed_not_recovered, types["existing"].missed_not_recovered) == (1, 0)
    # without a flag: a number first seen in the log is new, unless it is a known customer
    asterisk = analyse(SAMPLES / "asterisk-Master.csv", exclude_numbers=BLOCKED)
    assert asterisk.months["2026-03"].first_time_callers == 6  # A B C E F G
    known = analyse(SAMPLES / "asterisk-Master.csv", exclude_numbers=BLOCKED, known_numbers=KNOWN)
    assert known.months["2026-03"].first_time_callers == 4  # C and G are customers


def test_baseline_and_test_windows_per_week() -> None:
    result = analyse(
        SAMPLES / "ringcentral-calls.csv",
        exclude_numbers=BLOCKED,
        baseline="2026-03-06..2026-03-07",
        test="2026-03-08..2026-03-09",
    )
    before, after = result.windows["baseline"], result.windows["test"]
    # Fri-Sat: A, B, B again, C, D, E = 6 calls in 2 days; Sun-Mon: F, F again, G
    assert (before.days, before.figures.received, after.figures.received) == (2, 6, 3)
    assert before.per_week(before.figures.received) == 21.0
    change = result.window_change()
    assert change is not None
    assert change["received_per_week"] == 3 * 7 / 2 - 21.0
    # answered 2 of 5 spam-free calls before, 2 of 3 after
    assert change["answer_rate_excluding_spam"] == pytest.approx(2 / 3 - 2 / 5, abs=1e-6)


def test_impossible_rows_are_rejected_with_line_and_reason(tmp_path: Path) -> None:
    lines = (SAMPLES / "twilio-calls.csv").read_text("utf-8").splitlines()
    bad = [
        "CAx1,,+12125550111,+12125550199,inbound,completed,infinity,,30,,",
        "CAx2,,+12125550112,+12125550199,inbound,completed,epoch,,30,,",
        "CAx3,,+12125550113,+12125550199,inbound,completed,2026-03-08 02:30:00,,30,,",
        "CAx4,,+12125550114,+12125550199,inbound,completed,2026-03-09 10:00:00,,1e300,,",
        "CAx5,,+12125550115,+12125550199,sideways,completed,2026-03-09 10:00:00,,30,,",
    ]
    path = tmp_path / "twilio.csv"
    path.write_text("\n".join([*lines, *bad]) + "\n", "utf-8")
    result = analyse(path, exclude_numbers=BLOCKED)
    first = len(lines) + 1
    assert [(r.line, r.rule) for r in result.rejected] == [
        (first, "start_invalid"),  # infinity
        (first + 1, "start_out_of_range"),  # epoch: 1970
        (first + 2, "start_in_dst_gap"),
        (first + 3, "duration_too_long"),
        (first + 4, "direction_unknown"),
    ]
    assert "does not exist in America/New_York" in result.rejected[2].reason
    assert result.rows_read == 15 + 5 and result.months["2026-03"].received == 9


def test_headerless_file_forced_or_refused(tmp_path: Path) -> None:
    master = SAMPLES / "asterisk-Master.csv"
    assert analyse(master, mapping="asterisk-cdr").legs_merged == 2
    # 16 columns (no uniqueid, no linkedid): every row is its own call
    short = tmp_path / "Master.csv"
    with master.open(newline="") as source, short.open("w", newline="") as target:
        writer = csv.writer(target, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerows(row[:16] for row in csv.reader(source))
    result = analyse(short, exclude_numbers=BLOCKED)
    assert (result.mapping, result.legs_merged, result.rows_counted) == ("asterisk-cdr", 0, 13)
    odd = tmp_path / "odd.csv"
    odd.write_text('"a","b","c"\n"1","2","3"\n', "utf-8")
    with pytest.raises(CallLogError, match=r"line 1: 3 field\(s\); a asterisk-cdr file"):
        analyse(odd, mapping="asterisk-cdr")
    with pytest.raises(CallLogError, match=r"no built-in preset matches the header \('a', 'b'"):
        analyse(odd)


def test_cli_json_has_the_new_figures() -> None:
    outcome = CliRunner().invoke(
        app,
        [
            "calls",
            str(SAMPLES / "twilio-calls.csv"),
            "--json",
            "--tz",
            ZONE,
            "--exclude-numbers",
            str(BLOCKED),
            "--baseline",
            "2026-03-06..2026-03-07",
            "--test",
            "2026-03-08..2026-03-09",
        ],
    )
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(outcome.stdout)
    assert data["legs_merged"] == 4
    for period in (data["months"]["2026-03"], data["weeks"]["2026-W10"]):
        for key in (
            "recovered",
            "recovered_by_callback",
            "recovered_by_retry",
            "missed_not_recovered",
            "spam",
            "first_time_callers",
            "service_level",
        ):
            assert key in period
    assert data["months"]["2026-03"]["recovered_by_callback"] == 1
    assert set(data["windows"]) == {"baseline", "test"}
    bad = CliRunner().invoke(app, ["calls", str(SAMPLES / "twilio-calls.csv"), "--test", "x"])
    assert bad.exit_code == 2 and "expected two dates FIRST..LAST" in bad.output


# ------------------------------------------------------------ end to end, into a workbook


@pytest.fixture(scope="module")
def blank_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("workbook") / "phones.xlsx"
    outcome = CliRunner().invoke(
        app, ["new", "phone-system", "-o", str(path), "--start", "2026-01", "--months", "3"]
    )
    assert outcome.exit_code == 0, outcome.output
    return path


@pytest.mark.parametrize(
    "name", ["calls-2026-q1.csv", *[name for name, *_ in PRESETS]], ids=lambda n: n
)
def test_shipped_samples_end_to_end(name: str, blank_workbook: Path, tmp_path: Path) -> None:
    """calls, import-calls, then audit: exit 0 each time, no recalculation in between."""
    workbook = Path(shutil.copy(blank_workbook, tmp_path / "phones.xlsx"))
    log = ["--tz", ZONE, "--exclude-numbers", str(BLOCKED)]
    runner = CliRunner()
    shown = runner.invoke(app, ["calls", str(SAMPLES / name), *log])
    assert shown.exit_code == 0, shown.output
    imported = runner.invoke(
        app, ["import-calls", str(SAMPLES / name), "--into", str(workbook), *log, "--json"]
    )
    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.stdout)["import"]
    assert report["formulas_refreshed"] > 0
    audit = runner.invoke(app, ["audit", str(workbook)])
    assert audit.exit_code == 0, audit.output
    read = read_workbook(workbook)
    assert [f.rule for f in read.findings if f.severity == "error"] == []
    if name != "calls-2026-q1.csv":
        march = read.actuals["2026-03"]
        # on the model's basis: D's spam call apart, E the one lost caller
        assert (march["calls_received"], march["calls_spam"]) == (9, 1)
        assert (march["calls_answered"], march["calls_missed"]) == (4, 4)
        assert march["missed_not_recovered"] == 1


def test_windows_set_only_the_before_and_after_rates(blank_workbook: Path, tmp_path: Path) -> None:
    workbook = Path(shutil.copy(blank_workbook, tmp_path / "phones.xlsx"))
    before = read_workbook(workbook)
    outcome = CliRunner().invoke(
        app,
        [
            "import-calls",
            str(SAMPLES / "asterisk-Master.csv"),
            "--into",
            str(workbook),
            "--tz",
            ZONE,
            "--exclude-numbers",
            str(BLOCKED),
            "--baseline",
            "2026-03-06..2026-03-07",
            "--test",
            "2026-03-08..2026-03-09",
            "--windows",
        ],
    )
    assert outcome.exit_code == 0, outcome.output
    assert "answer_rate_before = 0.4000" in outcome.output  # listed before writing
    after = read_workbook(workbook)
    # spam-free: 2 of 5 answered before (B again, C), 2 of 3 after (F again, G); no abandon;
    # median waits: (8 + 25) / 2 before, (5 + 3) / 2 after
    expected = {
        "answer_rate_before": 2 / 5,
        "answer_rate_after": 2 / 3,
        "abandonment_rate_before": 0.0,
        "abandonment_rate_after": 0.0,
        "speed_to_answer_before": 16.5,
        "speed_to_answer_after": 4.0,
    }
    for scenario, numbers in after.scenarios.items():
        changed = {
            key: value
            for key, value in numbers.inputs.items()
            if value != before.scenarios[scenario].inputs[key]
        }
        assert changed == pytest.approx(expected)
    assert not any(f.rule == "stale_value" for f in after.findings)


def test_the_plan_values_missed_callers_on_the_calculations_basis() -> None:
    """The monthly tabs' planned missed-call loss is the Calculations sheet's, spam excluded."""
    model = template.load("phone-system")
    inputs = {s: engine.scenario_inputs(model, s) for s in SCENARIOS}
    values = compute_values(model, inputs, "realistic", 3)
    outputs = values.live_outputs
    assert values.plan_kpis["missed_call_loss"] == pytest.approx(outputs["lost_revenue_after"])
    # 1,000 calls, 10 % spam, 80 % of the 900 answered: 180 missed, a quarter recovered
    assert values.plans["calls_missed"] == pytest.approx(180)
    assert values.plans["calls_spam"] == pytest.approx(100)
    assert values.plans["missed_not_recovered"] == pytest.approx(180 * 0.75)
