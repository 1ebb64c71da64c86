"""Write files so that an interruption never leaves a half-written one behind for long.

A write goes to ``.NAME.roi-xl-PID-RANDOM.partial`` beside its target, then is
renamed over it. A process killed mid-write cannot remove its temporary file,
so the next write to the same target removes every one whose process is gone.
A read-modify-write of a file holds ``locked`` on it, so two of them in turn
each see the other's result instead of one silently undoing the other.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: Excel's own sharing lock keeps a workbook from two writers
    fcntl = None  # type: ignore[assignment]

PARTIAL_SUFFIX = ".partial"
_PARTIAL_TAG = "roi-xl"


@contextlib.contextmanager
def replacing(target: Path, mode: int | None = None, swept: bool = False) -> Iterator[Path]:
    """A temporary path beside ``target`` that becomes ``target`` when the block ends well.

    On any error the temporary file is removed and ``target`` is left as it was. ``swept``:
    the caller removed the stale temporary files of ``target`` already.
    """
    descriptor, temporary = partial_file(target, swept)
    os.close(descriptor)
    try:
        yield Path(temporary)
        os.chmod(temporary, usual_mode() if mode is None else mode)
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        system = _system_error(exc)
        if system is not None:  # a full or read-only disk: say which file, whoever wrapped it
            raise OSError(system.errno, system.strerror, str(target)) from None
        raise


def _system_error(exc: BaseException) -> OSError | None:
    """The system error behind ``exc`` (a writer library may wrap it in its own type)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def partial_file(target: Path, swept: bool = False) -> tuple[int, str]:
    """Open a new temporary file beside ``target`` (descriptor, path), named after this
    process; first remove the ones that writers since killed left for this target, unless
    they were ``swept`` already."""
    if not swept:
        remove_stale_partials(target)
    try:
        return tempfile.mkstemp(
            prefix=f".{target.name}.{_PARTIAL_TAG}-{os.getpid()}-",
            suffix=PARTIAL_SUFFIX,
            dir=target.parent,
        )
    except OSError as exc:  # named after the file asked for, not the temporary one
        raise OSError(exc.errno, f"cannot write there ({exc.strerror})", str(target)) from None


def remove_stale_partials(target: Path) -> list[Path]:
    """Delete the temporary files of ``target`` whose writing process no longer runs."""
    return remove_stale_partials_of(target.parent, {target.name})


_PARTIAL_NAME = re.compile(
    r"\.(.+)\." + re.escape(_PARTIAL_TAG) + r"-(\d+)-[^/]*" + re.escape(PARTIAL_SUFFIX)
)


def remove_stale_partials_of(folder: Path, names: set[str]) -> list[Path]:
    """Delete the temporary files in ``folder`` of the targets ``names`` whose writing
    process no longer runs: one pass over the folder, however many targets (a batch
    writing thousands of files into one folder sweeps it once, not once a file)."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            match = _PARTIAL_NAME.fullmatch(entry.name)
            if (
                match
                and match[1] in names
                and entry.is_file(follow_symlinks=False)
                and not _running(int(match[2]))
            ):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if not 0 < pid < 2**31:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: leave its file alone
    return True


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file at ``path`` while the block runs.

    The lock is taken on the file now at ``path``: a writer that renamed a new
    file over it while this one waited makes it lock that new file instead.
    """
    if fcntl is None or not path.is_file():
        yield
        return
    while True:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            if _same_file(descriptor, path):
                break
        except BaseException:
            os.close(descriptor)
            raise
        os.close(descriptor)
    try:
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _same_file(descriptor: int, path: Path) -> bool:
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(descriptor)
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


def write_text_atomically(path: Path, text: str) -> None:
    """Write beside the target under a temporary name, then rename over it."""
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def usual_mode() -> int:
    """The permissions a plain new file gets (temporary files are created private)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
