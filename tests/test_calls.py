"""roi-xl calls: every KPI against a hand calculation, on small logs written here.

Each expected figure is worked out in the comments beside it. Every analysis goes through
``run()``, which also checks the reconciliation rows_read = rows_counted + rows_rejected +
legs_merged.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import textwrap
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
from rich.console import Console

from roi_xl.calls import (
    CallAnalysis,
    CallLogError,
    CallOptions,
    analyse_calls,
    callers,
    load_mapping,
    parse_business_hours,
    phones,
    preset_names,
    print_summary,
)
from roi_xl.calls.presets import parse_mapping

ROOT = Path(__file__).resolve().parent.parent
GENERIC_HEADER = "started_at,caller,status,wait_seconds,duration_seconds,source,outcome,call_id"


def write(tmp_path: Path, text: str, name: str = "calls.csv") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def run(path: Path, **options: object) -> CallAnalysis:
    result = analyse_calls(path, CallOptions(**options))  # type: ignore[arg-type]
    assert result.rows_read == result.rows_counted + result.rows_rejected + result.legs_merged
    assert result.total.received == sum(m.received for m in result.months.values())
    assert result.total.received + result.total.outbound == result.rows_counted
    for figures in [*result.months.values(), result.total]:
        assert figures.missed == figures.received - figures.answered
        assert figures.missed == figures.missed_business_hours + figures.missed_after_hours
        assert sum(figures.outcomes.values()) == figures.received
        grid = figures.missed_by_weekday_hour
        assert len(grid) == 7 and all(len(row) == 24 for row in grid)
        assert sum(map(sum, grid)) == figures.missed
        assert figures.recovered == figures.recovered_by_callback + figures.recovered_by_retry
    return result


def cells(grid: list[list[int]]) -> dict[tuple[int, int], int]:
    """The non-zero cells of a weekday x hour grid: {(weekday 0 = Monday, hour): count}."""
    return {(d, h): n for d, row in enumerate(grid) for h, n in enumerate(row) if n}


# ---------------------------------------------------------------- every KPI by hand

# UTC, default business hours mon-fri 09:00-18:00, callback window 60 min.
# 2026-01-05 is a Monday, 2026-01-10 a Saturday, 2026-02-02 a Monday.
SMALL_LOG = f"""
{GENERIC_HEADER}
2026-01-05 09:00:00,(415) 555-0100,answered,4,60,Google Ads,booked,c1
2026-01-05 09:30:00,415-555-0101,missed,,0,Google Ads,,c2
2026-01-05 10:00:00,415.555.0101,answered,20,90,Website,qualified lead,c3
2026-01-05 19:00:00,415 555 0102,voicemail,,40,Website,,c4
2026-01-06 12:00:00,+1 415 555 0102,abandoned,35,0,Mailer,,c5
2026-01-10 11:00:00,4155550103,missed,,0,Referral,wrong number,c6
2026-01-12 09:15:00,4155550104,answered,2,300,Referral,existing customer support,c7
2026-01-12 09:20:00,14155550105,answered,10,30,Google Ads,no action,c8
2026-02-02 09:00:00,+14155550100,answered,6,100,Google Ads,booked,c9
2026-02-02 09:05:00,4155550100,missed,,0,Google Ads,,c10
2026-02-03 14:00:00,,answered,8,50,,,c11
"""


def test_every_kpi_of_a_small_log_by_hand(tmp_path: Path) -> None:
    result = run(write(tmp_path, SMALL_LOG))
    assert result.mapping == "generic"  # detected from the header
    assert (result.rows_read, result.rows_counted, result.rows_rejected) == (11, 11, 0)
    assert list(result.months) == ["2026-01", "2026-02"]

    jan = result.months["2026-01"]
    assert (jan.received, jan.answered, jan.missed) == (8, 4, 4)  # answered: c1 c3 c7 c8
    assert (jan.abandoned, jan.voicemail) == (1, 1)  # c5, c4
    assert jan.answer_rate == 0.5
    assert jan.abandonment_rate == 1 / 8
    # answered waits 4, 20, 2, 10 -> sorted 2 4 10 20; median (4 + 10) / 2 = 7;
    # p90 at position (4 - 1) x 0.9 = 2.7: 10 + 0.7 x (20 - 10) = 17
    assert jan.speed_to_answer_median_s == 7.0
    assert jan.speed_to_answer_p90_s == 17.0
    assert jan.unique_callers == 6  # ...0100 to ...0105, whatever the typing
    assert jan.repeat_callers == 2  # 0101 again after 30 min, 0102 again after 17 h
    # missed: c2 Mon 09:30 and c5 Tue 12:00 in hours; c4 Mon 19:00 and c6 Saturday after
    assert (jan.missed_business_hours, jan.missed_after_hours) == (2, 2)
    # c2 is recovered by c3 (30 min later); 0102 (c4, c5) never is; 0103 (c6) is a wrong
    # number: spam, never a lost caller
    assert jan.missed_not_recovered == 1
    assert (jan.recovered, jan.recovered_by_retry, jan.spam) == (1, 1, 1)
    assert jan.outcomes == {
        "booked": 1,
        "qualified_lead": 1,
        "support": 1,
        "spam": 1,
        "no_action": 1,
        "unspecified": 3,
    }
    assert {k: (v.calls, v.answered, v.booked) for k, v in jan.by_source.items()} == {
        "Google Ads": (3, 2, 1),
        "Website": (2, 1, 0),
        "Mailer": (1, 0, 0),
        "Referral": (2, 1, 0),
    }
    assert cells(jan.missed_by_weekday_hour) == {(0, 9): 1, (0, 19): 1, (1, 12): 1, (5, 11): 1}

    feb = result.months["2026-02"]
    assert (feb.received, feb.answered, feb.missed, feb.abandoned, feb.voicemail) == (
        3,
        2,
        1,
        0,
        0,
    )
    assert feb.answer_rate == 2 / 3
    assert feb.abandonment_rate == 0
    # waits 6 and 8: median 7; p90 at 0.9: 6 + 0.9 x 2 = 7.8
    assert (feb.speed_to_answer_median_s, feb.speed_to_answer_p90_s) == (7.0, 7.8)
    assert feb.unique_callers == 1  # c11 has no number: an unknown caller
    assert feb.repeat_callers == 1  # c10 five minutes after c9 (c9 is a month after c1)
    assert (feb.missed_business_hours, feb.missed_after_hours) == (1, 0)
    assert feb.missed_not_recovered == 1  # c10: no answered call after it
    assert feb.outcomes["booked"] == 1 and feb.outcomes["unspecified"] == 2
    assert {k: (v.calls, v.answered, v.booked) for k, v in feb.by_source.items()} == {
        "Google Ads": (2, 1, 1),
        "(none)": (1, 1, 0),
    }

    total = result.total
    assert (total.received, total.answered, total.missed) == (11, 6, 5)
    # waits 2 4 6 8 10 20: median (6 + 8) / 2 = 7; p90 at 4.5: 10 + 0.5 x 10 = 15
    assert (total.speed_to_answer_median_s, total.speed_to_answer_p90_s) == (7.0, 15.0)
    assert total.unique_callers == 6
    assert total.repeat_callers == 3  # 0101, 0102, 0100
    assert total.missed_not_recovered == 2  # 0102, 0100 (0103 is a wrong number)
    assert result.missed_by_weekday_hour == total.missed_by_weekday_hour
    assert cells(result.missed_by_weekday_hour) == {
        (0, 9): 2,
        (0, 19): 1,
        (1, 12): 1,
        (5, 11): 1,
    }
    assert result.unknown_caller_calls == 1
    assert result.invalid_numbers == 0


def test_percentiles_are_linear_interpolation_between_ranks(tmp_path: Path) -> None:
    rows = [
        f"2026-01-0{i + 1} 10:00:00,21255501{i:02d},answered,{w},,,,"
        for i, w in enumerate([10, 1, 4, 3, 2])
    ]
    rows.append("2026-02-02 10:00:00,2125550199,missed,,,,,")
    result = run(write(tmp_path, "\n".join([GENERIC_HEADER, *rows])))
    jan = result.months["2026-01"]
    # sorted 1 2 3 4 10: median is the 3rd, 3; p90 at (5 - 1) x 0.9 = 3.6: 4 + 0.6 x 6 = 7.6
    assert jan.speed_to_answer_median_s == 3.0
    assert jan.speed_to_answer_p90_s == 7.6
    feb = result.months["2026-02"]  # no answered call: no speed to answer
    assert feb.speed_to_answer_median_s is None and feb.speed_to_answer_p90_s is None
    assert feb.answer_rate == 0.0


def test_midnight_and_month_boundaries(tmp_path: Path) -> None:
    log = f"""
    {GENERIC_HEADER}
    2025-12-31 23:59:59.999,2125550102,missed,,,,,
    2026-01-01 00:00:00,2125550102,missed,,,,,
    2026-01-31 23:59:59,2125550101,missed,,,,,
    2026-02-01 00:00:00,2125550101,answered,3,,,,
    """
    result = run(write(tmp_path, log))
    assert list(result.months) == ["2025-12", "2026-01", "2026-02"]
    dec, jan, feb = result.months.values()
    assert (dec.received, jan.received, feb.received) == (1, 2, 1)
    # 2026-01-01 is a Thursday (hour 0), 2026-01-31 a Saturday (hour 23), 02-01 a Sunday
    assert cells(dec.missed_by_weekday_hour) == {(2, 23): 1}
    assert cells(jan.missed_by_weekday_hour) == {(3, 0): 1, (5, 23): 1}
    assert cells(feb.missed_by_weekday_hour) == {}
    # 0102 calls again a millisecond after midnight: the repeat counts in January
    assert (dec.repeat_callers, jan.repeat_callers, feb.repeat_callers) == (0, 1, 1)
    # the January 31 miss is answered one second later, in February: recovered
    assert jan.missed_not_recovered == 1  # only 0102, whose calls are all missed
    assert dec.missed_not_recovered == 1
    assert feb.unique_callers == 1 and jan.unique_callers == 2


def test_offsets_are_converted_to_the_log_time_zone(tmp_path: Path) -> None:
    log = f"""
    {GENERIC_HEADER}
    2026-02-01T04:30:00Z,2125550100,missed,,,,,
    2026-02-01 05:30:00+00:00,2125550101,missed,,,,,
    2026-01-31 23:45:00-05:00,2125550102,missed,,,,,
    """
    result = run(write(tmp_path, log), time_zone="America/New_York")
    # 04:30Z is 23:30 on Saturday Jan 31 in New York; 05:30Z is 00:30 on Sunday Feb 1
    assert {m: f.received for m, f in result.months.items()} == {"2026-01": 2, "2026-02": 1}
    assert cells(result.months["2026-01"].missed_by_weekday_hour) == {(5, 23): 2}
    assert cells(result.months["2026-02"].missed_by_weekday_hour) == {(6, 0): 1}
    utc = run(write(tmp_path, log, "utc.csv"))  # the same log read in UTC: all February
    assert {m: f.received for m, f in utc.months.items()} == {"2026-02": 3}


def test_daylight_saving_in_new_york(tmp_path: Path) -> None:
    # Clocks go from 02:00 EST to 03:00 EDT on Sunday 2026-03-08.
    log = f"""
    {GENERIC_HEADER}
    2026-03-07T08:00:00Z,2125550101,missed,,,,,
    2026-03-08T07:30:00Z,2125550101,answered,5,,,,
    2026-03-08 01:50:00,2125550102,missed,,,,,
    2026-03-08 03:20:00,2125550102,answered,7,,,,
    2026-03-08 02:30:00,2125550103,missed,,,,,
    2026-03-06T13:30:00Z,2125550104,missed,,,,,
    2026-03-09T13:30:00Z,2125550105,missed,,,,,
    """
    result = run(write(tmp_path, log), time_zone="America/New_York")
    march = result.months["2026-03"]
    # 0101: Sat 03:00 EST then Sun 03:30 EDT: 23.5 h apart in real time -> a repeat call,
    # but far outside the callback window. 0102: 01:50 EST -> 03:20 EDT is 30 minutes,
    # so the miss is recovered (the clocks say 90). 02:30 does not exist: rejected.
    assert [(r.line, r.rule) for r in result.rejected] == [(6, "start_in_dst_gap")]
    assert march.repeat_callers == 2
    assert march.missed_not_recovered == 3  # 0101, 0104, 0105
    # 13:30Z is 08:30 EST on Friday 6 (after hours) but 09:30 EDT on Monday 9 (open)
    assert (march.missed_business_hours, march.missed_after_hours) == (1, 3)
    assert cells(march.missed_by_weekday_hour) == {
        (5, 3): 1,
        (6, 1): 1,
        (4, 8): 1,
        (0, 9): 1,
    }


def test_the_repeated_fall_back_hour_is_read_as_standard_time(tmp_path: Path) -> None:
    # 01:30 happens twice on 2026-11-01 in New York; DuckDB (ICU) takes the second, EST.
    # From 01:40 EDT the day before, that is 24 h 50 min: not a repeat call.
    log = f"""
    {GENERIC_HEADER}
    2026-10-31 01:40:00,2125550101,answered,5,,,,
    2026-11-01 01:30:00,2125550101,answered,5,,,,
    2026-11-01 06:20:00Z,2125550101,answered,5,,,,
    """
    result = run(write(tmp_path, log), time_zone="America/New_York")
    # 06:20Z is 01:20 EST, the second 01:20 of the night: 10 minutes before 01:30 EST
    assert result.months["2026-11"].repeat_callers == 1
    assert result.months["2026-10"].repeat_callers == 0


def test_daylight_saving_and_months_in_paris(tmp_path: Path) -> None:
    # Clocks go from 02:00 CET to 03:00 CEST on Sunday 2026-03-29.
    log = f"""
    {GENERIC_HEADER}
    2026-03-29T00:30:00Z,06 12 34 56 71,missed,,,,,
    2026-03-29T01:30:00Z,06 12 34 56 72,missed,,,,,
    2026-03-29 02:30:00,06 12 34 56 73,missed,,,,,
    2026-03-31T22:30:00Z,06 12 34 56 74,missed,,,,,
    2026-01-31T23:30:00Z,06 12 34 56 75,missed,,,,,
    2026-03-31 23:59:59+02:00,+33 6 12 34 56 76,missed,,,,,
    """
    result = run(write(tmp_path, log), time_zone="Europe/Paris", country="FR")
    assert {m: f.received for m, f in result.months.items()} == {
        "2026-02": 1,  # 23:30Z on Jan 31 is 00:30 CET on Sunday Feb 1
        "2026-03": 3,
        "2026-04": 1,  # 22:30Z on Mar 31 is 00:30 CEST on Wednesday Apr 1
    }
    # 00:30Z -> 01:30 CET; 01:30Z -> 03:30 CEST; local 02:30 does not exist: rejected
    assert [(r.line, r.rule) for r in result.rejected] == [(4, "start_in_dst_gap")]
    assert cells(result.months["2026-03"].missed_by_weekday_hour) == {
        (6, 1): 1,
        (6, 3): 1,
        (1, 23): 1,
    }
    assert cells(result.months["2026-04"].missed_by_weekday_hour) == {(2, 0): 1}
    assert cells(result.months["2026-02"].missed_by_weekday_hour) == {(6, 0): 1}
    assert result.total.unique_callers == 5 and result.invalid_numbers == 0


# ---------------------------------------------------------------- callers


def test_repeat_callers_are_counted_once_in_the_month_of_the_repeat(tmp_path: Path) -> None:
    log = f"""
    {GENERIC_HEADER}
    2026-01-31 20:00:00,2125550101,answered,1,,,,
    2026-02-01 10:00:00,2125550101,answered,1,,,,
    2026-01-10 10:00:00,2125550102,answered,1,,,,
    2026-01-12 10:00:00,2125550102,answered,1,,,,
    2026-01-05 09:00:00,2125550103,missed,,,,,
    2026-01-05 09:10:00,2125550103,missed,,,,,
    2026-01-05 09:20:00,2125550103,missed,,,,,
    2026-01-20 10:00:00,2125550104,answered,1,,,,
    2026-01-21 10:00:00,2125550104,answered,1,,,,
    2026-01-25 10:00:00,2125550105,answered,1,,,,
    2026-01-26 10:00:01,2125550105,answered,1,,,,
    """
    result = run(write(tmp_path, log))
    jan, feb = result.months["2026-01"], result.months["2026-02"]
    # 0101: 14 h later, in February -> February's repeat caller, not January's
    # 0102: 48 h later -> no; 0103: three calls, one caller; 0104: exactly 24 h -> yes;
    # 0105: 24 h and 1 s -> no
    assert jan.repeat_callers == 2  # 0103, 0104
    assert feb.repeat_callers == 1  # 0101
    assert result.total.repeat_callers == 3
    assert jan.unique_callers == 5 and feb.unique_callers == 1
    assert result.total.unique_callers == 5


def test_missed_callers_recovered_within_the_callback_window(tmp_path: Path) -> None:
    log = f"""
    {GENERIC_HEADER}
    2026-01-05 10:00:00,2125550101,missed,,,,,
    2026-01-05 10:45:00,2125550101,answered,3,,,,
    2026-01-05 11:00:00,2125550102,abandoned,20,,,,
    2026-01-05 11:20:00,2125550102,voicemail,,,,,
    2026-01-05 11:50:00,2125550102,answered,3,,,,
    2026-01-05 12:00:00,2125550103,missed,,,,,
    2026-01-05 15:00:00,2125550103,answered,3,,,,
    2026-01-31 23:50:00,2125550104,missed,,,,,
    2026-02-01 00:10:00,2125550104,answered,3,,,,
    2026-01-06 09:00:00,,missed,,,,,
    2026-01-06 09:00:00,anonymous,missed,,,,,
    """
    path = write(tmp_path, log)
    hour = run(path)
    # 0101 back after 45 min: recovered; 0102's two misses answered at 11:50 (50 and 30
    # min): recovered; 0103 after 3 h: not; 0104 at 23:50 answered 20 min later in
    # February: recovered, in January. Blank and withheld numbers are no callers.
    assert hour.months["2026-01"].missed_not_recovered == 1
    assert hour.unknown_caller_calls == 2
    half_hour = run(path, callback_window_minutes=30)
    # 0101 (45 min) and 0102's abandon (50 min) are now too late; its voicemail (30) is not
    assert half_hour.months["2026-01"].missed_not_recovered == 3  # 0101, 0102, 0103
    assert half_hour.total.missed_not_recovered == 3
    assert half_hour.callback_window_minutes == 30


def test_a_withheld_missed_call_is_not_recovered_by_another_withheld_call(
    tmp_path: Path,
) -> None:
    log = f"""
    {GENERIC_HEADER}
    2026-01-05 10:00:00,anonymous,missed,,,,,
    2026-01-05 10:05:00,Anonymous,answered,3,,,,
    2026-01-05 10:06:00,,missed,,,,,
    2026-01-05 10:07:00,,answered,3,,,,
    2026-01-05 11:00:00,2125550101,missed,,,,,
    2026-01-05 11:10:00,2125550101,answered,3,,,,
    """
    jan = run(write(tmp_path, log)).months["2026-01"]
    # two unknown callers answered minutes later need not be the ones who were missed
    assert (jan.recovered_calls, jan.missed_not_recovered_calls) == (1, 2)
    assert (jan.recovered, jan.missed_not_recovered) == (1, 0)  # callers: 0101 only


def test_business_hours_syntax(tmp_path: Path) -> None:
    log = f"""
    {GENERIC_HEADER}
    2026-01-05 09:00:00,2125550101,missed,,,,,
    2026-01-05 12:30:00,2125550102,missed,,,,,
    2026-01-05 16:59:59,2125550103,missed,,,,,
    2026-01-05 17:00:00,2125550104,missed,,,,,
    2026-01-10 11:00:00,2125550105,missed,,,,,
    2026-01-11 11:00:00,2125550106,missed,,,,,
    """
    hours = "mon-fri 09:00-12:00 13:00-17:00, sat 10:00-12:00"
    result = run(write(tmp_path, log), business_hours=hours)
    # in: Mon 09:00, Mon 16:59:59, Sat 11:00; out: lunch, 17:00 (end excluded), Sunday
    assert result.total.missed_business_hours == 3
    assert result.total.missed_after_hours == 3
    assert result.business_hours == hours
    closed = run(write(tmp_path, log, "closed.csv"), business_hours="none")
    assert closed.total.missed_after_hours == 6


def test_business_hours_parser() -> None:
    hours = parse_business_hours("mon,wed 09:00-10:00; fri-mon 22:00-24:00")
    assert hours.is_open(1, 9 * 60) and hours.is_open(3, 9 * 60 + 59)
    assert not hours.is_open(2, 9 * 60) and not hours.is_open(1, 10 * 60)
    assert {d for d, start, _end in hours.spans if start == 22 * 60} == {5, 6, 7, 1}  # wraps
    for bad, message in [
        ("", "empty"),
        ("mon", "needs days"),
        ("mo 09:00-10:00", "not a day"),
        ("mon 10:00-09:00", "ends before it starts"),
        ("mon 9-10", "not a time"),
        ("mon 09:00-24:30", "not a time"),
    ]:
        with pytest.raises(CallLogError, match=message):
            parse_business_hours(bad)


def test_numbers_are_normalised_and_invalid_ones_kept(tmp_path: Path) -> None:
    log = f"""
    {GENERIC_HEADER}
    2026-01-05 10:00:00,(212) 555-0199,answered,1,,,,
    2026-01-05 10:01:00,212.555.0199,answered,1,,,,
    2026-01-05 10:02:00,+1 212 555 0199,answered,1,,,,
    2026-01-05 10:03:00,1-212-555-0199,answered,1,,,,
    2026-01-05 10:04:00, 2125550199 ,answered,1,,,,
    2026-01-05 10:05:00,+44 20 7946 0958,answered,1,,,,
    2026-01-05 10:06:00,+1 604 555 0100,answered,1,,,,
    2026-01-05 10:07:00,+1 (800) FLOWERS,answered,1,,,,
    2026-01-05 10:08:00,12345,missed,,,,,
    2026-01-05 10:09:00,12345,missed,,,,,
    2026-01-05 10:10:00,555-0199,missed,,,,,
    2026-01-05 10:11:00,N/A,missed,,,,,
    2026-01-05 10:12:00,Anonymous,missed,,,,,
    2026-01-05 10:13:00,,missed,,,,,
    """
    result = run(write(tmp_path, log))
    # one US number typed five ways, a UK, a Canadian and a vanity number: 4 valid callers;
    # '12345' (twice), '555-0199' (no area code) and 'N/A' are kept as typed: 3 more
    assert result.total.unique_callers == 7
    assert result.invalid_numbers == 3
    assert result.invalid_number_calls == 4
    assert [(n.number, n.calls, n.first_line) for n in result.invalid_number_list] == [
        ("12345", 2, 10),
        ("555-0199", 1, 12),
        ("N/A", 1, 13),
    ]
    assert result.unknown_caller_calls == 2  # 'Anonymous' and blank
    assert result.total.repeat_callers == 2  # +12125550199 and '12345'


def test_caller_ids_fall_back_to_ranks_on_a_hash_collision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = run(write(tmp_path, SMALL_LOG)).to_dict()
    monkeypatch.setattr(callers, "CALLER_HASH", "(hash({}) % 2)")  # every caller collides
    again = run(write(tmp_path, SMALL_LOG, "again.csv")).to_dict()
    assert again | {"file": expected["file"]} == expected


def test_the_duckdb_fast_path_agrees_with_phonenumbers() -> None:
    rng = random.Random(5)
    keys = [f"{rng.randint(200, 999)}{rng.randint(200, 999)}{rng.randrange(10000):04d}"]
    keys += [
        f"{rng.randint(200, 999)}{rng.randint(200, 999)}{rng.randrange(10000):04d}"
        for _ in range(3000)
    ]
    keys += ["2015550123", "8005550123", "9005550123", "5002345678", "6002345678", "3105550123"]
    con = duckdb.connect()
    for region in phones.NANP_FAST_REGIONS:
        con.execute("CREATE OR REPLACE TABLE k AS SELECT unnest(?::VARCHAR[]) AS key", [keys])
        fast = dict(
            con.execute(f"SELECT key, {phones.fast_e164_sql('key', region)} FROM k").fetchall()
        )
        rest = [key for key in keys if fast[key] is None]
        fast.update(zip(rest, phones.normalise_keys(rest, region), strict=True))
        expected = {key: phones.normalise_one(key, region) for key in keys}
        assert fast == expected, region
        assert sum(v is not None for v in fast.values()) > 1000  # both paths were exercised
        assert any(v is None for v in fast.values())
    texts = ["+1 617 555 0134", "1-617-555-0134", "(617) 555-0134", "617.555.0134"]
    con.execute("CREATE OR REPLACE TABLE t AS SELECT unnest(?::VARCHAR[]) AS text", [texts])
    key = phones.canonical_key_sql(phones.key_sql("text"), "US")
    assert {k for (k,) in con.execute(f"SELECT {key} FROM t").fetchall()} == {"6175550134"}


# ---------------------------------------------------------------- rejected rows


def test_unknown_statuses_and_bad_values_are_rejected_with_their_line(tmp_path: Path) -> None:
    log = f"""
    {GENERIC_HEADER}
    2026-01-05 10:00:00,2125550101,answered,3,60,,,
    2026-01-05 10:01:00,2125550102,Dropped,3,60,,,
    2026-01-05 10:02:00,2125550103,,3,60,,,
    2026-13-05 10:03:00,2125550104,answered,3,60,,,
    ,2125550105,answered,3,60,,,
    2026-01-05 10:05:00,2125550106,answered,-2,60,,,
    2026-01-05 10:06:00,2125550107,answered,soon,60,,,
    2026-01-05 10:07:00,2125550108,answered,3,-60,,,
    2026-01-05 10:08:00,2125550109,answered,3,1:05,,,
    2026-01-05 10:09:00,2125550110, ANSWERED ,0:00:03,0:01:05,,,
    """
    result = run(write(tmp_path, log))
    assert (result.rows_read, result.rows_counted, result.rows_rejected) == (10, 3, 7)
    assert [(r.line, r.rule, r.value) for r in result.rejected] == [
        (3, "status_unknown", "Dropped"),
        (4, "status_missing", ""),
        (5, "start_invalid", "2026-13-05 10:03:00"),
        (6, "start_missing", ""),
        (7, "wait_negative", "-2"),
        (8, "wait_invalid", "soon"),
        (9, "duration_negative", "-60"),
    ]
    assert "unknown status 'Dropped'" in result.rejected[0].reason
    assert "[statuses]" in result.rejected[0].reason
    assert result.rejected_by_rule["status_unknown"] == 1
    # " ANSWERED " is a synonym once trimmed and lower-cased; 0:00:03 is 3 seconds
    assert result.total.answered == 3
    assert result.total.speed_to_answer_median_s == 3.0


def test_duplicate_call_ids_are_rejected_after_the_first(tmp_path: Path) -> None:
    log = f"""
    {GENERIC_HEADER}
    2026-01-05 10:00:00,2125550101,answered,3,,,,A1
    2026-01-05 10:01:00,2125550102,answered,3,,,,A2
    2026-01-05 10:02:00,2125550101,answered,3,,,,A1
    2026-01-05 10:03:00,2125550103,answered,3,,,, A1
    bad date,2125550104,answered,3,,,,B1
    2026-01-05 10:05:00,2125550104,answered,3,,,,B1
    2026-01-05 10:06:00,2125550105,answered,3,,,,
    2026-01-05 10:07:00,2125550106,answered,3,,,,
    """
    result = run(write(tmp_path, log))
    # A1 on lines 4 and 5 repeat line 2; B1's first row is rejected for its date, so the
    # second B1 is the first counted; blank ids are never duplicates
    assert [(r.line, r.rule) for r in result.rejected] == [
        (4, "call_id_duplicate"),
        (5, "call_id_duplicate"),
        (6, "start_invalid"),
    ]
    assert result.rejected[0].reason == "duplicate call id 'A1': first counted on line 2"
    assert result.rows_counted == 5


def test_rows_that_do_not_fit_the_header_blank_lines_and_multiline_values(
    tmp_path: Path,
) -> None:
    log = (
        "started_at,caller,status,wait_seconds,duration_seconds,source,outcome\n"  # line 1
        "2026-01-05 10:00:00,2125550101,answered,1,1,Web,\n"  # 2
        "2026-01-05 10:05:00,2125550102,missed,1,1,Web,,extra\n"  # 3: eight values
        "\n"  # 4: blank, skipped
        '"2026-01-05 10:10:00",2125550103,"answered",1,1,"Google\n'  # 5: a value on two lines
        'Ads",\n'  # 6
        "bad,2125550104,answered,1,1,Web,\n"  # 7
        "2026-01-05 10:15:00,2125550105,answered,1,1,Web,"  # 8: no final newline
    )
    path = tmp_path / "ragged.csv"
    path.write_text(log, encoding="utf-8")
    result = run(path)
    assert result.line_numbers_exact
    assert [(r.line, r.rule) for r in result.rejected] == [
        (3, "row_malformed"),
        (7, "start_invalid"),
    ]
    assert (result.rows_read, result.rows_counted, result.rows_rejected) == (5, 3, 2)
    assert set(result.total.by_source) == {"Web", "Google\nAds"}


def test_a_malformed_row_in_an_otherwise_plain_file(tmp_path: Path) -> None:
    log = f"""
    {GENERIC_HEADER}
    2026-01-05 10:00:00,2125550101,answered,3,,,,
    2026-01-05 10:01:00,2125550102,answered
    2026-01-05 10:02:00,2125550103,wrong,3,,,,
    """
    result = run(write(tmp_path, log))
    assert [(r.line, r.rule) for r in result.rejected] == [
        (3, "row_malformed"),
        (4, "status_unknown"),
    ]


def test_a_file_in_another_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    rows = f"{GENERIC_HEADER}\n2026-01-05 10:00:00,2125550101,answered,1,1,Café,,\n"
    rows += "2026-01-05 10:01:00,2125550102,answered,1,1,Web,,\n"
    path.write_bytes(rows.encode("latin-1"))
    result = run(path)
    assert [(r.line, r.rule) for r in result.rejected] == [(2, "row_malformed")]
    assert 'encoding = "latin-1"' in result.rejected[0].reason
    mapping = write(tmp_path, '[mapping]\nextends = "generic"\nencoding = "latin-1"\n', "l.toml")
    fixed = run(path, mapping=str(mapping))
    assert fixed.rows_counted == 2 and set(fixed.total.by_source) == {"Café", "Web"}


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    for text in ("", "\n\n  \n"):
        with pytest.raises(CallLogError, match=r"empty\.csv: the file is empty"):
            run(write(tmp_path, text, "empty.csv"))
    result = run(write(tmp_path, GENERIC_HEADER + "\n", "header.csv"))
    assert result.months == {}
    assert (result.rows_read, result.rows_counted, result.rows_rejected) == (0, 0, 0)
    assert result.total.received == 0 and result.total.answer_rate is None
    assert json.loads(result.to_json())["months"] == {}
    with pytest.raises(CallLogError, match="no such file"):
        run(tmp_path / "missing.csv")


# ---------------------------------------------------------------- presets and mappings


CALL_TRACKING = """
Call ID,Start Time,Customer Phone Number,Source,Campaign,Call Status,Ring Time,Duration,First-Time Caller,Outcome,Tracking Number
CT1,01/05/2026 09:15 AM,(617) 555-0111,Google Ads,Brand,Answered,7,0:02:05,Yes,Appointment Booked,(617) 555-9000
CT2,01/05/2026 9:20:30 PM,617-555-0112,Website,,No-Answer,30,0:00:00,Yes,,(617) 555-9000
CT3,2026-01-06 10:00:00,617.555.0112,Website,,Completed,3,2:10,No,Existing Customer,(617) 555-9000
CT4,01/06/2026 14:00,+1 617 555 0113,Mailer,Spring,Hung Up,12,0:00:00,Yes,,(617) 555-9001
CT5,01/06/2026 15:00,6175550114,Referral,,Voicemail,30,0:00:41,Yes,,(617) 555-9001
CT6,01/07/2026 10:00,6175550115,Referral,,Transferred,5,1:00,Yes,,(617) 555-9001
CT7,01/07/2026 11:00,6175550116,Google Ads,Brand,Connected,-3,1:00,Yes,Lead,(617) 555-9000
CT8,01/07/2026 12:00,6175550117,Google Ads,Brand,Missed,30,soon,Yes,,(617) 555-9000
"""


def test_call_tracking_preset(tmp_path: Path) -> None:
    result = run(write(tmp_path, CALL_TRACKING), time_zone="America/New_York")
    assert result.mapping == "call-tracking"  # detected from the header
    assert [(r.line, r.rule) for r in result.rejected] == [
        (7, "status_unknown"),
        (8, "wait_negative"),
        (9, "duration_invalid"),
    ]
    jan = result.months["2026-01"]
    # counted CT1-CT5: answered CT1 and CT3 (Completed); No-Answer, Hung Up, Voicemail missed
    assert (jan.received, jan.answered, jan.abandoned, jan.voicemail) == (5, 2, 1, 1)
    # waits 3 and 7: median 5; p90 3 + 0.9 x 4 = 6.6
    assert (jan.speed_to_answer_median_s, jan.speed_to_answer_p90_s) == (5.0, 6.6)
    # CT2 Mon 21:20 after hours; CT4 Tue 14:00 and CT5 Tue 15:00 in hours
    assert (jan.missed_business_hours, jan.missed_after_hours) == (2, 1)
    assert jan.repeat_callers == 1  # 0112 again 12 h 39 min later
    assert jan.missed_not_recovered == 3  # CT3 answers 0112 after 12 h: too late
    assert jan.outcomes["booked"] == 1 and jan.outcomes["support"] == 1
    assert {k: (v.calls, v.answered, v.booked) for k, v in jan.by_source.items()} == {
        "Website": (2, 1, 0),
        "Google Ads": (1, 1, 1),
        "Mailer": (1, 0, 0),
        "Referral": (1, 0, 0),
    }
    assert {k: v.calls for k, v in jan.by_campaign.items()} == {
        "(none)": 3,
        "Brand": 1,
        "Spring": 1,
    }


def test_queue_log_preset(tmp_path: Path) -> None:
    log = """
    call_id,queue,caller_id,entered_queue,left_queue,exit_reason,talk_time,disposition
    Q1,sales,+33 1 42 68 53 00,2026-03-02 09:00:00,2026-03-02 09:00:25,AGENT,120,booked
    Q2,sales,0142685301,2026-03-02 09:05:00,2026-03-02 09:06:30,HANG,0,
    Q3,support,01.42.68.53.02,2026-03-02 09:10:00,2026-03-02 09:10:05,AGENT,300,support
    Q4,support,0142685303,2026-03-02 09:20:00,2026-03-02 09:19:00,AGENT,10,
    Q5,support,0142685304,2026-03-02 09:30:00,not a time,AGENT,10,
    Q6,sales,0142685301,2026-03-02 09:07:00,2026-03-02 09:07:45,AGENT,200,lead
    """
    result = run(write(tmp_path, log), mapping="queue-log", country="FR", time_zone="Europe/Paris")
    assert [(r.line, r.rule) for r in result.rejected] == [
        (5, "wait_end_before_start"),
        (6, "wait_end_invalid"),
    ]
    march = result.months["2026-03"]
    assert (march.received, march.answered, march.abandoned) == (4, 3, 1)
    # waits (exit - entry) of answered calls: 25, 5, 45 -> median 25; p90 25 + 0.8 x 20 = 41
    assert (march.speed_to_answer_median_s, march.speed_to_answer_p90_s) == (25.0, 41.0)
    assert march.missed_not_recovered == 0  # Q2's caller is answered 2 min later (Q6)
    assert march.repeat_callers == 1
    assert march.outcomes["qualified_lead"] == 1 and march.outcomes["support"] == 1
    assert {k: (v.calls, v.answered, v.booked) for k, v in march.by_source.items()} == {
        "sales": (3, 2, 1),
        "support": (1, 1, 0),
    }


FRENCH_PBX = """
[mapping]
name = "pbx"
timestamp_formats = ["%d/%m/%Y %H:%M"]
withheld_callers = ["masqué"]

[columns]
started_at = "Date"
caller = "Appelant"
status = "Statut"
wait_seconds = "Attente"
source = "Origine"
outcome = "Résultat"

[statuses]
answered = ["Répondu"]
missed = ["Manqué", "Occupé"]
voicemail = ["Messagerie"]

[outcomes]
booked = ["RDV pris"]
"""


def test_a_user_mapping_file(tmp_path: Path) -> None:
    mapping = write(tmp_path, FRENCH_PBX, "pbx.toml")
    log = """
    Date;Appelant;Statut;Attente;Origine;Résultat
    02/03/2026 09:00;06 12 34 56 78;Répondu;12;Site;RDV pris
    03/03/2026 18:30;06 12 34 56 79;Manqué;;Site;
    04/03/2026 10:00;masqué;Occupé;;Annuaire;
    05/03/2026 10:00;06 12 34 56 80;Transféré;5;Site;
    """
    result = run(write(tmp_path, log), mapping=str(mapping), country="FR", time_zone="Europe/Paris")
    assert result.mapping == f"pbx ({mapping})"
    assert [(r.line, r.rule) for r in result.rejected] == [(5, "status_unknown")]
    march = result.months["2026-03"]  # 02/03 is the 2nd of March: day first, as mapped
    assert (march.received, march.answered, march.missed, march.voicemail) == (3, 1, 2, 0)
    assert (march.missed_business_hours, march.missed_after_hours) == (1, 1)
    assert march.unique_callers == 2 and result.unknown_caller_calls == 1
    assert march.outcomes["booked"] == 1
    assert march.speed_to_answer_median_s == 12.0


def test_a_mapping_can_extend_a_preset(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        """
        [mapping]
        extends = "call-tracking"
        [columns]
        status = "Disposition"
        [statuses]
        answered = ["Picked Up"]
        """,
        "mine.toml",
    )
    log = """
    Start Time,Customer Phone Number,Disposition
    2026-01-05 10:00:00,6175550111,Picked Up
    2026-01-05 10:05:00,6175550112,No Answer
    """
    result = run(write(tmp_path, log), mapping=str(mapping))
    assert (result.total.answered, result.total.missed) == (1, 1)
    # a 3CX server whose CDR times are local: naive_times overrides the preset's "utc"
    local = write(tmp_path, '[mapping]\nextends = "3cx"\nnaive_times = "local"\n', "l.toml")
    assert (load_mapping("3cx").naive_times, load_mapping(local).naive_times) == ("utc", "local")


def test_mapping_errors_name_the_file_line_and_value(tmp_path: Path) -> None:
    cases = [
        ("[columns]\nstarted = 'x'\n", r"line 2: \[columns\] has no field 'started'"),
        (
            "[columns]\nstarted_at='a'\ncaller='b'\nstatus='c'\n"
            "[statuses]\nanswered=['OK']\nmissed=['ok']\n",
            r"line 7: \[statuses\] 'ok' is given both for answered and for missed",
        ),
        ("[columns]\nstarted_at='a'\n", r"must name the column of 'caller'"),
        ("[mapping]\nextends = 'nope'\n", r"line 2: \[mapping\] extends 'nope'"),
        (
            "[mapping]\nextends = '3cx'\nnaive_times = 'gmt'\n",
            r"line 3: \[mapping\] naive_times 'gmt' is not one of local, utc",
        ),
        ("[columns\n", "not valid TOML"),
    ]
    for number, (text, message) in enumerate(cases):
        path = tmp_path / f"m{number}.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(CallLogError, match=message) as caught:
            load_mapping(path)
        assert str(path) in str(caught.value)
    with pytest.raises(CallLogError, match="no such preset"):
        load_mapping("cdr")


def test_a_log_without_the_mapped_columns_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "when,who,what\n2026-01-05 10:00:00,2125550101,answered\n")
    with pytest.raises(CallLogError, match=r"line 1: no built-in preset matches the header"):
        run(path)
    with pytest.raises(CallLogError, match=r"needs the column\(s\) 'Start Time' \(started_at\)"):
        run(path, mapping="call-tracking")


def test_presets_are_valid_and_shipped() -> None:
    assert preset_names() == [
        "3cx",
        "aircall",
        "asterisk-cdr",
        "call-tracking",
        "callrail",
        "generic",
        "queue-log",
        "ringcentral",
        "twilio",
    ]
    for name in preset_names():
        mapping = load_mapping(name)
        assert mapping.name == name
        assert set(mapping.statuses.values()) == {"answered", "missed", "abandoned", "voicemail"}
    tracking = load_mapping("call-tracking")
    for word, status in [
        ("Answered", "answered"),
        ("Completed", "answered"),
        ("Connected", "answered"),
        ("Missed", "missed"),
        ("No Answer", "missed"),
        ("No-Answer", "missed"),
        ("Abandoned", "abandoned"),
        ("Hang", "abandoned"),
        ("Hung Up", "abandoned"),
        ("Voicemail", "voicemail"),
    ]:
        assert tracking.statuses[word.casefold()] == status
    queue = load_mapping("queue-log")
    assert queue.statuses["agent"] == "answered" and queue.statuses["hang"] == "abandoned"
    assert parse_mapping(FRENCH_PBX).statuses["répondu"] == "answered"


# ---------------------------------------------------------------- other file kinds


def test_an_xlsx_log(tmp_path: Path) -> None:
    path = tmp_path / "calls.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Calls")
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet.write_row(0, 0, GENERIC_HEADER.split(","))
    sheet.write_datetime(1, 0, dt.datetime(2026, 1, 5, 10, 0), stamp)
    sheet.write_row(1, 1, ["(212) 555-0101", "answered", 4])
    # row 3 left blank: skipped, and the lines that follow keep their sheet row numbers
    sheet.write_datetime(3, 0, dt.datetime(2026, 1, 5, 10, 5), stamp)
    sheet.write_row(3, 1, [2125550102, "gone", 4])
    sheet.write_datetime(4, 0, dt.datetime(2026, 2, 1, 0, 0), stamp)
    sheet.write_row(4, 1, ["+1 212 555 0101", "missed"])
    book.close()
    result = run(path)
    assert [(r.line, r.rule) for r in result.rejected] == [(4, "status_unknown")]
    assert {m: f.received for m, f in result.months.items()} == {"2026-01": 1, "2026-02": 1}
    assert result.total.unique_callers == 1


def test_a_parquet_log(tmp_path: Path) -> None:
    path = tmp_path / "calls.parquet"
    con = duckdb.connect()
    con.execute(
        f"""
        COPY (SELECT * FROM (VALUES
            (TIMESTAMP '2026-01-05 10:00:00', '2125550101', 'answered', 4, 60, 'x', NULL),
            (TIMESTAMP '2026-01-31 23:30:00', '2125550102', 'missed', NULL, 0, 'y', NULL),
            (NULL, '2125550103', 'answered', 2, 30, 'z', 'booked')
        ) t(started_at, caller, status, wait_seconds, duration_seconds, source, outcome))
        TO '{path}' (FORMAT parquet)
        """
    )
    result = run(path)
    assert [(r.line, r.rule) for r in result.rejected] == [(4, "start_missing")]
    assert result.months["2026-01"].received == 2
    assert result.months["2026-01"].speed_to_answer_median_s == 4.0


# ---------------------------------------------------------------- options and output


def test_options_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL_LOG)
    for options, message in [
        ({"time_zone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"country": "XX"}, "not a region"),
        ({"callback_window_minutes": 0}, "above 0"),
        ({"business_hours": "weekdays"}, "--business-hours"),
        ({"mapping": "nope"}, "no such preset"),
    ]:
        with pytest.raises(CallLogError, match=message):
            run(path, **options)


def test_progress_is_reported_in_phases(tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    analyse_calls(write(tmp_path, SMALL_LOG), on_progress=lambda p, f: seen.append((p, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    phases = [p for p, _ in seen]
    for phase in (
        "reading",
        "checking rows",
        "normalising numbers",
        "merging the legs of each call",
        "aggregating",
        "valuing the missed-call loss",
        "done",
    ):
        assert phase in phases


def test_json_shape(tmp_path: Path) -> None:
    data = json.loads(run(write(tmp_path, SMALL_LOG)).to_json())
    month_keys = {
        "received",
        "answered",
        "missed",
        "abandoned",
        "voicemail",
        "answer_rate",
        "abandonment_rate",
        "speed_to_answer_median_s",
        "speed_to_answer_p90_s",
        "unique_callers",
        "repeat_callers",
        "missed_after_hours",
        "missed_business_hours",
        "missed_not_recovered",
        "outcomes",
        "by_source",
        "missed_by_weekday_hour",
    }
    for figures in data["months"].values():
        assert month_keys <= set(figures)
        assert len(figures["missed_by_weekday_hour"]) == 7
    assert set(data["months"]["2026-01"]["by_source"]["Mailer"]) == {"calls", "answered", "booked"}
    for key in ("rows_read", "rows_counted", "rows_rejected", "rejected", "invalid_numbers"):
        assert key in data
    assert len(data["missed_by_weekday_hour"]) == 7
    assert all(len(row) == 24 for row in data["missed_by_weekday_hour"])


def test_summary_tables(tmp_path: Path) -> None:
    result = run(write(tmp_path, CALL_TRACKING), time_zone="America/New_York")
    console = Console(record=True, width=200)
    print_summary(result, console)
    text = console.export_text()
    assert "Inbound calls per month" in text and "2026-01" in text
    assert "Rows read 8 = calls counted 5 + rejected 3 + legs merged into calls 0" in text
    assert "add it under [statuses] of a mapping file" in text  # brackets shown, not eaten
    assert "Calls by source" in text and "Google Ads" in text
    empty = Console(record=True, width=120)
    print_summary(run(write(tmp_path, GENERIC_HEADER + "\n", "h.csv")), empty)
    assert "No call was counted" in empty.export_text()


# ---------------------------------------------------------------- the shipped sample


def test_the_sample_log_is_its_generators_output(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_call_log", ROOT / "samples/make_call_log.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = tmp_path / "fresh.csv"
    module.write_sample(fresh)
    shipped = ROOT / "samples/calls/calls-2026-q1.csv"
    assert fresh.read_bytes() == shipped.read_bytes()
    assert shipped.stat().st_size < 500 * 1024
    result = run(shipped, time_zone="America/New_York")
    assert result.mapping == "call-tracking"
    assert list(result.months) == ["2026-01", "2026-02", "2026-03"]
    assert sorted(result.rejected_by_rule) == [
        "call_id_duplicate",
        "start_invalid",
        "status_unknown",
    ]
    assert result.invalid_numbers > 0 and result.unknown_caller_calls > 0
    assert result.total.repeat_callers > 0 and result.total.abandoned > 0
    assert set(result.total.by_source) == {"Google Ads", "Website", "Mailer", "Referral"}
