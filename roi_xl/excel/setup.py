"""``roi-xl excel setup``: what a user needs to call =MISSEDCALLLOSS() and its sisters in Excel.

Writes an xlwings.conf naming roi_xl.udfs as the UDF module (classic Windows add-in), a
self-contained main.py and requirements.txt for xlwings Lite, a HOWTO.md with the steps of
every route and, with ``office_js``, Excel JavaScript custom functions ready to host.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from roi_xl import __version__
from roi_xl.errors import InputError
from roi_xl.excel import lite, office_js
from roi_xl.excel.howto import howto
from roi_xl.files import replacing

UDF_MODULE = "roi_xl.udfs"

Render = Callable[[], str | bytes]


def _config() -> str:
    # xlwings reads "KEY","VALUE" pairs; a line without quotes is ignored, so it can explain.
    return f'roi_xl: the Excel functions come from this module\n"UDF Modules","{UDF_MODULE}"\n'


def files(office: bool = False, url: str = office_js.DEFAULT_URL) -> dict[str, Render]:
    """Each file's name and how to render it; the Office.js add-in's files only when asked."""
    written: dict[str, Render] = {
        "xlwings.conf": _config,
        "main.py": lite.lite_main,
        "requirements.txt": lambda: lite.REQUIREMENTS,
        "HOWTO.md": lambda: howto(UDF_MODULE, __version__, office, url),
    }
    if office:
        base = office_js.checked_url(url)
        written |= {
            "functions.js": office_js.functions_js,
            "functions.json": office_js.functions_json,
            "manifest.xml": lambda: office_js.manifest_xml(base),
            "taskpane.html": office_js.taskpane_html,
        }
        for size in office_js.ICON_SIZES:
            written[f"icon-{size}.png"] = lambda size=size: office_js.icon_png(size)
    return written


def write_excel_setup(
    folder: Path, force: bool = False, office: bool = False, url: str = office_js.DEFAULT_URL
) -> list[Path]:
    """Write the Excel set-up files into ``folder``.

    Nothing is replaced unless ``force``, nothing is written through a symbolic link, and each
    file is written under a temporary name then renamed, so none is ever left half-written.
    Every check runs before the first write.
    """
    renders: Mapping[str, Render] = files(office, url)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file, not a folder: give a folder for the Excel files")
    targets = [folder / name for name in renders]
    links = [str(path) for path in targets if path.is_symlink()]
    if links:
        raise InputError(
            f"{', '.join(links)}: a symbolic link; roi-xl writes no file through a link."
            " Remove it or choose another folder"
        )
    existing = [str(path) for path in targets if path.exists()]
    if existing and not force:
        raise InputError(f"{', '.join(existing)} already exist(s); use --force to replace")
    contents = {path: render() for path, render in zip(targets, renders.values(), strict=True)}
    folder.mkdir(parents=True, exist_ok=True)
    for path, content in contents.items():
        with replacing(path) as temporary:
            if isinstance(content, bytes):
                temporary.write_bytes(content)
            else:
                temporary.write_text(content, encoding="utf-8")
    return targets
