"""Reading documents (regular files of bounded size only) and creating new ones."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from dlm.errors import CliError

DEFAULT_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
MAX_DOCUMENT_BYTES_VARIABLE = "DLM_MAX_DOCUMENT_BYTES"


def max_document_bytes() -> int:
    """The largest document dlm reads: $DLM_MAX_DOCUMENT_BYTES, else 64 MiB."""
    value = os.environ.get(MAX_DOCUMENT_BYTES_VARIABLE, "").strip()
    if not value:
        return DEFAULT_MAX_DOCUMENT_BYTES
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit <= 0:
        raise CliError(
            f"{MAX_DOCUMENT_BYTES_VARIABLE}={value!r} is not a positive number of bytes; "
            "unset it for the default of 64 MiB."
        )
    return limit


def read_document_bytes(path: Path) -> bytes:
    """The bytes of the regular file at `path`, or a CliError that says why not.

    Devices, FIFOs and sockets are refused before anything is read (opening a FIFO does
    not wait for a writer), and so is a file larger than `max_document_bytes()`.
    """
    limit = max_document_bytes()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise CliError(f"{path}: no such file. Create one with `dlm init {path}`.") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory; give the path of a .dlm file.") from None
    except OSError as error:
        raise CliError(f"{path}: cannot read it ({error.strerror}).") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise CliError(f"{path}: is a directory; give the path of a .dlm file.")
        if not stat.S_ISREG(info.st_mode):
            raise CliError(
                f"{path}: is a {_kind(info.st_mode)}, not a regular file; dlm reads documents "
                "from regular files only."
            )
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise CliError(
            f"{path}: larger than the document size limit of {limit:,} bytes. Split the "
            f"document, or raise the limit with {MAX_DOCUMENT_BYTES_VARIABLE}=<bytes>."
        )
    return data


def create_document(path: Path, data: bytes) -> None:
    """Write a new document at `path`; an existing file is never overwritten."""
    from trainer.store.atomic import write_atomically

    if path.exists():
        raise CliError(f"{path} already exists; dlm never overwrites a document.")
    try:
        write_atomically(path, data, exclusive=True)
    except FileExistsError:
        raise CliError(f"{path} already exists; dlm never overwrites a document.") from None
    except OSError as error:
        raise CliError(f"{path}: cannot write it ({error.strerror}).") from None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"
