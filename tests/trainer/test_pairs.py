"""Pairing: best against the worst different-enough candidate, thresholds, max pairs."""

from __future__ import annotations

from trainer.mining.pairs import SkipReason, pair_prompt, select_pairs
from trainer.rewards.base import RewardDetails


def j(*scores: float) -> list[RewardDetails]:
    return [RewardDetails(s, s) for s in scores]


def test_best_against_worst() -> None:
    pair = pair_prompt("q", ["good", "bad", "okay"], j(0.9, 0.1, 0.5))
    assert pair is not None
    assert (pair.chosen, pair.rejected, pair.margin) == ("good", "bad", 0.9 - 0.1)


def test_worst_too_similar_to_best_falls_back_to_the_next() -> None:
    best = "The Tern leaves Gullmouth pier at 7:40 every single morning of the year."
    nearly = best.replace("year.", "year!")
    pair = pair_prompt("q", [best, nearly, "No idea."], j(0.9, 0.1, 0.4))
    assert pair is not None and pair.rejected == "No idea."


def test_no_variety() -> None:
    assert pair_prompt("q", ["only one"], j(1.0)) is None


def test_threshold_and_max_pairs_across_prompts() -> None:
    judged = {
        "a": (["x", "y"], j(1.0, 0.0)),
        "b": (["x", "y"], j(0.5, 0.0)),
        "c": (["x", "y"], j(0.05, 0.0)),
        "d": (["only"], j(1.0)),
        "e": (["x", "y"], j(2.0, 0.0)),
    }
    result = select_pairs(judged, threshold=0.1, max_pairs=2)
    assert [p.prompt for p in result.pairs] == ["e", "a"]
    assert result.skipped == {SkipReason.BELOW_THRESHOLD: 1, SkipReason.INSUFFICIENT_VARIETY: 1}
    assert result.margins_below == [0.05]
