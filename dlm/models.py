"""The base model a command answers with, resolved once (the embedded one converted once)."""

from __future__ import annotations

from pathlib import Path

from dlm.verbosity import note


def base_model_dir(base_model: str) -> Path:
    """The base model's checkpoint directory, the threads set for this machine first."""
    from trainer.models import resolve_base_model
    from trainer.runtime.environment import configure_threads
    from trainer.store import dlm_home

    configure_threads(None)
    return Path(resolve_base_model(base_model, dlm_home(), progress=note).path)
