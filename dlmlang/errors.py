"""The root of every error dlm raises on purpose; each package has its kinds beneath it.

dlmlang's (`EditError`), the trainer's (`trainer.errors.TrainerError` and its kinds) and
the CLI's (`dlm.errors.CliError`) all derive from `DlmError`, so the CLI catches one type
and maps it to an exit code in one place (`dlm.errors.exit_code`).
"""

from __future__ import annotations


class DlmError(Exception):
    """A failure with a message that says what happened, where, and what to do."""


class UsageError(DlmError):
    """What was asked cannot be done as asked (options that do not go together, a value
    out of its range): a usage error, whichever package finds it."""
