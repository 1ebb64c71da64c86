"""Recalculate .xlsx workbooks with LibreOffice Calc, headless, or with Gnumeric.

A workbook written by XlsxWriter (or any writer) carries cached values that
nobody has checked. LibreOffice, left to its defaults, shows those cached
values on load instead of recomputing them, so a plain ``--convert-to`` proves
nothing. Here every batch runs with a fresh, throw-away user profile whose
settings force "always recalculate" on load, so the output's cached values
are LibreOffice's own results. Gnumeric's ``ssconvert --recalc`` is a third,
independent implementation of the same functions.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

# "Always recalculate" (0) for OOXML and ODF files loaded with this profile.
_REGISTRY = """\
<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

_CONVERT_TO = "xlsx:Calc MS Excel 2007 XML"


def soffice_path() -> str | None:
    """Return the LibreOffice executable found on PATH, or None if there is none."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def ssconvert_path() -> str | None:
    """Return Gnumeric's ssconvert found on PATH, or None if there is none."""
    return shutil.which("ssconvert")


def recalculate_gnumeric(paths: Sequence[Path], outdir: Path, timeout: float = 300) -> list[Path]:
    """Recalculate every workbook in ``paths`` with Gnumeric into ``outdir``.

    Same contract as :func:`recalculate`: output ``i`` is ``outdir /
    (paths[i].stem + ".xlsx")``, the inputs are only read, and failures raise
    FileNotFoundError, ValueError or RuntimeError. ssconvert converts one file
    per call (it starts in a fraction of LibreOffice's time).
    """
    sources = [Path(p).resolve() for p in paths]
    if not sources:
        return []
    _check_inputs(sources)
    exe = ssconvert_path()
    if exe is None:
        raise RuntimeError("Gnumeric (ssconvert) is not on PATH; it is needed to recalculate.")
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    outputs = []
    with tempfile.TemporaryDirectory(prefix="roi_xl-gnumeric-") as tmp_name:
        tmp = Path(tmp_name)
        env = _environment(tmp)
        for source in sources:
            staged = tmp / _output_name(source)
            cmd = [exe, "--recalc", "--export-type=Gnumeric_Excel:xlsx2", str(source), str(staged)]
            log = _run(cmd, env, timeout, [source], tool="Gnumeric")
            if not staged.is_file():
                raise RuntimeError(f"Gnumeric wrote no output for: {source}\n{log}")
            final = outdir / staged.name
            shutil.move(staged, final)
            outputs.append(final)
    return outputs


def recalculate(paths: Sequence[Path], outdir: Path, timeout: float = 300) -> list[Path]:
    """Recalculate every workbook in ``paths`` and write the results into ``outdir``.

    All files go through ONE soffice call, because start-up dominates the cost.
    Output ``i`` is ``outdir / (paths[i].stem + ".xlsx")``; the inputs are only
    read, so they are replaced only when ``outdir`` is their own directory.

    Raises FileNotFoundError for a missing input, ValueError for an input that
    is not an .xlsx (zip) file or for two inputs that would share an output
    name, and RuntimeError when LibreOffice is absent, fails, times out or
    leaves an output unwritten.
    """
    sources = [Path(p).resolve() for p in paths]
    if not sources:
        return []
    _check_inputs(sources)
    exe = soffice_path()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) is not on PATH; it is needed to recalculate.")
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="roi_xl-recalc-") as tmp_name:
        tmp = Path(tmp_name)
        profile = tmp / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_REGISTRY, encoding="utf-8")
        # Convert into a fresh directory: a stale file of the same name in outdir
        # can then never pass for an output, and LibreOffice's lock and temp files
        # never land in outdir.
        staging = tmp / "out"
        staging.mkdir()
        cmd = [
            exe,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            _CONVERT_TO,
            "--outdir",
            str(staging),
            *map(str, sources),
        ]
        log = _run(cmd, _environment(tmp), timeout, sources)

        staged = [staging / _output_name(src) for src in sources]
        failed = [src for src, out in zip(sources, staged, strict=True) if not out.is_file()]
        if failed:
            names = ", ".join(str(src) for src in failed)
            raise RuntimeError(f"LibreOffice wrote no output for: {names}\n{log}")
        outputs = [outdir / out.name for out in staged]
        for out, final in zip(staged, outputs, strict=True):
            shutil.move(out, final)
    return outputs


def _check_inputs(sources: list[Path]) -> None:
    """Fail before the slow soffice start, with a message naming the culprits.

    LibreOffice itself exits 0 on a missing file and turns an empty file into
    a blank workbook, which would pass for a successful recalculation.
    """
    missing = [src for src in sources if not src.is_file()]
    if missing:
        raise FileNotFoundError(
            "Cannot recalculate, no such file: " + ", ".join(str(src) for src in missing)
        )
    not_xlsx = [src for src in sources if not zipfile.is_zipfile(src)]
    if not_xlsx:
        raise ValueError(
            "Cannot recalculate, not an .xlsx (zip) file: "
            + ", ".join(str(src) for src in not_xlsx)
        )
    # Compared case-insensitively, since a case-insensitive file system
    # (macOS, Windows) would make "A.xlsx" and "a.xlsx" overwrite each other.
    counts = Counter(_output_name(src).casefold() for src in sources)
    clashing = [src for src in sources if counts[_output_name(src).casefold()] > 1]
    if clashing:
        raise ValueError(
            "Inputs in one batch must have distinct names, these would share an output: "
            + ", ".join(str(src) for src in clashing)
        )


def _output_name(source: Path) -> str:
    """The file name LibreOffice gives the converted copy of ``source``."""
    return source.stem + ".xlsx"


def _environment(tmp: Path) -> dict[str, str]:
    """The environment for soffice, with a writable HOME.

    LibreOffice and the libraries it loads write caches under HOME; a service
    account or container may have none, or a read-only one.
    """
    env = dict(os.environ)
    home = env.get("HOME", "")
    if not (home and os.path.isdir(home) and os.access(home, os.W_OK)):
        env["HOME"] = str(tmp / "home")
        (tmp / "home").mkdir()
    return env


def _run(
    cmd: list[str],
    env: dict[str, str],
    timeout: float,
    sources: list[Path],
    tool: str = "LibreOffice",
) -> str:
    """Run soffice (or ssconvert) and return its combined output, raising RuntimeError on
    failure.

    soffice is a launcher that starts soffice.bin, so on a timeout the whole
    process group is killed: killing the launcher alone would leave Calc running.
    """
    names = ", ".join(str(src) for src in sources)
    with subprocess.Popen(
        cmd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    ) as proc:
        try:
            log, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            raise RuntimeError(
                f"{tool} did not finish within {timeout:g} s recalculating: {names}"
            ) from None
    if proc.returncode != 0:
        raise RuntimeError(
            f"{tool} exited with code {proc.returncode} recalculating: {names}\n{log}"
        )
    return log


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """Kill ``proc`` and everything it started (its own session, on POSIX)."""
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    else:
        proc.kill()
