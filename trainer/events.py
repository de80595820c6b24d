"""How long-running work reports progress: a protocol the CLI implements (rich bar,
JSON lines) and tests record. The trainer never prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StepEvent:
    """One optimizer step finished."""

    step: int
    total_steps: int
    loss: float | None
    learning_rate: float | None
    tokens_per_second: float | None


class Events(Protocol):
    """Receives progress; every method must return quickly."""

    def message(self, text: str) -> None:
        """Something worth telling the user (loading, saving, ...)."""

    def start(self, total_steps: int) -> None:
        """Training is about to run `total_steps` optimizer steps."""

    def step(self, event: StepEvent) -> None:
        """An optimizer step finished."""


class SilentEvents:
    """Events that go nowhere."""

    def message(self, text: str) -> None:
        """Ignore."""

    def start(self, total_steps: int) -> None:
        """Ignore."""

    def step(self, event: StepEvent) -> None:
        """Ignore."""
