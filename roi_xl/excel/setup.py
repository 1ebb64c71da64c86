"""``roi-xl excel setup``: what a user needs to call =MISSEDCALLLOSS() and its sisters in Excel.

Writes an xlwings.conf naming roi_xl.udfs as the UDF module (classic Windows
add-in), a main.py and requirements.txt for xlwings Lite, and a short HOW-TO.
"""

from __future__ import annotations

from pathlib import Path

from roi_xl import __version__
from roi_xl.errors import InputError
from roi_xl.model.functions import FUNCTIONS

UDF_MODULE = "roi_xl.udfs"


def _config() -> str:
    # xlwings reads "KEY","VALUE" pairs; a line without quotes is ignored, so it can explain.
    return f'roi_xl: the Excel functions come from this module\n"UDF Modules","{UDF_MODULE}"\n'


def _lite_main() -> str:
    names = ", ".join(sorted(FUNCTIONS))
    return (
        '"""xlwings Lite: paste this into the editor; the functions below appear in Excel."""\n\n'
        f"from roi_xl.udfs import {names}  # noqa: F401\n"
    )


def _howto() -> str:
    functions = "\n".join(
        f"- `={f.name}({', '.join(f.param_names)})`: {f.description}" for f in FUNCTIONS.values()
    )
    return f"""# roi_xl functions in Excel

{functions}

Ranges work: a column or a block of inputs gives a result of the same shape that spills, and a
single cell is combined with every cell of a range. A bad cell (empty, text, a rate above 100 %,
a negative count) shows a message naming the argument; a division by zero gives #DIV/0!.

## Excel 365, no add-in

`roi-xl new TEMPLATE -o FILE.xlsx --lambdas` defines every function above as a named LAMBDA in the
workbook: type `=ROI(B2, B3)` in any cell. The model's own sheets never depend on them.

## Windows, classic xlwings add-in

1. `pip install "roi_xl[excel]"` in the Python that Excel should use.
2. `xlwings addin install`, then restart Excel: an xlwings tab appears.
3. Put the `xlwings.conf` of this folder beside your workbook (or copy its line into
   `%USERPROFILE%\\.xlwings\\xlwings.conf`); it names `{UDF_MODULE}` as the UDF module.
4. Save your workbook as `.xlsm`, open the VBA editor (Alt+F11), Tools > References: tick
   `xlwings`.
5. xlwings tab > Import Functions. The functions appear under the category "ROI" in the function
   wizard, each with its description and argument help.

## xlwings Lite (Excel on the web, Windows, macOS)

1. Install the xlwings Lite add-in from Excel's add-in store and open its editor.
2. Paste `requirements.txt` into the requirements tab (point it at your roi_xl wheel if roi_xl
   is not on your package index) and `main.py` into the code tab.
3. Restart: the functions are available in every cell.
"""


FILES = {
    "xlwings.conf": _config,
    "main.py": _lite_main,
    "requirements.txt": lambda: f"roi_xl=={__version__}\n",
    "HOWTO.md": _howto,
}


def write_excel_setup(folder: Path, force: bool = False) -> list[Path]:
    """Write the Excel set-up files into ``folder``; never replace one unless ``force``."""
    folder.mkdir(parents=True, exist_ok=True)
    targets = [folder / name for name in FILES]
    existing = [str(path) for path in targets if path.exists()]
    if existing and not force:
        raise InputError(f"{', '.join(existing)} already exist(s); use --force to replace")
    for path, render in zip(targets, FILES.values(), strict=True):
        path.write_text(render(), encoding="utf-8")
    return targets
