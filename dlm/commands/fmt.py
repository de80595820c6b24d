"""`dlm fmt`: give a document its canonical layout, never touching what it says."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dlm.documents import LoadedDocument, load_valid_document
from dlm.errors import EXIT_FAILURE
from dlm.jsonout import to_json
from dlmlang.edits import TextEdit
from dlmlang.formatting import format_edits

if TYPE_CHECKING:
    from dlm.writer import Written

FMT_SCHEMA_VERSION = 1


def fmt(
    path: Annotated[Path, typer.Argument(help="The .dlm document to format.")],
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 when the file would change."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON of docs/json.md.")
    ] = False,
) -> None:
    """Format a document: frontmatter and marker spacing, the blank line after the
    frontmatter, a final line ending. Bodies, blank lines between sections and section
    ids never change (docs/editors.md, "Formatting"); a document with errors is refused.

    Example: dlm fmt notes.dlm --check
    """
    loaded = load_valid_document(path)
    if check:
        edits = _edits(loaded)
        if as_json:
            typer.echo(to_json(_payload(path, edits, written=False)))
        elif edits:
            start = edits[0].range.start
            typer.echo(
                f"{path}:{start.line + 1}:{start.character + 1}: not formatted "
                f"({len(edits)} change(s)); run `dlm fmt {path}`"
            )
        if edits:
            raise typer.Exit(EXIT_FAILURE)
        return
    written = _write(loaded)
    if as_json:
        typer.echo(to_json(_payload(path, written.outcome, written=written.written)))
    elif written.written:
        typer.echo(f"{path}: formatted ({len(written.outcome)} change(s)).")
    else:
        typer.echo(f"{path}: already formatted.")


def _edits(loaded: LoadedDocument) -> list[TextEdit]:
    """The formatting edits of one version of the document (none for a valid one that
    needs none)."""
    return format_edits(loaded.data.decode("utf-8")) or []


def _write(loaded: LoadedDocument) -> Written[list[TextEdit]]:
    """Write the edits atomically, against the bytes on disk (dlm.writer)."""
    from dlm.writer import Change, write_edits

    def compute(version: LoadedDocument) -> Change[list[TextEdit]]:
        edits = _edits(version)
        return Change(edits, edits)

    return write_edits(loaded, compute)


def _payload(path: Path, edits: list[TextEdit], *, written: bool) -> dict[str, object]:
    return {
        "schema_version": FMT_SCHEMA_VERSION,
        "path": str(path),
        "changed": bool(edits),
        "changes": len(edits),
        "written": written,
    }
