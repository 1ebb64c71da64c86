"""The HOWTO.md ``roi-xl excel setup`` writes: every route into Excel, step by step."""

from __future__ import annotations

from roi_xl.excel import office_js
from roi_xl.model.functions import FUNCTIONS

_INSTALL = """## Installing roi_xl (the classic add-in and the LAMBDA workbooks need it)

roi_xl is installed from its source, not from a package index:

- from a checkout: `python -m pip install ".[excel]"` in the checkout's folder;
- or build a wheel once and install it anywhere (no checkout needed there):
  `python -m pip install build`, `python -m build` in the checkout, then copy
  `dist/roi_xl-{version}-py3-none-any.whl` and run
  `python -m pip install "roi_xl-{version}-py3-none-any.whl[excel]"` (the quotes keep the shell
  from reading `[excel]` as a pattern). Building fetches hatchling unless it is installed
  (`python -m build --no-isolation` then). `[excel]` adds xlwings; roi_xl's dependencies come
  from your package index or a wheelhouse (`pip download` them where you are online).

xlwings Lite and the Office.js add-in need no roi_xl at all: their files are self-contained.
"""


def _functions(prefix: str = "") -> str:
    return "\n".join(
        f"- `={prefix}{f.name}({', '.join(f.param_names)})`: {f.description}"
        for f in FUNCTIONS.values()
    )


def _office_js(url: str) -> str:
    namespace = office_js.NAMESPACE
    return f"""## Office.js add-in: no Python at all (Windows, macOS, Excel on the web)

Needs: Microsoft 365 Excel (Windows or Mac, with the SharedRuntime 1.1 requirement set) or Excel
on the web, and a place serving this folder over HTTPS at `{url}` (the address written into
`manifest.xml`; choose another with `roi-xl excel setup DIR --office-js --url https://...`).
Excel loads Microsoft's `office.js` from its CDN when the add-in starts, so this route needs a
connection; the arithmetic itself runs in Excel. The functions carry the add-in's namespace:
`={namespace}.MISSEDCALLLOSS(B2:B100, 0.4, 0.37, 850)`.

1. Serve this folder (`functions.js`, `functions.json`, `taskpane.html`, `manifest.xml`, the
   icons) at `{url}`: on your own machine for a trial (for localhost, trust a development
   certificate with `npx office-addin-dev-certs install`, then for example
   `npx http-server . -S -C ~/.office-addin-dev-certs/localhost.crt
   -K ~/.office-addin-dev-certs/localhost.key -p 3000`), or on an intranet or SharePoint site.
2. Load `manifest.xml` into Excel:
   - Excel on the web: Home > Add-ins > More Add-ins > My Add-ins > Upload My Add-in.
   - Windows: put `manifest.xml` in a shared folder, add that folder under File > Options >
     Trust Center > Trust Center Settings > Trusted Add-in Catalogs (tick "Show in Menu"),
     restart Excel, then Home > Add-ins > More Add-ins > Shared Folder.
   - macOS: copy `manifest.xml` into
     `~/Library/Containers/com.microsoft.Excel/Data/Documents/wef/` (create `wef` if needed),
     restart Excel, then Home > Add-ins and pick it under your add-ins.
   - For a whole organisation: the Microsoft 365 admin centre, Integrated apps, deploys the
     manifest to every user.
3. Type `={namespace}.` in a cell: the functions and their argument help appear. The "ROI
   functions" button on the Home tab lists them.
"""


def howto(udf_module: str, version: str, office: bool, url: str) -> str:
    """The guide, with the Office.js steps when the Office.js files were written."""
    office_part = (
        _office_js(url)
        if office
        else (
            "## Office.js add-in: no Python at all\n\n"
            "`roi-xl excel setup DIR --office-js` also writes `functions.js`, `functions.json`,"
            " `manifest.xml` and `taskpane.html`, with their own steps in this file.\n"
        )
    )
    return f"""# roi_xl functions in Excel

{_functions()}

Ranges work: a column or a block of inputs gives a result of the same shape that spills, and a
single cell is combined with every cell of a range. A bad cell (empty, text, a rate above 100 %,
a negative count) gives #VALUE! with a message naming the argument; a division by zero gives
#DIV/0!, as the workbook's own formula would.

Four routes; pick the one your Excel allows:

| route | Excel | needs | offline |
| --- | --- | --- | --- |
| named LAMBDAs | Microsoft 365 (Windows, Mac, web) | roi_xl where the workbook is made | yes |
| classic xlwings add-in | Windows desktop | Python with roi_xl[excel] | yes |
| xlwings Lite | 365 or 2021+ (Windows, Mac, web) | the xlwings Lite add-in | no |
| Office.js add-in | 365 (Windows, Mac), web | HTTPS hosting for its files | no |

{_INSTALL.format(version=version)}
## Named LAMBDAs, no add-in (Excel 365)

`roi-xl new TEMPLATE -o FILE.xlsx --lambdas` defines every function above as a named LAMBDA in
the workbook: open it in Microsoft 365 Excel and type `=ROI(B2, B3)` in any cell (Formulas >
Name Manager lists them). Nothing to install where the workbook is opened, and it works
offline. Excel before 365 and LibreOffice do not evaluate LAMBDA; the model's own sheets never
depend on them.

## Classic xlwings add-in (Windows desktop Excel)

Needs Python on Windows with roi_xl installed as above; everything runs on your machine,
offline. (Excel for Mac cannot call Python functions this way: use xlwings Lite or Office.js.)

1. Install roi_xl with `[excel]` into the Python Excel should use.
2. `xlwings addin install` in that Python's environment, then restart Excel: an xlwings tab
   appears. If that Python is not the one on PATH, set it in the xlwings tab's "Interpreter".
3. File > Options > Trust Center > Trust Center Settings > Macro Settings: tick "Trust access to
   the VBA project object model" (Import Functions writes VBA into the workbook).
4. Put the `xlwings.conf` of this folder beside your workbook (or copy its line into
   `%USERPROFILE%\\.xlwings\\xlwings.conf`); it names `{udf_module}` as the UDF module.
5. Save your workbook as `.xlsm`, open the VBA editor (Alt+F11), Tools > References: tick
   `xlwings`.
6. xlwings tab > Import Functions. The functions appear under the category "ROI" in the function
   wizard, each with its description and argument help.

## xlwings Lite (Excel on the web, Windows, macOS)

Needs the free xlwings Lite add-in (Microsoft 365 or Office 2021 and later). Lite runs Python
inside Excel and downloads it when it starts, so it needs a connection; it does not need roi_xl:
`main.py` is self-contained (xlwings and numpy only).

1. Home > Add-ins: search "xlwings Lite", add it, then open its editor from the Home tab.
2. Replace the content of the `main.py` tab with this folder's `main.py`.
3. Replace the content of the `requirements.txt` tab with this folder's `requirements.txt`
   (xlwings and numpy), and restart xlwings Lite when it asks.
4. Type `=MISSEDCALLLOSS(...)` in a cell. The code is saved inside the workbook: anyone with
   the xlwings Lite add-in can use it.

{office_part}"""
