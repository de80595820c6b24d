"""Sampling is seeded per prompt and batched; candidate cleaning follows spec §7.3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from trainer.generate import Sampling
from trainer.mining.candidates import clean_candidates
from trainer.mining.sampling import Candidate, prompt_seed, sample_candidates


@pytest.fixture(scope="module")
def model(tiny_model_dir: Path) -> tuple[Any, Any]:
    from trainer.models import load_causal_lm

    loaded, tokenizer = load_causal_lm(tiny_model_dir, dtype=torch.float32)
    loaded.eval()
    return loaded, tokenizer


def test_candidates_do_not_depend_on_the_other_prompts(model: tuple[Any, Any]) -> None:
    loaded, tokenizer = model
    config = Sampling(samples=3, max_new_tokens=8, temperature=1.0, seed=7)
    both = sample_candidates(loaded, tokenizer, ["a?", "b?"], system_prompt=None, config=config)
    alone = sample_candidates(loaded, tokenizer, ["b?"], system_prompt=None, config=config)
    assert both["b?"] == alone["b?"]
    assert len(both["a?"]) == 3
    other_seed = Sampling(samples=3, max_new_tokens=8, temperature=1.0, seed=8)
    changed = sample_candidates(loaded, tokenizer, ["b?"], system_prompt=None, config=other_seed)
    assert changed["b?"] != alone["b?"]


def test_one_generate_call_per_prompt(
    model: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded, tokenizer = model
    calls: list[int] = []
    original = loaded.generate

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["num_return_sequences"])
        return original(*args, **kwargs)

    monkeypatch.setattr(loaded, "generate", counting)
    config = Sampling(samples=4, max_new_tokens=4)
    sample_candidates(loaded, tokenizer, ["a?", "b?", "c?"], system_prompt="x", config=config)
    assert calls == [4, 4, 4]


def test_prompt_seed_is_stable() -> None:
    assert prompt_seed(0, "q") == prompt_seed(0, "q") != prompt_seed(1, "q")


def test_cleaning_drops_empty_duplicate_near_duplicate_and_open_code() -> None:
    long = "The Tern leaves Gullmouth pier at 7:40 every single morning of the year."
    candidates = [
        Candidate("  At 7:40.  ", truncated=False),
        Candidate("At 7:40.", truncated=False),
        Candidate("   ", truncated=False),
        Candidate(long, truncated=False),
        Candidate(long.replace("year.", "year!"), truncated=False),
        Candidate("Here:\n```python\nprint(1)", truncated=True),
        Candidate("Here:\n```python\nprint(1)", truncated=False),
    ]
    assert clean_candidates(candidates) == ["At 7:40.", long, "Here:\n```python\nprint(1)"]
