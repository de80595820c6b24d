"""The sway judge equals an independent mean(log p_adapter - log p_base) on a tiny model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from trainer.rewards.base import BaseRM, JudgeError, conversation
from trainer.rewards.selector import JudgeContext, make_judge

ITEMS = [
    ("When does the Tern leave?", "At 7:40 every morning."),
    ("Who keeps the light?", "Morwenna"),
    ("Who keeps the light?", "Morwenna Teague keeps Black Rock Light, every night."),
]
CONVERSATIONS = [conversation(question, answer) for question, answer in ITEMS]


def sway(selector: str, model: Any, tokenizer: Any, system_prompt: str | None) -> BaseRM:
    """The judge `--judge sway` (or `sway:logprob`) builds for a document."""
    context = JudgeContext(
        home=Path("."), model=model, tokenizer=tokenizer, system_prompt=system_prompt
    )
    return make_judge(selector, context)


@pytest.fixture(scope="module")
def adapted(tiny_model_dir: Path) -> tuple[Any, Any]:
    from peft import LoraConfig, get_peft_model

    from trainer.models import load_causal_lm

    model, tokenizer = load_causal_lm(tiny_model_dir, dtype=torch.float32)
    model = get_peft_model(
        model, LoraConfig(r=4, target_modules="all-linear", task_type="CAUSAL_LM")
    )
    torch.manual_seed(1)
    with torch.no_grad():
        for name, weight in model.named_parameters():
            if "lora_B" in name:
                weight.normal_(0, 0.5)  # a trained-looking adapter: not a no-op
    model.eval()
    return model, tokenizer


def _independent(model: Any, tokenizer: Any, item: tuple[str, str]) -> tuple[float, float]:
    """One item at a time, no padding: mean log-prob with and without the adapter."""
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": item[0]},
    ]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    candidate_ids = tokenizer(item[1], add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt_ids + candidate_ids])

    def mean_logprob() -> float:
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0].float()
        total = 0.0
        for offset, token in enumerate(candidate_ids):
            position = len(prompt_ids) + offset - 1
            total += torch.log_softmax(logits[position], dim=-1)[token].item()
        return total / len(candidate_ids)

    adapter = mean_logprob()
    with model.disable_adapter():
        base = mean_logprob()
    return adapter, base


def test_sway_score_is_the_mean_log_ratio(adapted: tuple[Any, Any]) -> None:
    model, tokenizer = adapted
    judge = sway("sway", model, tokenizer, "Be brief.")
    judge.load()
    scores = judge.score_batch(CONVERSATIONS, batch_size=2)
    expected = [a - b for a, b in (_independent(model, tokenizer, item) for item in ITEMS)]
    assert scores == pytest.approx(expected, abs=1e-4)
    assert any(abs(s) > 1e-3 for s in scores)


def test_sway_logprob_is_the_adapter_mean_log_probability(adapted: tuple[Any, Any]) -> None:
    model, tokenizer = adapted
    judge = sway("sway:logprob", model, tokenizer, "Be brief.")
    assert judge.name == "sway:logprob"
    scores = judge.score_batch(CONVERSATIONS)
    expected = [_independent(model, tokenizer, item)[0] for item in ITEMS]
    assert scores == pytest.approx(expected, abs=1e-4)


def test_sway_needs_an_adapter(tiny_model_dir: Path) -> None:
    from trainer.models import load_causal_lm

    model, tokenizer = load_causal_lm(tiny_model_dir, dtype=torch.float32)
    with pytest.raises(JudgeError, match="no adapter loaded"):
        sway("sway", model, tokenizer, None).load()
