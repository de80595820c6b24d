"""Loading a document for a command that needs a valid one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

import dlmlang
from dlm.errors import CliError
from dlm.files import read_document_bytes
from dlm.render import document_report


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """A parsed document without errors, with the bytes it was read from."""

    path: Path
    data: bytes
    document: dlmlang.Document
    frontmatter: dlmlang.Frontmatter


def load_valid_document(path: Path) -> LoadedDocument:
    """Read and parse `path`; any error is printed like `dlm check` and stops the command."""
    data = read_document_bytes(path)
    document = dlmlang.parse_bytes(data)
    if not document.ok or document.frontmatter is None:
        for text in document_report(str(path), document, data):
            typer.echo(text, err=True)
        raise CliError(f"{path} has errors (above); nothing was done. Fix them and run again.")
    return LoadedDocument(path, data, document, document.frontmatter)
