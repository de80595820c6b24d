"""The document files that opened a store, and the copies among them that share it.

A store is named by the document's `dlm_id`, so a copied document (same id) trains
into the same store as its original. The store remembers every document path that
opened it, so `dlm show` and `dlm train` can say so (docs/format.md, "Copies of a
document").
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlmlang.document import prepare
from trainer.store.metrics import now

if TYPE_CHECKING:
    from trainer.store.layout import Store
    from trainer.store.metrics import MetricsDB

FRONTMATTER_BYTES = 64 * 1024
"""How much of another document is read for its dlm_id (a frontmatter is a few lines)."""


@dataclass(frozen=True, slots=True)
class DocumentSighting:
    """A document file that opened the store: its resolved path, first and last time (UTC)."""

    path: Path
    first_seen: str
    last_seen: str


@dataclass(frozen=True, slots=True)
class SharedStore:
    """Another document file that carries the same dlm_id and opened the same store."""

    other: Path
    """Its resolved path."""
    other_is_newer: bool
    """It first opened the store after this document did: the likelier copy."""


class DocumentLog:
    """The `documents` table of the store's database."""

    def __init__(self, metrics: MetricsDB) -> None:
        self._metrics = metrics

    def record(self, path: Path) -> None:
        """Note that the document at `path` opened the store now (nothing on a read-only store)."""
        if self._metrics.read_only:
            return
        at = now()
        self._metrics.connection.execute(
            "INSERT INTO documents VALUES (?, ?, ?)"
            " ON CONFLICT(path) DO UPDATE SET last_seen = excluded.last_seen",
            (str(path.resolve()), at, at),
        )

    def sightings(self) -> list[DocumentSighting]:
        """Every document recorded, in the order they first opened the store."""
        rows = self._metrics.connection.execute(
            "SELECT path, first_seen, last_seen FROM documents ORDER BY first_seen, rowid"
        ).fetchall()
        return [DocumentSighting(Path(row[0]), row[1], row[2]) for row in rows]

    def forget(self, paths: Iterable[Path]) -> None:
        """Drop documents from the table (nothing on a read-only store)."""
        if self._metrics.read_only:
            return
        with self._metrics.connection:
            self._metrics.connection.executemany(
                "DELETE FROM documents WHERE path = ?", [(str(p),) for p in paths]
            )


def shared_with(store: Store, path: Path) -> list[SharedStore]:
    """Record `path` with `store`; the other recorded documents that still carry its dlm_id.

    Recorded files that are gone or carry another id now (renamed, or given their own
    with `dlm new-id`) are forgotten silently; files that cannot be read are kept and
    not reported. A read-only store records and reports nothing.
    """
    if store.metrics.read_only:
        return []
    store.documents.record(path)
    this = path.resolve()
    sightings = [s.path for s in store.documents.sightings()]
    sharing: list[SharedStore] = []
    gone: list[Path] = []
    for index, other in enumerate(sightings):
        if other == this:
            continue
        carries = _carries(other, store.dlm_id)
        if carries is None:
            continue
        if carries:
            sharing.append(SharedStore(other, index > sightings.index(this)))
        else:
            gone.append(other)
    store.documents.forget(gone)
    return sharing


def sharing_warning(shared: SharedStore, this: Path, root: Path) -> str:
    """What to tell the user about a document that shares the store of `this`."""
    copy = shared.other if shared.other_is_newer else this
    return (
        f"{shared.other} has the same dlm_id as {this} and shares its store ({root}): their "
        "runs, adapters and staged pairs mix. If one is a copy, give it its own id: "
        f"`dlm new-id {copy}`."
    )


def _carries(path: Path, dlm_id: str) -> bool | None:
    """Whether the file's frontmatter has `dlm_id`; None when that cannot be told now."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO there must not block `show`
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return None
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
        head = os.read(fd, FRONTMATTER_BYTES) if regular else b""
    except OSError:
        return None
    finally:
        os.close(fd)
    if not regular:
        return False
    frontmatter = prepare(head.decode("utf-8", errors="replace"), cut_body=False).frontmatter
    if frontmatter is None:
        # No frontmatter in the whole file: not a document of this id any more.
        return None if len(head) == FRONTMATTER_BYTES else False
    return frontmatter.dlm_id == dlm_id
