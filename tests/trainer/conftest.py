"""Tiny models built in the test session from a config: real code paths, seconds to run."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.models.tiny import build_tiny_model, build_tokenizer
from trainer.runtime.environment import set_offline

set_offline()

__all__ = ["build_tiny_model", "build_tokenizer", "tiny_model_dir"]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny causal LM checkpoint with a chat-template tokenizer."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))
