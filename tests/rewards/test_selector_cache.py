"""`--judge-cache` wraps a judge without changing what it scores."""

from __future__ import annotations

from pathlib import Path

from trainer.rewards.cache import CachedRM
from trainer.rewards.settings import JudgeSettings, build_judge
from trainer.rewards.wrappers import BoundedRM, WithSystemPrompt


def test_a_cached_judge_keeps_the_documents_system_prompt(tmp_path: Path) -> None:
    settings = JudgeSettings(
        "api:some-model", cache=tmp_path / "cache", url="http://127.0.0.1:9/v1"
    )
    judge = build_judge(
        settings,
        model=None,
        tokenizer=None,
        system_prompt="You answer in one sentence.",
        store_root=tmp_path / "store",
    )
    assert isinstance(judge, BoundedRM) and isinstance(judge.inner, CachedRM)
    prompted = judge.inner.rm
    assert isinstance(prompted, WithSystemPrompt)
    assert prompted.system_prompt == "You answer in one sentence."
    assert judge.name == "api:some-model"
    assert judge.fingerprint()["system_prompt"] == "You answer in one sentence."
