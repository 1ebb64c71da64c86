"""Give the formula cells an import changes their recomputed cached values.

A file opened without recalculation (previewers, Protected View, pandas, ``roi-xl
audit``) shows each formula's cached value. After figures are written into monthly
tabs, the Actuals, Dashboard and month formulas that depend on them would keep their
old values; the engine recomputes the whole workbook for the figures as imported (the
reader's reference), and every formula cell whose value differs from what the same
computation gave before the import gets the new value, in place: its start tag's other
attributes and its ``<f>`` element are kept byte for byte, only the value type ``t`` and
the ``<v>`` element change. Cells whose formula was edited are left alone.
"""

from __future__ import annotations

import math
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from xml.sax.saxutils import escape

from roi_xl.inspect.reader import recomputed_reference
from roi_xl.inspect.sheet_xml import Node, SheetXml, parse_part, read_start_tag
from roi_xl.model.excel_errors import ExcelError
from roi_xl.model.template import Template
from roi_xl.workbook import Reference
from roi_xl.workbook.layout import Layout

Splice = Callable[[bytes, list[tuple[int, int, int, bytes]], str], bytes]
_VALUE_ATTRIBUTES = {"t", "cm", "vm"}


def refresh_cached_values(
    source: Path,
    archive: zipfile.ZipFile,
    patched: dict[str, bytes],
    template: tuple[Template, Layout],
    parts: Mapping[str, str],
    splice: Splice,
) -> int | None:
    """Update ``patched`` (part -> bytes) with the recomputed values; return how many
    formula cells changed, or None when the workbook cannot be recomputed."""
    model, layout = template
    before = recomputed_reference(source, model, layout)
    if before is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        middle = Path(folder) / "imported.xlsx"
        with zipfile.ZipFile(middle, "w") as out:
            for name in archive.namelist():
                out.writestr(name, patched.get(name) or archive.read(name))
        after = recomputed_reference(middle, model, layout)
    if after is None:
        return None
    changed = _changed_cells(before[0], after[0])
    names = after[1]
    count = 0
    for sheet, cells in changed.items():
        part = parts.get(names.get(sheet, ""))
        if not part:
            continue
        where = f"{source}: sheet '{names[sheet]}' ({part})"
        data = patched.get(part) or archive.read(part)
        xml = SheetXml(parse_part(data, where), where)
        edits = []
        for (row, col), value in cells:
            node = xml.cell(row, col)
            formula = None if node is None else node.child("f")
            if node is None or formula is None:
                continue  # the formula was cleared or typed over: not the model's any more
            edits.append((node.start, node.end, col, _cell_bytes(data, node, formula, value)))
        if edits:
            patched[part] = splice(data, edits, where)
            count += len(edits)
    return count


def _changed_cells(
    before: Reference, after: Reference
) -> dict[str, list[tuple[tuple[int, int], object]]]:
    """Per sheet, the formula cells whose computed value the import changes."""
    changed: dict[str, list[tuple[tuple[int, int], object]]] = {}
    for sheet, cells in after.cells.items():
        old_cells = before.cells.get(sheet, {})
        for key, cell in sorted(cells.items()):
            if cell.formula is None or cell.value is None:
                continue
            old = old_cells.get(key)
            if old is not None and old.formula == cell.formula and _same(old.value, cell.value):
                continue
            changed.setdefault(sheet, []).append((key, cell.value))
    return changed


def _same(a: object, b: object) -> bool:
    if isinstance(a, ExcelError) or isinstance(b, ExcelError):
        return isinstance(a, ExcelError) and isinstance(b, ExcelError) and a.text == b.text
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or math.isclose(float(a), float(b), rel_tol=1e-15, abs_tol=0.0)
    return a == b


def _cell_bytes(data: bytes, node: Node, formula: Node, value: object) -> bytes:
    """The cell with its value replaced: attributes (but the value type) and <f> kept."""
    qname, _, _, attrs = read_start_tag(data, node.start)
    kept = b"".join(data[a:b] for name, a, b in attrs if name not in _VALUE_ATTRIBUTES)
    kind, text = _typed(value)
    typed = b' t="' + kind + b'"' if kind else b""
    p = node.prefix
    v = b"<" + p + b"v>" + text + b"</" + p + b"v>"
    return (
        b"<" + qname + kept + typed + b">" + data[formula.start : formula.end] + v
        + b"</" + qname + b">"
    )  # fmt: skip


def _typed(value: object) -> tuple[bytes, bytes]:
    """The ``t`` attribute and ``<v>`` text of a formula's cached value."""
    if isinstance(value, ExcelError):
        return b"e", value.text.encode()
    if isinstance(value, bool):
        return b"b", b"1" if value else b"0"
    if isinstance(value, str):
        return b"str", escape(value).encode("utf-8")
    number = float(value)  # type: ignore[arg-type]
    text = repr(number + 0.0)
    return b"", (text[:-2] if text.endswith(".0") else text).encode()
