"""How much dlm says on stderr: `-q` silences progress notes and bars, `-v` adds debug
logs. Kept in the environment so the processes a command starts (torchrun ranks, the
language server's `dlm` children) say as much as it does."""

from __future__ import annotations

import logging
import os

import typer

QUIET = "DLM_QUIET"
VERBOSE = "DLM_VERBOSE"


def set_verbosity(*, verbose: bool, quiet: bool) -> None:
    """Apply `-v`/`-q` to this process and the ones it starts."""
    if quiet:
        os.environ[QUIET] = "1"
    if verbose:
        os.environ[VERBOSE] = "1"
    if is_verbose():
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger = logging.getLogger("dlm")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


def is_quiet() -> bool:
    """Whether progress notes and bars are off (`-q`, or a parent started with it)."""
    return os.environ.get(QUIET) == "1"


def is_verbose() -> bool:
    """Whether debug logs are on (`-v`, or a parent started with it)."""
    return os.environ.get(VERBOSE) == "1" and not is_quiet()


def note(text: str) -> None:
    """A progress note on stderr (loading, waiting for a lock, converting a model); `-q`
    silences it. Results, warnings and errors are never notes."""
    if not is_quiet():
        typer.echo(text, err=True)
