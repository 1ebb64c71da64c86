"""Find literal bytes in a large XML part at the speed of numpy, for the package guard.

The guard asks the same questions of every part: does it hold ``<!``, ``sst``, ``t="e"``?
how many tags, how many cells, how far do the cells reach? On a sheet of a megabyte, each
``in`` test and each regular expression is a pass of about a millisecond, and the cell
patterns build objects for every one of ten thousand cells. Here the part's ``<`` are found
once, every literal is found from one byte's positions, and the references of cells written
plainly (``<c r="B12"``, as Excel, LibreOffice and XlsxWriter write them) are read as
arrays. Each answer equals the guard's own pattern on the same bytes; where it could differ
(a namespace prefix, a cell written otherwise) the caller falls back to that pattern.
"""

from __future__ import annotations

import threading
from functools import cached_property

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

NUMPY_FROM = 16 * 1024  # below this size the plain bytes methods are faster
_PAD = bytes(32)  # zeros after the part, so a look a few bytes ahead stays inside the array
_LT, _SLASH, _QUOTE = ord("<"), ord("/"), ord('"')
_WORD = np.zeros(256, dtype=bool)  # \w of a bytes pattern: [A-Za-z0-9_]
_WORD[list(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")] = True
_CELL_END = np.zeros(256, dtype=bool)  # what may follow "<c" in a cell's start tag: [\s>/]
_CELL_END[list(b" \t\n\r\f\v>/")] = True
_REFERENCE = b' r="'
_WINDOW = 12  # bytes read after 'r="': three letters, eight digits and the quote fit
_REFERENCE_WORD = int.from_bytes(_REFERENCE, "big")
_ALL = np.uint64(2**64 - 1)
_HIGH_NIBBLES, _LOW_NIBBLES = np.uint64(0xF0F0F0F0F0F0F0F0), np.uint64(0x0F0F0F0F0F0F0F0F)
_ZEROS, _SIXES = np.uint64(0x3030303030303030), np.uint64(0x0606060606060606)


_SCRATCH = threading.local()  # two boolean buffers per thread, reused part after part


def _buffers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Two boolean arrays of ``size`` to compare into: a fresh megabyte array per search
    costs more in page faults than the comparison itself."""
    buffers = getattr(_SCRATCH, "buffers", None)
    if buffers is None or buffers[0].size < size:
        buffers = _SCRATCH.buffers = (np.empty(size, dtype=bool), np.empty(size, dtype=bool))
    return buffers[0][:size], buffers[1][:size]


class PartBytes:
    """One part's bytes, searched for literals; small parts use the plain bytes methods."""

    def __init__(self, text: bytes) -> None:
        self.text = text
        self.size = len(text)
        self.large = self.size >= NUMPY_FROM

    @cached_property
    def _codes(self) -> np.ndarray:
        return np.frombuffer(self.text + _PAD, dtype=np.uint8)

    def starts(self, literal: bytes) -> list[int]:
        """Every position where ``literal`` begins, in order (what repeated ``find`` gives)."""
        if not self.large:
            found, position = [], self.text.find(literal)
            while position >= 0:
                found.append(position)
                position = self.text.find(literal, position + 1)
            return found
        return self._starts(literal).tolist()

    def contains(self, literal: bytes) -> bool:
        """``literal in text``."""
        if not self.large:
            return literal in self.text
        return bool(self._starts(literal).size)

    def _starts(self, literal: bytes) -> np.ndarray:
        codes, size, last = self._codes, self.size, self.size - len(literal)
        if last < 0:
            return np.empty(0, dtype=np.intp)
        if len(literal) == 1:
            return np.flatnonzero(codes[:size] == literal[0])
        if literal[0] == _LT:  # from the tags, found once
            hits = self._tags[self._after_tags == literal[1]]
        else:  # where the first two bytes are; most often nowhere, seen without listing them
            pairs, second = _buffers(size - 1)
            np.equal(codes[: size - 1], literal[0], out=pairs)
            np.equal(codes[1:size], literal[1], out=second)
            np.logical_and(pairs, second, out=pairs)
            hits = np.flatnonzero(pairs) if pairs.any() else np.empty(0, dtype=np.intp)
        hits = hits[: np.searchsorted(hits, last, side="right")]
        for offset in range(2, len(literal)):
            if not hits.size:
                break
            hits = hits[codes[hits + offset] == literal[offset]]
        return hits

    @cached_property
    def _tags(self) -> np.ndarray:
        """Where every ``<`` is."""
        found, _ = _buffers(self.size)
        return np.flatnonzero(np.equal(self._codes[: self.size], _LT, out=found))

    @cached_property
    def _after_tags(self) -> np.ndarray:
        """The byte after each ``<`` (0 after the last byte of the part)."""
        return self._codes[self._tags + 1]

    def elements(self) -> int:
        """``text.count(b"<") - text.count(b"</")``: start and empty tags."""
        if not self.large:
            return self.text.count(b"<") - self.text.count(b"</")
        return int(self._tags.size - np.count_nonzero(self._after_tags == _SLASH))

    def plain_cells(self) -> tuple[int, int, int] | None:
        """Cells, largest column number and largest row number of a sheet part whose cells
        are all written plainly, as the guard's cell patterns find them; None when one
        ``<c`` is written otherwise (attributes before ``r``, a reference the pattern would
        refuse, no ``r``) or the part is small: the caller then runs the patterns."""
        if not self.large or self.contains(b":c"):
            return None  # a prefixed cell tag: only the patterns read it
        codes = self._codes
        starts = self._starts(b"<c")
        follow = codes[starts + 2]
        cells = int(np.count_nonzero(_CELL_END[follow]))
        starts = starts[~_WORD[follow]]  # "<col", "<cfRule"...: no cell, no reference
        if not starts.size:
            return cells, 0, 0
        if not np.all(_words(codes, starts + 2, 4) == _REFERENCE_WORD):
            return None
        extent = _largest_reference(codes, starts + 2 + len(_REFERENCE))
        return None if extent is None else (cells, *extent)


def _largest_reference(codes: np.ndarray, first: np.ndarray) -> tuple[int, int] | None:
    """The largest column and row number among references read as ``([A-Z]{1,3})(\\d+)"``
    from each position in ``first``; None if one of them does not read so or has more than
    8 digits."""
    window = sliding_window_view(codes, _WINDOW)[first]
    upper = (window[:, :4] - np.uint8(ord("A"))) < 26
    letters = np.argmin(upper, axis=1)  # leading capitals (0 when all four are: refused)
    end = np.argmax(window == _QUOTE, axis=1)  # the first quote (0 when none: refused)
    digits = end - letters
    if np.any((letters < 1) | (letters > 3) | (digits < 1) | (digits > 8)):
        return None
    row_keys = _right_aligned(_words(codes, first + end - 8, 8), digits, b"0")
    if np.any(row_keys & _HIGH_NIBBLES != _ZEROS) or np.any(
        (row_keys & _LOW_NIBBLES) + _SIXES & _HIGH_NIBBLES
    ):
        return None  # a byte between the capitals and the quote is not a digit
    column_keys = _right_aligned(_words(codes, first + letters - 4, 4), letters, b"@")
    row = int(row_keys.max()).to_bytes(8, "big").lstrip(b"0")
    number = 0
    for letter in int(column_keys.max()).to_bytes(8, "big").lstrip(b"@"):
        number = number * 26 + letter - 64
    return number, int(row or b"0")


def _words(codes: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """The ``width`` bytes at each start as one big-endian unsigned integer."""
    chunks = np.ascontiguousarray(sliding_window_view(codes, width)[starts])
    return chunks.view(f">u{width}").reshape(-1).astype(np.uint64)


def _right_aligned(words: np.ndarray, kept: np.ndarray, pad: bytes) -> np.ndarray:
    """``words`` with only their last ``kept`` bytes, the others set to ``pad``: the keys of
    right-aligned numbers, whose order as integers is the numbers' order."""
    low = np.where(
        kept >= 8, _ALL, (np.uint64(1) << (kept.astype(np.uint64) * np.uint64(8))) - np.uint64(1)
    )
    return (words & low) | (np.uint64(int.from_bytes(pad * 8, "big")) & ~low)
