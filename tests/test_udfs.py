"""The Excel functions (xlwings UDFs): same values as FUNCTIONS, clear messages, xlwings metadata.

xlwings' decorators are no-ops on Linux without Excel, so the UDFs are called here as plain
functions. What xlwings Server and the classic add-in make of the module is checked in
subprocesses (their decorators depend on the environment at import time), leaving this
process's environment untouched.
"""

from __future__ import annotations

import inspect
import itertools
import json
import os
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

try:
    import xlwings
except ImportError:  # CI installs it; elsewhere the UDFs are optional
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip("xlwings is not installed (pip install xlwings)", allow_module_level=True)

from roi_xl.excel import udfs
from roi_xl.model.excel_errors import DIV0, ExcelError
from roi_xl.model.functions import FUNCTIONS

ROOT = Path(__file__).resolve().parent.parent

# Valid values per parameter kind, zeros included so divisions give #DIV/0! somewhere.
SAMPLES: dict[str, list[float]] = {
    "count": [0.0, 3.0, 120.0],
    "rate": [0.0, 0.37, 1.0],
    "amount": [-500.0, 0.0, 1200.5],
    "years": [0.0, 1.0, 3.0],
    "number": [-2.0, 0.0, 7.5],
}


def assert_same(actual: object, expected: object) -> None:
    """Element-wise: equal floats, or the same Excel error (text "#DIV/0!" == DIV0)."""
    if isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), f"{actual!r} is not an array"
        assert actual.shape == expected.shape
        for got, want in zip(actual.reshape(-1), expected.reshape(-1), strict=True):
            assert_same(got, want)
        return
    if isinstance(expected, ExcelError):
        assert isinstance(actual, str) and actual == expected, f"{actual!r} is not {expected}"
        return
    assert not isinstance(actual, str), f"{actual!r} is an error, expected {expected!r}"
    assert float(actual) == float(expected)


def column(values: Sequence[float]) -> list[list[float]]:
    """A column as xlwings passes it to a UDF with ndim=2."""
    return [[value] for value in values]


# ------------------------------------------------------------------------- the functions


def test_every_function_is_a_udf_of_the_same_name() -> None:
    assert set(udfs.UDFS) == set(FUNCTIONS)
    for name in FUNCTIONS:
        assert name.isupper()
        assert getattr(udfs, name) is udfs.UDFS[name]
        assert udfs.UDFS[name].__name__ == name
        assert name in udfs.__all__


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_arguments_and_docs_come_from_the_definition(name: str) -> None:
    udf, function = udfs.UDFS[name], FUNCTIONS[name]
    parameters = inspect.signature(udf).parameters
    assert list(parameters) == [param.name for param in function.params]
    assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in parameters.values())
    assert udf.__doc__ == function.description
    assert 0 < len(udf.__doc__) < 255  # Excel's limit for a function description
    for param in function.params:
        assert 0 < len(param.doc) < 255  # and for an argument description


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_scalars_give_what_functions_give(name: str) -> None:
    function, udf = FUNCTIONS[name], udfs.UDFS[name]
    choices = [SAMPLES[param.kind] for param in function.params]
    for args in itertools.product(*choices):
        assert_same(udf(*args), function(*args))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_lists_and_2d_lists_give_what_functions_give(name: str) -> None:
    function, udf = FUNCTIONS[name], udfs.UDFS[name]
    rows = [SAMPLES[param.kind] for param in function.params]
    expected = function(*(np.array(row) for row in rows))
    assert_same(udf(*rows), expected)  # 1-D lists
    columns = [column(row) for row in rows]
    assert_same(udf(*columns), expected.reshape(3, 1))  # columns, as Excel passes ranges
    blocks = [[row[:2], row[1:]] for row in rows]  # 2 x 2 blocks
    assert_same(udf(*blocks), function(*(np.array(block) for block in blocks)))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_a_single_cell_broadcasts_against_a_range(name: str) -> None:
    function, udf = FUNCTIONS[name], udfs.UDFS[name]
    samples = [SAMPLES[param.kind] for param in function.params]
    for position in range(len(samples)):
        block = [[samples[position][0], samples[position][1]], [samples[position][2]] * 2]
        args: list[object] = [row[1] for row in samples]  # single cells
        args[position] = block
        expected = function(*(np.array(a) for a in args))
        result = udf(*args)
        assert result.shape == (2, 2)
        assert_same(result, expected)
        # Single cells as Excel passes them (1 x 1) broadcast the same way.
        as_cells = [[[a]] if i != position else a for i, a in enumerate(args)]
        assert_same(udf(*as_cells), expected)


def test_a_column_against_a_row_gives_a_table() -> None:
    result = udfs.ROI(column([100.0, 200.0]), [[50.0, 100.0, 0.0]])
    assert result.shape == (2, 3)
    assert_same(result, FUNCTIONS["ROI"](np.array([[100.0], [200.0]]), np.array([50.0, 100, 0])))


def test_division_by_zero_is_the_div0_error_text_not_an_exception() -> None:
    assert udfs.ROI(100, 0) == "#DIV/0!"
    assert udfs.PAYBACKMONTHS(12000, -10) == -1  # never pays back: a number, not an error
    result = udfs.CAC(column([1000.0, 1000.0]), column([4.0, 0.0]))
    assert result.tolist() == [[250.0], ["#DIV/0!"]]  # what xlwings writes; Office.js: Div0


def test_numbers_only_give_a_float_array() -> None:
    result = udfs.SUPPORTVALUE(column([1.0, 2.0]), 6)
    assert result.dtype == float
    assert result.tolist() == [[6.0], [12.0]]


def test_error_cells_propagate_like_in_excel() -> None:
    # xlwings reads error cells as their text (err_to_str=True): the same error comes out.
    result = udfs.ROI(column(["#N/A", 300.0, "#REF!"]), column([100.0, "#DIV/0!", 100.0]))
    assert result.tolist() == [["#N/A"], ["#DIV/0!"], ["#REF!"]]
    assert udfs.ROI(DIV0, 1) == "#DIV/0!"


def test_true_and_false_count_as_one_and_zero_like_excel_arithmetic() -> None:
    assert udfs.SUPPORTVALUE(True, 6) == 6.0
    assert udfs.SUPPORTVALUE([True, False, 2.0], 6).tolist() == [6.0, 0.0, 12.0]


def test_keyword_arguments_work_from_python() -> None:
    assert udfs.ROI(cost=100, gain=300) == 2.0
    with pytest.raises(TypeError, match="cost"):
        udfs.ROI(300)


# ---------------------------------------------------------------------------- bad cells


def bad_cell_message(name: str, *args: object) -> str:
    with pytest.raises(xlwings.XlwingsError) as caught:
        udfs.UDFS[name](*args)
    assert isinstance(caught.value, udfs.BadCellError)
    message = str(caught.value)
    assert "Traceback" not in message
    assert message.startswith(f"{name}: ")
    return message


@pytest.mark.parametrize("empty", [None, "", float("nan")])
def test_an_empty_cell_is_named(empty: object) -> None:
    message = bad_cell_message("MISSEDCALLLOSS", 120, empty, 0.37, 850)
    assert "lead_rate is empty" in message
    assert "Share of calls that are true sales opportunities" in message  # what it means


def test_an_empty_cell_in_a_range_is_located() -> None:
    message = bad_cell_message("ROI", column([100.0, None, None, 5.0]), 50)
    assert "gain (row 2 of its range) is empty" in message
    assert "1 more cell like it" in message
    message = bad_cell_message("ROI", [[1.0, 2.0], [3.0, None]], 50)
    assert "gain (row 2, column 2 of its range) is empty" in message


def test_text_is_named_and_quoted() -> None:
    message = bad_cell_message("CAC", 12000, column([15.0, "fifteen"]))
    assert "new_customers (row 2 of its range) is the text 'fifteen', not a number" in message


def test_a_rate_above_100_percent_says_it_is_probably_a_percentage() -> None:
    message = bad_cell_message("MISSEDCALLLOSS", 120, 37, 0.37, 850)
    assert "lead_rate is 37, above 100 %" in message
    assert "a rate must be between 0 and 1" in message
    assert "37 is probably 37 %: enter 37% or 0.37" in message
    message = bad_cell_message("LTV", 2400, 1200, 3, 0.2, [[0.08, 8.0]])
    assert "discount_rate (column 2 of its range) is 8, above 100 %" in message
    assert "enter 8% or 0.08" in message
    message = bad_cell_message("DISCOUNTFACTOR", 250, 1)
    assert "discount_rate is 250, above 100 %" in message
    assert "probably" not in message  # no percentage reading of 250


def test_a_negative_rate_is_refused() -> None:
    message = bad_cell_message("LTV", 2400, 1200, 3, -0.2, 0.08)
    assert "churn_rate is -0.2: a rate must be between 0 and 1" in message


def test_a_negative_count_is_refused() -> None:
    message = bad_cell_message("MISSEDCALLLOSS", column([10.0, -3.0, -4.0]), 0.4, 0.37, 850)
    assert "missed_calls (row 2 of its range) is -3: a count cannot be negative" in message
    assert "1 more cell like it" in message
    assert "Calls not answered" in message


def test_negative_amounts_are_fine() -> None:
    assert udfs.ROI(-500, 1000) == -1.5


def test_ranges_that_do_not_fit_are_refused() -> None:
    message = bad_cell_message("ROI", column([1.0, 2.0]), column([1.0, 2.0, 3.0]))
    assert "ranges do not fit together (gain 2 x 1, cost 3 x 1)" in message


def test_a_ragged_range_is_refused() -> None:
    message = bad_cell_message("ROI", [[1.0, 2.0], [3.0]], 1)
    assert "gain is not a rectangular range" in message


# ------------------------------------------------------------------------- vectorisation


def test_missed_call_loss_over_100000_rows_in_one_evaluation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = 100_000
    rng = np.random.default_rng(20260101)
    calls = rng.integers(0, 500, rows).astype(float)
    lead, conversion = rng.uniform(0, 1, rows), rng.uniform(0, 1, rows)
    value = rng.uniform(10, 5000, rows)
    evaluations = 0
    evaluate = udfs.expr.evaluate

    def counting(*args: object, **kwargs: object) -> object:
        nonlocal evaluations
        evaluations += 1
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(udfs.expr, "evaluate", counting)
    # Four 100,000-row columns, as xlwings passes them (lists of one-cell rows).
    result = udfs.MISSEDCALLLOSS(column(calls), column(lead), column(conversion), column(value))
    assert evaluations == 1  # the whole range at once, not a Python call per row
    assert result.shape == (rows, 1)
    assert result.dtype == float
    assert np.array_equal(result[:, 0], calls * lead * conversion * value)
    expected = FUNCTIONS["MISSEDCALLLOSS"](calls, lead, conversion, value)
    assert np.array_equal(result[:, 0], expected.astype(float))
    # The same block as one 100,000 x 4 array, split in columns.
    block = np.column_stack([calls, lead, conversion, value])
    by_columns = udfs.MISSEDCALLLOSS(*(block[:, [i]] for i in range(4)))
    assert np.array_equal(by_columns, result)


# ------------------------------------------------------------------ xlwings, per runtime


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with exactly ``env`` (plus PATH)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def clean_env(tmp_path: Path) -> dict[str, str]:
    """No xlwings settings at all; HOME elsewhere so no ~/.xlwings/xlwings.conf licence."""
    return {"HOME": str(tmp_path), "USERPROFILE": str(tmp_path)}


def test_plain_import_needs_no_excel_and_no_licence(tmp_path: Path) -> None:
    done = run_python(
        """
        import xlwings, roi_xl.udfs as udfs
        assert not hasattr(udfs.ROI, "__xlfunc__")  # no-op decorators without Excel
        print(udfs.ROI(300, 100))
        """,
        clean_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2.0"


def test_server_mode_without_a_licence_key_does_not_import(tmp_path: Path) -> None:
    done = run_python("import roi_xl.udfs", {**clean_env(tmp_path), "XLWINGS_ON_SERVER": "true"})
    assert done.returncode != 0
    assert "LicenseError" in done.stderr


SERVER_SCRIPT = """
import asyncio, json
from pathlib import Path
import xlwings, xlwings.server as server
from xlwings.pro import udfs_officejs
import roi_xl.udfs as udfs

meta = server.custom_functions_meta(udfs)

# custom_functions_code() reads a JS template the xlwings 0.37.8 wheel does not ship; the
# per-function code it appends is what depends on this module, so use an empty template then.
template = Path(udfs_officejs.__file__).with_name("custom_functions_code.js")
template_missing = not template.exists()
if template_missing:
    read_text = Path.read_text
    Path.read_text = lambda self, *a, **k: "" if self == template else read_text(self, *a, **k)
code = server.custom_functions_code(udfs)

def call(name, args):
    data = {"func_name": name, "args": args, "version": xlwings.__version__,
            "client": "Office.js", "runtime": "1.4", "caller_address": None}
    try:
        return {"result": asyncio.run(server.custom_functions_call(data, udfs))}
    except xlwings.XlwingsError as error:
        return {"error": str(error)}

error_cell = {"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}
calls = {
    "spill": call("ROI", [[[300.0], [200.0], [0.0]], [[100.0]]]),
    "div0": call("ROI", [[[300.0], [200.0]], [[100.0], [0.0]]]),
    "error_in": call("ROI", [[[error_cell], [200.0]], [[100.0]]]),
    "empty": call("MISSEDCALLLOSS", [[[120.0], [""]], [[0.4]], [[0.37]], [[850.0]]]),
    "empty_cell": call("MISSEDCALLLOSS", [[[None]], [[0.4]], [[0.37]], [[850.0]]]),
    "rate": call("MISSEDCALLLOSS", [[[120.0]], [[37.0]], [[0.37]], [[850.0]]]),
}
print(json.dumps({"meta": meta, "code": code, "template_missing": template_missing,
                  "calls": calls, "pro": xlwings.__pro__}))
"""


@pytest.fixture(scope="module")
def server_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """What xlwings Server makes of the module: XLWINGS_ON_SERVER=true, non-commercial key."""
    env = {
        **clean_env(tmp_path_factory.mktemp("home")),
        "XLWINGS_ON_SERVER": "true",  # read by xlwings/__init__.py: decorators from xlwings.server
        "XLWINGS_LICENSE_KEY": "noncommercial",  # xlwings.server imports the licensed xlwings.pro
    }
    done = run_python(SERVER_SCRIPT, env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_server_metadata_lists_every_function_with_its_docs(server_run: dict) -> None:
    assert server_run["pro"] is True
    listed = {entry["id"]: entry for entry in server_run["meta"]["functions"]}
    assert set(listed) == set(FUNCTIONS)
    assert server_run["meta"]["allowErrorForDataTypeAny"] is True
    for name, function in FUNCTIONS.items():
        entry = listed[name]
        assert entry["name"] == name
        assert entry["description"] == function.description
        assert entry["result"] == {"dimensionality": "matrix", "type": "any"}
        params = [(p["name"], p["description"]) for p in entry["parameters"]]
        assert params == [(param.name, param.doc) for param in function.params]
        assert all(p["dimensionality"] == "matrix" for p in entry["parameters"])
        assert not any("optional" in p for p in entry["parameters"])


def test_server_code_registers_every_function(server_run: dict) -> None:
    if server_run["template_missing"]:
        warnings.warn(
            "xlwings' custom_functions_code.js template is missing from the installed wheel:"
            " xlwings.server.custom_functions_code() raises FileNotFoundError without it",
            stacklevel=1,
        )
    code = server_run["code"]
    for name in FUNCTIONS:
        assert f"async function {name}()" in code
        assert f'CustomFunctions.associate("{name}", {name});' in code


def test_server_calls_spill_and_give_real_excel_errors(server_run: dict) -> None:
    calls = server_run["calls"]
    div0 = {"type": "Error", "errorType": "Div0"}
    assert calls["spill"] == {"result": [[2.0], [1.0], [-1.0]]}
    assert calls["div0"] == {"result": [[2.0], [div0]]}
    na = {"type": "Error", "errorType": "NotAvailable"}
    assert calls["error_in"] == {"result": [[na], [1.0]]}


def test_server_calls_with_bad_cells_raise_the_message(server_run: dict) -> None:
    calls = server_run["calls"]
    assert "MISSEDCALLLOSS: missed_calls (row 2 of its range) is empty" in calls["empty"]["error"]
    assert "MISSEDCALLLOSS: missed_calls is empty" in calls["empty_cell"]["error"]
    assert "enter 37% or 0.37" in calls["rate"]["error"]


CLASSIC_SCRIPT = """
import io, json, sys, types
# xlwings.udfs (the Windows add-in's decorators) imports pywin32; stub it to read the
# registration xlwings would make: names, docs, category, and the generated VBA.
for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
    sys.modules[name] = types.ModuleType(name)
sys.modules["pythoncom"].CoInitialize = lambda: None
sys.modules["win32com.client"].Dispatch = object
import xlwings, xlwings.udfs as classic
xlwings.func, xlwings.arg, xlwings.ret = classic.xlfunc, classic.xlarg, classic.xlret
import roi_xl.udfs as udfs

class Workbook:
    Name = "roi.xlsm"

vba = io.StringIO()
classic.generate_vba_wrapper("roi_xl.udfs", udfs, vba, Workbook())
info = {name: {"category": f.__xlfunc__["category"], "doc": f.__xlfunc__["ret"]["doc"],
               "args": [(a["name"], a["doc"], a["options"]) for a in f.__xlfunc__["args"]]}
        for name, f in udfs.UDFS.items()}
print(json.dumps({"info": info, "vba": vba.getvalue()}))
"""


def test_classic_add_in_registration(tmp_path: Path) -> None:
    done = run_python(CLASSIC_SCRIPT, clean_env(tmp_path))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    for name, function in FUNCTIONS.items():
        info = out["info"][name]
        assert info["category"] == "ROI"
        assert info["doc"] == function.description
        assert [(a[0], a[1]) for a in info["args"]] == [(p.name, p.doc) for p in function.params]
        assert all(a[2] == udfs.ARG_OPTIONS for a in info["args"])
        assert f"Function {name}({', '.join(function.param_names)})" in out["vba"]
