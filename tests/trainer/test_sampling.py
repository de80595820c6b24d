"""Sampling is seeded per prompt and batched; candidates are cleaned before judging."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from trainer.generation.generate import Sampling
from trainer.generation.seeded_sampling import Candidate, prompt_seed, sample_candidates
from trainer.mining.candidates import cleaned_candidates


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


def test_prompts_share_generate_calls_up_to_the_row_budget(
    model: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded, tokenizer = model
    calls: list[int] = []
    original = loaded.generate

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(int(kwargs["input_ids"].shape[0]))
        return original(*args, **kwargs)

    monkeypatch.setattr(loaded, "generate", counting)
    config = Sampling(samples=4, max_new_tokens=4)
    prompts = ["a?", "b?", "c?"]
    together = sample_candidates(loaded, tokenizer, prompts, system_prompt="x", config=config)
    assert calls == [12]
    calls.clear()
    apart = sample_candidates(
        loaded, tokenizer, prompts, system_prompt="x", config=config, rows_per_call=4
    )
    assert calls == [4, 4, 4]
    assert together == apart  # grouping changes nothing


def test_sampler_honours_top_p_and_each_rows_generator() -> None:
    from trainer.generation.seeded_sampling import SeededSampler

    scores = torch.log(torch.tensor([[0.6, 0.3, 0.1], [0.6, 0.3, 0.1]]))
    seen = set()
    for seed in range(40):
        generators = [torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)]
        sampler = SeededSampler(generators, temperature=1.0, top_p=0.5)
        out = sampler(None, scores)
        assert torch.equal(out[0], out[1])  # same seed, same draw
        seen.add(int(out[0].argmax()))
    assert seen == {0}  # top_p 0.5 keeps only the most likely token
    wide = set()
    for seed in range(60):
        sampler = SeededSampler([torch.Generator().manual_seed(seed)], temperature=1.0, top_p=0.85)
        wide.add(int(sampler(None, scores[:1])[0].argmax()))
    assert wide == {0, 1}  # 0.6 + 0.3 covers 0.85: the 0.1 token is cut


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
    cleaned = cleaned_candidates(candidates)
    assert cleaned.kept == ["At 7:40.", long, "Here:\n```python\nprint(1)"]
    assert cleaned.malformed == 2  # the blank one, and the one cut off inside code


def test_prompts_left_with_one_candidate_are_skipped_with_their_reason() -> None:
    from trainer.mining.candidates import judgeable_candidates

    sampled = {
        "varied?": [Candidate("At 7:40.", False), Candidate("Never.", False)],
        "empty?": [Candidate("", False), Candidate("Yes.", False)],
        "cut?": [Candidate("```python\nx", True), Candidate("```python\nx", True)],
        "same?": [Candidate("Yes.", False), Candidate("Yes.", False)],
    }
    cleaned, skipped = judgeable_candidates(sampled)
    assert cleaned == {"varied?": ["At 7:40.", "Never."]}
    assert skipped == {"malformed": 2, "insufficient_variety": 1}
