"""How every sheet prints: the locale's paper, one page wide, titles and a footer.

A sheet forwarded as a PDF or printed for a meeting must be readable without
anyone touching the page setup: the paper people use where the locale is
spoken, columns scaled to the page width only (never to one page tall, which
shrinks long sheets to nothing), the header rows on every page, and a footer
saying which file, sheet, page and date the sheet is.
"""

from __future__ import annotations

from xlsxwriter.utility import xl_range_abs
from xlsxwriter.worksheet import Worksheet

# Calibri 10 needs about this many column-width units a character on average.
CHAR_WIDTH = 0.95
LINE_HEIGHT = 13.0  # points per line of 10 pt text

# Excel's paper codes.
PAPER_CODES = {"Letter": 1, "A4": 9}
# Margins in inches: narrow sides (every printer manages a quarter inch), room for the footer.
MARGINS = {"left": 0.25, "right": 0.25, "top": 0.5, "bottom": 0.6}


def footer(page_text: str) -> str:
    """File and sheet on the left, the page in the middle, the print date on the right.

    ``page_text`` is the locale's wording with ``{page}`` and ``{pages}`` holes.
    """
    page = page_text.replace("&", "&&").format(page="&P", pages="&N")
    return f"&L&8&F - &A&C&8{page}&R&8&D"


def print_setup(
    worksheet: Worksheet,
    paper: str,
    page_text: str,
    *,
    title_rows: tuple[int, int] | None = None,
    landscape: bool = True,
    fit_width: bool = True,
) -> None:
    """Paper, orientation, fit to the page width, repeated titles and the footer.

    ``fit_width=False`` is for tables too wide for one legible page: they print
    at full size across pages instead, their title columns repeated.
    """
    worksheet.set_paper(PAPER_CODES[paper])
    if landscape:
        worksheet.set_landscape()
    else:
        worksheet.set_portrait()
    if fit_width:
        worksheet.fit_to_pages(1, 0)
    worksheet.set_margins(**MARGINS)
    worksheet.set_footer(footer(page_text), {"margin": 0.25})
    if title_rows is not None:
        worksheet.repeat_rows(*title_rows)


def print_areas(worksheet: Worksheet, areas: list[tuple[int, int, int, int]]) -> None:
    """Print each (first row, first col, last row, last col) block on pages of its own.

    A grid of narrow columns beside a sheet's figures would otherwise widen the
    page the figures print on and shrink them; as a second print area it gets
    its own pages and scale.
    """
    name = "'" + worksheet.get_name().replace("'", "''") + "'!"
    worksheet.print_area_range = ",".join(
        name + xl_range_abs(first_row, first_col, last_row, last_col)
        for first_row, first_col, last_row, last_col in areas
    )


def wrapped_height(text: str, width: float) -> float | None:
    """The row height a wrapped ``text`` needs in a column ``width`` wide, None for one line.

    Neither Excel nor LibreOffice reliably grows a row for wrapped text when a
    file is opened, so the writer sets it: lines counted word by word.
    """
    per_line = max(1, int(width / CHAR_WIDTH))
    lines, used = 1, 0
    for word in text.split():
        needed = len(word) if used == 0 else used + 1 + len(word)
        if needed > per_line and used:
            lines += 1
            used = len(word)
        else:
            used = needed
    return None if lines == 1 else LINE_HEIGHT * lines
