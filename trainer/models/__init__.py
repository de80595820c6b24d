"""Base models: where they come from (registry, local directory, local HF cache) and loading."""

from trainer.models.load import load_causal_lm
from trainer.models.resolve import ResolvedModel, resolve_base_model

__all__ = ["ResolvedModel", "load_causal_lm", "resolve_base_model"]
