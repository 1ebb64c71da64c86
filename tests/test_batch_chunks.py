"""How a batch's rows are dealt to its workers: in order, none lost or repeated, in chunks
no larger than a worker computes together, the last round in smaller chunks."""

from __future__ import annotations

from pathlib import Path

import pytest

from roi_xl.batch import CHUNK, _chunks, _Job
from roi_xl.workbook import WorkbookOptions


def _jobs(count: int) -> list[_Job]:
    return [
        _Job(line, f"n{line}", Path(f"w{line}.xlsx"), WorkbookOptions()) for line in range(count)
    ]


@pytest.mark.parametrize("count", [0, 1, 2, 7, 24, 25, 49, 200, 1000, 1003])
@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_every_row_goes_out_once_in_order(count: int, workers: int) -> None:
    jobs = _jobs(count)
    chunks = _chunks(jobs, workers)
    assert [job for chunk in chunks for job in chunk] == jobs
    assert all(1 <= len(chunk) <= CHUNK for chunk in chunks)


def test_the_last_round_goes_out_in_smaller_chunks() -> None:
    sizes = [len(chunk) for chunk in _chunks(_jobs(1000), 2)]
    assert sizes[:38] == [CHUNK] * 38
    assert max(sizes[38:]) < CHUNK
    assert sum(sizes[38:]) == 2 * CHUNK
