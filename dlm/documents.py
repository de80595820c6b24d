"""Loading a document for a command that needs a valid one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import typer

import dlmlang
from dlm.errors import CliError
from dlm.files import read_document_bytes
from dlm.render import diagnostic_text

_LINES = re.compile(r"\r\n|\r|\n")


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
        lines = _LINES.split(data.decode("utf-8", errors="replace").removeprefix("\ufeff"))
        for problem in document.diagnostics:
            typer.echo(diagnostic_text(str(path), problem, lines), err=True)
        raise CliError(f"{path} has errors (above); nothing was done. Fix them and run again.")
    return LoadedDocument(path, data, document, document.frontmatter)
