"""The `dlm` application: registers every command, translates errors to exit codes."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from dlm.commands import preference, reward, synth
from dlm.commands.check import check
from dlm.commands.demo import demo
from dlm.commands.doctor import doctor
from dlm.commands.eval import evaluate
from dlm.commands.export import export
from dlm.commands.fmt import fmt
from dlm.commands.init import init
from dlm.commands.loop import loop
from dlm.commands.lsp import lsp
from dlm.commands.metrics import metrics
from dlm.commands.new_id import new_id
from dlm.commands.prompt import prompt
from dlm.commands.repl import repl
from dlm.commands.serve import serve
from dlm.commands.show import show
from dlm.commands.train import train
from dlm.errors import exit_code
from dlm.render import printable
from dlm.verbosity import set_verbosity
from dlmlang.errors import DlmError

HELP = """dlm: train a language-model adapter from a .dlm document, and edit it with a
language server.

Exit codes: 0 success; 1 failure (a document with errors, a failed run, no
adapter yet, a locked or corrupt store); 2 usage error or nothing to do;
130 interrupted.

Example: dlm init notes.dlm && dlm check notes.dlm
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"dlm {version('dlm-toolkit')}")
        raise typer.Exit()


@app.callback()
def options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print dlm's version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Where dlm keeps stores and models (sets $DLM_HOME; default ~/.dlm).",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print dlm's debug logs on stderr.")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress notes or bars on stderr; results and errors only."
        ),
    ] = False,
) -> None:
    """Options for every command (they go before the command: `dlm -q train notes.dlm`)."""
    if home is not None:
        os.environ["DLM_HOME"] = str(home.expanduser().resolve())
    set_verbosity(verbose=verbose, quiet=quiet)


def _translated(command: Callable[..., None]) -> Callable[..., None]:
    """The command with any dlm error turned into one message on stderr and its exit code
    (`dlm.errors.exit_code`)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except DlmError as error:
            typer.echo(f"dlm: {printable(str(error))}", err=True)
            raise typer.Exit(exit_code(error)) from None

    return run


# The commands, in the order `dlm --help` lists them.
for _command in (demo, init, new_id, check, fmt, train, prompt, repl, show, doctor, metrics, lsp):
    app.command()(_translated(_command))
app.command("eval")(_translated(evaluate))
app.command()(_translated(export))
app.command()(_translated(serve))
app.command()(_translated(loop))
for _group, _name in ((preference.app, "preference"), (reward.app, "reward"), (synth.app, "synth")):
    for _sub in _group.registered_commands:
        assert _sub.callback is not None
        _sub.callback = _translated(_sub.callback)
    app.add_typer(_group, name=_name)


def main() -> None:
    """Run the CLI; any dlm error prints its message once on stderr and sets the exit code."""
    registered = app.registered_commands, app.registered_groups
    _only_the_command_named(sys.argv[1:])
    try:
        app()
    except DlmError as error:
        typer.echo(f"dlm: {printable(str(error))}", err=True)
        sys.exit(exit_code(error))
    finally:
        app.registered_commands, app.registered_groups = registered


_GLOBAL_FLAGS = {"--verbose", "-v", "--quiet", "-q"}


def _only_the_command_named(arguments: list[str]) -> None:
    """Register only the command the arguments name, when they plainly name one.

    Typer builds a click command for every registered command on each run (reading
    each signature and evaluating its annotations): most of the time of `dlm check`
    on a small file. The one named is built the same way, so it runs, parses and
    reports usage errors the same; anything else (no command, a name that is not a
    command, `--help` or another option before it) keeps them all.
    """
    position = 0
    while position < len(arguments):
        argument = arguments[position]
        if argument == "--home":
            position += 2
        elif argument in _GLOBAL_FLAGS or argument.startswith("--home="):
            position += 1
        else:
            break
    if position >= len(arguments):
        return
    name = arguments[position]
    commands = [
        c
        for c in app.registered_commands
        if c.callback is not None
        and (c.name or c.callback.__name__.lower().replace("_", "-")) == name
    ]
    groups = [g for g in app.registered_groups if g.name == name]
    if len(commands) + len(groups) == 1:
        app.registered_commands = commands
        app.registered_groups = groups
