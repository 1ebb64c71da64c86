"""A chart's XML written once per set of options, then only its cached values change.

A chart part holds the chart's options (type, series, axes, titles, colours) and
a cache of the values its series show, read from the cells. In a batch every
workbook has the same charts with other values (numbers; the labels of a chart
sorted by them): a chart's XML is kept as fixed text with a hole for each value,
keyed by everything else XlsxWriter reads (the chart's whole state, serialised,
and its cached data with each number, and each text of a text series, as a
hole; a range cached once may be written for several series, so each hole says
which value fills it). A chart of options met before gets its values put in the
holes, written as XlsxWriter writes them; a chart met for the first time is
written by XlsxWriter, and its skeleton kept only when putting that chart's own
values back gives the very text XlsxWriter wrote.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Iterator
from typing import Any

from xlsxwriter.chart import Chart

from roi_xl.workbook.xml_text import assembled

# Around a value's index while a skeleton is made: private-use characters, which XlsxWriter
# writes as they are (a chart whose own text holds them fails the skeleton's check).
MARK, END = "\ue000", "\ue001"
KEPT_CHARTS = 64  # skeletons a process keeps: a batch's charts, a few format patterns each
_UNSHARED = ("fh", "internal_fh", "formula_data")  # the writer's handle, the numbers


class _Hole:
    """What stands for a value in a chart's key: equal to nothing a cell holds."""


_HOLE, _TEXT = _Hole(), _Hole()  # a number, a text
_PROBE = -1.2345678901234567e-299


class _Marked(float):
    """A number XlsxWriter takes for a number (a float, a number series) that writes as a
    mark with its index among the chart's values. Its own value is ``_PROBE``, no cell's: a
    number written any other way than through ``format`` shows it, and the skeleton then
    fails its check instead of keeping that chart's number as fixed text."""

    index = 0

    def __format__(self, spec: str) -> str:
        return f"{MARK}{self.index}{END}"


class _Skeleton:
    """A chart's text around its numbers, and which number goes in each hole."""

    __slots__ = ("order", "pieces")

    def __init__(self, pieces: list[str], order: list[int]) -> None:
        self.pieces = pieces
        self.order = order

    def splice(self, numbers: list[str]) -> str:
        parts = [""] * (2 * len(self.pieces) - 1)
        parts[0::2] = self.pieces
        parts[1::2] = [numbers[index] for index in self.order]
        return "".join(parts)


class ChartTexts:
    """The skeletons of the charts met, by key; ``reused`` and ``written`` count charts."""

    def __init__(self) -> None:
        self.skeletons: dict[bytes, _Skeleton] = {}
        self.refused: set[bytes] = set()
        self.reused = 0
        self.written = 0


def chart_xml(chart: Chart, texts: ChartTexts) -> str:
    """The chart's part, as XlsxWriter's ``_assemble_xml_file`` writes it."""
    key, numbers = _key(chart)
    skeleton = texts.skeletons.get(key) if key is not None else None
    if skeleton is not None:
        texts.reused += 1
        return skeleton.splice(numbers)
    texts.written += 1
    if key is None or key in texts.refused:
        return assembled(chart)
    marked = copy.deepcopy(chart)  # assembling changes a chart (its axes' ids): a fresh one
    plain = assembled(chart)
    count = iter(range(len(numbers)))
    marked.formula_data = [_marked(marked, data, count) for data in marked.formula_data]
    skeleton = _skeleton(assembled(marked), len(numbers))
    if skeleton is None or skeleton.splice(numbers) != plain:
        if len(texts.refused) >= KEPT_CHARTS:
            texts.refused.clear()
        texts.refused.add(key)
        return plain
    if len(texts.skeletons) >= KEPT_CHARTS:
        texts.skeletons.clear()
    texts.skeletons[key] = skeleton
    return plain


def _marked(chart: Chart, data: list[Any] | None, count: Iterator[int]) -> list[Any] | None:
    """``data`` with each of its holes (see ``_key``) marked with its index, in order."""
    if data is None:
        return None
    texts = _texts_are_holes(chart, data)
    marked: list[Any] = []
    for value in data:
        if type(value) is float:
            number = _Marked(_PROBE)
            number.index = next(count)
            marked.append(number)
        elif texts and type(value) is str:
            marked.append(f"{MARK}{next(count)}{END}")
        else:
            marked.append(value)
    return marked


def _texts_are_holes(chart: Chart, data: list[Any]) -> bool:
    """True for a series XlsxWriter writes as texts (a string cache), each text as it is;
    in a number series a text is written as a number or as 0, so it stays in the key."""
    return bool(data) and not isinstance(data[0], list) and chart._get_data_type(data) == "str"


def _skeleton(text: str, numbers: int) -> _Skeleton | None:
    """The skeleton of a chart written with marked numbers; None when a mark is not one."""
    first, *rest = text.split(MARK)
    pieces, order = [first], []
    for piece in rest:
        index, end, after = piece.partition(END)
        if not end or not index.isdigit() or int(index) >= numbers:
            return None
        order.append(int(index))
        pieces.append(after)
    return _Skeleton(pieces, order)


def _key(chart: Chart) -> tuple[bytes | None, list[str]]:
    """Everything the chart's XML is made from but its values, serialised; and its values
    as XlsxWriter writes them. No key (never reused) for a combined chart or a state that
    cannot be serialised."""
    if chart.combined is not None:
        return None, []
    numbers: list[str] = []
    data: list[list[Any] | None] = []
    for values in chart.formula_data:
        if values is None:
            data.append(None)
            continue
        texts = _texts_are_holes(chart, values)
        kept: list[Any] = [texts]
        for value in values:
            if type(value) is float:
                numbers.append(f"{value}")
                kept.append(_HOLE)
            elif texts and type(value) is str:
                numbers.append(chart._escape_control_characters(chart._escape_data(value)))
                kept.append(_TEXT)
            else:
                kept.append(value)
        data.append(kept)
    state = {name: value for name, value in vars(chart).items() if name not in _UNSHARED}
    try:
        key = pickle.dumps((type(chart), state, data), protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None, []
    return key, numbers
