"""Writing a file so that a reader sees the old or the new content, never half of one.

The one atomic writer of the project: documents, the staged plan and the store's
pointers all go through it. Hand-written (about 40 lines) rather than a dependency:
the maintained atomic-write packages are archived or pull in more than this needs.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_atomically(
    path: Path, data: bytes, *, exclusive: bool = False, like: os.stat_result | None = None
) -> None:
    """Write `data` to `path` through a synced temp file renamed over it.

    With `exclusive`, raise FileExistsError if `path` exists (checked again at the final
    link). With `like`, the new file gets that file's permission bits and owner (an
    owner this process may not give raises PermissionError before anything is replaced).
    """
    with staged_file(path, data, like=like) as temporary:
        if exclusive:
            os.link(temporary, path)  # FileExistsError if someone created it meanwhile
            os.unlink(temporary)
        else:
            os.replace(temporary, path)


@contextmanager
def staged_file(path: Path, data: bytes, *, like: os.stat_result | None = None) -> Iterator[Path]:
    """Yield a synced temp file beside `path` holding `data`; the caller renames it.

    The temp file goes on any exception, and also when the block does not move it; the
    directory is synced after the block.
    """
    directory = path.parent if str(path.parent) else Path(".")
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if like is not None:
                _take_mode_and_owner(handle.fileno(), like)
            os.fsync(handle.fileno())
        yield temporary
        fsync_directory(directory)
    finally:
        temporary.unlink(missing_ok=True)


def fsync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(directory: Path) -> None:
    """Sync every file under `directory`, then the directory itself."""
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    fsync_directory(directory)


def _take_mode_and_owner(fd: int, like: os.stat_result) -> None:
    current = os.fstat(fd)
    if (current.st_uid, current.st_gid) != (like.st_uid, like.st_gid):
        os.fchown(fd, like.st_uid, like.st_gid)  # PermissionError: not ours to give
    os.fchmod(fd, stat.S_IMODE(like.st_mode))
