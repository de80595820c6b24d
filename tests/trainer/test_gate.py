"""The loop's gate on eval reports built in the test: the score, the minimum, the guards."""

from __future__ import annotations

import pytest

from dlmlang.errors import UsageError
from trainer.evaluation.compare import compare
from trainer.evaluation.evaluate import EvalReport, VersionSummary
from trainer.evaluation.gate import GateSettings, judge_round
from trainer.training.heldout import PreferenceCheck


def report(
    new: list[float], old: list[float], *, f1: tuple[float, float], fluency: tuple[float, float]
) -> EvalReport:
    """A two-version report whose main scores are `new` and `old`, with the given means."""
    summaries = (
        VersionSummary("v0003", None, f1[0], 9.0, fluency[0]),
        VersionSummary("v0002", None, f1[1], 9.0, fluency[1]),
    )
    return EvalReport(("v0003", "v0002"), None, "reference", (), summaries, compare(new, old), 1.0)


def test_not_worse_is_promoted_and_says_by_how_much() -> None:
    verdict = judge_round(
        report([0.5, 0.6], [0.5, 0.4], f1=(0.55, 0.45), fluency=(-2.0, -2.1)), GateSettings()
    )
    assert verdict.promoted
    assert verdict.reasons[0].startswith("reference changed by +0.100")


def test_worse_or_not_enough_better_is_rejected() -> None:
    worse = report([0.3, 0.4], [0.5, 0.4], f1=(0.35, 0.45), fluency=(-2.0, -2.0))
    assert not judge_round(worse, GateSettings(guards=False)).promoted
    better = report([0.5, 0.6], [0.5, 0.4], f1=(0.55, 0.45), fluency=(-2.0, -2.0))
    verdict = judge_round(better, GateSettings(min_improvement=0.2))
    assert not verdict.promoted and "less than the required +0.200" in verdict.reasons[0]


def test_a_judge_won_by_garbage_is_caught_by_the_guards() -> None:
    hacked = report([0.9, 0.9], [0.2, 0.3], f1=(0.05, 0.45), fluency=(-6.0, -2.0))
    verdict = judge_round(hacked, GateSettings(by="judge"))
    assert not verdict.promoted
    assert [r.split(" ")[0] for r in verdict.reasons] == ["reference", "fluency"]
    assert judge_round(hacked, GateSettings(by="judge", guards=False)).promoted


def test_the_preference_margin_gate() -> None:
    flat = report([0.5], [0.5], f1=(0.5, 0.5), fluency=(-2.0, -2.0))
    before, after = PreferenceCheck(6, 0.5, 0.10), PreferenceCheck(6, 0.67, 0.25)
    assert judge_round(flat, GateSettings(by="pref-margin"), (before, after)).promoted
    assert not judge_round(flat, GateSettings(by="pref-margin"), (after, before)).promoted
    with pytest.raises(UsageError, match="6 or more hand-written pairs"):
        judge_round(flat, GateSettings(by="pref-margin"))


def test_an_unknown_gate_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--gate takes one of judge, reference, pref-margin"):
        GateSettings(by="vibes")
