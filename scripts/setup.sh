#!/usr/bin/env bash
# Set up roi_xl on a fresh Debian machine: LibreOffice (for the recalculation
# tests and for viewing workbooks) and a virtual environment with roi_xl installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q --no-install-recommends libreoffice-calc poppler-utils
    else
        echo "LibreOffice is missing: run 'sudo apt-get install libreoffice-calc poppler-utils'" >&2
        echo "(the workbook recalculation tests need it)" >&2
    fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
echo "roi_xl is installed in .venv: run .venv/bin/roi-xl --help"
