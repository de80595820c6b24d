"""`dlm new-id`: give a copied document its own dlm_id, and so its own store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dlm.documents import LoadedDocument, load_valid_document
from dlm.errors import CliError
from dlm.jsonout import to_json


def new_id(
    path: Annotated[Path, typer.Argument(help="The .dlm document to give a fresh dlm_id.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON of docs/json.md.")
    ] = False,
) -> None:
    """Give the document a fresh dlm_id; nothing else in the file changes.

    The store is named by the dlm_id, so a copy (`cp notes.dlm notes2.dlm`) trains
    into its original's store until it gets an id of its own. After this the document
    starts with an empty store; the old one stays with the other file (docs/format.md).

    Example: dlm new-id notes2.dlm
    """
    loaded = load_valid_document(path)
    from ulid import ULID  # imports pydantic when present: only here, not at start-up

    fresh = str(ULID())
    old = _write_new_id(loaded, fresh)
    if as_json:
        payload = {"schema_version": 1, "path": str(path), "old_id": old, "new_id": fresh}
        typer.echo(to_json(payload))
        return
    typer.echo(
        f"{path}: dlm_id {old} -> {fresh}. It starts with an empty store; the store of {old} "
        "(its runs, adapters and staged pairs) stays with the other file that has that id."
    )


def _write_new_id(loaded: LoadedDocument, fresh: str) -> str:
    """Write `fresh` over the document's dlm_id; returns the id it replaced."""
    from dlm.writer import Change, write_edits
    from dlmlang.edits import EditError, replace_frontmatter_value

    def compute(version: LoadedDocument) -> Change[str]:
        try:
            edit = replace_frontmatter_value(version.document, "dlm_id", fresh)
        except EditError as error:
            raise CliError(
                f"{loaded.path}: cannot change the dlm_id in place ({error}); nothing was "
                f"written. Set `dlm_id: {fresh}` by hand."
            ) from None
        return Change([edit], version.frontmatter.dlm_id)

    return write_edits(loaded, compute).outcome
