"""Warning that a copied document shares its store (docs/format.md#copies-of-a-document)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dlm.render import printable


def note_document(store: Any, path: Path, *, warn: bool = True) -> list[str]:
    """Record that the document at `path` opened `store`; the other documents sharing it.

    With `warn`, each of them gets a warning on stderr saying how to separate them.
    """
    from trainer.store.documents import shared_with, sharing_warning

    shared = shared_with(store, path)
    if warn:
        for each in shared:
            typer.echo(printable(sharing_warning(each, path, store.root)), err=True)
    return [str(each.other) for each in shared]
