"""Load templates (``*.toml``) into typed, validated objects.

A template is data: its inputs with ranges, defaults per scenario and sources,
and its metrics as expressions. Everything downstream (engine, workbook, reader,
Excel functions) works from these objects, so a template a user writes is as
good as a built-in one. Every error names the file, the line and the problem.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

from roi_xl.errors import ExpressionError, TemplateError
from roi_xl.model import expr
from roi_xl.model.functions import FUNCTIONS
from roi_xl.typography import french

SCENARIOS: tuple[str, ...] = ("prudent", "realistic", "optimistic")
LANGUAGES: tuple[str, ...] = ("en", "fr")
INPUT_KINDS: tuple[str, ...] = (
    "currency",
    "percent",
    "count",
    "months",
    "hours",
    "days",
    "years",
    "seconds",
    "score",
)
METRIC_KINDS: tuple[str, ...] = (*INPUT_KINDS, "multiple", "factor")
MAX_TEMPLATE_BYTES = 1_000_000
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
TEMPLATE_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


GOOD_DIRECTIONS = ("up", "down", "none")


@dataclass(frozen=True)
class Text:
    """A label in every supported language."""

    en: str
    fr: str

    def __getitem__(self, language: str) -> str:
        return french(self.fr) if language == "fr" else self.en


@dataclass(frozen=True)
class Input:
    """One assumption the user sets, with its range and a sourced default per scenario."""

    key: str
    label: Text
    unit: str
    kind: str
    minimum: float
    maximum: float
    defaults: Mapping[str, float]
    notes: Mapping[str, str]
    section: str
    integer: bool = False
    notes_fr: Mapping[str, str] | None = None  # the notes in French, when the template gives them

    def note(self, scenario: str, language: str) -> str:
        """The source or note of a scenario's default, in ``language`` when the template has it."""
        if language == "fr" and self.notes_fr is not None:
            return french(self.notes_fr[scenario])
        return self.notes[scenario]


@dataclass(frozen=True)
class Metric:
    """One computed figure: its formula in the expression language."""

    key: str
    label: Text
    unit: str
    kind: str
    formula: str
    node: expr.Node
    section: str
    note: str = ""


@dataclass(frozen=True)
class MonthlyField:
    """A figure sales leads type each month, with the plan it is measured against."""

    key: str
    label: Text
    unit: str
    kind: str
    plan: expr.Node | None
    plan_formula: str
    aggregate: str = "sum"  # "sum" for flows (calls, revenue); "average" for stocks (users)
    good: str = "up"  # which way a variance from plan is good: up, down or none
    help: Text | None = None  # what counts in the figure, for the person who types it


@dataclass(frozen=True)
class MonthlyKpi:
    """A ratio computed from a month's figures (and the model's inputs).

    Its plan is the same formula over the fields' plans, so one formula serves
    every column: each month, the year to date and the plan.
    """

    key: str
    label: Text
    unit: str
    kind: str
    formula: str
    node: expr.Node
    good: str = "up"  # which way a variance from plan is good: up, down or none


@dataclass(frozen=True)
class MonthlyCheck:
    """A rule a month's figures must obey (answered + missed = received...)."""

    key: str
    label: Text
    rule: str
    node: expr.Node


@dataclass(frozen=True)
class Monthly:
    """What the monthly tabs hold and how they are charted."""

    fields: tuple[MonthlyField, ...]
    kpis: tuple[MonthlyKpi, ...]
    checks: tuple[MonthlyCheck, ...]
    chart: str
    heatmap: bool


CHANNEL_FIGURES: tuple[str, ...] = (
    "cost",
    "opportunities",
    "deals",
    "margin",
    "cost_per_opportunity",
    "cac",
    "roi",
)


@dataclass(frozen=True)
class Channel:
    """One acquisition channel in the comparison: which inputs or metrics hold its figures.

    Each channel is modelled with ordinary inputs and metrics, so its figures
    have scenarios, ranges, sources and checks like any other; a channel only
    names them, in the order of ``CHANNEL_FIGURES``.
    """

    key: str
    label: Text
    figures: dict[str, str]


@dataclass(frozen=True)
class TimelineRow:
    """One line of the monthly timeline: a formula per period, the same in every column."""

    key: str
    label: Text
    unit: str
    kind: str
    formula: str
    node: expr.Node
    section: str
    note: str = ""

    @property
    def is_flow(self) -> bool:
        """Amounts of money per month add up into yearly columns and a total."""
        return self.kind == "currency" and self.section != "cumulative"


@dataclass(frozen=True)
class TimelineResult:
    """A figure of the whole timeline (NPV, IRR, payback month...), one per scenario.

    ``absent_when`` names a result that is 0 when this figure does not exist
    (no IRR when the flows never change sign, no payback within the horizon);
    the workbook then shows ``absent_text`` and JSON shows null, never an error.
    """

    key: str
    label: Text
    unit: str
    kind: str
    formula: str
    node: expr.Node
    absent_when: str = ""
    absent_text: Text | None = None


@dataclass(frozen=True)
class Timeline:
    """The dated monthly cash flow of a template and the finance figures read from it."""

    horizon: str  # the input holding the number of months
    cash_flow: str  # the row of net cash flow per month
    cumulative: str  # the row of cumulative cash flow
    benefits: tuple[str, ...]  # rows of benefits, for the waterfall
    costs: tuple[str, ...]  # rows of costs, for the waterfall
    rows: tuple[TimelineRow, ...]
    results: tuple[TimelineResult, ...]

    def row(self, key: str) -> TimelineRow:
        return _keyed(self.rows, key)

    def result(self, key: str) -> TimelineResult:
        return _keyed(self.results, key)


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


_K = TypeVar("_K", bound=_Keyed)


def _keyed(items: tuple[_K, ...], key: str) -> _K:
    """The item of ``items`` whose key is ``key`` (KeyError when none): a template's lists
    are short, and their order is the workbook's."""
    for item in items:
        if item.key == key:
            return item
    raise KeyError(key)


MAX_HORIZON_MONTHS = 120


@dataclass(frozen=True)
class Template:
    """A whole ROI model."""

    key: str
    version: str
    title: Text
    purpose: Text
    sources: tuple[str, ...]
    period: Text
    inputs: tuple[Input, ...]
    metrics: tuple[Metric, ...]
    headline: tuple[str, ...]
    funnel: tuple[str, ...]
    monthly: Monthly
    path: str
    channels: tuple[Channel, ...] = ()
    digest: str = ""  # SHA-256 of the template's text: which template a workbook was made from
    sources_fr: tuple[str, ...] = ()  # the sources in French, when the template gives them

    def sources_in(self, language: str) -> tuple[str, ...]:
        """The sources as the ``language`` reader reads them."""
        if language == "fr" and self.sources_fr:
            return tuple(french(source) for source in self.sources_fr)
        return self.sources

    timeline: Timeline | None = None

    def input(self, key: str) -> Input:
        return _keyed(self.inputs, key)

    def metric(self, key: str) -> Metric:
        return _keyed(self.metrics, key)

    @property
    def input_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.inputs)

    @property
    def metric_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.metrics)


def _aggregated_rows(node: expr.Node) -> set[str]:
    """Names used as the row of TOTAL() or IRR()."""
    found: set[str] = set()
    if isinstance(node, expr.Call) and node.name in ("TOTAL", "IRR"):
        target = node.args[0]
        if isinstance(target, expr.Ref):
            found.add(target.name)
    for child in expr.children(node):
        found |= _aggregated_rows(child)
    return found


# ------------------------------------------------------------------ finding


def _builtin_dir() -> Path:
    """Templates ship inside the wheel; a source checkout keeps them at the top."""
    packaged = Path(str(resources.files("roi_xl"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def builtin_names() -> list[str]:
    return sorted(path.stem for path in _builtin_dir().glob("*.toml"))


def load(name_or_path: str | Path) -> Template:
    """Load a built-in template by name, or a user's template from a .toml path."""
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        return load_file(Path(text))
    path = _builtin_dir() / f"{text}.toml"
    if not path.is_file():
        known = ", ".join(builtin_names())
        raise TemplateError(f"unknown template '{text}' (built-in: {known}; or give a .toml path)")
    return load_file(path)


def load_builtin(name: str) -> Template:
    """A built-in template by its key only: a name read from a file is never a path."""
    if name not in builtin_names():
        known = ", ".join(builtin_names())
        raise TemplateError(f"'{name}' is not a built-in template (built-in: {known})")
    return load_file(_builtin_dir() / f"{name}.toml")


def load_all() -> list[Template]:
    return [load(name) for name in builtin_names()]


def load_file(path: Path) -> Template:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read the template ({exc.strerror})") from None
    if size > MAX_TEMPLATE_BYTES:
        raise TemplateError(f"{path}: {size} bytes is too large for a template")
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}: cannot read the template ({exc})") from None
    return parse_template(source, str(path))


# ------------------------------------------------------------------ parsing


@functools.lru_cache(maxsize=32)
def parse_template(source: str, path: str = "<template>") -> Template:
    """Parse and validate template text; ``path`` is only used in messages.

    Cached on the text itself (a Template is immutable): reading hundreds of workbooks made
    from one template parses it once, and the writer's per-template caches keep hitting."""
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{path}: not valid TOML: {exc}") from None
    built = _Builder(data, source, path).build()
    text = source.replace("\r\n", "\n")  # the same template whatever the checkout's line endings
    return dataclasses.replace(built, digest=hashlib.sha256(text.encode()).hexdigest())


class _Builder:
    """Turns raw TOML data into a Template, locating each problem on its line."""

    def __init__(self, data: dict[str, Any], source: str, path: str) -> None:
        self.data = data
        self.lines = source.splitlines()
        self.path = path

    def fail(self, problem: str, needle: str | None = None) -> TemplateError:
        line = self.line_of(needle) if needle else None
        where = f"{self.path}, line {line}" if line else self.path
        return TemplateError(f"{where}: {problem}")

    def line_of(self, needle: str) -> int | None:
        for number, line in enumerate(self.lines, start=1):
            if needle in line:
                return number
        return None

    def build(self) -> Template:
        self.check_keys(
            self.data,
            {"template", "inputs", "metrics", "monthly", "channels", "timeline"},
            "the file",
            required={"template", "inputs", "metrics", "monthly"},
        )
        head = self.data["template"]
        self.check_keys(
            head,
            {
                "key",
                "version",
                "title",
                "purpose",
                "sources",
                "sources_fr",
                "period",
                "headline",
                "funnel",
            },
            "[template]",
            required={"key", "version", "title", "purpose", "headline"},
        )
        key = self.key(head["key"], "template key", TEMPLATE_KEY_PATTERN)
        inputs = tuple(self.build_input(item) for item in self.table_list("inputs"))
        metrics = tuple(self.build_metric(item) for item in self.table_list("metrics"))
        self.check_unique([*inputs, *metrics])
        self.check_references(inputs, metrics)
        metrics = self.ordered(inputs, metrics)
        known = {item.key for item in (*inputs, *metrics)}
        headline = self.key_list(head, "headline", {m.key for m in metrics}, "metric")
        self.check_headline_inputs(inputs, metrics, headline)
        funnel = self.key_list(head, "funnel", known, "input or metric") if "funnel" in head else ()
        monthly = self.build_monthly(self.data["monthly"], known)
        channels = self.build_channels(known) if "channels" in self.data else ()
        timeline = (
            self.build_timeline(self.data["timeline"], inputs, known)
            if "timeline" in self.data
            else None
        )
        return Template(
            key=key,
            version=str(head["version"]),
            title=self.text(head["title"], "title"),
            purpose=self.text(head["purpose"], "purpose"),
            sources=tuple(str(s) for s in head.get("sources", [])),
            sources_fr=self.sources_fr(head),
            period=self.text(head.get("period", {"en": "", "fr": ""}), "period"),
            inputs=inputs,
            metrics=metrics,
            headline=headline,
            funnel=funnel,
            monthly=monthly,
            path=self.path,
            channels=channels,
            timeline=timeline,
        )

    # -- pieces

    def check_keys(
        self, table: Any, allowed: set[str], where: str, required: set[str] | bool = False
    ) -> None:
        if not isinstance(table, dict):
            raise self.fail(f"{where} must be a table")
        unknown = set(table) - allowed
        if unknown:
            name = sorted(unknown)[0]
            raise self.fail(
                f"{where}: unknown field '{name}' (allowed: {', '.join(sorted(allowed))})",
                f"{name} =",
            )
        needed = allowed if required is True else (required or set())
        missing = needed - set(table)
        if missing:
            raise self.fail(f"{where}: missing field '{sorted(missing)[0]}'", table.get("key"))

    def table_list(self, name: str) -> list[dict[str, Any]]:
        items = self.data[name]
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise self.fail(f"[[{name}]] must be a non-empty list of tables")
        return items

    def key(self, value: Any, what: str, pattern: re.Pattern[str] = KEY_PATTERN) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise self.fail(
                f"{what} {value!r} must be lower case letters, digits and _ (start with a letter)",
                repr(value) if isinstance(value, str) else None,
            )
        return value

    def text(self, value: Any, what: str) -> Text:
        if isinstance(value, str):
            raise self.fail(f'{what} must give both languages: {{ en = "...", fr = "..." }}', value)
        if not isinstance(value, dict) or set(value) != set(LANGUAGES):
            raise self.fail(f'{what} must be {{ en = "...", fr = "..." }}', what)
        return Text(en=str(value["en"]), fr=str(value["fr"]))

    def number(self, value: Any, what: str, needle: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{what} must be a number, got {value!r}", needle)
        return float(value)

    def build_input(self, item: dict[str, Any]) -> Input:
        self.check_keys(
            item,
            {
                "key",
                "label",
                "unit",
                "kind",
                "min",
                "max",
                "defaults",
                "source",
                "source_fr",
                "notes",
                "notes_fr",
                "section",
                "integer",
            },
            "[[inputs]]",
            required={"key", "label", "unit", "kind", "min", "max", "defaults", "section"},
        )
        key = self.key(item["key"], "input key")
        needle = f'"{key}"'
        kind = item["kind"]
        if kind not in INPUT_KINDS:
            raise self.fail(
                f"input '{key}': kind {kind!r} is not one of {', '.join(INPUT_KINDS)}", needle
            )
        low = self.number(item["min"], f"input '{key}': min", needle)
        high = self.number(item["max"], f"input '{key}': max", needle)
        if low > high:
            raise self.fail(f"input '{key}': min {low:g} is above max {high:g}", needle)
        if kind == "percent" and (low < 0 or high > 1):
            raise self.fail(
                f"input '{key}': a percent is a fraction (0.37 for 37 %), so min and max must lie "
                f"within 0 and 1; got {low:g} to {high:g}",
                needle,
            )
        defaults = item["defaults"]
        if not isinstance(defaults, dict) or set(defaults) != set(SCENARIOS):
            raise self.fail(f"input '{key}': defaults must give {', '.join(SCENARIOS)}", needle)
        values = {}
        for scenario in SCENARIOS:
            value = self.number(defaults[scenario], f"input '{key}': {scenario} default", needle)
            if not low <= value <= high:
                raise self.fail(
                    f"input '{key}': {scenario} default {value:g} is outside {low:g} to {high:g}",
                    needle,
                )
            values[scenario] = value
        return Input(
            key=key,
            label=self.text(item["label"], f"input '{key}' label"),
            unit=str(item["unit"]),
            kind=kind,
            minimum=low,
            maximum=high,
            defaults=values,
            notes=self.notes(item, key),
            section=str(item["section"]),
            integer=bool(item.get("integer", False)),
            notes_fr=self.notes(item, key, "_fr")
            if {"source_fr", "notes_fr"} & set(item)
            else None,
        )

    def sources_fr(self, head: dict[str, Any]) -> tuple[str, ...]:
        """The French sources: as many as the English ones, or none."""
        sources = head.get("sources_fr", [])
        if sources and len(sources) != len(head.get("sources", [])):
            raise self.fail("sources_fr must translate each of the sources, in order", "sources_fr")
        return tuple(str(s) for s in sources)

    def notes(self, item: dict[str, Any], key: str, suffix: str = "") -> dict[str, str]:
        """A source or note for each default: one for all, or one per scenario.

        ``suffix`` "_fr" reads the French ones (``source_fr``, ``notes_fr``).
        """
        if "notes" + suffix in item:
            notes = item["notes" + suffix]
            if not isinstance(notes, dict) or set(notes) != set(SCENARIOS):
                raise self.fail(
                    f"input '{key}': notes{suffix} must give {', '.join(SCENARIOS)}", f'"{key}"'
                )
            return {scenario: str(notes[scenario]) for scenario in SCENARIOS}
        if "source" + suffix in item and str(item["source" + suffix]).strip():
            return {scenario: str(item["source" + suffix]) for scenario in SCENARIOS}
        raise self.fail(
            f"input '{key}': every default needs a source or note (source{suffix} = \"...\")",
            f'"{key}"',
        )

    def build_metric(self, item: dict[str, Any]) -> Metric:
        self.check_keys(
            item,
            {"key", "label", "unit", "kind", "expr", "section", "note"},
            "[[metrics]]",
            required={"key", "label", "unit", "kind", "expr", "section"},
        )
        key = self.key(item["key"], "metric key")
        kind = item["kind"]
        if kind not in METRIC_KINDS:
            raise self.fail(
                f"metric '{key}': kind {kind!r} is not one of {', '.join(METRIC_KINDS)}", f'"{key}"'
            )
        formula = item["expr"]
        if not isinstance(formula, str):
            raise self.fail(f"metric '{key}': expr must be text", f'"{key}"')
        try:
            node = expr.parse(formula, FUNCTIONS)
        except ExpressionError as exc:
            raise self.fail(f"metric '{key}': {exc}", self.expr_needle(formula, key)) from None
        return Metric(
            key=key,
            label=self.text(item["label"], f"metric '{key}' label"),
            unit=str(item["unit"]),
            kind=kind,
            formula=formula,
            node=node,
            section=str(item["section"]),
            note=str(item.get("note", "")),
        )

    def expr_needle(self, formula: str, key: str) -> str:
        first_line = formula.strip().splitlines()[0] if formula.strip() else ""
        if first_line and self.line_of(first_line):
            return first_line
        return f'"{key}"'

    def check_unique(self, items: list[Input | Metric]) -> None:
        seen: set[str] = set()
        for item in items:
            if item.key in seen:
                raise self.fail(f"the key '{item.key}' is used twice", f'"{item.key}"')
            seen.add(item.key)

    def check_references(self, inputs: tuple[Input, ...], metrics: tuple[Metric, ...]) -> None:
        known = {item.key for item in (*inputs, *metrics)}
        for metric in metrics:
            unknown = expr.names(metric.node) - known
            if unknown:
                raise self.fail(
                    f"metric '{metric.key}': unknown name '{sorted(unknown)[0]}'",
                    self.expr_needle(metric.formula, metric.key),
                )

    def ordered(self, inputs: tuple[Input, ...], metrics: tuple[Metric, ...]) -> tuple[Metric, ...]:
        """Metrics in an order where each comes after what it uses; cycles are refused."""
        by_key = {metric.key: metric for metric in metrics}
        done: list[Metric] = []
        state: dict[str, str] = {}

        def visit(metric: Metric, trail: list[str]) -> None:
            if state.get(metric.key) == "done":
                return
            if state.get(metric.key) == "active":
                cycle = " -> ".join([*trail[trail.index(metric.key) :], metric.key])
                raise self.fail(f"circular reference: {cycle}", f'"{metric.key}"')
            state[metric.key] = "active"
            for name in sorted(expr.names(metric.node)):
                if name in by_key:
                    visit(by_key[name], [*trail, metric.key])
            state[metric.key] = "done"
            done.append(metric)

        for metric in metrics:
            visit(metric, [])
        return tuple(done)

    def check_headline_inputs(
        self, inputs: tuple[Input, ...], metrics: tuple[Metric, ...], headline: tuple[str, ...]
    ) -> None:
        """A headline no input moves is a constant: nothing to decide, no sensitivity."""
        input_keys = {item.key for item in inputs}
        moved_by: dict[str, set[str]] = {}
        for metric in metrics:  # in order: what a metric uses comes before it
            used = expr.names(metric.node)
            moved_by[metric.key] = (used & input_keys).union(
                *(moved_by.get(name, set()) for name in used)
            )
        for key in headline:
            if not moved_by[key]:
                raise self.fail(
                    f"[template] headline: metric '{key}' uses no input, so no assumption "
                    "moves it; a headline must depend on at least one input",
                    "headline =",
                )

    def key_list(
        self, table: dict[str, Any], field: str, allowed: set[str], what: str
    ) -> tuple[str, ...]:
        values = table[field]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise self.fail(f"[template] {field} must be a list of keys", f"{field} =")
        for value in values:
            if value not in allowed:
                raise self.fail(
                    f"[template] {field}: '{value}' is not a known {what}", f"{field} ="
                )
        return tuple(values)

    # -- the monthly timeline

    def build_timeline(self, table: Any, inputs: tuple[Input, ...], known: set[str]) -> Timeline:
        self.check_keys(
            table,
            {"horizon", "cash_flow", "cumulative", "benefits", "costs", "rows", "results"},
            "[timeline]",
            required=True,
        )
        horizon = table["horizon"]
        by_key = {item.key: item for item in inputs}
        if horizon not in by_key:
            raise self.fail(f"[timeline] horizon: '{horizon}' is not an input", "horizon =")
        item = by_key[horizon]
        if item.minimum < 1 or item.maximum > MAX_HORIZON_MONTHS or not item.integer:
            raise self.fail(
                f"[timeline] horizon: input '{horizon}' must be a whole number of months "
                f"within 1 and {MAX_HORIZON_MONTHS}",
                "horizon =",
            )
        if expr.PERIOD in known:
            raise self.fail(f"the name '{expr.PERIOD}' is kept for the timeline's month number")
        rows: list[TimelineRow] = []
        for entry in self.sub_list(table, "rows"):
            rows.append(self.build_timeline_row(entry, known, {r.key for r in rows}))
        row_keys = {r.key for r in rows}
        results: list[TimelineResult] = []
        for entry in self.sub_list(table, "results"):
            results.append(self.build_timeline_result(entry, known, row_keys, results))
        self.check_unique_keys([*rows, *results], "[timeline]")
        for key in (*row_keys, *(r.key for r in results)):
            if key in known:
                raise self.fail(f"[timeline]: the key '{key}' is already an input or metric")
        for field in ("cash_flow", "cumulative"):
            if table[field] not in row_keys:
                raise self.fail(f"[timeline] {field}: '{table[field]}' is not a row", f"{field} =")
        for field in ("benefits", "costs"):
            names = table[field]
            if not isinstance(names, list) or any(name not in row_keys for name in names):
                raise self.fail(f"[timeline] {field} must be a list of rows", f"{field} =")
        return Timeline(
            horizon=horizon,
            cash_flow=table["cash_flow"],
            cumulative=table["cumulative"],
            benefits=tuple(table["benefits"]),
            costs=tuple(table["costs"]),
            rows=tuple(rows),
            results=tuple(results),
        )

    def timeline_expression(self, text: Any, what: str) -> expr.Node:
        if not isinstance(text, str):
            raise self.fail(f"{what} must be text")
        try:
            return expr.parse(text, FUNCTIONS, periods=True)
        except ExpressionError as exc:
            raise self.fail(f"{what}: {exc}", self.expr_needle(text, what)) from None

    def build_timeline_row(
        self, item: dict[str, Any], known: set[str], earlier: set[str]
    ) -> TimelineRow:
        self.check_keys(
            item,
            {"key", "label", "unit", "kind", "expr", "section", "note"},
            "[[timeline.rows]]",
            required={"key", "label", "unit", "kind", "expr", "section"},
        )
        key = self.key(item["key"], "timeline row key")
        what = f"timeline row '{key}'"
        self.check_kind(item["kind"], METRIC_KINDS, what)
        node = self.timeline_expression(item["expr"], what)
        needle = self.expr_needle(item["expr"], key)
        used = expr.calls(node) & {"TOTAL", "IRR"}
        if used:
            raise self.fail(f"{what}: {sorted(used)[0]}() belongs in a result, not a row", needle)
        self.check_self_reference(node, key, what, needle)
        unknown = expr.names(node) - known - earlier - {key, expr.PERIOD}
        if unknown:
            raise self.fail(f"{what}: unknown name '{sorted(unknown)[0]}'", needle)
        return TimelineRow(
            key=key,
            label=self.text(item["label"], f"{what} label"),
            unit=str(item["unit"]),
            kind=item["kind"],
            formula=item["expr"],
            node=node,
            section=str(item["section"]),
            note=str(item.get("note", "")),
        )

    def check_self_reference(self, node: expr.Node, key: str, what: str, needle: str) -> None:
        """A row may use itself only as LAG(itself, n) with n a number of at least 1."""
        if isinstance(node, expr.Ref) and node.name == key:
            raise self.fail(f"{what} refers to itself (use LAG({key}, 1))", needle)
        if isinstance(node, expr.Call) and node.name in ("LAG", "CUMSUM"):
            target = node.args[0]
            if isinstance(target, expr.Ref) and target.name == key:
                lag = node.args[1] if node.name == "LAG" else None
                if not isinstance(lag, expr.Num) or lag.value < 1:
                    raise self.fail(
                        f"{what}: a row can only use its own earlier values, as LAG({key}, n) "
                        "with n a number of at least 1",
                        needle,
                    )
            for arg in node.args[1:]:
                self.check_self_reference(arg, key, what, needle)
            return
        for child in expr.children(node):
            self.check_self_reference(child, key, what, needle)

    def build_timeline_result(
        self,
        item: dict[str, Any],
        known: set[str],
        rows: set[str],
        earlier: list[TimelineResult],
    ) -> TimelineResult:
        self.check_keys(
            item,
            {"key", "label", "unit", "kind", "expr", "absent_when", "absent_text"},
            "[[timeline.results]]",
            required={"key", "label", "unit", "kind", "expr"},
        )
        key = self.key(item["key"], "timeline result key")
        what = f"timeline result '{key}'"
        self.check_kind(item["kind"], METRIC_KINDS, what)
        node = self.timeline_expression(item["expr"], what)
        needle = self.expr_needle(item["expr"], key)
        used = expr.calls(node) & {"LAG", "CUMSUM"}
        if used:
            raise self.fail(f"{what}: {sorted(used)[0]}() belongs in a row, not a result", needle)
        aggregated = _aggregated_rows(node)
        bare = (expr.names(node) - aggregated) & rows
        if bare:
            raise self.fail(
                f"{what}: the row '{sorted(bare)[0]}' has a value per month; "
                "use TOTAL() or IRR() of it",
                needle,
            )
        results = {r.key for r in earlier}
        unknown = expr.names(node) - known - rows - results
        if unknown or expr.PERIOD in expr.names(node):
            name = sorted(unknown)[0] if unknown else expr.PERIOD
            raise self.fail(f"{what}: unknown name '{name}'", needle)
        absent_when = str(item.get("absent_when", ""))
        if absent_when and absent_when not in results:
            raise self.fail(f"{what}: absent_when '{absent_when}' is not an earlier result", needle)
        text = item.get("absent_text")
        if bool(absent_when) != (text is not None):
            raise self.fail(f"{what}: absent_when and absent_text go together", needle)
        return TimelineResult(
            key=key,
            label=self.text(item["label"], f"{what} label"),
            unit=str(item["unit"]),
            kind=item["kind"],
            formula=item["expr"],
            node=node,
            absent_when=absent_when,
            absent_text=self.text(text, f"{what} absent_text") if text is not None else None,
        )

    # -- channel comparison

    def build_channels(self, known: set[str]) -> tuple[Channel, ...]:
        channels = []
        for item in self.table_list("channels"):
            self.check_keys(item, {"key", "label", *CHANNEL_FIGURES}, "[[channels]]", required=True)
            key = self.key(item["key"], "channel key")
            figures = {}
            for figure in CHANNEL_FIGURES:
                name = item[figure]
                if not isinstance(name, str) or name not in known:
                    raise self.fail(
                        f"channel '{key}': {figure} = {name!r} is not a known input or metric",
                        f'"{name}"' if isinstance(name, str) else f"{figure} =",
                    )
                figures[figure] = name
            channels.append(
                Channel(key, self.text(item["label"], f"channel '{key}' label"), figures)
            )
        seen = [channel.key for channel in channels]
        for key in seen:
            if seen.count(key) > 1:
                raise self.fail(f"the channel key '{key}' is used twice", f'"{key}"')
        return tuple(channels)

    # -- monthly tabs

    def build_monthly(self, table: Any, model_names: set[str]) -> Monthly:
        self.check_keys(
            table,
            {"chart", "heatmap", "fields", "kpis", "checks"},
            "[monthly]",
            required={"chart", "fields"},
        )
        fields = tuple(
            self.build_field(item, model_names) for item in self.sub_list(table, "fields")
        )
        field_keys = {item.key for item in fields}
        kpis: list[MonthlyKpi] = []
        for item in self.sub_list(table, "kpis", optional=True):
            visible = field_keys | {k.key for k in kpis} | model_names
            kpis.append(self.build_kpi(item, visible))
        visible = field_keys | {k.key for k in kpis} | model_names
        checks = tuple(
            self.build_check(item, visible)
            for item in self.sub_list(table, "checks", optional=True)
        )
        self.check_unique_keys([*fields, *kpis, *checks], "[monthly]")
        chart = table["chart"]
        if chart not in field_keys:
            raise self.fail(f"[monthly] chart: '{chart}' is not a monthly field", "chart =")
        return Monthly(
            fields=fields,
            kpis=tuple(kpis),
            checks=checks,
            chart=chart,
            heatmap=bool(table.get("heatmap", False)),
        )

    def sub_list(self, table: dict[str, Any], name: str, optional: bool = False) -> list[dict]:
        items = table.get(name, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise self.fail(f"[[monthly.{name}]] must be a list of tables")
        if not items and not optional:
            raise self.fail(f"[[monthly.{name}]] must not be empty")
        return items

    def monthly_expression(self, text: Any, what: str, visible: set[str]) -> expr.Node:
        if not isinstance(text, str):
            raise self.fail(f"{what} must be text")
        needle = self.expr_needle(text, what)
        try:
            node = expr.parse(text, FUNCTIONS)
        except ExpressionError as exc:
            raise self.fail(f"{what}: {exc}", needle) from None
        unknown = expr.names(node) - visible
        if unknown:
            raise self.fail(f"{what}: unknown name '{sorted(unknown)[0]}'", needle)
        return node

    def build_field(self, item: dict[str, Any], model_names: set[str]) -> MonthlyField:
        self.check_keys(
            item,
            {"key", "label", "unit", "kind", "plan", "aggregate", "good", "help"},
            "[[monthly.fields]]",
            required={"key", "label", "unit", "kind"},
        )
        key = self.key(item["key"], "monthly field key")
        self.check_kind(item["kind"], INPUT_KINDS, f"monthly field '{key}'")
        plan_text = item.get("plan", "")
        plan = (
            self.monthly_expression(plan_text, f"monthly field '{key}' plan", model_names)
            if plan_text
            else None
        )
        aggregate = item.get("aggregate", "sum")
        if aggregate not in ("sum", "average"):
            raise self.fail(
                f"monthly field '{key}': aggregate must be sum or average, got {aggregate!r}",
                f'"{key}"',
            )
        return MonthlyField(
            key=key,
            label=self.text(item["label"], f"monthly field '{key}' label"),
            unit=str(item["unit"]),
            kind=item["kind"],
            plan=plan,
            plan_formula=plan_text,
            aggregate=aggregate,
            good=self.good(item, f"monthly field '{key}'"),
            help=self.text(item["help"], f"monthly field '{key}' help") if "help" in item else None,
        )

    def build_kpi(self, item: dict[str, Any], visible: set[str]) -> MonthlyKpi:
        self.check_keys(
            item,
            {"key", "label", "unit", "kind", "expr", "good"},
            "[[monthly.kpis]]",
            required={"key", "label", "unit", "kind", "expr"},
        )
        key = self.key(item["key"], "monthly KPI key")
        self.check_kind(item["kind"], METRIC_KINDS, f"monthly KPI '{key}'")
        node = self.monthly_expression(item["expr"], f"monthly KPI '{key}'", visible)
        return MonthlyKpi(
            key=key,
            label=self.text(item["label"], f"monthly KPI '{key}' label"),
            unit=str(item["unit"]),
            kind=item["kind"],
            formula=item["expr"],
            node=node,
            good=self.good(item, f"monthly KPI '{key}'"),
        )

    def good(self, item: dict[str, Any], what: str) -> str:
        """Which way a variance from plan is good (``good = "down"`` for costs and losses)."""
        good = item.get("good", "up")
        if good not in GOOD_DIRECTIONS:
            raise self.fail(
                f"{what}: good must be one of {', '.join(GOOD_DIRECTIONS)}, got {good!r}",
                f'"{item["key"]}"',
            )
        return str(good)

    def build_check(self, item: dict[str, Any], visible: set[str]) -> MonthlyCheck:
        self.check_keys(item, {"key", "label", "rule"}, "[[monthly.checks]]", required=True)
        key = self.key(item["key"], "monthly check key")
        node = self.monthly_expression(item["rule"], f"monthly check '{key}'", visible)
        if not isinstance(node, expr.Compare):
            raise self.fail(
                f"monthly check '{key}': the rule must be a comparison such as a <= b",
                self.expr_needle(item["rule"], key),
            )
        return MonthlyCheck(
            key=key,
            label=self.text(item["label"], f"monthly check '{key}' label"),
            rule=item["rule"],
            node=node,
        )

    def check_kind(self, kind: Any, allowed: tuple[str, ...], what: str) -> None:
        if kind not in allowed:
            raise self.fail(f"{what}: kind {kind!r} is not one of {', '.join(allowed)}", str(kind))

    def check_unique_keys(self, items: list[Any], where: str) -> None:
        seen: set[str] = set()
        for item in items:
            if item.key in seen:
                raise self.fail(f"{where}: the key '{item.key}' is used twice", f'"{item.key}"')
            seen.add(item.key)
