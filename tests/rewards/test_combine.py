"""Ensembles, the cache and plug-ins, on small BaseRM subclasses written here."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from trainer.rewards.base import (
    NATS_PER_TOKEN,
    PROBABILITY,
    RUBRIC_0_10,
    BaseRM,
    JudgeError,
    Messages,
    conversation,
)
from trainer.rewards.cache import CACHE_FILE, CachedRM
from trainer.rewards.custom import load_plugin
from trainer.rewards.ensemble import EnsembleRM, load_ensemble


class Length(BaseRM):
    """Characters of the answer; counts its calls."""

    scale = RUBRIC_0_10

    def __init__(self) -> None:
        self.calls = 0

    def score(self, messages: Messages) -> float:
        self.calls += 1
        return float(len(messages[-1]["content"]))


class Fixed(BaseRM):
    """A probability from a table."""

    scale = PROBABILITY

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table

    def score(self, messages: Messages) -> float:
        return self.table[messages[-1]["content"]]


class Flaky(Length):
    """Fails on its first batch."""

    def score_batch(self, batch: Sequence[Messages], batch_size: int = 8) -> list[float]:
        if self.calls == 0:
            self.calls += 1
            raise JudgeError("flaky")
        return super().score_batch(batch, batch_size)


GROUP = [conversation("Q", "a"), conversation("Q", "bbb"), conversation("Q", "cc")]


def test_scale_mapping_then_weights() -> None:
    fixed = Fixed({"a": 0.5, "bbb": 0.9, "cc": 0.1})
    ensemble = EnsembleRM([(Length(), 2.0), (fixed, 1.0)])
    scores = ensemble.score_batch(GROUP)
    for messages, score in zip(GROUP, scores, strict=True):
        text = messages[-1]["content"]
        p = fixed.table[text]
        assert score == pytest.approx(2.0 * len(text) / 2.0 + math.log(p / (1 - p)))
    assert ensemble.scale.default_threshold == 1.0
    assert NATS_PER_TOKEN.to_common(0.1) == pytest.approx(1.0)


def test_group_z_scores_and_their_fallbacks() -> None:
    fixed = Fixed({"a": 0.5, "bbb": 0.5, "cc": 0.5, "z": 0.7})
    ensemble = EnsembleRM([(Length(), 1.0), (fixed, 1.0)], normalize="group")
    batch = [*GROUP, conversation("Other", "z")]
    details = ensemble.score_batch(batch, return_details=True)
    lengths = [1.0, 3.0, 2.0]
    mean, std = 2.0, math.sqrt(2 / 3)
    for (score, detail), length in zip(details[:3], lengths, strict=False):
        length_part, fixed_part = detail.members
        assert length_part.common == pytest.approx((length - mean) / std)
        assert fixed_part.common == pytest.approx(0.0)  # zero variance: the scale mapping
        assert score == pytest.approx(length_part.common + fixed_part.common)
    single = details[3][1]  # a group of one: the scale mapping
    assert single.members[0].common == pytest.approx(1.0 / 2.0)
    assert single.members[1].common == pytest.approx(math.log(0.7 / 0.3))


def test_weights_must_be_positive() -> None:
    with pytest.raises(JudgeError, match="positive"):
        EnsembleRM([(Length(), 0.0)])


def test_cache_hits_misses_and_fingerprint(tmp_path: Path) -> None:
    inner = Length()
    cached = CachedRM(inner, tmp_path)
    first = cached.score_batch(GROUP, return_details=True)
    assert [d.cache_hit for _, d in first] == [False] * 3 and first[0][1].cache_misses == 3
    again = cached.score_batch([*GROUP, conversation("Q", "dddd")], return_details=True)
    assert [d.cache_hit for _, d in again] == [True, True, True, False]
    assert again[0][1].cache_hits == 3 and again[0][1].cache_misses == 1
    assert inner.calls == 4 and (cached.hits, cached.misses) == (3, 4)
    assert [s for s, _ in again[:3]] == [s for s, _ in first]
    assert (tmp_path / CACHE_FILE).is_file()
    reopened = CachedRM(Length(), tmp_path)  # same fingerprint, new process
    assert reopened.score_batch(GROUP) == [1.0, 3.0, 2.0] and reopened.hits == 3


def test_failures_are_not_cached(tmp_path: Path) -> None:
    flaky = Flaky()
    cached = CachedRM(flaky, tmp_path)
    with pytest.raises(JudgeError, match="flaky"):
        cached.score_batch(GROUP)
    assert cached.score_batch(GROUP) == [1.0, 3.0, 2.0] and cached.misses == 3


def test_group_normalisation_does_not_poison_the_cache(tmp_path: Path) -> None:
    def ensemble() -> EnsembleRM:
        return EnsembleRM(
            [(Length(), 1.0), (Fixed({"a": 0.2, "bbb": 0.6, "cc": 0.9}), 1.0)], normalize="group"
        )

    cached = CachedRM(ensemble(), tmp_path)
    cached.score_batch(GROUP)
    other_group = [GROUP[0], GROUP[1]]  # same answers, another group: other z-scores
    assert cached.score_batch(other_group) == pytest.approx(ensemble().score_batch(other_group))
    details = cached.score_batch(other_group, return_details=True)
    assert details[0][1].cache_hits == 4  # two members, two raw scores each


def test_py_plugin_from_a_module_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_rewards.py").write_text(
        "from trainer.rewards.base import BaseRM\n"
        "class Brevity(BaseRM):\n"
        "    def __init__(self, limit='10'):\n"
        "        self.limit = int(limit)\n"
        "    def score(self, messages):\n"
        "        return -max(0, len(messages[-1]['content']) - self.limit)\n"
        "class NotOne:\n"
        "    pass\n"
        "class Broken(BaseRM):\n"
        "    def score(self, messages):\n"
        "        return 'high'\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    rm = load_plugin("my_rewards:Brevity?limit=2")
    assert rm.name == "py:my_rewards:Brevity?limit=2"
    assert rm.score_batch(GROUP) == [0.0, -1.0, 0.0]
    with pytest.raises(JudgeError, match="not a BaseRM subclass"):
        load_plugin("my_rewards:NotOne")
    with pytest.raises(JudgeError, match="has no Missing"):
        load_plugin("my_rewards:Missing")
    with pytest.raises(JudgeError, match="no module named nowhere"):
        load_plugin("nowhere:Thing")
    with pytest.raises(JudgeError, match="must be a number"):
        load_plugin("my_rewards:Broken").score_batch(GROUP)
    del sys.modules["my_rewards"]  # another test may write its own my_rewards.py


def test_ensemble_file(tmp_path: Path) -> None:
    spec = tmp_path / "judges.yaml"
    spec.write_text("normalize: group\nmembers:\n  - judge: a\n    weight: 0.5\n  - judge: b\n")
    ensemble = load_ensemble(spec, lambda selector: Length())
    assert ensemble.normalize == "group" and [w for _, w in ensemble.members] == [0.5, 1.0]
    assert ensemble.name == f"ensemble:{spec}"
    spec.write_text("members:\n  - weight: 1\n")
    with pytest.raises(JudgeError, match="needs `judge: <selector>`"):
        load_ensemble(spec, lambda selector: Length())
