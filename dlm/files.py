"""Reading documents and writing files atomically.

Hand-written (about 20 lines) rather than a dependency: the maintained
atomic-write packages either are archived or pull in more than this needs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dlm.errors import CliError


def read_document_bytes(path: Path) -> bytes:
    """The file's bytes, or a CliError that says why they cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file. Create one with `dlm init {path}`.") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory; give the path of a .dlm file.") from None
    except OSError as error:
        raise CliError(f"{path}: cannot read it ({error.strerror}).") from None


def write_atomically(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write `data` to `path` so readers see the old or the new file, never half of one.

    With `exclusive`, fail if `path` exists (checked again at the final link).
    """
    directory = path.parent if str(path.parent) else Path(".")
    if exclusive and path.exists():
        raise CliError(f"{path} already exists; dlm never overwrites a document.")
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            try:
                os.link(temporary, path)  # fails if someone created it meanwhile
            except FileExistsError:
                raise CliError(f"{path} already exists; dlm never overwrites a document.") from None
            os.unlink(temporary)
        else:
            os.replace(temporary, path)
        _fsync_directory(directory)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
