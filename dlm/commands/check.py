"""`dlm check`: diagnostics for .dlm files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import dlmlang
from dlm.errors import EXIT_FAILURE, EXIT_OK, CliError
from dlm.files import read_document_bytes
from dlm.jsonout import to_json
from dlm.render import (
    CHECK_SCHEMA_VERSION,
    document_report,
    file_json,
    printable,
    unreadable_json,
)


def check(
    paths: Annotated[list[Path], typer.Argument(help="The .dlm files to check.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON of docs/json.md instead of text.")
    ] = False,
) -> None:
    """Check .dlm files: every problem with its code, position and fix.

    Exit 0 when no file has an error (warnings are fine), 1 otherwise.

    Example: dlm check notes.dlm drafts/*.dlm
    """
    results = []
    failed = False
    for path in paths:
        try:
            data = read_document_bytes(path)
        except CliError as error:
            results.append(unreadable_json(str(path), error.message))
            failed = True
            if not as_json:
                typer.echo(printable(error.message), err=True)
            continue
        document = dlmlang.parse_bytes(data)
        failed = failed or not document.ok
        results.append(file_json(str(path), document))
        if not as_json:
            _print_text(str(path), document, data)
    if as_json:
        typer.echo(to_json({"schema_version": CHECK_SCHEMA_VERSION, "files": results}))
    else:
        _print_summary(results)
    raise typer.Exit(EXIT_FAILURE if failed else EXIT_OK)


def _print_text(path: str, document: dlmlang.Document, data: bytes) -> None:
    for text in document_report(path, document, data):
        typer.echo(text)


def _print_summary(results: list[dict[str, object]]) -> None:
    errors = warnings = 0
    for result in results:
        for problem in result["diagnostics"]:  # type: ignore[attr-defined]
            if problem["severity"] == "error":
                errors += 1
            elif problem["severity"] == "warning":
                warnings += 1
    files = len(results)
    noun = "file" if files == 1 else "files"
    if errors or warnings:
        typer.echo(f"{files} {noun} checked: {errors} error(s), {warnings} warning(s).")
    else:
        typer.echo(f"{files} {noun} checked: no problems.")
