"""Many workbooks at once: `generate_batch` from a people CSV, `rollup` into one workbook.

The roll-up corpus mixes clean phoning workbooks, one edited and recalculated by
LibreOffice, one with a formula typed over (recalculated, as Excel would save it),
one edited by a script (no cached values), two broken files, a CRM workbook in
French and an Excel lock file. LibreOffice work goes through two soffice batches
(module fixture `corpus`): the edited sources, then the roll-ups.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from xlsxwriter.worksheet import Worksheet

from roi_xl.batch import BatchError, generate_batch, safe_file_part
from roi_xl.demo import sample_actuals
from roi_xl.inspect.reader import read_workbook
from roi_xl.inspect.recalc import recalculate
from roi_xl.locale import load_locale
from roi_xl.model import engine, expr, template
from roi_xl.model.template import SCENARIOS
from roi_xl.rollup import FULL, FileSummary, summarise
from roi_xl.rollup.additivity import RATIO, SUM, WEIGHTED, plan_totals
from roi_xl.rollup.columns import (
    ACTUALS,
    FIRST_FILE_ROW,
    GROUP_ROW,
    GROUP_TITLES,
    KEY_ROW,
    LABEL_ROW,
    PORTFOLIO_ROW,
)
from roi_xl.rollup.consolidate import RollupReport, expand, rollup
from roi_xl.workbook import OutputExistsError, WorkbookOptions, write_workbook
from roi_xl.workbook.layout import (
    INPUT_KEY_COL,
    METRIC_KEY_COL,
    MONTH_ACTUAL_COL,
    MONTH_KEY_COL,
    SCENARIO_COLS,
    SELECTOR_ROW,
    VALUE_COL,
    Layout,
    build_layout,
    cell,
)
from roi_xl.workbook.values import COMPLETE

START = dt.date(2026, 1, 1)
MONTHS = 6
PHONING, CRM = "phoning-b2b", "crm"
TAMPERED_VALUE = 9.99

# ------------------------------------------------------------------ batch

PEOPLE = """\
name,owner,calls_made,reach_rate,caller_hourly_cost
North,Alice,9000,5%,70
South,Bob,lots,,
East,Carol,,37,
,Dan,100,,
"West, coast",Eve,,,75
north,Fay,,,
Paris/Lyon,Gus,,,
"""


def write_csv(folder: Path, text: str, name: str = "people.csv", bom: bool = False) -> Path:
    path = folder / name
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def batch(folder: Path, people: Path, **options: object):
    done: list[str] = []
    report = generate_batch(
        template.load(PHONING),
        people,
        folder / "out",
        start=START,
        months=MONTHS,
        workers=2,
        progress=lambda count, total, path: done.append(path),
        **options,  # type: ignore[arg-type]
    )
    return report, done


def test_batch_writes_the_good_rows_and_reports_the_bad_ones_by_line(tmp_path: Path) -> None:
    report, done = batch(tmp_path, write_csv(tmp_path, PEOPLE))

    assert [(w.line, w.path.name) for w in report.written] == [
        (2, "North.xlsx"),
        (6, "West, coast.xlsx"),
        (8, "Paris_Lyon.xlsx"),
    ]
    reasons = {s.line: s.reason for s in report.skipped}
    assert set(reasons) == {3, 4, 5, 7}
    assert "column calls_made: 'lots' is not a number" in reasons[3]
    assert "reach_rate' must be between 0 and 1; got 37" in reasons[4]
    assert reasons[5] == "no name"
    assert "already taken by line 2" in reasons[7]
    assert sorted(done) == sorted(str(w.path) for w in report.written)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        w.path.name for w in report.written
    )
    north = read_workbook(tmp_path / "out" / "North.xlsx")
    assert not north.findings
    for scenario in SCENARIOS:
        inputs = north.scenarios[scenario].inputs
        assert (inputs["calls_made"], inputs["reach_rate"], inputs["caller_hourly_cost"]) == (
            9000,
            0.05,
            70,
        )
    assert json.loads(json.dumps(report.to_dict()))["skipped"][0]["line"] == 3


def test_batch_refuses_an_unknown_column_before_writing_anything(tmp_path: Path) -> None:
    people = write_csv(tmp_path, "name,reach\nNorth,4%\n")
    with pytest.raises(
        BatchError, match=r"line 1: unknown column 'reach'.*did you mean 'reach_rate'"
    ):
        batch(tmp_path, people)
    assert not (tmp_path / "out").exists()


def test_batch_never_replaces_a_file_without_force(tmp_path: Path) -> None:
    people = write_csv(tmp_path, "name\nNorth\nSouth\n")
    first, _ = batch(tmp_path, people)
    assert len(first.written) == 2
    again, _ = batch(tmp_path, people)
    assert not again.written
    assert all("already exists; use --force" in s.reason for s in again.skipped)
    forced, _ = batch(tmp_path, people, force=True)
    assert [w.line for w in forced.written] == [2, 3]


def test_batch_reads_excel_csv_with_owner_in_the_file_name(tmp_path: Path) -> None:
    people = write_csv(tmp_path, "Name;Owner;calls_made\nNorth;Alice;9000\nSouth;;\n", bom=True)
    report, _ = batch(tmp_path, people, name_pattern="{owner} - {name}.xlsx")
    assert [w.path.name for w in report.written] == ["Alice - North.xlsx"]
    assert [(s.line, s.reason) for s in report.skipped] == [
        (3, "no owner, and the name pattern uses {owner}")
    ]


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("{region}.xlsx", "is not {name} or {owner}"),
        ("{name}.csv", "must end with .xlsx"),
        ("../{name}.xlsx", "may not contain a folder"),
        ("{name!r}.xlsx", "is not {name} or {owner}"),
    ],
)
def test_batch_refuses_a_bad_name_pattern(tmp_path: Path, pattern: str, problem: str) -> None:
    people = write_csv(tmp_path, "name\nNorth\n")
    with pytest.raises(BatchError, match=problem.replace("{", r"\{").replace("}", r"\}")):
        batch(tmp_path, people, name_pattern=pattern)


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("North/South\\East", "North_South_East"),
        ("tab\there\x00nul", "tab_here_nul"),
        ("invoice\u202excod.xlsx", "invoice_xcod.xlsx"),  # right-to-left override
        ("CON", "_CON"),
        ("nul.backup", "_nul.backup"),
        (" .hidden. ", "hidden"),
        ('a<b>c:d"e|f?g*h', "a_b_c_d_e_f_g_h"),
        ("Zoë Müller", "Zoë Müller"),
    ],
)
def test_file_names_are_made_safe(name: str, safe: str) -> None:
    assert safe_file_part(name) == safe


# ------------------------------------------------------------ additivity


@pytest.mark.parametrize(
    ("key", "sizes"),
    [
        (
            PHONING,
            {
                "calls_made",
                "caller_fixed_hours",
                "tool_cost",
                "data_cost",
                "management_cost",
                "indirect_cost",
                *(
                    f"{channel}_{size}"
                    for channel in ("emailing", "paid_ads", "events", "outsourced_phoning")
                    for size in ("cost", "opportunities")
                ),
            },
        ),
        (
            CRM,
            {
                "annual_leads",
                "sales_reps",
                "customers",
                "users",
                "annual_cost_savings",
                "implementation_cost",
                "training_cost",
                "annual_support_cost",
            },
        ),
        (
            "phone-system",
            {"inbound_calls", "repeat_contacts_avoided", "incremental_phone_cost", "setup_cost"},
        ),
    ],
)
def test_only_sizes_are_summed_never_prices_or_rates(key: str, sizes: set[str]) -> None:
    model = template.load(key)
    plan = plan_totals(model)
    assert {k for k in model.input_keys if plan[k].how == SUM} == sizes


def test_ratios_are_the_template_formulas_over_the_totals() -> None:
    model = template.load(PHONING)
    plan = plan_totals(model)

    def shown(key: str) -> str:
        node = plan[key].node
        assert plan[key].how == RATIO and node is not None
        return expr.to_excel(node, {name: name for name in expr.names(node)})

    assert shown("roi") == "(TOTAL:gross_margin-TOTAL:total_cost)/TOTAL:total_cost"
    assert shown("cac") == "TOTAL:total_cost/TOTAL:deals_won"
    assert shown("lifetime_roi") == ("(SUMPRODUCT:deals_won,ltv-TOTAL:total_cost)/TOTAL:total_cost")
    assert (plan["average_deal_value"].how, plan["average_deal_value"].weight) == (
        WEIGHTED,
        "deals_won",
    )
    assert plan["ltv_to_cac"].how == "average"
    crm = plan_totals(template.load(CRM))
    assert crm["payback_months"].how == RATIO
    assert crm["response_time_hours_current"].how == "average"  # hours, but not a size


# ---------------------------------------------------------------- roll-up


def test_fast_read_reports_what_the_full_audit_reports_from_values(tmp_path: Path) -> None:
    """No calls: every cost per call divides by zero, on the Calculations and monthly tabs."""
    path = write(PHONING, tmp_path / "zero.xlsx", overrides={"calls_made": 0.0})
    fast = summarise(str(path))
    full = summarise(str(path), FULL)
    assert isinstance(fast, FileSummary) and isinstance(full, FileSummary)

    def errors(summary: FileSummary) -> set[tuple[object, ...]]:
        return {
            (f.rule, f.sheet, f.cell, f.found) for f in summary.findings if f.rule == "error_value"
        }

    assert errors(fast) and errors(fast) == errors(full)
    assert fast.outputs == full.outputs and fast.inputs == full.inputs
    assert fast.outputs["cac"] == "#DIV/0!"


@dataclass(frozen=True)
class Corpus:
    sources: Path
    fast: RollupReport
    full: RollupReport
    recalculated: Path  # the fast roll-up as LibreOffice recomputes it
    progress: list[str]


def write(key: str, path: Path, **options: object) -> Path:
    defaults: dict[str, object] = {"start": START, "months": MONTHS, "force": True}
    return write_workbook(template.load(key), path, WorkbookOptions(**{**defaults, **options}))  # type: ignore[arg-type]


def layout_of(key: str, locale: str = "en-US") -> Layout:
    return build_layout(template.load(key), load_locale(locale), START, MONTHS)


def edit(source: Path, target: Path, inputs: dict[str, float], scenario: str) -> Path:
    """Type ``inputs`` into ``scenario``'s column and select it, as a person would."""
    layout = layout_of(PHONING)
    book = openpyxl.load_workbook(source)
    sheet = book[layout.inputs]
    for key, value in inputs.items():
        sheet.cell(layout.input_rows[key] + 1, SCENARIO_COLS[scenario] + 1).value = value
    sheet.cell(SELECTOR_ROW + 1, VALUE_COL + 1).value = layout.locale.scenarios[scenario]
    book.save(target)
    return target


def overwrite_roi(source: Path, target: Path) -> Path:
    layout = layout_of(PHONING)
    book = openpyxl.load_workbook(source)
    ref = cell(layout.metric_rows["roi"], SCENARIO_COLS["realistic"])
    book[layout.calculations][ref].value = TAMPERED_VALUE
    book.save(target)
    return target


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, soffice: str) -> Corpus:
    work = tmp_path_factory.mktemp("rollup")
    sources, staging, out = work / "sources", work / "staging", work / "out"
    for folder in (sources, staging, out):
        folder.mkdir()
    actuals = sample_actuals(PHONING)
    write(PHONING, sources / "north.xlsx", actuals=actuals, overrides={"calls_made": 9000.0})
    write(
        PHONING, sources / "south.xlsx", scenario="prudent", overrides={"caller_hourly_cost": 55.0}
    )
    write(CRM, sources / "crm-branch.xlsx", locale="fr-FR", actuals=sample_actuals(CRM))
    clean = write(PHONING, staging / "clean.xlsx", actuals=actuals[:2])
    edited = edit(
        clean, staging / "east.xlsx", {"calls_made": 12000, "caller_hourly_cost": 75}, "optimistic"
    )
    tampered = overwrite_roi(clean, staging / "west.xlsx")
    recalculate([edited, tampered], sources)
    overwrite_roi(clean, sources / "script.xlsx")  # saved by openpyxl: no cached values at all
    (sources / "not-a-zip.xlsx").write_text("name,value\nNorth,1\n", encoding="utf-8")
    data = (sources / "north.xlsx").read_bytes()
    (sources / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    (sources / "~$north.xlsx").write_bytes(b"\x0bExcel lock")
    progress: list[str] = []
    fast = rollup(
        [sources],
        out / "rollup.xlsx",
        workers=2,
        progress=lambda done, total, path: progress.append(path),
    )
    full = rollup([sources], out / "full.xlsx", workers=2, audit="full")
    [recalculated] = recalculate([out / "rollup.xlsx"], out / "recalculated")
    return Corpus(sources, fast, full, recalculated, progress)


def column_keys(ws) -> list[str]:
    """The key row, year-to-date actuals as ``actual:KEY`` (their keys repeat input keys)."""
    keys, group = [], ""
    for head, key in zip(ws[GROUP_ROW + 1], ws[KEY_ROW + 1], strict=False):
        group = head.value or group
        keys.append(f"actual:{key.value}" if group == GROUP_TITLES[ACTUALS] else key.value)
    return keys


def sheet_rows(path: Path, sheet: str) -> dict[str, dict[str, object]]:
    """File stem -> column key -> value, for every file row of a roll-up sheet."""
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    keys = column_keys(ws)
    rows = {}
    for row in ws.iter_rows(min_row=FIRST_FILE_ROW + 1, values_only=True):
        if row[0] is not None:
            rows[Path(str(row[0])).stem] = dict(zip(keys, row, strict=False))
    return rows


def portfolio_row(path: Path, sheet: str) -> dict[str, object]:
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    keys = column_keys(ws)
    values = [c.value for c in ws[PORTFOLIO_ROW + 1]]
    return dict(zip(keys, values, strict=False))


def findings_rows(path: Path) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path)["Findings"]
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    header = [str(h).lower() for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


@dataclass(frozen=True)
class FileValues:
    """One source workbook's selected scenario, read with openpyxl alone (cached values)."""

    scenario: str
    inputs: dict[str, float]
    outputs: dict[str, object]
    actuals: dict[str, float]


def read_independently(path: Path) -> FileValues:
    book = openpyxl.load_workbook(path, data_only=True)
    props = {p.name: p.value for p in book.custom_doc_props.props}
    key, locale = props["roi_xl_template"], props["roi_xl_locale"]
    model, layout = template.load(key), layout_of(key, locale)
    names = {label: scenario for scenario, label in layout.locale.scenarios.items()}
    inputs_sheet = book[layout.inputs]
    scenario = names[inputs_sheet.cell(SELECTOR_ROW + 1, VALUE_COL + 1).value]
    col = SCENARIO_COLS[scenario] + 1

    def by_key(ws, key_col: int) -> dict[object, int]:
        return {ws.cell(r, key_col + 1).value: r for r in range(1, ws.max_row + 1)}

    rows = by_key(inputs_sheet, INPUT_KEY_COL)
    inputs = {k: inputs_sheet.cell(rows[k], col).value for k in model.input_keys}
    calculations = book[layout.calculations]
    rows = by_key(calculations, METRIC_KEY_COL)
    outputs = {k: calculations.cell(rows[k], col).value for k in model.metric_keys}
    actuals: dict[str, float] = {}
    for month in layout.month_sheets:
        ws = book[month]
        rows = by_key(ws, MONTH_KEY_COL)
        if ws.cell(rows[COMPLETE], MONTH_ACTUAL_COL + 1).value != 1:
            continue  # only months marked complete count to date
        for item in model.monthly.fields:
            value = ws.cell(rows[item.key], MONTH_ACTUAL_COL + 1).value
            if isinstance(value, (int, float)):
                actuals[item.key] = actuals.get(item.key, 0.0) + value
    return FileValues(scenario, inputs, outputs, actuals)  # type: ignore[arg-type]


PHONING_FILES = {"north", "south", "east", "west", "script"}


def test_every_file_lands_in_its_place(corpus: Corpus, soffice: str) -> None:
    output = corpus.fast.output
    assert openpyxl.load_workbook(output).sheetnames == ["Overview", CRM, PHONING, "Findings"]
    phoning = sheet_rows(output, PHONING)
    assert set(phoning) == PHONING_FILES
    crm = sheet_rows(output, CRM)
    assert set(crm) == {"crm-branch"}
    months = [m for m in sample_actuals(CRM) if m[COMPLETE] == 1]  # the months counted
    users = [m["active_users"] for m in months]  # a headcount: the average month, not the sum
    assert crm["crm-branch"]["actual:active_users"] == pytest.approx(sum(users) / len(users))
    assert crm["crm-branch"]["actual:leads"] == sum(m["leads"] for m in months)
    assert {Path(f.path).name: f.reason for f in corpus.fast.failures}.keys() == {
        "not-a-zip.xlsx",
        "truncated.xlsx",
    }
    reasons = {Path(f.path).name: f.reason for f in corpus.fast.failures}
    assert reasons["not-a-zip.xlsx"].startswith("not an Excel workbook")
    assert "damaged or truncated" in reasons["truncated.xlsx"]
    assert not any("~$" in path for path in corpus.progress)
    assert len(corpus.progress) == len(PHONING_FILES) + 1 + 2

    sheet = openpyxl.load_workbook(output)[PHONING]
    labels, keys = ([c.value for c in sheet[row + 1]] for row in (LABEL_ROW, KEY_ROW))
    assert len(keys) == len(labels) and all(labels) and all(keys)  # no row lost in constant memory
    assert (phoning["east"]["scenario"], phoning["east"]["calls_made"]) == ("optimistic", 12000)
    assert (phoning["south"]["scenario"], phoning["south"]["caller_hourly_cost"]) == ("prudent", 55)
    assert phoning["north"]["months_with_actuals"] == 3
    assert phoning["east"]["actual:calls_made"] == sum(
        m["calls_made"] for m in sample_actuals(PHONING)[:2]
    )
    assert phoning["north"]["errors"] == 0 and phoning["east"]["errors"] == 0
    assert phoning["west"]["errors"] >= 1 and phoning["script"]["errors"] >= 1


def test_findings_sheet_lists_unreadable_files_and_each_files_findings(
    corpus: Corpus, soffice: str
) -> None:
    rows = findings_rows(corpus.fast.output)
    by_file: dict[str, set[object]] = {}
    for row in rows:
        by_file.setdefault(Path(str(row["file"])).stem, set()).add(row["rule"])
    assert by_file["not-a-zip"] == {"unreadable"} and by_file["truncated"] == {"unreadable"}
    layout = layout_of(PHONING)
    roi_cell = cell(layout.metric_rows["roi"], SCENARIO_COLS["realistic"])
    west = [r for r in rows if Path(str(r["file"])).stem == "west"]
    assert any(r["rule"] == "stale_value" and r["cell"] == roi_cell for r in west)
    assert "not_recalculated" in by_file["script"]
    assert not {"north", "south", "east", "crm-branch"} & set(by_file)

    full = findings_rows(corpus.full.output)
    west_full = [r for r in full if Path(str(r["file"])).stem == "west"]
    assert any(r["rule"] == "formula_overwritten" and r["cell"] == roi_cell for r in west_full)
    assert not any(Path(str(r["file"])).stem in {"north", "south"} for r in full)


def test_libreoffice_totals_equal_the_sums_of_the_files_read_with_openpyxl(
    corpus: Corpus, soffice: str
) -> None:
    model = template.load(PHONING)
    plan = plan_totals(model)
    files = [read_independently(corpus.sources / f"{name}.xlsx") for name in sorted(PHONING_FILES)]
    portfolio = portfolio_row(corpus.recalculated, PHONING)

    def output(values: FileValues, key: str) -> float:
        """The cached output; for the file saved without any (script), the engine's."""
        found = values.outputs[key]
        if found is None:
            found = engine.compute(model, values.inputs)[key]
        return float(found)  # type: ignore[arg-type]

    sums = {k: math.fsum(f.inputs[k] for f in files) for k in model.input_keys}
    sums.update({k: math.fsum(output(f, k) for f in files) for k in model.metric_keys})
    summed = [k for k in sums if plan[k].how == SUM]
    assert len(summed) > 10
    for key in summed:
        assert portfolio[key] == pytest.approx(sums[key], rel=1e-12), key
    assert portfolio["roi"] == pytest.approx(
        (sums["gross_margin"] - sums["total_cost"]) / sums["total_cost"], rel=1e-12
    )
    assert portfolio["cac"] == pytest.approx(sums["total_cost"] / sums["deals_won"], rel=1e-12)
    assert portfolio["average_deal_value"] == pytest.approx(
        sums["revenue"] / sums["deals_won"], rel=1e-12
    )
    roi_of_files = [output(f, "roi") for f in files]
    assert portfolio["roi"] != pytest.approx(sum(roi_of_files) / len(roi_of_files))
    for item in model.monthly.fields:
        expected = math.fsum(f.actuals.get(item.key, 0.0) for f in files)
        assert expected > 0
        assert portfolio[f"actual:{item.key}"] == pytest.approx(expected, rel=1e-12)


def test_every_cached_value_of_the_rollup_is_what_libreoffice_computes(
    corpus: Corpus, soffice: str
) -> None:
    formulas = openpyxl.load_workbook(corpus.fast.output)
    cached = openpyxl.load_workbook(corpus.fast.output, data_only=True)
    computed = openpyxl.load_workbook(corpus.recalculated, data_only=True)
    checked, wrong = 0, []
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for item in row:
                if not (isinstance(item.value, str) and item.value.startswith("=")):
                    continue
                checked += 1
                mine = cached[ws.title][item.coordinate].value
                theirs = computed[ws.title][item.coordinate].value
                same = mine == theirs or (
                    isinstance(mine, float | int)
                    and isinstance(theirs, float | int)
                    and math.isclose(mine, theirs, rel_tol=1e-12, abs_tol=1e-12)
                )
                if not same and not (mine in ("", None) and theirs in ("", None)):
                    wrong.append(
                        f"{ws.title}!{item.coordinate} {item.value}: {mine!r} vs {theirs!r}"
                    )
    assert checked > 150
    assert not wrong, "\n".join(wrong[:20])
    rows = sheet_rows(corpus.recalculated, PHONING)
    best = max(rows, key=lambda name: rows[name]["roi"])  # type: ignore[arg-type,return-value]
    assert rows[best]["rank"] == 1
    assert all(isinstance(row["rank"], int | float) for row in rows.values())


def test_json_summary_gives_totals_ratios_labelled_averages_and_failures(
    corpus: Corpus, soffice: str
) -> None:
    payload = json.loads(json.dumps(corpus.fast.to_dict()))
    assert set(payload["templates"]) == {CRM, PHONING}
    phoning = payload["templates"][PHONING]
    assert phoning["files"] == len(PHONING_FILES)
    assert phoning["files_with_errors"] == 2
    assert (phoning["locales"], payload["templates"][CRM]["locales"]) == (["en-US"], ["fr-FR"])
    assert "calls_made" in phoning["totals"] and "roi" in phoning["ratios"]
    assert phoning["averages"]["average_deal_value"]["how"] == "average weighted by deals_won"
    assert "average_deal_value" not in phoning["totals"]
    assert set(phoning["actuals_ytd"]) == {f.key for f in template.load(PHONING).monthly.fields}
    assert {Path(f["path"]).name for f in payload["failures"]} == {
        "not-a-zip.xlsx",
        "truncated.xlsx",
    }


def test_rollup_never_replaces_a_file_without_force(tmp_path: Path) -> None:
    write(PHONING, tmp_path / "north.xlsx")
    output = tmp_path / "out.xlsx"
    output.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError):
        rollup([tmp_path / "north.xlsx"], output, workers=1)
    assert output.read_bytes() == b"keep me"


def test_a_rollup_written_into_its_source_folder_is_not_read_back(tmp_path: Path) -> None:
    write(PHONING, tmp_path / "north.xlsx")
    write(PHONING, tmp_path / "south.xlsx")
    first = rollup([tmp_path], tmp_path / "all.xlsx", workers=1)
    assert (first.files_read, first.failures) == (2, [])
    (tmp_path / "copy-of-all.xlsx").write_bytes((tmp_path / "all.xlsx").read_bytes())
    again = rollup([tmp_path], tmp_path / "all.xlsx", workers=1, force=True)
    assert again.files_read == 2
    assert [Path(f.path).name for f in again.failures] == ["copy-of-all.xlsx"]
    assert "roll-up, not a model workbook" in again.failures[0].reason
    assert expand([tmp_path], exclude=tmp_path / "all.xlsx") == [
        tmp_path / "copy-of-all.xlsx",
        tmp_path / "north.xlsx",
        tmp_path / "south.xlsx",
    ]


def test_the_fast_worksheet_writes_the_rollup_xlsxwriter_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The roll-up's sheets go through the fast worksheet: every part of the file is byte
    for byte the one XlsxWriter's own worksheet writes (but the creation time)."""
    sources = tmp_path / "sources"
    sources.mkdir()
    write(PHONING, sources / "north.xlsx", actuals=sample_actuals(PHONING))
    write(PHONING, sources / "south.xlsx", scenario="prudent", overrides={"calls_made": 700.0})
    write(CRM, sources / "crm-branch.xlsx", locale="fr-FR")
    overwrite_roi(sources / "north.xlsx", sources / "script.xlsx")
    (sources / "not-a-zip.xlsx").write_text("name,value\n", encoding="utf-8")
    fast = rollup([sources], tmp_path / "fast.xlsx", workers=1)
    monkeypatch.setattr("roi_xl.rollup.writer.FastWorksheet", Worksheet)
    stock = rollup([sources], tmp_path / "stock.xlsx", workers=1)
    assert (fast.files_read, len(fast.failures), fast.findings) == (4, 1, stock.findings)
    assert fast.findings > 0
    with zipfile.ZipFile(fast.output) as one, zipfile.ZipFile(stock.output) as other:
        assert one.namelist() == other.namelist()
        for name in one.namelist():
            if name != "docProps/core.xml":
                assert one.read(name) == other.read(name), name
