"""The base model with an adapter merged into its weights, as a transformers checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_merged(model_dir: Path, adapter_dir: Path | None, destination: Path) -> None:
    """Save base + adapter (peft `merge_and_unload`) into `destination`: safetensors
    weights in the base checkpoint's dtype, the tokenizer with its chat template, and a
    generation config that stops at the chat's end-of-turn token."""
    import torch

    from trainer.models import load_causal_lm

    saved_dtype = _checkpoint_dtype(model_dir)
    model, tokenizer = load_causal_lm(model_dir, dtype=torch.float32, device="cpu")
    if adapter_dir is not None:
        model = _merged(model, adapter_dir)
    _stop_at_end_of_turn(model, tokenizer)
    model.to(saved_dtype)
    model.save_pretrained(str(destination), safe_serialization=True)
    tokenizer.save_pretrained(str(destination))


def _merged(model: Any, adapter_dir: Path) -> Any:
    """The adapter's LoRA deltas added into the base weights; a plain model again."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()


def _checkpoint_dtype(model_dir: Path) -> Any:
    """The dtype the base checkpoint was saved in (float32 when its config does not say)."""
    import torch

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    dtype = getattr(torch, str(config.get("dtype") or config.get("torch_dtype")), None)
    return dtype if isinstance(dtype, torch.dtype) else torch.float32


def _stop_at_end_of_turn(model: Any, tokenizer: Any) -> None:
    """Generation stops at the tokenizer's end of turn as well as the config's eos."""
    config = model.generation_config
    stops = config.eos_token_id
    stops = [] if stops is None else [stops] if isinstance(stops, int) else list(stops)
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in stops:
        stops.append(tokenizer.eos_token_id)
    config.eos_token_id = stops[0] if len(stops) == 1 else stops
    if config.pad_token_id is None:
        config.pad_token_id = tokenizer.pad_token_id
