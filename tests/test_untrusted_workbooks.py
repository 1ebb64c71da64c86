"""What a workbook says is checked before it is used, and nothing is lost or left behind.

A user's own template is recorded by key and content hash and given back with
``--template``; a roll-up survives a worker that dies and never adds two
currencies; two imports into one workbook do not lose a month; a killed write's
temporary file is removed by the next write; a dangling symlink is not replaced
unasked; text from a file is never read as markup; a full disk is one line.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

import roi_xl.rollup.consolidate as consolidate
from roi_xl.batch import generate_batch
from roi_xl.cli import app
from roi_xl.files import remove_stale_partials
from roi_xl.inspect.patch import import_figures
from roi_xl.inspect.reader import read_workbook
from roi_xl.locale import load_locale
from roi_xl.model import template
from roi_xl.workbook import WorkbookOptions, write_workbook
from roi_xl.workbook.layout import SCENARIO_COLS, build_layout, cell

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).parent / "roi-xl"
START = dt.date(2026, 1, 1)
runner = CliRunner()


def write(path: Path, model: template.Template | str = "phone-system", **options) -> Path:
    chosen = template.load(model) if isinstance(model, str) else model
    return write_workbook(chosen, path, WorkbookOptions(start=START, force=True, **options))


def roi_xl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("error:"), result.stderr
    return " ".join(result.stderr.split())


# ------------------------------------------------------------------ a user's own template


@pytest.fixture()
def own_template(tmp_path: Path) -> Path:
    text = (ROOT / "templates" / "phone-system.toml").read_text("utf-8")
    path = tmp_path / "my-phones.toml"
    path.write_text(text.replace('key = "phone-system"', 'key = "my-phones"', 1), "utf-8")
    return path


def test_a_workbook_from_a_users_template_is_read_back_with_that_template(
    own_template: Path, tmp_path: Path
) -> None:
    model = template.load(own_template)
    book = write(tmp_path / "mine.xlsx", model)
    with zipfile.ZipFile(book) as archive:
        custom = archive.read("docProps/custom.xml").decode()
    assert model.digest in custom and "my-phones" in custom
    assert str(own_template) not in custom  # a key and a hash, never a path
    message = one_line_error(roi_xl("audit", str(book)))
    assert "my-phones" in message and "--template" in message
    audited = roi_xl("audit", str(book), "--template", str(own_template))
    assert audited.returncode == 0, audited.stdout + audited.stderr
    read = read_workbook(book, model)
    assert read.template == "my-phones" and read.findings == []


def test_a_template_file_other_than_the_one_recorded_is_refused(
    own_template: Path, tmp_path: Path
) -> None:
    book = write(tmp_path / "mine.xlsx", template.load(own_template))
    edited = tmp_path / "edited.toml"
    edited.write_text(own_template.read_text("utf-8").replace("Phone", "Fone"), "utf-8")
    message = one_line_error(roi_xl("read", "--json", str(book), "--template", str(edited)))
    assert "template_hash" in message and "mine.xlsx" in message
    other = one_line_error(
        roi_xl("audit", str(book), "--template", str(ROOT / "templates" / "crm.toml"))
    )
    assert "'crm'" in other and "template_key" in other


def test_a_builtin_key_over_other_content_is_refused(own_template: Path, tmp_path: Path) -> None:
    """A user's template that kept a built-in key is not audited against the built-in."""
    text = (ROOT / "templates" / "phone-system.toml").read_text("utf-8")
    renamed = tmp_path / "phone-system-edited.toml"
    renamed.write_text(text.replace("Phone", "Fone"), "utf-8")
    book = write(tmp_path / "same-key.xlsx", template.load(renamed))
    message = one_line_error(roi_xl("audit", str(book)))
    assert "template_hash" in message and "--template" in message
    assert roi_xl("audit", str(book), "--template", str(renamed)).returncode == 0


def test_rollup_and_import_calls_take_the_template_too(own_template: Path, tmp_path: Path) -> None:
    model = template.load(own_template)
    folder = tmp_path / "books"
    folder.mkdir()
    write(folder / "mine.xlsx", model)
    write(folder / "builtin.xlsx", "crm")
    output = tmp_path / "rollup.xlsx"
    result = roi_xl("rollup", str(folder), "-o", str(output), "--template", str(own_template))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "my-phones" in result.stdout and "crm" in result.stdout
    calls = ROOT / "samples" / "calls" / "calls-2026-q1.csv"
    book = folder / "mine.xlsx"
    imported = roi_xl(
        "import-calls", str(calls), "--into", str(book), "--template", str(own_template)
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "2026-01" in imported.stdout


# ------------------------------------------------------------------ the roll-up


def _dies_on_crm(path: str, audit: str, supplied: template.Template | None = None):
    if "crm" in Path(path).name:
        os.abort()  # as python-calamine does on a forged count: SIGABRT, no message
    return REAL_SUMMARISE(path, audit, supplied)


REAL_SUMMARISE = consolidate.summarise


@pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="workers inherit the patched reader"
)
def test_rollup_survives_a_worker_that_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "books"
    folder.mkdir()
    for index in range(5):
        write(folder / f"phone-{index}.xlsx")
    write(folder / "crm-branch.xlsx", "crm")
    monkeypatch.setattr(consolidate, "summarise", _dies_on_crm)
    output = tmp_path / "rollup.xlsx"
    report = consolidate.rollup([folder], output, workers=2)
    assert [Path(f.path).name for f in report.failures] == ["crm-branch.xlsx"]
    assert "SIGABRT" in report.failures[0].reason
    assert report.files_read == 5
    assert output.is_file()


def test_rollup_never_adds_two_currencies(tmp_path: Path) -> None:
    folder = tmp_path / "books"
    folder.mkdir()
    write(folder / "a-boston.xlsx", locale="en-US")
    write(folder / "b-lyon.xlsx", locale="fr-FR")
    report = consolidate.rollup([folder], tmp_path / "rollup.xlsx", workers=1)
    assert [t.files for t in report.templates] == [1]
    assert report.templates[0].locales == ["en-US"]
    assert [Path(f.path).name for f in report.failures] == ["b-lyon.xlsx"]
    assert "currency_mix" in report.failures[0].reason
    assert "€" in report.failures[0].reason and "$" in report.failures[0].reason


# ------------------------------------------------------------------ lost updates and leftovers

JANUARY = {"calls_received": 1200.0, "calls_answered": 1020.0, "calls_missed": 180.0}
FEBRUARY = {"calls_received": 1100.0, "calls_answered": 990.0, "calls_missed": 110.0}


def _import(
    path: str, month: str, figures: dict[str, float], start: multiprocessing.Barrier
) -> None:
    start.wait()
    import_figures(path, {month: figures})


def test_two_imports_at_once_both_land(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for attempt in range(4):
        book = write(tmp_path / f"shared-{attempt}.xlsx")
        start = context.Barrier(2)
        workers = [
            context.Process(target=_import, args=(str(book), month, figures, start))
            for month, figures in (("2026-01", JANUARY), ("2026-02", FEBRUARY))
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert [w.exitcode for w in workers] == [0, 0]
        actuals = read_workbook(book).actuals
        assert actuals["2026-01"]["calls_received"] == 1200.0, f"January lost ({attempt})"
        assert actuals["2026-02"]["calls_received"] == 1100.0, f"February lost ({attempt})"


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    target = tmp_path / "model.xlsx"
    stale = tmp_path / f".model.xlsx.roi-xl-{gone.pid}-abc123.partial"
    alive = tmp_path / f".model.xlsx.roi-xl-{os.getppid()}-def456.partial"
    other = tmp_path / f".other.xlsx.roi-xl-{gone.pid}-abc123.partial"
    for path in (stale, alive, other):
        path.write_bytes(b"half a workbook")
    write(target)
    assert not stale.exists()  # its process is gone
    assert alive.exists() and other.exists()  # a running writer's, another file's
    assert remove_stale_partials(tmp_path / "other.xlsx") == [other]


def test_a_batch_sweeps_its_folder_once_of_its_files_killed_writers_left(tmp_path: Path) -> None:
    """The batch removes the stale temporary files of the workbooks it writes before it
    starts (its workers then write without looking through the folder each time), and
    leaves a running writer's and another file's alone."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    people = tmp_path / "people.csv"
    people.write_text("name,users\nNorth,12\nSouth.roi-xl-7-x,14\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    stale = [
        out / f".North.xlsx.roi-xl-{gone.pid}-abc123.partial",
        out / f".South.roi-xl-7-x.xlsx.roi-xl-{gone.pid}-abc123.partial",
    ]
    kept = [
        out / f".North.xlsx.roi-xl-{os.getppid()}-def456.partial",
        out / f".West.xlsx.roi-xl-{gone.pid}-abc123.partial",
    ]
    for path in (*stale, *kept):
        path.write_bytes(b"half a workbook")
    report = generate_batch(template.load("crm"), people, out, workers=1)
    assert sorted(w.path.name for w in report.written) == ["North.xlsx", "South.roi-xl-7-x.xlsx"]
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)
    assert sorted(out.glob("*.partial")) == sorted(kept)  # none of its own left behind


def test_new_does_not_replace_a_dangling_symlink_unasked(tmp_path: Path) -> None:
    link = tmp_path / "model.xlsx"
    link.symlink_to(tmp_path / "elsewhere.xlsx")
    message = one_line_error(roi_xl("new", "crm", "-o", str(link)))
    assert "already exists" in message
    assert link.is_symlink() and not (tmp_path / "elsewhere.xlsx").exists()


# ------------------------------------------------------------------ one line, never a traceback


@pytest.mark.parametrize("start", ["0000-01", "2026-13", "２０２６-01", "9999-12"])
def test_new_refuses_a_start_excel_cannot_show(start: str, tmp_path: Path) -> None:
    message = one_line_error(roi_xl("new", "crm", "-o", str(tmp_path / "m.xlsx"), "--start", start))
    assert "--start" in message


def test_markup_in_a_cell_and_a_path_is_printed_as_text(tmp_path: Path) -> None:
    (tmp_path / "odd[").mkdir()
    book = tmp_path / "odd[/]model.xlsx"  # the path itself holds rich's closing tag
    made = roi_xl("new", "phone-system", "-o", str(book), "--start", "2026-01")
    assert made.returncode == 0, made.stderr
    assert "odd[/]model.xlsx" in " ".join(made.stdout.split())
    model = template.load("phone-system")
    layout = build_layout(model, load_locale("en-US"), START, 12)
    ref = cell(layout.input_rows[model.inputs[0].key], SCENARIO_COLS["realistic"]).encode()
    typed = tmp_path / "typed.xlsx"
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(typed, "w", zipfile.ZIP_DEFLATED) as out:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":  # an input typed as rich markup
                pattern = rb'<c r="' + ref + rb'"[^>]*?(?:/>|>.*?</c>)'
                markup = b'<c r="' + ref + b'" t="inlineStr"><is><t>[/]</t></is></c>'
                data, count = re.subn(pattern, markup, data, count=1, flags=re.S)
                assert count == 1
            out.writestr(info, data)
    audited = roi_xl("audit", str(typed))
    assert audited.returncode == 1, audited.stdout + audited.stderr  # a finding, printed
    assert "'[/]'" in audited.stdout
    assert "Traceback" not in audited.stderr


def test_a_full_disk_is_one_line(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes writes fail as a full disk does (Python ignores SIGXFSZ)."""
    import resource

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    target = tmp_path / "model.xlsx"
    result = subprocess.run(
        [str(CLI), "new", "crm", "-o", str(target)],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
        env={**os.environ, "COLUMNS": "200"},
    )
    message = one_line_error(result)
    assert str(target) in message and "too large" in message.lower()
    assert list(tmp_path.iterdir()) == []  # no workbook, no temporary file
    runner_result = runner.invoke(app, ["audit", str(tmp_path / "missing.xlsx")])
    assert runner_result.exit_code == 2
