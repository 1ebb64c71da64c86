"""The ``roi-xl`` command line: parse arguments, call the library, print.

Errors that are the input's fault print one clear line and exit with code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress as ProgressBar
from rich.table import Table

from roi_xl.batch import generate_batch
from roi_xl.calls import CallOptions, analyse_calls, print_summary
from roi_xl.calls.analysis import (
    DEFAULT_CALLBACK_WINDOW,
    DEFAULT_COUNTRY,
    DEFAULT_SERVICE_LEVEL,
    DEFAULT_TIME_ZONE,
)
from roi_xl.calls.hours import DEFAULT_BUSINESS_HOURS
from roi_xl.calls.to_workbook import window_inputs, workbook_figures
from roi_xl.calls.valuation import DEFAULT_SCENARIO
from roi_xl.decide.decision import print_decision
from roi_xl.decide.risk import DRAWS, parse_correlations
from roi_xl.demo import write_demo
from roi_xl.errors import RoiXlError
from roi_xl.excel.office_js import DEFAULT_URL
from roi_xl.excel.setup import write_excel_setup
from roi_xl.files import write_text_atomically
from roi_xl.inspect.patch import import_figures, workbook_template
from roi_xl.inspect.reader import WorkbookRead, read_workbook
from roi_xl.inspect.workbook_decision import decide_from
from roi_xl.model import engine, template
from roi_xl.overrides import parse_month, parse_overrides
from roi_xl.presentation import format_value, json_text
from roi_xl.report.page import render_report
from roi_xl.report.pdf import render_pdf
from roi_xl.rollup.consolidate import RollupReport, rollup
from roi_xl.workbook import OutputExistsError, WorkbookOptions, write_workbook
from roi_xl.workbook.values import counts

app = typer.Typer(
    help="Formula-driven Excel ROI models for phone systems, CRMs and B2B phoning.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
error_console = Console(stderr=True, soft_wrap=True)  # one error, one line

F = TypeVar("F", bound=Callable[..., Any])
TemplateOption = Annotated[
    Path | None,
    typer.Option(
        "--template",
        metavar="FILE.toml",
        help="The template file a workbook was made from, when it is not a built-in one "
        "(checked against the hash the workbook records).",
    ),
]


def _supplied(path: Path | None) -> template.Template | None:
    """The user's template file given with --template, loaded as a path (never a name)."""
    return None if path is None else template.load_file(path)


def reports_errors(command: F) -> F:
    """Turn every failure into one line and exit code 2, never a traceback: the library's
    own errors, the system's (a read-only or full disk, a missing permission), and any
    other, so that no failure exits 1 and reads like an audit finding."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except RoiXlError as exc:
            _fail(str(exc))
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc} (nothing was changed there)")
        except MemoryError:
            _fail("not enough memory to finish; nothing was written")
        except Exception as exc:  # a bug: still one line and exit 2, never exit 1
            _fail(f"roi_xl failed unexpectedly ({type(exc).__name__}: {exc}); please report it")

    return wrapper  # type: ignore[return-value]


def _fail(message: str) -> NoReturn:
    error_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code=2)


@app.command("templates")
@reports_errors
def list_templates(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the built-in templates."""
    templates = template.load_all()
    if as_json:
        payload = [
            {
                "key": t.key,
                "version": t.version,
                "title": t.title.en,
                "inputs": len(t.inputs),
                "metrics": len(t.metrics),
            }
            for t in templates
        ]
        print(json_text(payload))
        return
    table = Table(title="Built-in templates")
    for column in ("template", "version", "title", "inputs", "metrics"):
        table.add_column(column)
    for t in templates:
        table.add_row(
            t.key, escape(t.version), escape(t.title.en), str(len(t.inputs)), str(len(t.metrics))
        )
    console.print(table)


@app.command("calc")
@reports_errors
def calc(
    template_name: Annotated[
        str, typer.Argument(metavar="TEMPLATE", help="Built-in name or a .toml path.")
    ],
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="prudent, realistic or optimistic.")
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Override an input (every scenario)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Compute a template's outputs for each scenario."""
    model = template.load(template_name)
    overrides = parse_overrides(settings or [])
    scenarios = [scenario] if scenario else list(template.SCENARIOS)
    results = engine.calculate(model, scenarios, overrides)
    if as_json:
        payload = {
            "template": model.key,
            "version": model.version,
            "scenarios": {
                name: engine.scenario_payload(model, result) for name, result in results.items()
            },
        }
        print(json_text(payload))
        return
    _print_results(model, results)


@app.command("new")
@reports_errors
def new(
    template_name: Annotated[
        str, typer.Argument(metavar="TEMPLATE", help="Built-in name or a .toml path.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The .xlsx file (a folder with --batch).")
    ],
    locale: Annotated[str, typer.Option("--locale", help="en-US or fr-FR.")] = "en-US",
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Override an input (every scenario)."),
    ] = None,
    scenario: Annotated[
        str, typer.Option("--scenario", help="The scenario selected in the workbook.")
    ] = "realistic",
    start: Annotated[
        str | None, typer.Option("--start", metavar="YYYY-MM", help="First monthly tab.")
    ] = None,
    months: Annotated[int, typer.Option("--months", help="Number of monthly tabs.")] = 12,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    password: Annotated[
        str, typer.Option("--password", help="Protect sheets with this password.")
    ] = "",
    lambdas: Annotated[
        bool,
        typer.Option("--lambdas", help="Also define =ROI(), =CAC()... as Excel 365 LAMBDAs."),
    ] = False,
    batch: Annotated[
        Path | None,
        typer.Option(
            "--batch",
            metavar="PEOPLE.csv",
            help="One workbook per row (name, owner, input columns) into the -o folder.",
        ),
    ] = None,
    name_pattern: Annotated[
        str, typer.Option("--name-pattern", help="With --batch: {name} and {owner} are replaced.")
    ] = "{name}.xlsx",
    workers: Annotated[
        int | None, typer.Option("--workers", help="With --batch: processes (default: cores).")
    ] = None,
) -> None:
    """Write a formula-driven workbook for a template (or one per row of a CSV with --batch)."""
    model = template.load(template_name)
    if batch is not None:
        _new_batch(
            model, batch, output, locale, scenario, start, months, force, name_pattern, workers
        )
        return
    overrides = parse_overrides(settings or [])
    engine.require_defined(model, overrides)
    options = WorkbookOptions(
        locale=locale,
        overrides=overrides,
        scenario=scenario,
        start=parse_month(start) if start else None,
        months=months,
        force=force,
        password=password,
        lambdas=lambdas,
    )
    path = write_workbook(model, output, options)
    console.print(
        f"Wrote [bold]{escape(str(path))}[/] ({escape(model.title.en)}, {locale}, {months} months)"
    )


def _new_batch(
    model: template.Template,
    people: Path,
    output: Path,
    locale: str,
    scenario: str,
    start: str | None,
    months: int,
    force: bool,
    name_pattern: str,
    workers: int | None,
) -> None:
    with ProgressBar(console=error_console, transient=True) as bar:
        task = bar.add_task("writing workbooks", total=None)
        result = generate_batch(
            model,
            people,
            output,
            locale=locale,
            scenario=scenario,
            start=parse_month(start) if start else None,
            months=months,
            force=force,
            name_pattern=name_pattern,
            workers=workers,
            progress=lambda done, total, path: bar.update(task, completed=done, total=total),
        )
    console.print(
        f"Wrote {len(result.written)} workbook(s) in [bold]{escape(str(output))}[/] "
        f"({result.seconds:.1f} s, {result.per_second:.1f} per second, {result.workers} workers)"
    )
    if result.skipped:
        table = Table(title=f"{len(result.skipped)} row(s) skipped")
        for column in ("line", "name", "reason"):
            table.add_column(column, overflow="fold")
        for row in result.skipped:
            table.add_row(str(row.line), escape(row.name), escape(row.reason))
        console.print(table)
        raise typer.Exit(code=1)


@app.command("rollup")
@reports_errors
def rollup_command(
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH...", help="Workbooks, or folders of them.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .xlsx file to write.")],
    audit_level: Annotated[
        str, typer.Option("--audit", help="fast (values) or full (formulas too, slower).")
    ] = "fast",
    workers: Annotated[
        int | None, typer.Option("--workers", help="Processes (default: one per core).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    template_file: TemplateOption = None,
) -> None:
    """Consolidate many workbooks into one; exit 1 if a file is unreadable or has an error."""
    supplied = _supplied(template_file)
    with ProgressBar(console=error_console, transient=True, disable=as_json) as bar:
        task = bar.add_task("reading workbooks", total=None)
        result = rollup(
            paths,
            output,
            force=force,
            workers=workers,
            audit=audit_level,
            supplied=supplied,
            progress=lambda done, total, path: bar.update(task, completed=done, total=total),
        )
    if as_json:
        print(json_text(result.to_dict()))
    else:
        _print_rollup(result)
    if result.failures or any(t.files_with_errors for t in result.templates):
        raise typer.Exit(code=1)


def _print_rollup(result: RollupReport) -> None:
    table = Table(title=f"Roll-up written to {escape(str(result.output))}")
    for column in ("template", "sheet", "workbooks", "with errors"):
        table.add_column(column)
    for totals in result.templates:
        table.add_row(
            totals.template,
            escape(totals.sheet),
            str(totals.files),
            str(totals.files_with_errors),
        )
    console.print(table)
    for failure in result.failures:
        console.print(
            f"[red]unreadable[/] {escape(failure.path)}: {escape(failure.reason)}", highlight=False
        )
    console.print(
        f"{result.files_read} read, {len(result.failures)} unreadable, {result.findings} "
        f"finding row(s) on the Findings sheet ({result.audit} audit), "
        f"{result.read_seconds + result.write_seconds:.1f} s"
    )


CountryOption = Annotated[
    str, typer.Option("--country", help="Region for numbers without +country code.")
]
MapOption = Annotated[
    str | None,
    typer.Option(
        "--map",
        help="Preset (3cx, aircall, asterisk-cdr, call-tracking, callrail, generic, queue-log, "
        "ringcentral, twilio) or .toml.",
    ),
]
ZoneOption = Annotated[str, typer.Option("--tz", help="Time zone of the log (IANA name).")]
HoursOption = Annotated[
    str, typer.Option("--business-hours", help='Opening hours, e.g. "mon-fri 09:00-18:00".')
]
WindowOption = Annotated[
    int, typer.Option("--callback-window", help="Minutes a missed caller may be called back in.")
]


ExcludeOption = Annotated[
    Path | None,
    typer.Option("--exclude-numbers", help="Spam and wrong numbers, one a line: not lost calls."),
]
KnownOption = Annotated[
    Path | None,
    typer.Option("--known-numbers", help="Existing customers' numbers, one a line."),
]
LevelOption = Annotated[
    float,
    typer.Option("--service-level-seconds", help="Service level: answered within this wait."),
]
BaselineOption = Annotated[
    str | None, typer.Option("--baseline", help="Baseline window FIRST..LAST (local dates).")
]
ScenarioOption = Annotated[
    str,
    typer.Option(
        "--scenario",
        help="Value the missed-call loss at this scenario's phone-system default rates.",
    ),
]
ValueFromOption = Annotated[
    Path | None,
    typer.Option(
        "--value-from",
        help="Value the missed-call loss at this phone-system workbook's selected rates.",
    ),
]
TestOption = Annotated[
    str | None, typer.Option("--test", help="Test window FIRST..LAST (local dates).")
]


def _analyse(
    path: Path,
    country: str,
    mapping: str | None,
    tz: str,
    hours: str,
    window: int,
    quiet: bool,
    **more: Any,
):
    options = CallOptions(
        mapping=mapping,
        country=country,
        time_zone=tz,
        business_hours=hours,
        callback_window_minutes=window,
        **more,
    )
    with ProgressBar(console=error_console, transient=True, disable=quiet) as bar:
        task = bar.add_task("reading the call log", total=1.0)
        return analyse_calls(
            path, options, lambda phase, done: bar.update(task, completed=done, description=phase)
        )


@app.command("calls")
@reports_errors
def calls(
    path: Annotated[
        Path, typer.Argument(metavar="CALLS.csv", help="Call log: CSV, .xlsx, Parquet.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    country: CountryOption = DEFAULT_COUNTRY,
    mapping: MapOption = None,
    tz: ZoneOption = DEFAULT_TIME_ZONE,
    business_hours: HoursOption = DEFAULT_BUSINESS_HOURS,
    callback_window: WindowOption = DEFAULT_CALLBACK_WINDOW,
    exclude_numbers: ExcludeOption = None,
    known_numbers: KnownOption = None,
    service_level_seconds: LevelOption = DEFAULT_SERVICE_LEVEL,
    baseline: BaselineOption = None,
    test: TestOption = None,
    scenario: ScenarioOption = DEFAULT_SCENARIO,
    value_from: ValueFromOption = None,
) -> None:
    """Monthly and weekly phone KPIs from a call log: answered, missed, recovered, loss..."""
    result = _analyse(
        path,
        country,
        mapping,
        tz,
        business_hours,
        callback_window,
        as_json,
        exclude_numbers=exclude_numbers,
        known_numbers=known_numbers,
        service_level_seconds=service_level_seconds,
        baseline=baseline,
        test=test,
        scenario=scenario,
        value_from=value_from,
    )
    if as_json:
        print(json_text(result.to_dict()))
        return
    print_summary(result, console)


@app.command("import-calls")
@reports_errors
def import_calls(
    path: Annotated[
        Path, typer.Argument(metavar="CALLS.csv", help="Call log: CSV, .xlsx, Parquet.")
    ],
    into: Annotated[Path, typer.Option("--into", help="The workbook made by roi-xl new.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace months that already hold other figures.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    country: CountryOption = DEFAULT_COUNTRY,
    mapping: MapOption = None,
    tz: ZoneOption = DEFAULT_TIME_ZONE,
    business_hours: HoursOption = DEFAULT_BUSINESS_HOURS,
    callback_window: WindowOption = DEFAULT_CALLBACK_WINDOW,
    template_file: TemplateOption = None,
    exclude_numbers: ExcludeOption = None,
    known_numbers: KnownOption = None,
    baseline: BaselineOption = None,
    test: TestOption = None,
    windows: Annotated[
        bool,
        typer.Option(
            "--windows",
            help="Also set the model's before/after rates from --baseline and --test.",
        ),
    ] = False,
) -> None:
    """Write a call log's monthly figures into the monthly tabs of a workbook, nothing else."""
    supplied = _supplied(template_file)
    result = _analyse(
        path,
        country,
        mapping,
        tz,
        business_hours,
        callback_window,
        as_json,
        exclude_numbers=exclude_numbers,
        known_numbers=known_numbers,
        baseline=baseline,
        test=test,
    )
    model = workbook_template(into, supplied)
    figures, grids = workbook_figures(model, result)
    inputs = window_inputs(model, result) if windows else None
    if inputs and not as_json:
        console.print("Inputs the windows set, in every scenario (no other input changes):")
        for key, value in inputs.items():
            console.print(f"  {key} = {value:.4f}")
    report = import_figures(into, figures, grids, force=force, supplied=supplied, inputs=inputs)
    if as_json:
        print(json_text({"calls": result.to_dict(), "import": report.to_dict()}))
        return
    console.print(
        f"{result.rows_read} rows read = {result.rows_counted} calls counted + "
        f"{result.rows_rejected} rejected + {result.legs_merged} legs merged into calls"
    )
    imported = ", ".join(report.imported) or "none"
    console.print(f"Months imported into [bold]{escape(str(into))}[/]: {escape(imported)}")
    if report.missing:
        missing = escape(", ".join(report.missing))
        console.print(f"[yellow]Months the workbook has no tab for:[/] {missing}")
    console.print(
        f"{len(report.changes)} cell(s) written, {len(report.overwritten)} replaced, "
        f"{report.unchanged} already equal"
    )
    for note in report.notes:
        console.print(f"[dim]{escape(note)}[/]")


@app.command("demo")
@reports_errors
def demo(
    folder: Annotated[Path, typer.Argument(help="Where to write the examples.")] = Path(
        "roi-xl-demo"
    ),
    force: Annotated[bool, typer.Option("--force", help="Replace existing files.")] = False,
) -> None:
    """Write a ready example of every template, in English and French."""
    paths = write_demo(
        folder, force=force, on_written=lambda p: console.print(f"  wrote {escape(str(p))}")
    )
    console.print(f"{len(paths)} example workbooks in [bold]{escape(str(folder.resolve()))}[/]")


excel_app = typer.Typer(help="Use the roi_xl functions inside Excel.", no_args_is_help=True)
app.add_typer(excel_app, name="excel")


@excel_app.command("setup")
@reports_errors
def excel_setup(
    folder: Annotated[Path, typer.Argument(help="Where to write the files.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Replace existing files.")] = False,
    office_js: Annotated[
        bool,
        typer.Option(
            "--office-js",
            help="Also write the Office.js add-in: functions.js, functions.json, manifest.xml,"
            " taskpane.html and icons (no Python needed in Excel).",
        ),
    ] = False,
    url: Annotated[
        str,
        typer.Option(
            "--url", help="HTTPS address the Office.js files will be served from (manifest.xml)."
        ),
    ] = DEFAULT_URL,
) -> None:
    """Write xlwings.conf, main.py, requirements.txt and a HOW-TO for =MISSEDCALLLOSS() & co."""
    for path in write_excel_setup(folder, force=force, office=office_js, url=url):
        console.print(f"  wrote {escape(str(path))}")
    console.print(f"Read [bold]{escape(str(folder / 'HOWTO.md'))}[/] for the next steps.")


@app.command("read")
@reports_errors
def read(
    path: Annotated[Path, typer.Argument(metavar="FILE.xlsx", help="The workbook to read.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    template_file: TemplateOption = None,
) -> None:
    """Read a workbook back: inputs, actuals, recomputed outputs and findings."""
    result = read_workbook(path, _supplied(template_file))
    if as_json:
        print(json_text(result.to_dict()))
        return
    model = result.model
    console.print(
        f"[bold]{escape(str(path))}[/]: {escape(model.title.en)}, template {result.template} "
        f"{result.version}, "
        f"{result.locale}, {result.months} months from {result.start}"
    )
    console.print(f"Selected scenario: [bold]{result.selected_scenario or 'none (invalid)'}[/]")
    table = Table(title="Headline outputs (recomputed by the engine)")
    table.add_column("output")
    for name in template.SCENARIOS:
        table.add_column(name, justify="right")
    for key in model.headline:
        metric = model.metric(key)
        cells = []
        for name in template.SCENARIOS:
            outputs = result.scenarios[name].outputs
            cells.append(format_value(outputs[key], metric.kind) if outputs else "-")
        table.add_row(escape(metric.label.en), *cells)
    console.print(table)
    for item in result.break_evens:
        driver = model.input(item.driver)
        where = (
            format_value(item.value, driver.kind)
            if item.value is not None
            else "none within its allowed range"
        )
        console.print(
            f"Break-even {escape(driver.label.en)}: {where} "
            f"(today {format_value(item.today, driver.kind)})"
        )
    keys = [item.key for item in result.model.monthly.fields]
    filled = [
        month
        for month, figures in result.actuals.items()
        if any(figures.get(key) is not None for key in keys)
    ]
    counted = [month for month, figures in result.actuals.items() if counts(figures, keys)]
    console.print(f"Months with actuals: {', '.join(filled) if filled else 'none yet'}")
    console.print(
        "Months complete (counted in the year to date): "
        + (", ".join(counted) if counted else "none")
    )
    _print_findings(result)


@app.command("audit")
@reports_errors
def audit(
    path: Annotated[Path, typer.Argument(metavar="FILE.xlsx", help="The workbook to audit.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    template_file: TemplateOption = None,
) -> None:
    """Check a workbook; exit 0 when clean, 1 with an error finding, 2 when unreadable."""
    result = read_workbook(path, _supplied(template_file))
    if as_json:
        payload = {
            "path": result.path,
            "template": result.template,
            "clean": not result.has_errors,
            "findings": [f.to_dict() for f in result.findings],
        }
        print(json_text(payload))
    else:
        _print_findings(result)
    if result.has_errors:
        raise typer.Exit(code=1)


@app.command("report")
@reports_errors
def report(
    path: Annotated[Path, typer.Argument(metavar="FILE.xlsx", help="The workbook to report on.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .html file to write.")],
    locale: Annotated[
        str | None, typer.Option("--locale", help="en-US or fr-FR (default: the workbook's).")
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also print it to PDF beside the HTML (needs Chromium).")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the Monte Carlo risk range.")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing report.")] = False,
    template_file: TemplateOption = None,
) -> None:
    """Write a one-page investment justification (HTML, optionally PDF) from a workbook."""
    for target in (output, output.with_suffix(".pdf")) if pdf else (output,):
        if target.exists() and not force:
            raise OutputExistsError(f"{target} already exists; use --force to replace it")
    result = read_workbook(path, _supplied(template_file))
    html = render_report(result, locale or result.locale, seed=seed)
    write_text_atomically(output, html)
    console.print(f"Wrote [bold]{escape(str(output))}[/]")
    if pdf:
        console.print(f"Wrote [bold]{escape(str(render_pdf(html, output.with_suffix('.pdf'))))}[/]")


@app.command("decide")
@reports_errors
def decide(
    source: Annotated[
        str,
        typer.Argument(
            metavar="SOURCE", help="A workbook (.xlsx), a built-in template or a .toml."
        ),
    ],
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario", help="The base (default: the workbook's selected, or realistic)."
        ),
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Override an input of a template."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the Monte Carlo risk range.")] = 0,
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws.")] = DRAWS,
    top: Annotated[int, typer.Option("--top", help="Tornado bars to print.")] = 10,
    metric: Annotated[
        str | None,
        typer.Option("--metric", help="The headline output whose tornado to print (default: ROI)."),
    ] = None,
    correlation: Annotated[
        list[str] | None,
        typer.Option(
            "--correlation",
            metavar="[GROUP=]RHO",
            help="Correlation of the risk range's inputs: RHO for every group of inputs, "
            "GROUP=RHO for one (an Inputs section), across=RHO between groups.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """What moves the ROI most, where it breaks even, and its risk range."""
    result = decide_from(
        source,
        scenario,
        parse_overrides(settings or []),
        seed,
        draws,
        parse_correlations(correlation or []),
    )
    if as_json:
        print(json_text(result.to_dict()))
        return
    print_decision(console, result, top, metric)


def _print_findings(result: WorkbookRead) -> None:
    if not result.findings:
        console.print("[green]No findings: the workbook is as the model expects.[/]")
        return
    errors = sum(f.severity == "error" for f in result.findings)
    table = Table(title=f"{errors} error(s), {len(result.findings) - errors} warning(s)")
    for column in ("severity", "where", "rule", "what was found"):
        table.add_column(column, overflow="fold")
    for finding in result.findings:
        colour = "red" if finding.severity == "error" else "yellow"
        table.add_row(
            f"[{colour}]{finding.severity}[/]",
            escape(finding.where),
            finding.rule,
            escape(finding.message),
        )
    console.print(table)


def _print_results(model: template.Template, results: dict[str, engine.ScenarioResult]) -> None:
    names = list(results)
    table = Table(title=f"{escape(model.title.en)} (v{model.version})", show_lines=False)
    table.add_column("output")
    for name in names:
        table.add_column(name, justify="right")
    for metric in model.metrics:
        style = "bold" if metric.key in model.headline else None
        cells = [format_value(results[name].outputs[metric.key], metric.kind) for name in names]
        table.add_row(escape(metric.label.en), *cells, style=style)
    console.print(table)
    console.print("[dim]Bold rows are the headline outputs. Rates and ROI are shown as %.[/]")


def main() -> None:
    """Entry point of the ``roi-xl`` script."""
    sys.exit(app())
