#!/usr/bin/env bash
# Set up roi_xl on a fresh Debian machine: LibreOffice and Gnumeric (recalculation tests,
# viewing workbooks), Chromium (report PDF and its tests), Node.js with Microsoft's Office add-in
# tools (the Office.js add-in's tests), Carlito (Calibri's metrics, so sheets print in LibreOffice
# as wide as in Excel) and a virtual environment with roi_xl.
set -euo pipefail
cd "$(dirname "$0")/.."

# Only what is missing: Debian's npm conflicts with a Node.js that already brings its own npm.
missing=()
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-calc)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v ssconvert >/dev/null 2>&1 || missing+=(gnumeric)
fc-match Calibri 2>/dev/null | grep -q Carlito || missing+=(fonts-crosextra-carlito)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = "0" ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
        echo "Missing tools: run 'sudo apt-get install ${missing[*]}'" >&2
        echo "(the recalculation tests need LibreOffice and Gnumeric; the report's PDF and tests need" >&2
        echo " Chromium; the Office.js add-in's tests need Node.js; the print tests need Carlito)" >&2
    fi
fi

# Microsoft's custom-functions-metadata and office-addin-manifest, pinned in tests/node/package.json,
# installed inside the project (tests/node/node_modules) for the Office.js add-in's tests.
if command -v npm >/dev/null 2>&1; then
    npm install --prefix tests/node --no-audit --no-fund --no-package-lock --loglevel=error
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
echo "roi_xl is installed in .venv: run .venv/bin/roi-xl --help"
