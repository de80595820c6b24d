"""Profiles of internlm2-7b-reward, Qwen2.5-Math-RM-72B and Qwen2.5-Math-PRM-7B, on tiny
models with their architectures, config keys and heads (`remote_heads.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rewards.conftest import HUB_MODELS, SNAPSHOT
from trainer.rewards.auto import AutoRM
from trainer.rewards.base import JudgeError, conversation
from trainer.rewards.local import LocalRM
from trainer.rewards.profiles import QWEN_MATH_SYSTEM, profile_from_config, resolve_profile

BATCH = [
    conversation("What is 2+2?", "4."),
    conversation("What is 2+2?", "Two and two make four, so the answer is 4."),
    conversation("Capital of France?", "Paris."),
]


def snapshot(hub: Path, name: str) -> Path:
    """The tiny model's directory in the cache."""
    return hub / f"models--{name.replace('/', '--')}" / "snapshots" / SNAPSHOT


@pytest.mark.parametrize(
    ("name", "kind", "labels", "system"),
    [
        ("internlm/internlm2-7b-reward", "outcome", 1, None),
        ("Qwen/Qwen2.5-Math-RM-72B", "outcome", 1, QWEN_MATH_SYSTEM),
        ("Qwen/Qwen2.5-Math-PRM-7B", "process", 2, QWEN_MATH_SYSTEM),
    ],
)
def test_each_hub_name_has_its_profile(
    hub_cache: Path, name: str, kind: str, labels: int, system: str | None
) -> None:
    profile = resolve_profile(name, snapshot(hub_cache, name))
    assert (profile.kind, profile.head, profile.labels) == (kind, "auto", labels)
    assert profile.needs_remote_code and profile.input_mode == "chat"
    assert profile.system_prompt == system
    assert profile.vllm_remote_code is (None if "internlm" in name else False)


@pytest.mark.parametrize("name", sorted(HUB_MODELS))
def test_remote_code_is_opt_in_then_batches_equal_one_at_a_time(
    offline_hub: Path, name: str
) -> None:
    with pytest.raises(JudgeError, match="trust_remote_code"):
        AutoRM.load(name)
    rm = AutoRM.load(name, trust_remote_code=True)
    alone = [rm.score(messages) for messages in BATCH]
    assert rm.score_batch(BATCH, batch_size=3) == pytest.approx(alone, abs=1e-4)


def test_internlm_reads_its_score_at_the_reward_token(offline_hub: Path) -> None:
    rm = AutoRM.load("internlm/internlm2-7b-reward", trust_remote_code=True)
    assert isinstance(rm, LocalRM) and rm.checkpoint is not None
    checkpoint = rm.checkpoint
    reward_token = checkpoint.model.config.reward_token_id
    ids = checkpoint.token_ids(checkpoint.render(BATCH[1]))
    assert checkpoint.score_token_id == reward_token and ids[-1] == reward_token
    details = rm.score(BATCH[1], return_details=True)[1]
    assert details.tokens_scored == len(ids)


def test_qwen_math_models_read_with_their_system_prompt(offline_hub: Path) -> None:
    for name in ("Qwen/Qwen2.5-Math-RM-72B", "Qwen/Qwen2.5-Math-PRM-7B"):
        rm = AutoRM.load(name, trust_remote_code=True)
        assert isinstance(rm, LocalRM) and rm.checkpoint is not None
        text, _ = rm.checkpoint.render(BATCH[0])
        assert text.count(QWEN_MATH_SYSTEM) == 1


def test_unlisted_copies_are_read_from_their_config(hub_cache: Path) -> None:
    local = snapshot(hub_cache, "internlm/internlm2-7b-reward")
    rm = AutoRM.load(str(local), trust_remote_code=True)
    assert isinstance(rm, LocalRM) and rm.checkpoint is not None
    assert rm.checkpoint.score_token_id == rm.checkpoint.model.config.reward_token_id
    prm = profile_from_config("x", {"architectures": ["Qwen2ForProcessRewardModel"]})
    assert prm.kind == "process" and prm.needs_remote_code
