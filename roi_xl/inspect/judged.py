"""What the package guard learnt of a part, remembered by the part's bytes.

Workbooks of one roll-up share most of their parts byte for byte (styles, theme, shared
strings, relationships, drawings), and their sheets differ only in the numbers cached in
their ``<v>`` elements. The guard's judgement of a part read whole depends on its bytes,
plus the counts that earlier parts left; and none of it depends on the text of a ``<v>``
element that is a plain number (``[-+.0-9eE]*`` between ``<v>`` and the next ``<``), as
long as the part holds no error cell (``t="e"``, whose value the guard reads):

- that text holds no ``<``, ``>``, quote, space, ``:`` or letter but ``e``/``E``, and it
  sits between the ``>`` that ends ``<v>`` and a ``<``; every pattern of the guard but the
  error cells' either starts at a ``<`` and cannot run past a ``>`` (tags, cells, rows,
  the shared-string table, ``<sqref>``), or needs a letter, quote or ``<`` of its own
  there (``ref="``, ``<!``, ``:c``, ``t="e"``);
- a declared range (``ref="..."``) whose quotes enclose such a text makes a token that
  holds the ``>`` of ``<v>``, which is no range (0 cells) whatever the number.

So a part whose bytes, numbers taken out, equal those of a part already judged safe adds
what it added then, without being scanned again. The bytes themselves are compared, never
a size or checksum the file gives (those only pick the candidate); an answer that could now
cross a limit is left to the scan, so every refusal and its message stay the scan's own.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

# The text of a <v> element that is a plain number, up to the next "<"; a text of more than
# 27 bytes (a number has at most 24) stays in the bytes compared.
_NUMBER_TEXT = re.compile(rb"<v>[-+.0-9eE]{1,27}(?=<)")
# The same, an empty text too: the bytes left are the same, and every "<v><" left marks
# a number taken out (b"" for an empty element), so equal bytes left hold them alike.
_NUMBER_GROUP = re.compile(rb"<v>([-+.0-9eE]{0,27})(?=<)")
_SAME_SIZE = 64  # judgements kept of parts of one role and size


def without_numbers(data: bytes) -> bytes:
    """``data`` without the text of each ``<v>`` element that is a plain number (one
    pattern pass: as fast as any array search on the largest sheets, and faster on the
    small parts, which are most of a package)."""
    return _NUMBER_TEXT.sub(b"<v>", data)


def split_numbers(data: bytes) -> tuple[bytes, list[bytes]]:
    """``without_numbers(data)`` and the numbers taken out, in document order, in one pass
    (as fast as the substitution alone): the formula reader reads a sheet met before from
    its numbers alone (roi_xl.inspect.sheet_shapes)."""
    pieces = _NUMBER_GROUP.split(data)
    return b"<v>".join(pieces[::2]), pieces[1::2]


@dataclass(frozen=True)
class Judgement:
    """What one safe part adds: to the package's counts, and for a sheet its used area."""

    data: bytes  # the part's bytes, numbers taken out where that is allowed
    elements: int
    range_cells: int
    cells: int
    rows: int
    columns: int
    error_cells: tuple[tuple[str, str], ...]


class JudgedParts:
    """The most recently used judgements, up to ``max_bytes`` of parts held."""

    def __init__(self, max_bytes: int, max_part: int) -> None:
        self.max_bytes = max_bytes
        self.max_part = max_part
        self.held = 0
        # by role (sheet or not) and size: parts of one size are few (a year's month sheets)
        self._items: OrderedDict[tuple[bool, int], list[Judgement]] = OrderedDict()

    def find(self, is_sheet: bool, data: bytes) -> Judgement | None:
        """The judgement of a part of exactly these bytes, read as a sheet or not."""
        key = (is_sheet, len(data))
        for judgement in self._items.get(key, ()):
            if judgement.data == data:
                self._items.move_to_end(key)
                return judgement
        return None

    def keep(self, is_sheet: bool, judgement: Judgement) -> None:
        size = len(judgement.data)
        if size > self.max_part or size > self.max_bytes:
            return
        same_size = self._items.setdefault((is_sheet, size), [])
        self._items.move_to_end((is_sheet, size))
        same_size.append(judgement)
        self.held += size
        if len(same_size) > _SAME_SIZE:
            self.held -= len(same_size.pop(0).data)
        while self.held > self.max_bytes:
            _, dropped = self._items.popitem(last=False)
            self.held -= sum(len(j.data) for j in dropped)
