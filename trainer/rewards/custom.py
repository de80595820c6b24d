"""`py:<module>:<Class>`: your own `BaseRM` subclass as a judge.

The module is imported with the current directory on the path (like `python -m`);
options after `?` (URL-encoded) are passed to the constructor as strings. Every score
the plug-in returns is checked: a number, finite, one per conversation.
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
import sys
from collections.abc import Sequence

from trainer.rewards.base import BaseRM, DetailedRM, JudgeError, Messages, RewardDetails

EXAMPLE = "`py:my_rewards:Brevity` for class Brevity in my_rewards.py"


def load_plugin(spec: str) -> BaseRM:
    """The `BaseRM` named by `module:Class[?key=value&...]`, checked and instantiated."""
    from trainer.rewards.auto import split_selector

    reference, options = split_selector(spec)
    module_name, _, class_name = reference.partition(":")
    if not module_name or not class_name:
        raise JudgeError(f"py:{spec}: expected py:<module>:<Class>, e.g. {EXAMPLE}.")
    module = _import(spec, module_name)
    cls = getattr(module, class_name, None)
    if cls is None:
        raise JudgeError(f"py:{spec}: module {module_name} has no {class_name}.")
    if not inspect.isclass(cls) or not issubclass(cls, BaseRM):
        raise JudgeError(
            f"py:{spec}: {class_name} is not a BaseRM subclass. Subclass "
            "trainer.rewards.base.BaseRM and implement score(messages) -> float."
        )
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        raise JudgeError(f"py:{spec}: {class_name} does not implement {missing}.")
    try:
        instance = cls(**options)
    except TypeError as error:
        raise JudgeError(f"py:{spec}: cannot create {class_name} ({error}).") from None
    return PluginRM(instance, f"py:{spec}")


class PluginRM(DetailedRM):
    """A plug-in behind checks: finite numbers, one per conversation, its name as selected."""

    def __init__(self, rm: BaseRM, name: str) -> None:
        self.rm = rm
        self.scale = rm.scale
        self._name = name

    @property
    def name(self) -> str:
        """The selector as given."""
        return self._name

    def load(self) -> None:
        """The plug-in's `load`."""
        self.rm.load()

    def close(self) -> None:
        """The plug-in's `close`."""
        self.rm.close()

    def fingerprint(self) -> dict[str, str]:
        """The plug-in's fingerprint under the selector's name."""
        return {**self.rm.fingerprint(), "selector": self.name}

    def _details_batch(self, batch: Sequence[Messages], batch_size: int) -> list[RewardDetails]:
        plain = type(self.rm).score_batch_details is BaseRM.score_batch_details
        try:
            if plain:
                scores: list[object] = list(self.rm.score_batch(batch, batch_size=batch_size))
            else:
                details = self.rm.score_batch_details(batch, batch_size=batch_size)
                scores = [d.score for d in details]
        except JudgeError:
            raise
        except Exception as error:
            kind = type(error).__name__
            raise JudgeError(f"{self.name} failed: {kind}: {error}") from error
        if len(scores) != len(batch):
            raise JudgeError(f"{self.name} returned {len(scores)} scores for {len(batch)}.")
        for score in scores:
            if isinstance(score, bool) or not isinstance(score, int | float):
                raise JudgeError(f"{self.name}: score must be a number, not {score!r}.")
            if not math.isfinite(score):
                raise JudgeError(f"{self.name}: score must be finite, not {score!r}.")
        if plain:
            return [RewardDetails(float(s), self.scale.to_common(float(s))) for s in scores]  # type: ignore[arg-type]
        return details


def _import(spec: str, module_name: str) -> object:
    added = os.getcwd() not in sys.path
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise JudgeError(
                f"py:{spec}: no module named {module_name} (looked in the current directory "
                f"and on sys.path). Run dlm from the directory that holds it, or install it."
            ) from None
        raise JudgeError(
            f"py:{spec}: {module_name} imports {error.name}, which is missing."
        ) from None
    finally:
        if added:
            sys.path.remove(os.getcwd())
