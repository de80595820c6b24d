"""What the local (transformers) reward models share: the checkpoint, loaded once, on demand."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

from trainer.rewards.base import DetailedRM
from trainer.rewards.checkpoint import Checkpoint, LoadOptions, locate
from trainer.rewards.profiles import PROFILES, Kind, Profile, resolve_profile


class LocalRM(DetailedRM):
    """A reward model read from a local or HF-cache checkpoint; subclasses check its head."""

    kind: Kind

    def __init__(
        self,
        reference: str,
        *,
        options: LoadOptions | None,
        home: Path | None,
        selector: str,
        profiles: tuple[Profile, ...] = PROFILES,
    ) -> None:
        self.reference = reference
        self.options = options or LoadOptions()
        self._home = home
        self._selector = selector
        self._profiles = profiles
        self.checkpoint: Checkpoint | None = None

    def load(self) -> None:
        """Locate and load the checkpoint, and check its head (once)."""
        if self.checkpoint is not None:
            return
        path = locate(self.reference, self._home)
        profile = resolve_profile(self.reference, path, kind=self.kind, profiles=self._profiles)
        checkpoint = Checkpoint(self.reference, path, profile, self.options)
        self._check(checkpoint)
        self.checkpoint = checkpoint

    def close(self) -> None:
        """Drop the model."""
        self.checkpoint = None

    def fingerprint(self) -> dict[str, str]:
        """The selector and what the checkpoint's scores depend on."""
        return {**super().fingerprint(), **self._loaded().fingerprint()}

    @abstractmethod
    def _check(self, checkpoint: Checkpoint) -> None:
        """Raise JudgeError when the checkpoint's head cannot serve this kind of model."""

    def _loaded(self) -> Checkpoint:
        if self.checkpoint is None:
            self.load()
        assert self.checkpoint is not None
        return self.checkpoint
