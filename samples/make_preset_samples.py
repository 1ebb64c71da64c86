"""Write the small sample exports of ``samples/calls/``: one per phone-system preset.

The same week of calls at a plumbing business in New York (America/New_York), as six
phone systems log it, each in its vendor's documented format:

- ``asterisk-Master.csv``: Asterisk / FreePBX cdr_csv, no header, every field quoted,
  21 columns (linkedid ties the legs of a ring group), local time;
- ``twilio-calls.csv``: Twilio Calls resource fields, RFC 2822 times in UTC, the dialled
  agent legs as children (parent_call_sid) of the inbound call;
- ``callrail-calls.csv``: CallRail's call-log export with Direction, First-Time Caller
  and Lead Status;
- ``ringcentral-calls.csv``: RingCentral call-log records, legs sharing a
  telephonySessionId, ISO 8601 UTC times;
- ``aircall-calls.csv``: Aircall call objects (Calls API fields), one row per call,
  Unix-second times, answered_at blank and missed_call_reason set when unanswered;
- ``3cx-cdr.csv``: 3CX call data records, no header, the 27 fields in 3CX's documented
  order, one line per call segment (the segments of one call share a historyid), UTC;
- ``blocked-numbers.txt`` (spam) and ``known-customers.txt`` (existing customers).

The calls, local time (business hours mon-fri 09:00-18:00, callback window 60 min):

- Fri 2026-03-06 10:00 A (212-555-0101) rings two agents, nobody answers; 10:20 an agent
  calls A back and A picks up: missed, recovered by a callback.
- Fri 10:05 B (0102) missed; 10:30 B calls again, answered after 8 s: recovered by a retry.
- Fri 11:00 C (0103, an existing customer) rings two agents; the second answers after 25 s.
- Fri 12:00 D (0104) a robocall, missed: spam, never a lost caller.
- Sat 03-07 20:00 E (0105) missed after hours, never recovered.
- Sun 03-08 01:50 EST F (0106) missed; 03:10 EDT F calls again (20 minutes later: the
  clocks went forward at 02:00), answered after 5 s: recovered by a retry.
- Mon 03-09 09:10 G (0107, an existing customer) answered after 3 s.
- Mon 09:30 an agent calls H (0108), no answer: an outbound call, no callback.

By hand: 9 inbound calls, 4 answered, 5 missed (2 after hours), 1 spam; 3 missed callers
recovered (1 by callback, 2 by retry), 1 not recovered (E); 2 outbound calls, 1 connected.

    python samples/make_preset_samples.py [FOLDER]
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
import zoneinfo
from pathlib import Path

ZONE = zoneinfo.ZoneInfo("America/New_York")
OURS = "+12125550199"
AGENTS = ("+12125550901", "+12125550902")
DEFAULT_FOLDER = Path(__file__).resolve().parent / "calls"


def number(last: str) -> str:
    return f"+1212555{last}"


# (local start, customer, direction, legs): a leg is (seconds after the start it rang,
# answered after how many seconds or None, talk seconds)
CALLS = [
    ("2026-03-06 10:00:00", "0101", "in", [(0, None, 0), (0, None, 0)], "", "true"),
    ("2026-03-06 10:20:00", "0101", "out", [(0, 6, 240)], "", ""),
    ("2026-03-06 10:05:00", "0102", "in", [(0, None, 0)], "", "true"),
    ("2026-03-06 10:30:00", "0102", "in", [(0, 8, 300)], "Good Lead", "false"),
    ("2026-03-06 11:00:00", "0103", "in", [(0, None, 0), (0, 25, 180)], "Good Lead", "false"),
    ("2026-03-06 12:00:00", "0104", "in", [(0, None, 0)], "Spam", "true"),
    ("2026-03-07 20:00:00", "0105", "in", [(0, None, 0)], "", "true"),
    ("2026-03-08 01:50:00", "0106", "in", [(0, None, 0)], "", "true"),
    ("2026-03-08 03:10:00", "0106", "in", [(0, 5, 200)], "Good Lead", "false"),
    ("2026-03-09 09:10:00", "0107", "in", [(0, 3, 120)], "", "false"),
    ("2026-03-09 09:30:00", "0108", "out", [(0, None, 0)], "", ""),
]
RING = 30  # seconds an unanswered leg rings


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZONE)


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def asterisk_rows() -> list[list[str]]:
    rows = []
    for n, (start, who, way, legs, _, _) in enumerate(CALLS):
        begin = local(start)
        linked = f"1772800{n:03d}.{n * 10}"
        for k, (after, answer, talk) in enumerate(legs):
            leg_start = begin + dt.timedelta(seconds=after)
            answered = leg_start + dt.timedelta(seconds=answer) if answer is not None else None
            end = (
                (answered + dt.timedelta(seconds=talk))
                if answered
                else (leg_start + dt.timedelta(seconds=RING))
            )
            ext = f"20{k + 1}"
            if way == "in":
                src, dst, context = f"212555{who}", "600" if len(legs) > 1 else ext, "ext-group"
                channel, dst_channel = f"SIP/trunk-{n:04d}{k}", f"SIP/{ext}-{n:04d}{k}"
                clid = f'"NEW YORK NY" <212555{who}>'
            else:
                src, dst, context = "201", f"1212555{who}", "from-internal"
                channel, dst_channel = f"SIP/201-{n:04d}{k}", f"SIP/trunk-{n:04d}{k}"
                clid = '"Front Desk" <201>'
            unique = linked if k == 0 else f"1772800{n:03d}.{n * 10 + k}"
            rows.append(
                [
                    "", src, dst, context, clid, channel, dst_channel, "Dial",
                    f"SIP/{ext},30", stamp(leg_start), stamp(answered) if answered else "",
                    stamp(end), str(int((end - leg_start).total_seconds())),
                    str(talk if answered else 0), "ANSWERED" if answered else "NO ANSWER",
                    "DOCUMENTATION", unique, "", "", linked, str(k),
                ]
            )  # fmt: skip
    return rows


def twilio_rows() -> list[list[str]]:
    header = [
        "sid", "parent_call_sid", "from", "to", "direction", "status", "start_time",
        "end_time", "duration", "answered_by", "caller_name",
    ]  # fmt: skip
    rows = [header]
    for n, (start, who, way, legs, _, _) in enumerate(CALLS):
        begin = local(start).astimezone(dt.UTC)
        sid = f"CA{n:032x}"
        answered = [leg for leg in legs if leg[1] is not None]
        talk = answered[0][2] if answered else 0
        end = begin + dt.timedelta(seconds=(answered[0][1] + talk) if answered else RING)
        rfc = "%a, %d %b %Y %H:%M:%S +0000"
        if way == "out":
            status = "completed" if answered else "no-answer"
            rows.append([sid, "", OURS, number(who), "outbound-api", status,
                         begin.strftime(rfc), end.strftime(rfc), str(talk), "human" if answered
                         else "", ""])  # fmt: skip
            continue
        if len(legs) == 1:
            status = "completed" if answered else ("canceled" if who == "0104" else "no-answer")
            rows.append([sid, "", number(who), OURS, "inbound", status, begin.strftime(rfc),
                         end.strftime(rfc), str(talk), "", ""])  # fmt: skip
            continue
        # TwiML <Dial>s the agents: the inbound call completes, the agent legs are children
        rows.append([sid, "", number(who), OURS, "inbound", "completed", begin.strftime(rfc),
                     end.strftime(rfc), str(talk + RING), "", ""])  # fmt: skip
        for k, (_, answer, leg_talk) in enumerate(legs):
            status = "completed" if answer is not None else "no-answer"
            rows.append([f"CA{n:028x}ab{k:02x}", sid, OURS, AGENTS[k], "outbound-dial",
                         status, begin.strftime(rfc), end.strftime(rfc),
                         str(leg_talk), "", ""])  # fmt: skip
    return rows


def callrail_rows() -> list[list[str]]:
    header = [
        "Start Time", "Customer Name", "Customer Phone Number", "Tracking Number", "Source",
        "Campaign", "Direction", "Call Status", "Duration (seconds)", "First-Time Caller",
        "Lead Status", "Call ID",
    ]  # fmt: skip
    rows = [header]
    for n, (start, who, way, legs, lead, first) in enumerate(CALLS):
        answered = [leg for leg in legs if leg[1] is not None]
        if way == "out":
            status = "Answered Call" if answered else "Missed Call"
        elif answered:
            status = "Answered Call"
        else:
            status = "Abandoned Call" if who == "0104" else "Missed Call"
        moment = local(start).strftime("%Y-%m-%d %I:%M %p")
        rows.append([moment, "", f"(212) 555-{who}", "(212) 555-0199",
                     "Google Ads" if way == "in" else "", "", "Inbound" if way == "in"
                     else "Outbound", status, str(answered[0][2] if answered else 0),
                     first, lead, f"CAL{n:08d}"])  # fmt: skip
    return rows


def ringcentral_rows() -> list[list[str]]:
    header = [
        "id", "telephonySessionId", "startTime", "direction", "type", "action", "result",
        "duration", "from.phoneNumber", "to.phoneNumber",
    ]  # fmt: skip
    rows = [header]
    for n, (start, who, way, legs, _, _) in enumerate(CALLS):
        begin = local(start).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        for k, (_, answer, talk) in enumerate(legs):
            if way == "out":
                result = "Call connected" if answer is not None else "No Answer"
                parties = [OURS, number(who)]
            else:
                result = "Accepted" if answer is not None else "Missed"
                parties = [number(who), OURS]
            rows.append([f"RC{n:04d}{k}", f"s-{n:06d}", begin, "Inbound" if way == "in"
                         else "Outbound", "Voice", "Phone Call" if way == "in"
                         else "RingOut PC", result, str(talk), *parties])  # fmt: skip
    return rows


def aircall_rows() -> list[list[str]]:
    header = [
        "id", "direction", "status", "missed_call_reason", "started_at", "answered_at",
        "ended_at", "duration", "raw_digits", "voicemail", "number.digits",
    ]  # fmt: skip
    rows = [header]
    for n, (start, who, way, legs, _, _) in enumerate(CALLS):
        begin = local(start)
        answered = [leg for leg in legs if leg[1] is not None]
        answer = begin + dt.timedelta(seconds=answered[0][1]) if answered else None
        end = (
            answer + dt.timedelta(seconds=answered[0][2])
            if answer
            else (begin + dt.timedelta(seconds=RING))
        )
        if answered or way == "out":
            reason = ""
        elif who == "0104":
            reason = "short_abandoned"  # the robocall hangs up at once
        elif begin.weekday() >= 5:
            reason = "out_of_opening_hours"
        else:
            reason = "agents_did_not_answer"
        rows.append([str(3916681 + n), "inbound" if way == "in" else "outbound", "done",
                     reason, str(int(begin.timestamp())),
                     str(int(answer.timestamp())) if answer else "",
                     str(int(end.timestamp())), str(int((end - begin).total_seconds())),
                     f"+1 212-555-{who}", "", "+1 212-555-0199"])  # fmt: skip
    return rows


def threecx_rows() -> list[list[str]]:
    rows: list[list[str]] = []
    clock = "%Y/%m/%d %H:%M:%S"
    for n, (start, who, way, legs, _, _) in enumerate(CALLS):
        begin = local(start).astimezone(dt.UTC)  # 3CX writes its CDR times in UTC
        for k, (after, answer, talk) in enumerate(legs):
            leg_start = begin + dt.timedelta(seconds=after)
            answered = leg_start + dt.timedelta(seconds=answer) if answer is not None else None
            end = (
                answered + dt.timedelta(seconds=talk)
                if answered
                else (leg_start + dt.timedelta(seconds=RING))
            )
            ext = f"10{k + 1}"
            if way == "in":
                parties = [f"212555{who}", f"Ext.{ext}", "10000", ext, "2125550199"]
                types = ["Line", "Extension", "Extension"]
                reason = "TerminatedBySrc" if answered or who == "0104" else "TerminatedByRule"
            else:
                parties = ["Ext.101", f"1212555{who}", "101", "10000", f"1212555{who}"]
                types = ["Extension", "Line", "Line"]
                reason = "TerminatedBySrc"
            talk_time = dt.timedelta(seconds=talk if answered else 0)
            rows.append([str(7000 + n), f"00000{n:03d}-{k}", str(talk_time).zfill(8),
                         leg_start.strftime(clock), answered.strftime(clock) if answered
                         else "", end.strftime(clock), reason, *parties, "", parties[1],
                         parties[3], "", "", "", "", f"Chain: {parties[0]};{parties[1]}",
                         *types, "", "", "", ""])  # fmt: skip
    return rows


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "asterisk-Master.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(asterisk_rows())
    for name, rows in (
        ("twilio-calls.csv", twilio_rows()),
        ("callrail-calls.csv", callrail_rows()),
        ("ringcentral-calls.csv", ringcentral_rows()),
        ("aircall-calls.csv", aircall_rows()),
        ("3cx-cdr.csv", threecx_rows()),
    ):
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
    (folder / "blocked-numbers.txt").write_text(
        "# spam and wrong numbers: never counted as lost callers\n(212) 555-0104\n", "utf-8"
    )
    (folder / "known-customers.txt").write_text(
        "# existing customers\n+1 212 555 0103\n212-555-0107\n", "utf-8"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER)
