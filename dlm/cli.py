"""The `dlm` application: registers every command, translates errors to exit codes."""

from __future__ import annotations

import sys

import typer

from dlm.commands.check import check
from dlm.commands.init import init
from dlm.errors import CliError

HELP = """dlm: train a language-model adapter from a .dlm document, and edit it with a
language server.

Exit codes: 0 success; 1 failure (a document with errors, a failed run);
2 usage error or nothing to do.

Example: dlm init notes.dlm && dlm check notes.dlm
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.command()(check)
app.command()(init)


def main() -> None:
    """Run the CLI; a CliError prints its message once on stderr and sets the exit code."""
    try:
        app()
    except CliError as error:
        typer.echo(f"dlm: {error.message}", err=True)
        sys.exit(error.code)
