"""XML that XlsxWriter writes, taken as text: so a part or a section written once can be kept
and written again for a workbook to come."""

from __future__ import annotations

import io
from collections.abc import Callable

from xlsxwriter.xmlwriter import XMLwriter


def assembled(part: XMLwriter) -> str:
    """A whole part (a chart, the shared strings) as XlsxWriter assembles it."""
    handle = io.StringIO()
    part._set_xml_writer(handle)
    part._assemble_xml_file()
    return handle.getvalue()


def written(writer: XMLwriter, write: Callable[[], None]) -> str:
    """What ``write`` writes through ``writer`` (a sheet's section, the workbook's elements),
    held back from the file ``writer`` writes to."""
    handle, writer.fh = writer.fh, io.StringIO()
    try:
        write()
        return writer.fh.getvalue()
    finally:
        writer.fh = handle
