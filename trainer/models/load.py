"""Loading a causal LM and its tokenizer from a local checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_causal_lm(directory: Path, *, dtype: Any, device: str | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) from `directory`; the tokenizer gets a pad token if it lacks one.

    The model goes to `device` when given (trainers place it themselves). Padding is on
    the right for training; generation pads one prompt at a time.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging

    logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    tokenizer = AutoTokenizer.from_pretrained(str(directory))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(str(directory), dtype=dtype)
    if device is not None:
        model.to(device)  # type: ignore[arg-type]  # transformers types .to as a decorator
    return model, tokenizer
