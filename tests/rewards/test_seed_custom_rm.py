"""The documented custom reward model, written as the source document writes it
(`score_batch(self, batch, **kwargs)`), works everywhere dlm calls a reward model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rewards.plugins.seed_custom_rm import CustomRM
from trainer.rewards.cache import CachedRM
from trainer.rewards.custom import load_plugin
from trainer.rewards.ensemble import EnsembleRM

LONG = "Let me think step by step. " + "The Tern leaves Gullmouth at 7:40. " * 4
BATCH = [
    [{"role": "user", "content": "When?"}, {"role": "assistant", "content": LONG}],
    [{"role": "user", "content": "When?"}, {"role": "assistant", "content": "Soon."}],
]


def test_it_scores_as_written() -> None:
    rm = CustomRM(weight=1)
    assert rm.score(BATCH[0]) == pytest.approx(0.5) and rm.config == {"weight": 1}
    assert rm.score_batch(BATCH, batch_size=32) == pytest.approx([0.5, 0.0])


def test_through_py_an_ensemble_and_the_cache(tmp_path: Path) -> None:
    plugin = load_plugin("tests.rewards.plugins.seed_custom_rm:CustomRM")
    assert plugin.score_batch(BATCH, batch_size=32) == pytest.approx([0.5, 0.0])
    ensemble = EnsembleRM([(CustomRM(), 0.5), (CustomRM(), 0.5)])
    assert ensemble.score_batch(BATCH) == pytest.approx([0.5, 0.0])
    cached = CachedRM(CustomRM(), tmp_path / "cache")
    assert cached.score_batch(BATCH) == pytest.approx([0.5, 0.0])
    assert cached.score_batch(BATCH) == pytest.approx([0.5, 0.0])
    assert cached.hits == 2
