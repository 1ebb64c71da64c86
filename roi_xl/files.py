"""Write files so that an interruption never leaves a half-written one behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replacing(target: Path, mode: int | None = None) -> Iterator[Path]:
    """A temporary path beside ``target`` that becomes ``target`` when the block ends well.

    On any error the temporary file is removed and ``target`` is left as it was.
    """
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".partial", dir=target.parent
    )
    os.close(descriptor)
    try:
        yield Path(temporary)
        os.chmod(temporary, usual_mode() if mode is None else mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_text_atomically(path: Path, text: str) -> None:
    """Write beside the target under a temporary name, then rename over it."""
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def usual_mode() -> int:
    """The permissions a plain new file gets (temporary files are created private)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
