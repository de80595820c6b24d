"""Shared fixtures: the tiny model (built once per session) for trainer and CLI tests."""

from tests.trainer.conftest import tiny_model_dir

__all__ = ["tiny_model_dir"]
