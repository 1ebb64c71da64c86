"""The Excel side of the functions: named LAMBDAs in the file, and the xlwings set-up files."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import formulas
import pytest
from defusedxml import ElementTree
from typer.testing import CliRunner

from roi_xl.cli import app
from roi_xl.inspect.recalc import recalculate
from roi_xl.model import template
from roi_xl.model.functions import FUNCTIONS
from roi_xl.workbook import WorkbookOptions, write_workbook

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
SAMPLE = {"count": 120.0, "rate": 0.37, "amount": 850.0, "years": 3.0, "number": 2.0}


def defined_names(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        root = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    return {node.get("name"): node.text or "" for node in root.iter(f"{NS}definedName")}


@pytest.fixture(scope="module")
def lambda_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lambdas") / "model.xlsx"
    options = WorkbookOptions(start=dt.date(2026, 1, 1), months=2, lambdas=True)
    return write_workbook(template.load("phoning-b2b"), path, options)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_function_is_a_named_lambda_rendered_from_its_definition(
    lambda_workbook: Path, name: str
) -> None:
    function = FUNCTIONS[name]
    text = defined_names(lambda_workbook)[name]
    match = re.fullmatch(r"_xlfn\.LAMBDA\((.*)\)", text)
    assert match, text
    parts = match.group(1).split(",", len(function.params))
    params, body = parts[:-1], parts[-1]
    assert params == [f"_xlpm.{p}" for p in function.param_names]
    # The body computes what the definition computes: evaluate it with the sample values.
    cells = {f"_xlpm.{p.name}": f"{chr(65 + i)}1" for i, p in enumerate(function.params)}
    for placeholder, ref in sorted(cells.items(), key=lambda item: -len(item[0])):
        body = body.replace(placeholder, ref)
    compiled = formulas.Parser().ast("=" + body)[1].compile()
    values = {f"{chr(65 + i)}1": SAMPLE[p.kind] for i, p in enumerate(function.params)}
    theirs = float(compiled(*[values[str(k).upper()] for k in compiled.inputs]))
    assert theirs == pytest.approx(function(*[SAMPLE[p.kind] for p in function.params]))


def test_lambdas_only_when_asked(tmp_path: Path) -> None:
    path = write_workbook(
        template.load("crm"),
        tmp_path / "plain.xlsx",
        WorkbookOptions(start=dt.date(2026, 1, 1), months=1),
    )
    assert not set(FUNCTIONS) & set(defined_names(path))


def test_the_model_does_not_depend_on_its_lambdas(
    lambda_workbook: Path, tmp_path: Path, soffice: str
) -> None:
    """LibreOffice ignores LAMBDA; the recalculated model must still read back clean."""
    from roi_xl.inspect.reader import read_workbook

    recalculated = recalculate([lambda_workbook], tmp_path)[0]
    result = read_workbook(recalculated)
    assert [f for f in result.findings if f.severity == "error"] == []


def test_excel_setup_writes_what_xlwings_needs(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["excel", "setup", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["HOWTO.md", "main.py", "requirements.txt", "xlwings.conf"]
    pairs = [re.findall(r'"([^"]*)"', line) for line in (tmp_path / "xlwings.conf").open()]
    assert ["UDF Modules", "roi_xl.udfs"] in pairs
    howto = (tmp_path / "HOWTO.md").read_text()
    for needed in ("xlwings addin install", "Import Functions", ".xlsm", "--lambdas", "Lite"):
        assert needed in howto
    imported = subprocess.run(
        [sys.executable, "-c", "import main; print(main.MISSEDCALLLOSS(120, 0.4, 0.37, 850))"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert float(imported.stdout) == pytest.approx(15096)
    again = runner.invoke(app, ["excel", "setup", str(tmp_path)])
    assert again.exit_code == 2 and "--force" in again.output
    assert runner.invoke(app, ["excel", "setup", str(tmp_path), "--force"]).exit_code == 0


def test_excel_setup_office_js_adds_the_add_in_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["excel", "setup", str(tmp_path), "--office-js"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.iterdir()}
    assert {"functions.js", "functions.json", "manifest.xml", "taskpane.html"} <= names
    assert not [name for name in names if name.endswith(".partial")]  # no temporary left over
    howto = (tmp_path / "HOWTO.md").read_text()
    assert "Upload My Add-in" in howto and "=ROIXL.MISSEDCALLLOSS(" in howto


def test_install_steps_are_ones_that_work(tmp_path: Path) -> None:
    """No package index has roi_xl: the steps install it from the checkout or a built wheel."""
    CliRunner().invoke(app, ["excel", "setup", str(tmp_path)])
    howto = (tmp_path / "HOWTO.md").read_text()
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for text in (howto, readme):
        assert 'pip install "roi_xl[excel]"' not in text
        assert "python -m build" in text
        assert "-py3-none-any.whl[excel]" in text
    assert "roi_xl==" not in (tmp_path / "requirements.txt").read_text()


def test_excel_setup_never_writes_through_a_link(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text("precious = True\n")
    folder = tmp_path / "excel"
    folder.mkdir()
    (folder / "main.py").symlink_to(elsewhere)
    for extra in ([], ["--force"]):
        result = CliRunner().invoke(app, ["excel", "setup", str(folder), *extra])
        assert result.exit_code == 2
        assert "main.py" in result.output and "link" in result.output
    assert elsewhere.read_text() == "precious = True\n"
    assert sorted(p.name for p in folder.iterdir()) == ["main.py"]  # nothing else written


def test_excel_setup_replaces_nothing_without_force(tmp_path: Path) -> None:
    (tmp_path / "HOWTO.md").write_text("my notes\n")
    result = CliRunner().invoke(app, ["excel", "setup", str(tmp_path), "--office-js"])
    assert result.exit_code == 2 and "HOWTO.md" in result.output
    assert (tmp_path / "HOWTO.md").read_text() == "my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["HOWTO.md"]


def test_excel_setup_refuses_an_address_office_cannot_load(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["excel", "setup", str(tmp_path), "--office-js", "--url", "http://intranet/roi"]
    )
    assert result.exit_code == 2 and "HTTPS" in result.output
    assert not list(tmp_path.iterdir())
