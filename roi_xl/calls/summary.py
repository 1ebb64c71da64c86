"""Show a call-log analysis as terminal tables: months side by side, ISO weeks, the windows,
the weekday x hour grids of missed and abandoned calls, sources, rejected rows."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from roi_xl.calls.presets import OUTCOMES, UNSPECIFIED
from roi_xl.calls.result import (
    RATES,
    WEEKDAYS,
    CallAnalysis,
    Grid,
    PeriodFigures,
    SourceCounts,
)

SHOWN_REJECTED = 20

_Cell = Callable[[PeriodFigures], str]


def _count(value: int) -> str:
    return f"{value:,}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:,.1f} %"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} s"


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _lost(figures: PeriodFigures, kind: str) -> int:
    """Missed callers of a type never recovered (0 when the period has none of that type)."""
    types = figures.by_caller_type.get(kind)
    return types.missed_not_recovered if types else 0


def _loss(figures: PeriodFigures, kind: str) -> float | None:
    """A caller type's missed-call loss; None when the loss was not valued."""
    if figures.missed_call_loss is None:
        return None
    types = figures.by_caller_type.get(kind)
    return types.missed_call_loss if types and types.missed_call_loss is not None else 0.0


_ROWS: list[tuple[str, _Cell]] = [
    ("received", lambda f: _count(f.received)),
    ("answered", lambda f: _count(f.answered)),
    ("missed", lambda f: _count(f.missed)),
    ("  of which abandoned", lambda f: _count(f.abandoned)),
    ("  of which voicemail", lambda f: _count(f.voicemail)),
    ("  during business hours", lambda f: _count(f.missed_business_hours)),
    ("  after hours", lambda f: _count(f.missed_after_hours)),
    ("  spam and wrong numbers", lambda f: _count(f.spam)),
    ("answer rate", lambda f: _rate(f.answer_rate)),
    ("answer rate, spam excluded", lambda f: _rate(f.answer_rate_excluding_spam)),
    ("service level", lambda f: _rate(f.service_level)),
    ("abandonment rate", lambda f: _rate(f.abandonment_rate)),
    ("speed to answer, median", lambda f: _secs(f.speed_to_answer_median_s)),
    ("speed to answer, p90", lambda f: _secs(f.speed_to_answer_p90_s)),
    ("unique callers", lambda f: _count(f.unique_callers)),
    ("repeat callers (24 h)", lambda f: _count(f.repeat_callers)),
    ("first-time callers", lambda f: _count(f.first_time_callers)),
    ("missed callers recovered", lambda f: _count(f.recovered)),
    ("  by a callback", lambda f: _count(f.recovered_by_callback)),
    ("  by calling again", lambda f: _count(f.recovered_by_retry)),
    ("missed callers not recovered", lambda f: _count(f.missed_not_recovered)),
    ("  new callers", lambda f: _count(_lost(f, "new"))),
    ("  existing callers", lambda f: _count(_lost(f, "existing"))),
    ("missed-call loss (not recovered)", lambda f: _money(f.missed_call_loss)),
    ("  of new callers", lambda f: _money(_loss(f, "new"))),
    ("  of existing callers", lambda f: _money(_loss(f, "existing"))),
    ("outbound calls", lambda f: _count(f.outbound)),
    ("  connected", lambda f: _count(f.outbound_connected)),
]


def print_summary(result: CallAnalysis, console: Console) -> None:
    """Print the monthly KPIs, the sources, and the rows that were not counted."""
    console.print(
        f"[bold]{escape(result.file)}[/]: mapping {escape(result.mapping)}, "
        f"time zone {result.time_zone}, "
        f"numbers from {result.country}, business hours {result.business_hours}, "
        f"callback window {result.callback_window_minutes} min"
    )
    console.print(
        f"Rows read {result.rows_read:,} = calls counted {result.rows_counted:,} "
        f"+ rejected {result.rows_rejected:,} + legs merged into calls {result.legs_merged:,}; "
        f"service level: answered within {result.service_level_seconds:g} s"
    )
    if not result.months:
        console.print("[yellow]No call was counted: there is no month to show.[/]")
    else:
        console.print(_months_table(result))
        if result.loss_basis:
            console.print(_basis_line(result.loss_basis))
        console.print(_weeks_table(result))
        for title, grid in (
            (
                "Missed calls by weekday x hour (spam excluded, whole log)",
                result.total.missed_excluding_spam_by_weekday_hour,
            ),
            (
                "Abandoned calls by weekday x hour (whole log)",
                result.total.abandoned_by_weekday_hour,
            ),
        ):
            console.print(_grid_table(title, grid))
        if result.total.by_source:
            console.print(_groups_table("Calls by source (whole log)", result.total.by_source))
        if result.total.by_campaign:
            console.print(_groups_table("Calls by campaign (whole log)", result.total.by_campaign))
    if result.windows:
        console.print(_windows_table(result))
    _print_callers(result, console)
    if result.rejected:
        console.print(_rejected_table(result))


def _months_table(result: CallAnalysis) -> Table:
    periods = [*result.months.items(), ("total", result.total)]
    table = Table(title="Inbound calls per month")
    table.add_column("")
    for name, _ in periods:
        table.add_column(name, justify="right", style="bold" if name == "total" else None)
    for label, cell in _ROWS:
        table.add_row(label, *(cell(figures) for _, figures in periods))
    table.add_section()
    for outcome in (*OUTCOMES, UNSPECIFIED):
        label = "outcome: " + outcome.replace("_", " ")
        table.add_row(label, *(_count(f.outcomes.get(outcome, 0)) for _, f in periods))
    return table


def _basis_line(basis: dict) -> str:
    return (
        "Missed-call loss = missed callers not recovered (spam excluded) x lead rate "
        f"{basis['lead_rate'] * 100:g} % x conversion rate {basis['conversion_rate'] * 100:g} % "
        f"x average value {basis['average_value']:,.2f} ({escape(str(basis['source']))}); "
        "a caller is new in a period when one of their calls in it is a new caller's call"
    )


_WEEK_COLUMNS: list[tuple[str, _Cell]] = [
    ("received", lambda f: _count(f.received)),
    ("answered", lambda f: _count(f.answered)),
    ("missed", lambda f: _count(f.missed)),
    ("spam", lambda f: _count(f.spam)),
    ("answer rate*", lambda f: _rate(f.answer_rate_excluding_spam)),
    ("service level*", lambda f: _rate(f.service_level)),
    ("abandon rate", lambda f: _rate(f.abandonment_rate)),
    ("recovered", lambda f: _count(f.recovered)),
    ("lost callers", lambda f: _count(f.missed_not_recovered)),
    ("loss", lambda f: _money(f.missed_call_loss)),
]


def _weeks_table(result: CallAnalysis) -> Table:
    """One row per ISO week (Monday to Sunday, local time), then the whole log."""
    table = Table(
        title="Inbound calls per ISO week",
        caption="* spam excluded; lost callers: missed callers not recovered, valued in loss",
    )
    table.add_column("week", no_wrap=True)
    for name, _ in _WEEK_COLUMNS:
        table.add_column(name, justify="right", no_wrap=name == "loss")
    for week, figures in result.weeks.items():
        table.add_row(week, *(cell(figures) for _, cell in _WEEK_COLUMNS))
    table.add_section()
    table.add_row("total", *(cell(result.total) for _, cell in _WEEK_COLUMNS), style="bold")
    return table


def _grid_table(title: str, grid: Grid) -> Table:
    """A 7 x 24 grid drawn as a heat map: the darker the cell, the more calls."""
    peak = max((value for row in grid for value in row), default=0)
    # No rules between the cells, so the 24 hours, the day and the total fit 80 columns.
    table = Table(title=title, box=None, padding=(0, 0), caption=f"peak {peak:,} a cell")
    table.add_column("", no_wrap=True)
    for hour in range(24):
        table.add_column(f"{hour:02d}", justify="right", min_width=3)
    table.add_column("sum", justify="right", no_wrap=True, min_width=5)
    for day, row in zip(WEEKDAYS, grid, strict=True):
        cells = [_heat(value, peak) for value in row]
        table.add_row(day[:3], *cells, _count(sum(row)))
    return table


def _heat(value: int, peak: int) -> Text:
    if not value:
        return Text("·", style="dim")
    share = value / peak
    style = "bold white on red" if share > 0.66 else "black on yellow" if share > 0.33 else ""
    return Text(f" {value:,}", style=style)  # a space keeps wide counts apart


def _windows_table(result: CallAnalysis) -> Table:
    """Baseline and test windows side by side, counts per week, and the change."""
    table = Table(title="Baseline and test windows (counts per week)")
    table.add_column("")
    windows = list(result.windows.items())
    for name, window in windows:
        table.add_column(f"{name} {window.first_day}..{window.last_day}", justify="right")
    change = result.window_change()
    if change is not None:
        table.add_column("change", justify="right")
    weekly = [w.weekly() for _, w in windows]
    for name in weekly[0]:
        digits = 2 if name == "missed_call_loss" else 1
        cells = [f"{week.get(name, 0):,.{digits}f}" for week in weekly]
        value = change.get(name + "_per_week") if change is not None else None
        extra = [] if change is None else ["-" if value is None else f"{value:+,.{digits}f}"]
        table.add_row(name.replace("_", " "), *cells, *extra)
    for name in RATES:
        cells = [_rate(getattr(w.figures, name)) for _, w in windows]
        value = change.get(name) if change is not None else None
        extra = (["-" if value is None else f"{value * 100:+.1f} pts"]) if change else []
        table.add_row(name.replace("_", " "), *cells, *extra)
    return table


def _groups_table(title: str, groups: dict[str, SourceCounts]) -> Table:
    table = Table(title=title)
    for column in ("", "calls", "answered", "booked", "answer rate"):
        table.add_column(column, justify="left" if not column else "right")
    for name, counts in groups.items():
        table.add_row(
            escape(name),
            _count(counts.calls),
            _count(counts.answered),
            _count(counts.booked),
            _rate(counts.answered / counts.calls),
        )
    return table


def _print_callers(result: CallAnalysis, console: Console) -> None:
    if result.invalid_numbers:
        examples = escape(", ".join(repr(n.number) for n in result.invalid_number_list[:5]))
        console.print(
            f"[yellow]{result.invalid_numbers:,} caller number(s) are not valid phone numbers "
            f"({result.invalid_number_calls:,} calls); kept as typed and counted: {examples}[/]"
        )
    if result.unknown_caller_calls:
        console.print(
            f"{result.unknown_caller_calls:,} call(s) had no number or a withheld one: counted, "
            "but not in the caller figures"
        )
    if result.unmapped_outcomes:
        shown = ", ".join(f"{k!r} ({v:,})" for k, v in list(result.unmapped_outcomes.items())[:5])
        console.print(
            escape(
                f"Outcomes the mapping does not name count as unspecified: {shown}; "
                "add them under [outcomes] of a mapping file"
            )
        )


def _rejected_table(result: CallAnalysis) -> Table:
    rules = ", ".join(f"{rule} {n:,}" for rule, n in result.rejected_by_rule.items())
    table = Table(title=f"Rejected rows: {result.rows_rejected:,} ({rules})")
    for column in ("line", "rule", "reason"):
        table.add_column(column, overflow="fold", justify="right" if column == "line" else "left")
    for row in result.rejected[:SHOWN_REJECTED]:
        table.add_row(str(row.line), row.rule, escape(row.reason))
    more = result.rows_rejected - min(SHOWN_REJECTED, len(result.rejected))
    if more > 0:
        table.caption = f"and {more:,} more (--json lists the first {len(result.rejected):,})"
    if not result.line_numbers_exact:
        table.caption = (table.caption or "") + "; line numbers are approximate in this file"
    return table
