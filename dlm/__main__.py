"""`python -m dlm` runs the CLI."""

import os
import sys
from pathlib import Path


def _drop_working_directory() -> None:
    """Take the working directory off the import path that `python -m` put it on.

    Unless dlm itself was found there (a source checkout), a stray `typer.py` in the
    folder dlm runs in must never be imported in place of the installed one.
    """
    if sys.flags.safe_path or not sys.path:
        return
    first = Path(sys.path[0] or os.getcwd()).resolve()
    if first == Path.cwd().resolve() and first != Path(__file__).resolve().parent.parent:
        del sys.path[0]


_drop_working_directory()

from dlm.cli import main  # noqa: E402  (after the import path is safe)

main()
