"""`--judge-cache` wraps a judge without changing what it scores."""

from __future__ import annotations

from pathlib import Path

from trainer.judges.selector import make_judge
from trainer.rewards.base import RewardJudge


def test_a_cached_judge_keeps_the_documents_system_prompt(tmp_path: Path) -> None:
    judge = make_judge(
        "api:some-model",
        model=None,
        tokenizer=None,
        system_prompt="You answer in one sentence.",
        home=tmp_path,
        judge_url="http://127.0.0.1:9/v1",
        cache_dir=tmp_path / "cache",
    )
    assert isinstance(judge, RewardJudge)
    assert judge.system_prompt == "You answer in one sentence."
    assert judge.name == "api:some-model"
