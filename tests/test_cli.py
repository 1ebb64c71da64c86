"""The command line, run as a user runs it: exit codes, JSON shape, error messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from roi_xl.cli import app

ROOT = Path(__file__).resolve().parent.parent
WORKED_EXAMPLE_ARGS = [
    "calc",
    "phoning-b2b",
    "--scenario",
    "realistic",
    "--set",
    "calls_made=8000",
    "--set",
    "reach_rate=0.04",
    "--set",
    "meeting_rate=0.25",
    "--set",
    "proposal_rate=0.625",
    "--set",
    "win_rate=0.3",
    "--set",
    "average_deal_value=6000",
    "--set",
    "gross_margin_rate=0.4",
    "--set",
    "calls_per_hour=80",
    "--set",
    "caller_fixed_hours=20",
    "--set",
    "caller_hourly_cost=62.5",
    "--set",
    "tool_cost=1000",
    "--set",
    "data_cost=1500",
    "--set",
    "management_cost=2000",
    "--set",
    "indirect_cost=0",
    "--json",
]

runner = CliRunner()


def test_worked_example_of_the_phoning_article() -> None:
    result = runner.invoke(app, WORKED_EXAMPLE_ARGS)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["template"] == "phoning-b2b"
    assert list(payload["scenarios"]) == ["realistic"]
    outputs = payload["scenarios"]["realistic"]["outputs"]
    expected = {
        "conversations": 320,
        "meetings": 80,
        "proposals": 50,
        "deals_won": 15,
        "revenue": 90000,
        "gross_margin": 36000,
        "roi": 2.0,
        "return_multiple": 3.0,
        "cac": 800,
        "cost_per_meeting": 150,
    }
    for key, value in expected.items():
        assert outputs[key] == value, key
    assert payload["scenarios"]["realistic"]["inputs"]["calls_made"] == 8000


def test_every_scenario_unless_narrowed() -> None:
    result = runner.invoke(app, ["calc", "crm", "--json"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert list(payload["scenarios"]) == ["prudent", "realistic", "optimistic"]
    for scenario in payload["scenarios"].values():
        assert set(scenario) == {"inputs", "outputs", "timeline"}


def test_errors_travel_as_text_in_json() -> None:
    result = runner.invoke(app, ["calc", "phoning-b2b", "--set", "win_rate=0", "--json"])
    assert result.exit_code == 0
    outputs = json.loads(result.stdout)["scenarios"]["realistic"]["outputs"]
    assert outputs["cac"] == "#DIV/0!"


def test_readable_table_without_json() -> None:
    result = runner.invoke(app, ["calc", "phoning-b2b", "--scenario", "realistic"])
    assert result.exit_code == 0
    assert "Customer acquisition cost (CAC)" in result.stdout
    assert "200.0 %" in result.stdout


def test_percent_sign_is_accepted() -> None:
    result = runner.invoke(app, ["calc", "phoning-b2b", "--set", "reach_rate=4%", "--json"])
    assert json.loads(result.stdout)["scenarios"]["prudent"]["inputs"]["reach_rate"] == 0.04


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["calc", "crm", "--set", "reach_rate=0.3"],
            "'reach_rate' is not an input of template 'crm'",
        ),
        (["calc", "phoning-b2b", "--set", "reach_rat=0.3"], "did you mean 'reach_rate'?"),
        (["calc", "phoning-b2b", "--set", "reach_rate=37"], "37 % is 0.37"),
        (["calc", "phoning-b2b", "--set", "calls_made=-5"], "must be between 0 and"),
        (["calc", "phoning-b2b", "--set", "calls_made=lots"], "'lots' is not a number"),
        (["calc", "phoning-b2b", "--set", "calls_made=nan"], "'nan' is not a number"),
        (["calc", "phoning-b2b", "--set", "calls_made"], "expected KEY=VALUE"),
        (["calc", "phoning-b2b", "--scenario", "wild"], "unknown scenario 'wild'"),
        (["calc", "nope"], "unknown template 'nope'"),
    ],
)
def test_bad_input_is_refused_with_exit_code_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_templates_are_listed() -> None:
    result = runner.invoke(app, ["templates", "--json"])
    assert result.exit_code == 0
    assert [t["key"] for t in json.loads(result.stdout)] == ["crm", "phone-system", "phoning-b2b"]


def test_templates_travel_inside_the_wheel(tmp_path: Path) -> None:
    """`pip install .` (not editable) into a fresh environment, then run from elsewhere."""
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [str(env_dir / "bin" / "roi-xl"), "calc", "crm", "--json"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        timeout=120,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert "first_year_roi" in json.loads(result.stdout)["scenarios"]["realistic"]["outputs"]
    site = subprocess.run(
        [str(python), "-c", "import roi_xl, pathlib; print(pathlib.Path(roi_xl.__file__).parent)"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        check=True,
    ).stdout.strip()
    assert (Path(site) / "templates" / "crm.toml").is_file()
    assert sys.prefix not in site


def test_new_writes_a_workbook_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "model.xlsx"
    args = ["new", "phoning-b2b", "-o", str(target), "--start", "2026-01", "--months", "3"]
    first = runner.invoke(app, [*args, "--locale", "fr-FR", "--set", "win_rate=35%"])
    assert first.exit_code == 0, first.output
    assert target.is_file()
    before = target.read_bytes()
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "already exists; use --force" in " ".join(again.output.split())
    assert target.read_bytes() == before
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0
    assert target.read_bytes() != before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--start", "2026-13"], "expected a month as YYYY-MM"),
        (["--months", "0"], "--months must be between 1 and 60"),
        (["--locale", "de-DE"], "unknown locale 'de-DE'"),
        (["--scenario", "wild"], "unknown scenario 'wild'"),
        (["--set", "adoption_rate=2"], "must be between 0 and 1"),
    ],
)
def test_new_refuses_bad_options(tmp_path: Path, extra: list[str], message: str) -> None:
    target = tmp_path / "model.xlsx"
    result = runner.invoke(app, ["new", "crm", "-o", str(target), *extra])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_new_refuses_a_target_that_is_not_xlsx(tmp_path: Path) -> None:
    result = runner.invoke(app, ["new", "crm", "-o", str(tmp_path / "model.xls")])
    assert result.exit_code == 2
    assert "must be an .xlsx file" in result.output


def test_demo_writes_every_template_in_both_locales(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert names == [
        f"{t}-{loc}.xlsx"
        for t in ("crm", "phone-system", "phoning-b2b")
        for loc in ("en-US", "fr-FR")
    ]
    assert "6 example workbooks" in result.output


def test_new_batch_writes_good_rows_and_reports_bad_ones(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("name,owner,win_rate\nParis,Anne,0.3\nLyon,Bob,abc\nLille,Cem,35%\n")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "new",
            "phoning-b2b",
            "--batch",
            str(people),
            "-o",
            str(out),
            "--months",
            "2",
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in out.iterdir()) == ["Lille.xlsx", "Paris.xlsx"]
    assert "'abc' is not a number" in result.output
    rolled = runner.invoke(
        app, ["rollup", str(out), "-o", str(tmp_path / "all.xlsx"), "--json", "--workers", "1"]
    )
    assert rolled.exit_code == 0, rolled.output
    payload = json.loads(rolled.stdout)
    assert payload["templates"]["phoning-b2b"]["files"] == 2


def test_calls_and_import_calls_end_to_end(tmp_path: Path) -> None:
    """The README's path: a call log's months land in a phone-system workbook, nothing else."""
    log = ROOT / "samples" / "calls" / "calls-2026-q1.csv"
    model = tmp_path / "phones.xlsx"
    made = runner.invoke(
        app, ["new", "phone-system", "-o", str(model), "--start", "2026-01", "--months", "2"]
    )
    assert made.exit_code == 0, made.output
    summary = runner.invoke(app, ["calls", str(log), "--json", "--tz", "America/New_York"])
    assert summary.exit_code == 0, summary.output
    counted = json.loads(summary.stdout)
    assert counted["rows_read"] == counted["rows_counted"] + counted["rows_rejected"]
    imported = runner.invoke(
        app, ["import-calls", str(log), "--into", str(model), "--json", "--tz", "America/New_York"]
    )
    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.stdout)["import"]
    assert report["imported"] == ["2026-01", "2026-02"]
    assert report["missing"] == ["2026-03"]
    january = counted["months"]["2026-01"]
    from roi_xl.inspect.reader import read_workbook

    assert read_workbook(model).actuals["2026-01"]["calls_received"] == january["received"]
