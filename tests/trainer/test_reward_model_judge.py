"""The hf: judge on tiny sequence-classification models built in the test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.rewards.conftest import build_reward_model
from trainer.judges import JudgeError, JudgeItem
from trainer.judges.reward_model import RewardModelJudge
from trainer.rewards.base import conversation

ITEMS = [JudgeItem("Who keeps the light?", "Morwenna Teague."), JudgeItem("Who?", "no idea " * 50)]


@pytest.mark.parametrize("chat", [True, False], ids=["chat-template", "text-pair"])
def test_scores_are_the_single_logit_batched_like_one_at_a_time(
    tiny_model_dir: Path, tmp_path: Path, chat: bool
) -> None:
    path = build_reward_model(tmp_path / "rm", tiny_model_dir, head="sequence", labels=1, chat=chat)
    judge = RewardModelJudge(str(path), home=tmp_path, batch_size=2, max_length=64)
    judge.load()
    together = [j.score for j in judge.score(ITEMS)]
    alone = [judge.score([item])[0].score for item in ITEMS]
    assert together == pytest.approx(alone, abs=1e-4)
    assert judge.name == f"hf:{path}" and judge.default_threshold == 1.0


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
    judge = RewardModelJudge(str(path), home=tmp_path)
    judge.load()
    checkpoint: Any = judge.rm.checkpoint  # type: ignore[attr-defined]
    rendered = checkpoint.render(conversation(ITEMS[0].prompt, ITEMS[0].candidate))
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
        RewardModelJudge(str(path), home=tmp_path).load()


def test_a_model_not_in_the_cache_is_a_clear_error(tmp_path: Path) -> None:
    from trainer.errors import ModelNotFoundError

    with pytest.raises(ModelNotFoundError, match="never downloads"):
        RewardModelJudge("some-org/reward-model", home=tmp_path).load()
