"""The CLI's error kind, and the one place where every dlm error becomes an exit code.

Exit codes: 0 success; 1 failure (a document with errors, a failed run, no adapter yet,
a locked or corrupt store); 2 usage error or nothing to do; 130 interrupted.
"""

from __future__ import annotations

from dlmlang.errors import DlmError, UsageError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CliError(DlmError):
    """A failure the CLI reports as one message on stderr, then exits with `code`."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def exit_code(error: DlmError) -> int:
    """The exit code of an error: a CLI error's own, a usage error 2, any other kind 1."""
    if isinstance(error, CliError):
        return error.code
    return EXIT_USAGE if isinstance(error, UsageError) else EXIT_FAILURE
