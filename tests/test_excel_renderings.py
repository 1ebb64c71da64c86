"""The xlwings Lite module and the Office.js functions give what roi_xl.udfs gives, cell for cell.

Both are generated from the definitions and carry their own runtime, so they are run where
roi_xl cannot be imported: the Lite ``main.py`` in a fresh interpreter (no site, roi_xl blocked),
``functions.js`` under Node as Excel's JavaScript runtime loads it. Each is compared with the
UDFs (which evaluate the engine's tree) on one grid: scalars, ranges, broadcasts, empty cells,
text, error cells, rates above 100 %, negative counts, ranges that do not fit, overflow.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

try:
    import xlwings  # noqa: F401
except ImportError:  # CI installs it; elsewhere the UDFs are optional
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip("xlwings is not installed (pip install xlwings)", allow_module_level=True)

from roi_xl.excel import lite_runtime, office_js, render, udfs
from roi_xl.excel.setup import write_excel_setup
from roi_xl.model import expr
from roi_xl.model.excel_errors import ERROR_CODES, ExcelError
from roi_xl.model.functions import FUNCTIONS

SITE_PACKAGES = Path(np.__file__).resolve().parents[1]
RUN_FUNCTIONS = Path(__file__).resolve().parent / "node" / "run_functions.js"

SAMPLES: dict[str, list[float]] = {
    "count": [0.0, 3.0, 120.0],
    "rate": [0.0, 0.37, 1.0],
    "amount": [-500.0, 0.0, 1200.5],
    "years": [0.0, 1.0, 3.0],
    "number": [-2.0, 0.0, 7.5],
}
BAD_CELLS: list[object] = [None, "", "fifteen", "#N/A", "#DIV/0!", True]
BAD_BY_KIND: dict[str, list[float]] = {"rate": [37.0, 250.0, -0.2], "count": [-3.0]}
HUGE: dict[str, float] = {"rate": 1.0, "count": 1e308, "amount": 1e308, "years": 1e308}

Case = tuple[str, list[object]]


def grid() -> list[Case]:
    """Every function on every kind of input Excel can hand it."""
    cases: list[Case] = []
    for name, function in FUNCTIONS.items():
        kinds = [param.kind for param in function.params]
        samples = [SAMPLES[kind] for kind in kinds]
        typical = [values[1] for values in samples]
        cases += [(name, list(args)) for args in itertools.product(*samples)]
        cases.append((name, [[[value] for value in values] for values in samples]))  # columns
        cases.append((name, [[values[:2], values[1:]] for values in samples]))  # 2 x 2 blocks
        cases.append((name, [HUGE.get(kind, 1e308) for kind in kinds]))  # overflow: #NUM!
        for position, kind in enumerate(kinds):
            block = [samples[position][:2], [samples[position][2]] * 2]
            cells: list[object] = [[[value]] for value in typical]
            cases.append((name, [*cells[:position], block, *cells[position + 1 :]]))
            for bad in BAD_CELLS + BAD_BY_KIND.get(kind, []):
                alone: list[object] = list(typical)
                alone[position] = bad
                cases.append((name, alone))
                column = [[samples[position][0]], [bad], [bad]]  # located, "1 more cell"
                cases.append((name, [*cells[:position], column, *cells[position + 1 :]]))
                square = [[typical[position], typical[position]], [typical[position], bad]]
                cases.append((name, [*cells[:position], square, *cells[position + 1 :]]))
        if len(kinds) >= 2:
            misfit: list[object] = [[[typical[0]]] * 2, [[typical[1]]] * 3, *typical[2:]]
            cases.append((name, misfit))
            table = [[[v] for v in samples[0]], [samples[1]], *typical[2:]]  # column x row
            cases.append((name, table))
        cases.append((name, [[[1.0, 2.0], [3.0]], *typical[1:]]))  # ragged
    return cases


GRID = grid()

PROBE = """
import numpy as np
from xlwings import XlwingsError

def outcome(function, args):
    try:
        value = function(*args)
    except Exception as error:
        return {"raised": str(error), "kind": type(error).__name__,
                "xlwings": isinstance(error, XlwingsError)}
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "shape": list(value.shape)}
    if isinstance(value, str):
        return {"error": value}
    return {"value": value, "type": type(value).__name__}
"""
_probe: dict[str, object] = {}
exec(PROBE, _probe)  # the same judge in this process (roi_xl.udfs) and in the isolated one
outcome = _probe["outcome"]


def isolated_python(
    code: str, cwd: Path, stdin: object = None, env: dict[str, str] | None = None
) -> dict:
    """Run ``code`` in a fresh interpreter where roi_xl cannot be imported.

    No site (so no editable install of roi_xl), only the installed third-party packages on the
    path, and ``roi_xl`` blocked in ``sys.modules``: any import of it fails.
    """
    script = "import sys\nsys.modules['roi_xl'] = None\n" + textwrap.dedent(code)
    done = subprocess.run(
        [sys.executable, "-S", "-c", script],
        cwd=cwd,
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(cwd),
            "PYTHONPATH": str(SITE_PACKAGES),
            **(env or {}),
        },
        input=json.dumps(stdin),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# NaN cells (an empty cell as pandas would give it) only exist on the Python side.
GRID_FOR_LITE: list[Case] = [
    *GRID,
    *((name, [float("nan")] * len(f.params)) for name, f in FUNCTIONS.items()),
]

LITE_SCRIPT = (
    PROBE
    + """
import importlib, json
cases = json.load(sys.stdin)
main = importlib.import_module("main")
results = [outcome(getattr(main, name), args) for name, args in cases]
loaded = sorted(
    name for name, module in sys.modules.items()
    if name.split(".")[0] == "roi_xl" and module is not None
)
json.dump({"results": results, "roi_xl_modules": loaded, "file": main.__file__}, sys.stdout)
"""
)


@pytest.fixture(scope="module")
def setup_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("excel-setup")
    write_excel_setup(folder, office=True)
    return folder


@pytest.fixture(scope="module")
def lite_run(setup_folder: Path) -> dict:
    return isolated_python(LITE_SCRIPT, setup_folder, GRID_FOR_LITE)


# ----------------------------------------------------------------------------- xlwings Lite


def test_lite_module_imports_only_xlwings_numpy_and_the_standard_library(
    setup_folder: Path,
) -> None:
    tree = ast.parse((setup_folder / "main.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"numpy", "xlwings"}
    requirements = (setup_folder / "requirements.txt").read_text().split()
    assert requirements == ["xlwings", "numpy"]


def test_lite_module_runs_without_roi_xl(lite_run: dict, setup_folder: Path) -> None:
    assert lite_run["roi_xl_modules"] == []
    assert Path(lite_run["file"]).resolve() == (setup_folder / "main.py").resolve()


def test_lite_gives_what_the_udfs_give_on_the_whole_grid(lite_run: dict) -> None:
    results = lite_run["results"]
    assert len(results) == len(GRID_FOR_LITE) > 800
    mismatches = []
    for (name, args), got in zip(GRID_FOR_LITE, results, strict=True):
        want = json.loads(json.dumps(outcome(udfs.UDFS[name], args)))
        if got != want:
            mismatches.append((name, args, got, want))
    assert mismatches == []
    kinds = {next(iter(r)) for r in results}
    assert kinds == {"value", "error", "array", "raised"}  # the grid reaches every outcome
    assert any(r.get("error") == "#DIV/0!" for r in results)
    assert any(r.get("error") == "#NUM!" for r in results)
    assert all(r["xlwings"] and r["kind"] == "BadCellError" for r in results if "raised" in r)


def test_lite_module_is_what_xlwings_registers(setup_folder: Path) -> None:
    """Under xlwings' Office.js implementation (as in Lite): names, docs, spills, messages."""
    code = """
        import asyncio, importlib, json
        import xlwings, xlwings.server as server
        main = importlib.import_module("main")
        meta = server.custom_functions_meta(main)

        def call(name, args):
            data = {"func_name": name, "args": args, "version": xlwings.__version__,
                    "client": "Office.js", "runtime": "1.4", "caller_address": None}
            try:
                return {"result": asyncio.run(server.custom_functions_call(data, main))}
            except xlwings.XlwingsError as error:
                return {"error": str(error)}

        na = {"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}
        calls = {
            "spill": call("ROI", [[[300.0], [200.0], [0.0]], [[100.0]]]),
            "div0": call("CAC", [[[1000.0], [1000.0]], [[4.0], [0.0]]]),
            "error_in": call("ROI", [[[na], [200.0]], [[100.0]]]),
            "empty": call("MISSEDCALLLOSS", [[[120.0], [""]], [[0.4]], [[0.37]], [[850.0]]]),
            "rate": call("MISSEDCALLLOSS", [[[120.0]], [[37.0]], [[0.37]], [[850.0]]]),
        }
        print(json.dumps({"meta": meta, "calls": calls}))
    """
    env = {"XLWINGS_ON_SERVER": "true", "XLWINGS_LICENSE_KEY": "noncommercial"}
    out = isolated_python(code, setup_folder, env=env)
    listed = {entry["id"]: entry for entry in out["meta"]["functions"]}
    assert set(listed) == set(FUNCTIONS)
    for name, function in FUNCTIONS.items():
        assert listed[name]["description"] == function.description
        params = [(p["name"], p["description"]) for p in listed[name]["parameters"]]
        assert params == [(p.name, p.doc) for p in function.params]
    calls = out["calls"]
    assert calls["spill"] == {"result": [[2.0], [1.0], [-1.0]]}
    assert calls["div0"] == {"result": [[250.0], [{"type": "Error", "errorType": "Div0"}]]}
    assert calls["error_in"] == {
        "result": [[{"type": "Error", "errorType": "NotAvailable"}], [1.0]]
    }
    assert "MISSEDCALLLOSS: missed_calls (row 2 of its range) is empty" in calls["empty"]["error"]
    assert "enter 37% or 0.37" in calls["rate"]["error"]


def test_lite_runtime_error_codes_are_the_engines() -> None:
    for code, error in ERROR_CODES.items():
        assert lite_runtime.ERROR_TEXTS[code] == error.text
    assert set(lite_runtime.BUILTINS) == set(expr.BUILTINS)


# -------------------------------------------------------------------------------- Office.js


def as_matrix(value: object) -> object:
    """What Excel hands a matrix parameter: always rows of cells."""
    if isinstance(value, list):
        return value if all(isinstance(row, list) for row in value) else [value]
    return [[value]]


def run_js(node: str, script: Path, cases: Sequence[Case]) -> dict:
    done = subprocess.run(
        [node, str(RUN_FUNCTIONS)],
        input=json.dumps({"script": str(script), "cases": cases}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def close(got: object, want: object) -> bool:
    """Equal Excel errors, or numbers equal to 1e-12 (relative; absolute near zero)."""
    if isinstance(want, str) or isinstance(got, str):
        return got == want
    return math.isclose(float(got), float(want), rel_tol=1e-12, abs_tol=1e-12)


def js_matches(got: dict, want: dict) -> bool:
    if "raised" in want:
        return got.get("raised") == {"code": "#VALUE!", "message": want["raised"]}
    if "array" not in got or np.shape(got["array"]) != tuple(want["shape"]):
        return False
    return all(
        close(g, w)
        for g_row, w_row in zip(got["array"], want["array"], strict=True)
        for g, w in zip(g_row, w_row, strict=True)
    )


@pytest.fixture(scope="module")
def js_run(node: str, setup_folder: Path) -> tuple[list[Case], dict]:
    cases = [(name, [as_matrix(arg) for arg in args]) for name, args in GRID]
    return cases, run_js(node, setup_folder / "functions.js", cases)


def test_js_registers_every_function_once(js_run: tuple[list[Case], dict]) -> None:
    assert js_run[1]["registered"] == list(FUNCTIONS)


def test_js_gives_what_the_udfs_give_on_the_whole_grid(js_run: tuple[list[Case], dict]) -> None:
    cases, out = js_run
    assert len(out["results"]) == len(cases) > 800
    mismatches = []
    for (name, args), got in zip(cases, out["results"], strict=True):
        want = json.loads(json.dumps(outcome(udfs.UDFS[name], args)))
        if not js_matches(got, want):
            mismatches.append((name, args, got, want))
    assert mismatches == []
    cells = [c for r in out["results"] if "array" in r for row in r["array"] for c in row]
    assert {"#DIV/0!", "#NUM!", "#N/A"} <= {c for c in cells if isinstance(c, str)}


def test_js_gives_the_engines_values_on_numbers(js_run: tuple[list[Case], dict]) -> None:
    cases, out = js_run
    checked = 0
    for (name, args), got in zip(cases, out["results"], strict=True):
        if not all(len(a) == 1 and len(a[0]) == 1 for a in args) or "array" not in got:
            continue
        values = [a[0][0] for a in args]
        if not all(type(v) is float for v in values):
            continue
        want = FUNCTIONS[name](*values)
        want = want.text if isinstance(want, ExcelError) else want
        assert close(got["array"][0][0], want), (name, values, got, want)
        checked += 1
    assert checked > 200  # every scalar case of every function, overflow included


def test_js_bad_cells_say_which_argument(js_run: tuple[list[Case], dict]) -> None:
    out = js_run[1]
    messages = [r["raised"]["message"] for r in out["results"] if "raised" in r]
    assert "MISSEDCALLLOSS: lead_rate is 37, above 100 %: a rate must be between 0 and 1;" in (
        "\n".join(messages)
    )
    assert any(
        "(row 2 of its range) is the text 'fifteen', not a number (1 more" in m for m in messages
    )
    assert any("ranges do not fit together" in m for m in messages)
    assert all(r["raised"]["code"] == "#VALUE!" for r in out["results"] if "raised" in r)


def test_js_error_cells_as_excel_passes_them_propagate(node: str, setup_folder: Path) -> None:
    """With allowErrorForDataTypeAny, Excel hands error cells over as error objects."""
    na, div0 = {"code": "#N/A"}, {"code": "#DIV/0!"}
    cases: list[Case] = [("ROI", [[[na], [300.0], [div0]], [[100.0]]])]
    got = run_js(node, setup_folder / "functions.js", cases)["results"][0]
    assert got == {"array": [["#N/A"], [2.0], ["#DIV/0!"]]}
    assert udfs.ROI([["#N/A"], [300.0], ["#DIV/0!"]], [[100.0]]).tolist() == got["array"]


def test_js_number_format_is_pythons(node: str, tmp_path: Path) -> None:
    """The messages quote numbers as Python's format(x, "g") does."""
    values = [37.0, 0.37, -3.0, 250.0, 1e-05, 123456.0, 1234567.0, 0.0001, -0.2, 1e300, 5e-324]
    script = tmp_path / "format.js"
    script.write_text(
        office_js.RUNTIME.read_text()
        + f"\nprocess.stdout.write(JSON.stringify({json.dumps(values)}.map(formatG)));\n"
    )
    done = subprocess.run([node, str(script)], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [format(v, "g") for v in values]


def test_js_runtime_has_every_builtin_and_operation() -> None:
    source = office_js.RUNTIME.read_text()
    for name in expr.BUILTINS:
        assert f"  {name}: " in source
    for operation in [*render.OPERATIONS.values(), *render.UNARY.values()]:
        assert f"function {operation}(" in source or f"const {operation} = " in source


# ------------------------------------------------------------ metadata and manifest, checked


def check_addin(node: str, tools: Path, folder: Path) -> dict:
    done = subprocess.run(
        [node, str(tools / "check_addin.js"), str(folder)],
        cwd=tools,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(folder)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def checked_addin(node: str, office_tools: Path, setup_folder: Path) -> dict:
    return check_addin(node, office_tools, setup_folder)


def test_metadata_is_what_microsofts_generator_derives_from_functions_js(
    checked_addin: dict, setup_folder: Path
) -> None:
    ours = json.loads((setup_folder / "functions.json").read_text(encoding="utf-8"))
    assert checked_addin["errors"] == []
    assert checked_addin["metadata"]["functions"] == ours["functions"]
    assert [a["id"] for a in checked_addin["associate"]] == list(FUNCTIONS)
    assert [a["functionName"] for a in checked_addin["associate"]] == list(FUNCTIONS)
    # Error cells reach the functions, so one #N/A in a range gives #N/A in its own cell only.
    assert ours["allowErrorForDataTypeAny"] is True


def test_metadata_describes_every_function_from_its_definition(setup_folder: Path) -> None:
    ours = json.loads((setup_folder / "functions.json").read_text(encoding="utf-8"))
    assert [entry["id"] for entry in ours["functions"]] == list(FUNCTIONS)
    for entry in ours["functions"]:
        function = FUNCTIONS[entry["id"]]
        assert entry["name"] == function.name
        assert entry["description"] == function.description
        assert [(p["name"], p["description"]) for p in entry["parameters"]] == [
            (p.name, p.doc) for p in function.params
        ]
        assert all(
            p["type"] == "any" and p["dimensionality"] == "matrix" for p in entry["parameters"]
        )
        assert entry["result"] == {"dimensionality": "matrix"}


def test_microsofts_generator_does_reject_a_bad_declaration(
    node: str, office_tools: Path, setup_folder: Path, tmp_path: Path
) -> None:
    """The check above has teeth: a wrong type in functions.js is reported."""
    broken = setup_folder / "functions.js"
    text = broken.read_text(encoding="utf-8").replace(
        "@param {any[][]} gain", "@param {Widget} gain", 1
    )
    (tmp_path / "functions.js").write_text(text, encoding="utf-8")
    (tmp_path / "manifest.xml").write_text((setup_folder / "manifest.xml").read_text())
    assert check_addin(node, office_tools, tmp_path)["errors"] != []


def test_manifest_reads_as_an_excel_task_pane_add_in(checked_addin: dict) -> None:
    manifest = checked_addin["manifest"]
    assert manifest["id"] == office_js.ADD_IN_ID
    assert manifest["officeAppType"] == "TaskPaneApp"
    assert manifest["hosts"] == ["Workbook"]
    assert manifest["version"] == "0.1.0.0"
    assert manifest["defaultSettings"]["sourceLocation"] == f"{office_js.DEFAULT_URL}/taskpane.html"


def test_manifest_references_resolve_to_the_files_written(setup_folder: Path) -> None:
    from defusedxml import ElementTree

    root = ElementTree.fromstring((setup_folder / "manifest.xml").read_bytes())
    ids = {node.get("id") for node in root.iter() if node.get("DefaultValue") and node.get("id")}
    resids = {node.get("resid") for node in root.iter() if node.get("resid")}
    assert resids and resids <= ids
    urls = [
        node.get("DefaultValue")
        for node in root.iter()
        if (node.get("DefaultValue") or "").startswith("https://")
    ]
    assert urls
    for url in urls:
        assert url.startswith(office_js.DEFAULT_URL + "/")
        assert (setup_folder / url.removeprefix(office_js.DEFAULT_URL + "/")).is_file(), url
    namespace = [n for n in root.iter() if n.get("id") == "Functions.Namespace"]
    assert namespace[0].get("DefaultValue") == office_js.NAMESPACE
    for size in office_js.ICON_SIZES:
        png = (setup_folder / f"icon-{size}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert int.from_bytes(png[16:20], "big") == size


def test_taskpane_loads_office_js_and_the_functions(setup_folder: Path) -> None:
    page = (setup_folder / "taskpane.html").read_text(encoding="utf-8")
    assert '<script src="https://appsforoffice.microsoft.com/lib/1/hosted/office.js">' in page
    assert '<script src="functions.js">' in page
    for name in FUNCTIONS:
        assert f"={office_js.NAMESPACE}.{name}(" in page


def test_another_address_goes_into_the_manifest(tmp_path: Path) -> None:
    write_excel_setup(tmp_path, office=True, url="https://intranet.example.com/roi/")
    manifest = (tmp_path / "manifest.xml").read_text()
    assert 'DefaultValue="https://intranet.example.com/roi/functions.js"' in manifest
    assert "localhost" not in manifest


# --------------------------------------------------- a new definition reaches every rendering

NEW_DEFINITION = """
_DEFINITIONS.append(
    (
        "MARGINRETURN",
        [
            ("revenue", "Revenue the campaign brought in", "amount"),
            ("margin_rate", "Gross margin on that revenue", "rate"),
            ("cost", "What the campaign cost", "amount"),
        ],
        "ROUND(IF(cost = 0, 0, ROI(revenue * margin_rate, cost)), 4)"
        " + ABS(MIN(revenue, 0)) * MAX(margin_rate, 0.5) + -(margin_rate ^ 2) * 0",
        "Return on the margin a campaign brought, rounded to 4 decimals.",
        SOURCE_CRM,
    )
)
"""

RENDER_ALL = """
import json, sys
import roi_xl
from roi_xl.excel import lite, office_js, udfs
from roi_xl.model import expr
from roi_xl.model.functions import FUNCTIONS
from roi_xl.workbook.lambdas import lambda_formula

args = [float(a) for a in sys.argv[1:]]
function = FUNCTIONS["MARGINRETURN"]
call = expr.Call(function.name, tuple(expr.Ref(p) for p in function.param_names))
print(json.dumps({
    "package": roi_xl.__file__,
    "engine": function(*args),
    "udf": udfs.MARGINRETURN(*args),
    "excel": expr.to_excel(call, dict(zip(function.param_names, ["A1", "B1", "C1"])), FUNCTIONS),
    "lambda": lambda_formula(function),
    "lite": lite.lite_main(),
    "js": office_js.functions_js(),
    "metadata": office_js.metadata(),
}))
"""


def excel_value(formula: str, cells: dict[str, float]) -> float:
    import formulas

    compiled = formulas.Parser().ast("=" + formula)[1].compile()
    return float(compiled(*[cells[str(name).upper()] for name in compiled.inputs]))


@pytest.mark.parametrize(
    ("args", "expected"), [((1200.0, 0.4, 300.0), 0.6), ((-100.0, 0.4, 300.0), 48.8667)]
)
def test_a_new_definition_appears_in_every_rendering(
    tmp_path: Path, node: str, args: tuple[float, float, float], expected: float
) -> None:
    """Add a function to a copy of the package's definitions, change nothing else."""
    import shutil

    import roi_xl

    copy = tmp_path / "package"
    shutil.copytree(
        Path(roi_xl.__file__).parent,
        copy / "roi_xl",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    definitions = copy / "roi_xl" / "model" / "functions.py"
    text = definitions.read_text(encoding="utf-8")
    anchor = "\n\ndef _build()"
    assert anchor in text
    definitions.write_text(text.replace(anchor, NEW_DEFINITION + anchor, 1), encoding="utf-8")

    done = subprocess.run(
        [sys.executable, "-c", RENDER_ALL, *map(str, args)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(copy)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert Path(out["package"]).is_relative_to(copy)  # the copy, not the installed package
    assert out["engine"] == pytest.approx(expected)
    assert out["udf"] == out["engine"]
    cells = dict(zip(["A1", "B1", "C1"], args, strict=True))
    assert excel_value(out["excel"], cells) == pytest.approx(expected)
    params = ",".join(f"_xlpm.{p}" for p in ("revenue", "margin_rate", "cost"))
    assert out["lambda"].startswith(f"=_xlfn.LAMBDA({params},")
    lambda_body = out["lambda"].removeprefix(f"=_xlfn.LAMBDA({params},").removesuffix(")")
    for name, ref in (("margin_rate", "B1"), ("revenue", "A1"), ("cost", "C1")):
        lambda_body = lambda_body.replace(f"_xlpm.{name}", ref)
    assert excel_value(lambda_body, cells) == pytest.approx(expected)

    (tmp_path / "lite").mkdir()
    (tmp_path / "lite" / "main.py").write_text(out["lite"], encoding="utf-8")
    lite_out = isolated_python(
        PROBE
        + "import importlib, json\n"
        + "main = importlib.import_module('main')\n"
        + "print(json.dumps(outcome(main.MARGINRETURN, json.load(sys.stdin))))\n",
        tmp_path / "lite",
        list(args),
    )
    assert lite_out == {"value": out["engine"], "type": "float"}

    (tmp_path / "functions.js").write_text(out["js"], encoding="utf-8")
    js_out = run_js(node, tmp_path / "functions.js", [("MARGINRETURN", [[[a]] for a in args])])
    assert "MARGINRETURN" in js_out["registered"]
    assert close(js_out["results"][0]["array"][0][0], out["engine"])

    entry = next(e for e in out["metadata"]["functions"] if e["id"] == "MARGINRETURN")
    assert [p["name"] for p in entry["parameters"]] == ["revenue", "margin_rate", "cost"]
