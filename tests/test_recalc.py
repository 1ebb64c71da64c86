"""Tests for roi_xl.inspect.recalc: LibreOffice really recomputes, in one call per batch."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from openpyxl import load_workbook

from roi_xl.inspect import recalc

WRONG_CACHE = 999


@pytest.fixture
def indir(tmp_path: Path) -> Path:
    path = tmp_path / "in"
    path.mkdir()
    return path


def write_model(path: Path, a1: float = 2, a2: float = 3) -> Path:
    """A3 = A1*A2 cached as a WRONG 999, A4 = #DIV/0!, A5 a boolean formula."""
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    sheet.write("A1", a1)
    sheet.write("A2", a2)
    sheet.write_formula("A3", "=A1*A2", None, WRONG_CACHE)
    sheet.write_formula("A4", "=SUM(A1:A2)/0")
    sheet.write_formula("A5", "=A1<A2")
    workbook.close()
    return path


def cached(path: Path, cell: str) -> object:
    return load_workbook(path, data_only=True).active[cell].value


def count_popen(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record every process started, so a test can prove a batch is one soffice call."""
    calls: list[list[str]] = []
    real_popen = subprocess.Popen

    def popen(cmd: list[str], **kwargs: object) -> subprocess.Popen[str]:
        calls.append(cmd)
        return real_popen(cmd, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    return calls


def run_soffice_fixture(pytester: pytest.Pytester) -> pytest.RunResult:
    """Run a test requesting the shared `soffice` fixture (tests/conftest.py) in an inner session."""
    pytester.makeconftest(Path(__file__).with_name("conftest.py").read_text(encoding="utf-8"))
    pytester.makepyfile("def test_needs_libreoffice(soffice):\n    pass\n")
    return pytester.runpytest_inprocess("-rs", "-p", "no:cacheprovider")


def test_guard_fails_under_ci_without_soffice(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recalc, "soffice_path", lambda: None)
    monkeypatch.setenv("CI", "true")
    result = run_soffice_fixture(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*CI=true but LibreOffice (soffice) is not on PATH*"])


def test_guard_skips_outside_ci_without_soffice(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recalc, "soffice_path", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    result = run_soffice_fixture(pytester)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*LibreOffice (soffice) is not on PATH*"])


def test_recalculation_replaces_wrong_cached_values(
    soffice: str, indir: Path, tmp_path: Path
) -> None:
    source = write_model(indir / "model.xlsx")
    before = source.read_bytes()
    # The input really carries the wrong value, so the assertion on 6 can fail.
    assert cached(source, "A3") == WRONG_CACHE

    [output] = recalc.recalculate([source], tmp_path / "out")

    assert output == tmp_path / "out" / "model.xlsx"
    assert cached(output, "A3") == 6
    # Errors come back as their Excel text, booleans as real bools.
    assert cached(output, "A4") == "#DIV/0!"
    assert cached(output, "A5") is True
    # The input is untouched and nothing (lock or temp file) was left beside it.
    assert source.read_bytes() == before
    assert [p.name for p in indir.iterdir()] == ["model.xlsx"]


def test_batch_is_one_soffice_call_in_input_order(
    soffice: str, indir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = [write_model(indir / f"m{a1}.xlsx", a1=a1, a2=10) for a1 in (3, 1, 2)]
    calls = count_popen(monkeypatch)

    outputs = recalc.recalculate(sources, tmp_path / "out")

    assert len(calls) == 1
    assert [p.name for p in outputs] == ["m3.xlsx", "m1.xlsx", "m2.xlsx"]
    assert [cached(p, "A3") for p in outputs] == [30, 10, 20]


def test_outdir_may_be_the_input_directory(soffice: str, indir: Path) -> None:
    source = write_model(indir / "model.xlsx")

    [output] = recalc.recalculate([source], indir)

    assert output == source
    assert cached(source, "A3") == 6
    assert [p.name for p in indir.iterdir()] == ["model.xlsx"]


def test_unloadable_workbook_is_named_in_a_runtime_error(
    soffice: str, indir: Path, tmp_path: Path
) -> None:
    good = write_model(indir / "good.xlsx")
    bad = indir / "bad.xlsx"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("hello.txt", "a zip, but no workbook")

    with pytest.raises(RuntimeError, match=r"no output for: .*bad\.xlsx") as caught:
        recalc.recalculate([good, bad], tmp_path / "out")
    assert "good.xlsx" not in str(caught.value).splitlines()[0]


def test_timeout_is_a_runtime_error(soffice: str, indir: Path, tmp_path: Path) -> None:
    source = write_model(indir / "model.xlsx")
    with pytest.raises(RuntimeError, match=r"did not finish within .*model\.xlsx"):
        recalc.recalculate([source], tmp_path / "out", timeout=0.01)


def test_missing_input_is_named_before_soffice_starts(
    indir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    present = write_model(indir / "present.xlsx")
    missing = indir / "missing.xlsx"
    calls = count_popen(monkeypatch)

    with pytest.raises(FileNotFoundError, match=r"no such file: .*missing\.xlsx$"):
        recalc.recalculate([present, missing], tmp_path / "out")
    assert calls == []


def test_empty_file_is_rejected(indir: Path, tmp_path: Path) -> None:
    # LibreOffice would silently turn it into a blank workbook.
    empty = indir / "empty.xlsx"
    empty.touch()
    with pytest.raises(ValueError, match=r"not an \.xlsx .*empty\.xlsx"):
        recalc.recalculate([empty], tmp_path / "out")


def test_same_basename_in_one_batch_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_model(tmp_path / "a" / "model.xlsx")
    second = write_model(tmp_path / "b" / "Model.xlsx")
    with pytest.raises(ValueError, match="distinct names"):
        recalc.recalculate([first, second], tmp_path / "out")


def test_missing_soffice_is_a_runtime_error(
    indir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recalc, "soffice_path", lambda: None)
    with pytest.raises(RuntimeError, match="not on PATH"):
        recalc.recalculate([write_model(indir / "model.xlsx")], tmp_path / "out")


def test_empty_batch_starts_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_popen(monkeypatch)
    assert recalc.recalculate([], tmp_path / "out") == []
    assert calls == []


def test_unwritable_home_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "does-not-exist"))
    assert recalc._environment(tmp_path)["HOME"] == str(tmp_path / "home")
    assert (tmp_path / "home").is_dir()


# -- Gnumeric, the third engine


def run_ssconvert_fixture(pytester: pytest.Pytester) -> pytest.RunResult:
    """Run a test requesting the shared `ssconvert` fixture in an inner session."""
    pytester.makeconftest(Path(__file__).with_name("conftest.py").read_text(encoding="utf-8"))
    pytester.makepyfile("def test_needs_gnumeric(ssconvert):\n    pass\n")
    return pytester.runpytest_inprocess("-rs", "-p", "no:cacheprovider")


def test_gnumeric_guard_fails_under_ci_without_ssconvert(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recalc, "ssconvert_path", lambda: None)
    monkeypatch.setenv("CI", "true")
    result = run_ssconvert_fixture(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*CI=true but Gnumeric (ssconvert) is not on PATH*"])


def test_gnumeric_guard_skips_outside_ci_without_ssconvert(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recalc, "ssconvert_path", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    result = run_ssconvert_fixture(pytester)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*Gnumeric (ssconvert) is not on PATH*"])


def test_gnumeric_replaces_wrong_cached_values(ssconvert: str, indir: Path, tmp_path: Path) -> None:
    sources = [write_model(indir / f"m{a1}.xlsx", a1=a1, a2=10) for a1 in (3, 1)]
    before = [source.read_bytes() for source in sources]
    assert cached(sources[0], "A3") == WRONG_CACHE

    outputs = recalc.recalculate_gnumeric(sources, tmp_path / "out")

    assert [p.name for p in outputs] == ["m3.xlsx", "m1.xlsx"]
    assert [cached(p, "A3") for p in outputs] == [30, 10]
    assert cached(outputs[0], "A4") == "#DIV/0!"
    assert [source.read_bytes() for source in sources] == before
    assert sorted(p.name for p in indir.iterdir()) == ["m1.xlsx", "m3.xlsx"]


def test_gnumeric_failure_names_the_file(ssconvert: str, indir: Path, tmp_path: Path) -> None:
    bad = indir / "bad.xlsx"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("hello.txt", "a zip, but no workbook")
    with pytest.raises(RuntimeError, match=r"Gnumeric .*bad\.xlsx"):
        recalc.recalculate_gnumeric([bad], tmp_path / "out")


def test_missing_ssconvert_is_a_runtime_error(
    indir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recalc, "ssconvert_path", lambda: None)
    with pytest.raises(RuntimeError, match=r"Gnumeric \(ssconvert\) is not on PATH"):
        recalc.recalculate_gnumeric([write_model(indir / "model.xlsx")], tmp_path / "out")
