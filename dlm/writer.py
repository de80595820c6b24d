"""The one way dlm changes a user's document: edits checked against the bytes on disk.

Every change (apply, revert, `mine --apply`, new-id) computes its edits from a parsed
version of the file, then writes through `write_edits`, which:
- re-reads the file just before the rename and, when the user saved meanwhile,
  computes the edits again on what is there now (or refuses, writing nothing, when
  that version has errors), so an edit saved while dlm worked is never lost;
- writes the symlink's target, never replacing the link with a regular file;
- keeps the file's permission bits and owner;
- replaces the file atomically (docs/self-improving-loop.md, "Writes").
Callers that touch the store hold its lock around the whole change.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import dlmlang
from dlm.documents import LoadedDocument
from dlm.errors import CliError
from dlm.files import read_document_bytes
from dlmlang.edits import TextEdit, apply_edits

T = TypeVar("T")
ATTEMPTS = 5
"""How many times the edits are computed again on a file the user keeps saving."""


@dataclass(frozen=True, slots=True)
class Change(Generic[T]):
    """Edits for one version of a document, and what they mean to the caller."""

    edits: list[TextEdit]
    outcome: T


@dataclass(frozen=True, slots=True)
class Written(Generic[T]):
    """What `write_edits` did: the outcome of the edits it wrote (or found unneeded)."""

    outcome: T
    written: bool
    """False when the current text needed no edit."""
    recomputed: bool
    """True when the file had changed on disk and the edits were computed again."""
    document: LoadedDocument
    """The version the edits were computed from."""


def write_edits(
    loaded: LoadedDocument, compute: Callable[[LoadedDocument], Change[T]], *, kept: str = ""
) -> Written[T]:
    """Apply `compute(version)` to the version on disk, recomputing when it moved on.

    `kept` finishes the refusal message (what survives a refusal, e.g. the staged plan).
    """
    from trainer.store.atomic import staged_file

    target = Path(os.path.realpath(loaded.path))
    current = loaded
    for _ in range(ATTEMPTS):
        change = compute(current)
        if not change.edits:
            return Written(change.outcome, False, current is not loaded, current)
        new = apply_edits(current.data.decode("utf-8"), change.edits).encode("utf-8")
        info = _stat(target)
        try:
            with staged_file(target, new, like=info) as temporary:
                on_disk = read_document_bytes(target)
                if on_disk == current.data:
                    os.replace(temporary, target)
                    return Written(change.outcome, True, current is not loaded, current)
        except PermissionError as error:
            raise CliError(
                f"{loaded.path}: cannot write it without changing its owner or permissions "
                f"({error.strerror}); nothing was written.{_then(kept)}"
            ) from None
        current = _reparse(loaded.path, on_disk, kept)
    raise CliError(
        f"{loaded.path} kept changing while dlm tried to write it; nothing was written."
        f"{_then(kept)} Run again when it is saved."
    )


def _stat(target: Path) -> os.stat_result:
    try:
        return os.stat(target)
    except OSError as error:
        raise CliError(f"{target}: cannot write it ({error.strerror}).") from None


def _reparse(path: Path, data: bytes, kept: str) -> LoadedDocument:
    """The version the user saved while dlm worked; a refusal if it has errors."""
    document = dlmlang.parse_bytes(data)
    if not document.ok or document.frontmatter is None:
        errors = [d for d in document.diagnostics if d.severity.value == "error"]
        first = f" ({path}:{errors[0].range.start.line + 1}: {errors[0].message})" if errors else ""
        raise CliError(
            f"{path} was saved while dlm was working and now has errors{first}; nothing was "
            f"written.{_then(kept)} Fix the document and run again."
        )
    return LoadedDocument(path, data, document, document.frontmatter)


def _then(kept: str) -> str:
    return f" {kept}" if kept else ""
