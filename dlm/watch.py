"""`dlm train --watch`: train once, then again each time the saved document changes.

The file is polled (its device, inode, size and mtime every `poll` seconds) rather than
watched through OS notifications: no extra dependency, and an editor's atomic save
(write a temporary file, rename it over the document) is seen like any other write,
since the rename gives the path a new inode. A change counts once the file has stayed
the same for `quiet` seconds (the debounce); its bytes are then hashed, and the
document is trained on only when they differ from those of the last run and it has no
errors. Training runs in this thread, so one run at a time; edits saved during a run
are seen after it, as one follow-up run on the latest bytes.

Ctrl-C while waiting ends the watch with exit 0. Ctrl-C during a run interrupts it as
it does a plain `dlm train` (the phase in progress writes no adapter version; exit 130)
and ends the watch.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer

import dlmlang
from dlm.documents import LoadedDocument
from dlm.errors import EXIT_INTERRUPTED, CliError
from dlm.files import read_document_bytes
from dlm.render import document_report, printable
from dlmlang.errors import DlmError

FileState = tuple[int, int, int, int] | None
"""What polling compares: (device, inode, size, mtime in ns); None while the file is missing."""

Announce = Callable[[str, str, str | None], None]
"""Called with an event name, a one-line message and, for "trained", the adapter version."""

TrainOnce = Callable[[LoadedDocument], str | None]
"""Trains a valid document; the last adapter version written (None: no run wrote one)."""


@dataclass(frozen=True, slots=True)
class Timing:
    """How often the file is polled, and how long it must stay unchanged to count, in seconds."""

    poll: float = 0.2
    quiet: float = 1.0


def file_state(path: Path) -> FileState:
    """The file's identity, size and modification time; None when it cannot be read."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def wait_for_change(
    path: Path,
    seen: FileState,
    timing: Timing,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> FileState:
    """Block until the file differs from `seen` and then stays unchanged for `timing.quiet`
    seconds; its state then."""
    current = file_state(path)
    while current == seen:
        sleep(timing.poll)
        current = file_state(path)
    settled = clock()
    while clock() - settled < timing.quiet:
        sleep(timing.poll)
        latest = file_state(path)
        if latest != current:
            current, settled = latest, clock()
    return current


def watch_document(
    path: Path, train: TrainOnce, announce: Announce, timing: Timing | None = None
) -> None:
    """Train `path` now, then after each saved change, until Ctrl-C while waiting (returns)
    or during a run (a CliError with code 130)."""
    timing = timing or Timing()
    try:
        state = file_state(path)
        trained = _consider(path, None, train, announce)
        while True:
            announce("waiting", f"Watching {path} for changes (Ctrl-C to stop).", None)
            state = wait_for_change(path, state, timing)
            announce("changed", f"{path} changed.", None)
            trained = _consider(path, trained, train, announce)
    except KeyboardInterrupt:
        announce("stopped", "Stopped watching.", None)


def _consider(path: Path, trained: str | None, train: TrainOnce, announce: Announce) -> str | None:
    """Train on the file's bytes when they are new and valid; the digest of the bytes
    last trained on afterwards."""
    try:
        data = read_document_bytes(path)
    except CliError as error:
        announce("failed", printable(error.message), None)
        return trained
    digest = hashlib.sha256(data).hexdigest()
    if digest == trained:
        announce("unchanged", f"{path} is unchanged since the last run; not training.", None)
        return trained
    loaded = _valid(path, data)
    if loaded is None:
        announce("invalid", f"{path} has errors (above); not training. Fix them and save.", None)
        return trained
    announce("training", f"Training {path}.", None)
    try:
        version = _train(train, loaded)
    except DlmError as error:
        if isinstance(error, CliError) and error.code == EXIT_INTERRUPTED:
            raise
        typer.echo(f"dlm: {printable(str(error))}", err=True)
        announce("failed", f"Training failed (above); still watching {path}.", None)
        return trained
    written = f"adapter {version}" if version else "no new adapter version"
    announce("trained", f"Trained {path}: {written}.", version)
    return digest


def _valid(path: Path, data: bytes) -> LoadedDocument | None:
    """The parsed document, or None after printing its errors like `dlm check`."""
    document = dlmlang.parse_bytes(data)
    if document.ok and document.frontmatter is not None:
        return LoadedDocument(path, data, document, document.frontmatter)
    for text in document_report(str(path), document, data):
        typer.echo(text, err=True)
    return None


def _train(train: TrainOnce, loaded: LoadedDocument) -> str | None:
    """One run; Ctrl-C anywhere in it (not only inside the phases) interrupts it."""
    try:
        return train(loaded)
    except KeyboardInterrupt:
        raise CliError(
            "Interrupted: the phase in progress wrote no adapter version.", code=EXIT_INTERRUPTED
        ) from None
