"""Column mappings: which column of a call log holds which field, and what its words mean.

A mapping is data (TOML), never guessed: the built-in presets live in ``presets/*.toml``
and a user's mapping file has the same shape. A status that no synonym names rejects
its row; an outcome that no synonym names counts as ``unspecified``.

```toml
[mapping]
name = "my-pbx"
extends = "call-tracking"          # optional: start from a preset and change what differs
timestamp_formats = ["%d/%m/%Y %H:%M"]   # tried after ISO 8601, which is always understood
optional = ["call_id"]             # columns that may be absent from the file
encoding = "utf-8"                 # of a CSV file: utf-8, utf-16 or latin-1
withheld_callers = ["anonymous", "private"]   # caller texts that mean "no number"
naive_times = "local"              # a time without an offset: local time in --tz, or "utc"

[columns]
started_at = "Date"
caller = "From"
status = "Disposition"

[statuses]
answered = ["ANSWERED"]
missed = ["NO ANSWER", "BUSY"]

[outcomes]
booked = ["Appointment set"]
```
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from roi_xl.calls.errors import CallLogError

# The fields a call log can map, in the order they are shown.
FIELDS = (
    "started_at",
    "caller",
    "status",
    "wait_seconds",
    "wait_ends_at",
    "duration_seconds",
    "source",
    "campaign",
    "outcome",
    "call_id",
    "callee",
    "direction",
    "call_group",
    "parent_call_id",
    "leg_id",
    "first_time",
    "answered_at",
)
REQUIRED_FIELDS = ("started_at", "caller", "status")
FIELD_HELP = {
    "started_at": "when the call started (ISO 8601 or a timestamp format of the mapping)",
    "caller": "the caller's phone number",
    "status": "how the call ended: a synonym of answered, missed, abandoned or voicemail",
    "wait_seconds": "seconds the caller waited before an answer (number or [h:]mm:ss)",
    "wait_ends_at": "when the wait ended (wait = wait_ends_at - started_at)",
    "duration_seconds": "length of the call (number of seconds or [h:]mm:ss)",
    "source": "marketing source of the call",
    "campaign": "campaign of the call",
    "outcome": "what came of the call: a synonym of an outcome",
    "call_id": "unique id of the call (duplicates are rejected)",
    "callee": "the number called: the customer's number on an outbound call",
    "direction": "inbound or outbound: a synonym under [directions] (all inbound without it)",
    "call_group": "id shared by every leg of one call (Asterisk linkedid)",
    "parent_call_id": "call id of the call this leg belongs to (Twilio parent_call_sid)",
    "leg_id": "id shared by the legs of one call when there is no call_group (uniqueid)",
    "first_time": "the export's own first-time caller flag (true/false, yes/no, 1/0)",
    "answered_at": "when the call was answered, blank if it was not: answered or not by it, "
    "the status column then says why not (a blank status: missed)",
}
DIRECTIONS = ("inbound", "outbound")
STATUSES = ("answered", "missed", "abandoned", "voicemail")
OUTCOMES = ("booked", "qualified_lead", "support", "spam", "no_action")
UNSPECIFIED = "unspecified"
ENCODINGS = ("utf-8", "utf-16", "latin-1")
DEFAULT_WITHHELD = (
    "anonymous",
    "private",
    "restricted",
    "unknown",
    "unavailable",
    "withheld",
    "blocked",
)
MAX_MAPPING_BYTES = 1024 * 1024
_MAPPING_KEYS = {
    "name",
    "description",
    "extends",
    "timestamp_formats",
    "optional",
    "encoding",
    "withheld_callers",
    "headerless",
    "headerless_widths",
    "naive_times",
}
NAIVE_TIMES = ("local", "utc")
_SPACES = re.compile(r"\s+")


def normalise_word(text: str) -> str:
    """How statuses, outcomes and column names are compared: case and spacing ignored."""
    return _SPACES.sub(" ", text).strip().casefold()


@dataclass(frozen=True)
class CallMapping:
    """A parsed, validated mapping: columns per field and synonyms per canonical word."""

    name: str
    origin: str  # "preset" or the mapping file's path, for messages
    columns: dict[str, str]
    statuses: dict[str, str]  # normalised synonym -> answered / missed / abandoned / voicemail
    outcomes: dict[str, str]  # normalised synonym -> booked / qualified_lead / ...
    timestamp_formats: tuple[str, ...] = ()
    optional: frozenset[str] = frozenset()
    encoding: str = "utf-8"
    withheld_callers: frozenset[str] = field(default_factory=lambda: frozenset(DEFAULT_WITHHELD))
    description: str = ""
    directions: dict[str, str] = field(default_factory=dict)  # synonym -> inbound / outbound
    headerless: tuple[str, ...] = ()  # column names of a file without a header line
    headerless_widths: tuple[int, ...] = ()  # the field counts such a file may have
    naive_times: str = "local"  # a time without an offset is local (in --tz) or "utc"

    def headerless_names(self, width: int) -> list[str] | None:
        """The column names of a headerless row of ``width`` fields, None if it cannot be one."""
        if not self.headerless or width not in (self.headerless_widths or (len(self.headerless),)):
            return None
        return list(self.headerless[:width])

    def describe(self) -> str:
        return self.name if self.origin == "preset" else f"{self.name} ({self.origin})"

    def resolve(self, path: Path, header: Iterable[str]) -> dict[str, str]:
        """Field -> the file's own column name, matching names without regard to case or spaces.

        A required column, or one the mapping names without marking it optional, must be there.
        """
        by_word: dict[str, str] = {}
        for name in header:
            by_word.setdefault(normalise_word(name), name)
        found: dict[str, str] = {}
        missing: list[str] = []
        for field_name, column in self.columns.items():
            actual = by_word.get(normalise_word(column))
            if actual is not None:
                found[field_name] = actual
            elif field_name not in self.optional:
                named = "" if normalise_word(column) == field_name else f" ({field_name})"
                missing.append(f"'{column}'{named}")
        if "wait_seconds" in found and "wait_ends_at" in found:
            del found["wait_ends_at"]  # a direct wait wins over one computed from two times
        if missing:
            have = ", ".join(f"'{name}'" for name in header) or "no columns"
            raise CallLogError(
                f"{path}, line 1: the mapping {self.describe()} needs the column(s) "
                f"{', '.join(missing)}, which the header does not have (it has {have}); "
                "pass --map with the right preset or a mapping file"
            )
        return found


# ------------------------------------------------------------------ loading


def preset_names() -> list[str]:
    return sorted(p.name.removesuffix(".toml") for p in _presets_dir().iterdir() if _is_toml(p))


def load_mapping(name_or_path: str | Path) -> CallMapping:
    """A built-in preset by name, or a user's mapping from a .toml path."""
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        return _load_file(Path(text))
    if text not in preset_names():
        raise CallLogError(
            f"--map {text!r}: no such preset (built-in: {', '.join(preset_names())}; "
            "or give a mapping .toml file)"
        )
    return _load_preset(text)


def detect_preset(path: Path, header: list[str]) -> CallMapping:
    """The preset whose required columns are all in the header, else a clear error.

    When several fit, the one needing the most columns is the more specific (CallRail's
    export also fits the generic call-tracking preset); a tie is refused.
    """
    words = {normalise_word(name) for name in header}
    fits: list[tuple[int, CallMapping]] = []
    for name in preset_names():
        mapping = _load_preset(name)
        if mapping.headerless:
            continue
        needed = [c for f, c in mapping.columns.items() if f not in mapping.optional]
        if all(normalise_word(column) in words for column in needed):
            fits.append((len(needed), mapping))
    most = max((n for n, _ in fits), default=0)
    best = [m for n, m in fits if n == most]
    if len(best) == 1:
        return best[0]
    have = ", ".join(f"'{name}'" for name in header) or "no columns"
    if not fits:
        raise CallLogError(
            f"{path}, line 1: no built-in preset matches the header ({have}); pass "
            f"--map with a preset ({', '.join(preset_names())}) or a mapping .toml file"
        )
    names = ", ".join(m.name for m in best)
    raise CallLogError(
        f"{path}, line 1: several presets fit the header ({names}); choose one --map"
    )


def headerless_presets() -> list[CallMapping]:
    """The presets of files without a header line (Asterisk's Master.csv)."""
    return [m for m in map(_load_preset, preset_names()) if m.headerless]


def _presets_dir() -> Any:
    return resources.files("roi_xl.calls").joinpath("presets")


def _is_toml(entry: Any) -> bool:
    return entry.name.endswith(".toml") and entry.is_file()


def _load_preset(name: str) -> CallMapping:
    source = _presets_dir().joinpath(f"{name}.toml").read_text("utf-8")
    return _Builder(source, f"preset {name}", None).build(origin="preset")


def _load_file(path: Path) -> CallMapping:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CallLogError(f"{path}: cannot read the mapping ({exc.strerror})") from None
    if size > MAX_MAPPING_BYTES:
        raise CallLogError(f"{path}: {size:,} bytes is too large for a mapping file")
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CallLogError(f"{path}: cannot read the mapping ({exc})") from None
    return parse_mapping(source, str(path))


def parse_mapping(source: str, path: str = "<mapping>") -> CallMapping:
    """Parse and validate mapping text; ``path`` is only used in messages."""
    return _Builder(source, path, path).build(origin=path)


class _Builder:
    """Turns TOML text into a CallMapping, locating each problem on its line."""

    def __init__(self, source: str, where: str, origin: str | None) -> None:
        self.where = where
        self.lines = source.splitlines()
        try:
            self.data = tomllib.loads(source)
        except tomllib.TOMLDecodeError as exc:
            raise CallLogError(f"{where}: not valid TOML: {exc}") from None

    def fail(self, problem: str, needle: str | None = None) -> CallLogError:
        line = self.line_of(needle) if needle else None
        where = f"{self.where}, line {line}" if line else self.where
        return CallLogError(f"{where}: {problem}")

    def line_of(self, needle: str) -> int | None:
        for number, line in enumerate(self.lines, start=1):
            if needle in line:
                return number
        return None

    def build(self, origin: str) -> CallMapping:
        unknown = set(self.data) - {"mapping", "columns", "statuses", "outcomes", "directions"}
        for key in sorted(unknown):
            raise self.fail(
                f"unknown section [{key}] (expected [mapping], [columns], [statuses], "
                "[outcomes], [directions])",
                key,
            )
        head = self.table("mapping")
        for key in sorted(set(head) - _MAPPING_KEYS):
            raise self.fail(
                f"[mapping] has no key '{key}' (known: {', '.join(sorted(_MAPPING_KEYS))})", key
            )
        base = self.base(head)
        columns = dict(base.columns) if base else {}
        for key, value in self.table("columns").items():
            if key not in FIELDS:
                raise self.fail(
                    f"[columns] has no field '{key}' (fields: {', '.join(FIELDS)})", key
                )
            if not isinstance(value, str) or not value.strip():
                raise self.fail(f"[columns] {key} must be a column name (text)", key)
            columns[key] = value.strip()
        for required in REQUIRED_FIELDS:
            if required not in columns:
                raise self.fail(
                    f"[columns] must name the column of '{required}' ({FIELD_HELP[required]})"
                )
        statuses = self.synonyms("statuses", STATUSES, dict(base.statuses) if base else {})
        outcomes = self.synonyms("outcomes", OUTCOMES, dict(base.outcomes) if base else {})
        for canonical in STATUSES:
            # every canonical word understands its own name, so "answered" always works
            statuses.setdefault(canonical, canonical)
        for canonical in OUTCOMES:
            outcomes.setdefault(canonical, canonical)
        directions = self.synonyms("directions", DIRECTIONS, dict(base.directions) if base else {})
        for canonical in DIRECTIONS:
            directions.setdefault(canonical, canonical)
        headerless = self.words(head, "headerless")
        widths = head.get("headerless_widths", [])
        if not isinstance(widths, list) or not all(
            isinstance(w, int) and not isinstance(w, bool) and 0 < w <= len(headerless or ())
            for w in widths
        ):
            raise self.fail(
                "[mapping] headerless_widths must be field counts up to the headerless names",
                "headerless_widths",
            )
        name = self.text(head, "name") or (Path(origin).stem if origin != "preset" else "")
        formats = self.words(head, "timestamp_formats")
        optional = self.words(head, "optional")
        for entry in optional or ():
            if entry not in FIELDS:
                raise self.fail(f"[mapping] optional names no field '{entry}'", entry)
            if entry in REQUIRED_FIELDS:
                raise self.fail(f"[mapping] optional: '{entry}' is always required", entry)
        withheld = self.words(head, "withheld_callers")
        encoding = (self.text(head, "encoding") or (base.encoding if base else "utf-8")).lower()
        if encoding not in ENCODINGS:
            raise self.fail(
                f"[mapping] encoding '{encoding}' is not one of {', '.join(ENCODINGS)}", "encoding"
            )
        naive = (self.text(head, "naive_times") or (base.naive_times if base else "local")).lower()
        if naive not in NAIVE_TIMES:
            raise self.fail(
                f"[mapping] naive_times '{naive}' is not one of {', '.join(NAIVE_TIMES)}",
                "naive_times",
            )
        mapping = CallMapping(
            name=name,
            origin=origin,
            columns=columns,
            statuses=statuses,
            outcomes=outcomes,
            description=self.text(head, "description") or (base.description if base else ""),
            encoding=encoding,
            directions=directions,
            headerless=tuple(headerless or (base.headerless if base else ())),
            headerless_widths=tuple(widths or (base.headerless_widths if base else ())),
            naive_times=naive,
        )
        if base:
            mapping = replace(
                mapping,
                timestamp_formats=base.timestamp_formats,
                optional=base.optional,
                withheld_callers=base.withheld_callers,
            )
        if formats is not None:
            mapping = replace(mapping, timestamp_formats=tuple(self.checked_formats(formats)))
        if optional is not None:
            mapping = replace(mapping, optional=frozenset(optional))
        if withheld is not None:
            mapping = replace(mapping, withheld_callers=frozenset(map(normalise_word, withheld)))
        return mapping

    def base(self, head: Mapping[str, Any]) -> CallMapping | None:
        extends = self.text(head, "extends")
        if not extends:
            return None
        if extends not in preset_names():
            raise self.fail(
                f"[mapping] extends '{extends}', which is no preset "
                f"(built-in: {', '.join(preset_names())})",
                "extends",
            )
        return _load_preset(extends)

    def table(self, key: str) -> dict[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(f"'{key}' must be a table: [{key}]", key)
        return value

    def text(self, table: Mapping[str, Any], key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(f"[mapping] {key} must be text", key)
        return value.strip()

    def words(self, table: Mapping[str, Any], key: str) -> list[str] | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"[mapping] {key} must be a list of texts", key)
        return value

    def synonyms(
        self, section: str, canonical: tuple[str, ...], merged: dict[str, str]
    ) -> dict[str, str]:
        """Synonym -> canonical word; a file's own synonyms win over those of its base."""
        own: dict[str, str] = {}
        for key, values in self.table(section).items():
            if key not in canonical:
                raise self.fail(
                    f"[{section}] has no '{key}' (expected {', '.join(canonical)})", key
                )
            if isinstance(values, str):
                values = [values]
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise self.fail(f"[{section}] {key} must be a list of texts", key)
            for value in values:
                word = normalise_word(value)
                if not word:
                    raise self.fail(f"[{section}] {key} has an empty synonym", key)
                if own.get(word, key) != key:
                    raise self.fail(
                        f"[{section}] '{value}' is given both for {own[word]} and for {key}",
                        value,
                    )
                own[word] = key
        merged.update(own)
        return merged

    def checked_formats(self, formats: list[str]) -> list[str]:
        for text in formats:
            if "%" not in text:
                raise self.fail(
                    f"[mapping] timestamp format '{text}' has no % directive "
                    "(e.g. '%d/%m/%Y %H:%M')",
                    text,
                )
        return formats
