"""`dlm init`: a new document with a fresh identity."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dlm.files import create_document
from dlmlang.schema import SUPPORTED_VERSION

_STARTER = """---
dlm_id: {dlm_id}
dlm_version: {version}
base_model: {base}
---

::instruction::
### Q
What is this document about?
### A
Replace this answer, and this question, with what the model should learn.
"""


def init(
    path: Annotated[Path, typer.Argument(help="Where to write the new document.")],
    base: Annotated[
        str,
        typer.Option(help="Base model: a registry name, a local directory or hf:<org>/<name>."),
    ] = "smollm2-135m",
) -> None:
    """Create a .dlm document with a fresh dlm_id and a starter question to edit.

    Never overwrites an existing file.

    Example: dlm init notes.dlm --base smollm2-135m
    """
    from ulid import ULID  # imports pydantic when present: only here, not at start-up

    text = _STARTER.format(dlm_id=str(ULID()), version=SUPPORTED_VERSION, base=base)
    create_document(path, text.encode("utf-8"))
    typer.echo(f"Wrote {path}. Edit it, then run `dlm check {path}`.")
