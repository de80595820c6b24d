"""The hf: judge on tiny sequence-classification models built in the test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.rewards.conftest import build_reward_model
from trainer.rewards.base import BaseRM, JudgeError, conversation
from trainer.rewards.selector import JudgeContext, make_judge

ITEMS = [
    conversation("Who keeps the light?", "Morwenna Teague."),
    conversation("Who?", "no idea " * 50),
]


def hf_judge(reference: str, home: Path) -> BaseRM:
    """The judge `--judge hf:<reference>` builds."""
    return make_judge(f"hf:{reference}", JudgeContext(home=home))


@pytest.mark.parametrize("chat", [True, False], ids=["chat-template", "text-pair"])
def test_scores_are_the_single_logit_batched_like_one_at_a_time(
    tiny_model_dir: Path, tmp_path: Path, chat: bool
) -> None:
    path = build_reward_model(tmp_path / "rm", tiny_model_dir, head="sequence", labels=1, chat=chat)
    judge = hf_judge(f"{path}?max_length=64", tmp_path)
    judge.load()
    together = judge.score_batch(ITEMS, batch_size=2)
    alone = [judge.score(item) for item in ITEMS]
    assert together == pytest.approx(alone, abs=1e-4)
    assert judge.name == f"hf:{path}" and judge.scale.default_threshold == 1.0


def test_chat_template_input_has_no_duplicated_bos(tiny_model_dir: Path, tmp_path: Path) -> None:
    from tokenizers import processors
    from transformers import AutoTokenizer

    path = build_reward_model(tmp_path / "rm", tiny_model_dir, head="sequence", labels=1)
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    bos = tokenizer.bos_token
    # A tokenizer that prepends BOS itself, as many reward-model tokenizers do.
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", special_tokens=[(bos, tokenizer.bos_token_id)]
    )
    tokenizer.save_pretrained(str(path))
    judge = hf_judge(str(path), tmp_path)
    judge.load()
    checkpoint: Any = judge.checkpoint  # type: ignore[attr-defined]
    rendered = checkpoint.render(ITEMS[0])
    text, _ = rendered
    naive: Any = checkpoint.tokenizer(text)["input_ids"]
    batch = checkpoint.encode([rendered], [checkpoint.token_count(rendered)])
    encoded: Any = batch.inputs["input_ids"][0].tolist()
    bos = checkpoint.tokenizer.bos_token_id
    assert encoded.count(bos) == naive.count(bos) - 1  # the template's own only
    assert encoded[0] == bos and encoded[1] != encoded[0]


def test_a_classifier_with_several_labels_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    path = build_reward_model(tmp_path / "rm", tiny_model_dir, head="sequence", labels=3)
    with pytest.raises(JudgeError, match="has 3 outputs"):
        hf_judge(str(path), tmp_path).load()


def test_a_model_not_in_the_cache_is_a_clear_error(tmp_path: Path) -> None:
    from trainer.errors import ModelNotFoundError

    with pytest.raises(ModelNotFoundError, match="never downloads"):
        hf_judge("some-org/reward-model", tmp_path).load()
