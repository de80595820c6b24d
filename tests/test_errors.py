"""One error root: every error dlm raises on purpose is a `DlmError`, and the CLI turns
each into one message and an exit code in one place."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from dlm.errors import EXIT_FAILURE, EXIT_USAGE, CliError, exit_code
from dlmlang.edits import EditError
from dlmlang.errors import DlmError
from trainer.errors import NoAdapterError, StoreLockedError, TrainerError

INTERNAL = {
    # Caught inside their module and re-raised as a JudgeError with the judge's name.
    "trainer.rewards.chat_api.EndpointError",
    "trainer.rewards.chat_api.BatchCancelledError",
}
HEAVY = ("trainer.generation.backends.vllm", "trainer.rewards.vllm")


def _error_classes() -> list[type[BaseException]]:
    found = []
    for package in ("dlmlang", "trainer", "dlm", "lsp"):
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, f"{package}."):
            if module.name.startswith(HEAVY) or module.name.endswith("__main__"):
                continue
            loaded = importlib.import_module(module.name)
            for name, value in vars(loaded).items():
                if (
                    inspect.isclass(value)
                    and issubclass(value, Exception)
                    and value.__module__ == module.name
                    and not name.startswith("_")
                ):
                    found.append(value)
    return found


def test_every_public_error_of_dlm_is_a_dlm_error() -> None:
    classes = _error_classes()
    assert {TrainerError, CliError, EditError} <= set(classes)
    strays = [
        f"{c.__module__}.{c.__qualname__}"
        for c in classes
        if not issubclass(c, DlmError) and f"{c.__module__}.{c.__qualname__}" not in INTERNAL
    ]
    assert strays == []


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (CliError("bad flag", EXIT_USAGE), EXIT_USAGE),
        (CliError("failed"), EXIT_FAILURE),
        (NoAdapterError("none yet"), EXIT_FAILURE),
        (StoreLockedError("locked"), EXIT_FAILURE),
        (EditError("no anchor"), EXIT_FAILURE),
    ],
)
def test_exit_codes_come_from_one_place(error: DlmError, code: int) -> None:
    assert exit_code(error) == code
