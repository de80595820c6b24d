"""Process reward models: step splitting, the two readouts, and every aggregation."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from trainer.rewards.auto import AutoRM
from trainer.rewards.base import PROBABILITY, JudgeError, conversation
from trainer.rewards.process import ProcessRM, aggregate, split_steps

ANSWER = "First, the ferry.\n\nThen the pier.\n\n\n\nFinally the light."
PROMPT = "How do I reach Black Rock?"


@pytest.mark.parametrize(
    ("how", "expected"),
    [("min", 0.2), ("prod", 0.5 * 0.2 * 0.9), ("mean", (0.5 + 0.2 + 0.9) / 3), ("last", 0.9)],
)
def test_aggregations(how: str, expected: float) -> None:
    assert aggregate([0.5, 0.2, 0.9], how) == pytest.approx(expected)


def test_bad_aggregation_and_empty_steps_are_errors() -> None:
    with pytest.raises(JudgeError, match="min, prod, mean or last"):
        aggregate([0.5], "max")
    assert split_steps(ANSWER, "\n\n") == [
        "First, the ferry.",
        "Then the pier.",
        "Finally the light.",
    ]


@pytest.mark.parametrize("kind", ["token", "prefix"])
def test_step_scores_aggregate_into_the_score(
    kind: str, token_prm_dir: Path, orm_dir: Path
) -> None:
    path = token_prm_dir if kind == "token" else orm_dir
    prm = AutoRM.load(str(path), kind="process")
    assert isinstance(prm, ProcessRM) and prm.scale == PROBABILITY
    steps = prm.score_steps(PROMPT, ANSWER, step_delimiter="\n\n")
    assert len(steps) == 3 and all(0.0 < s < 1.0 for s in steps)
    for how in ("min", "prod", "mean", "last"):
        prm.aggregation = how  # type: ignore[assignment]
        score, details = prm.score(conversation(PROMPT, ANSWER), return_details=True)
        assert details.step_scores == pytest.approx(steps, abs=1e-5)
        assert score == pytest.approx(aggregate(steps, how), abs=1e-5)
    assert prm.score_steps(PROMPT, ANSWER, step_delimiter="\n") != steps or kind == "prefix"


def test_batched_process_scores_equal_one_at_a_time(token_prm_dir: Path) -> None:
    prm = AutoRM.load(str(token_prm_dir), kind="process", aggregation="mean")
    batch = [
        conversation(PROMPT, ANSWER),
        conversation("Hi?", "One step."),
        conversation(PROMPT, "A.\n\nB."),
    ]
    together = prm.score_batch(batch, batch_size=2)
    assert together == pytest.approx([prm.score(m) for m in batch], abs=1e-5)


def test_prefix_steps_are_the_outcome_model_on_each_prefix(orm_dir: Path) -> None:
    orm = AutoRM.load(str(orm_dir))
    prm = AutoRM.load(str(orm_dir), kind="process")
    assert isinstance(prm, ProcessRM)
    steps = prm.score_steps(PROMPT, ANSWER)
    prefixes = ["First, the ferry.", "First, the ferry.\n\nThen the pier.", ANSWER]
    expected = [
        orm.score(conversation(PROMPT, "\n\n".join(split_steps(p, "\n\n")))) for p in prefixes
    ]
    assert steps == pytest.approx([1 / (1 + math.exp(-x)) for x in expected], abs=1e-5)


def test_name_makes_aggregation_and_delimiter_explicit(token_prm_dir: Path) -> None:
    prm = ProcessRM(str(token_prm_dir), step_delimiter="\n")
    assert prm.name == f"prm:{token_prm_dir}?agg=min&sep=%0A"


def test_an_outcome_selector_on_a_process_model_points_to_prm(token_prm_dir: Path) -> None:
    with pytest.raises(JudgeError, match="prm:"):
        AutoRM.load(str(token_prm_dir), kind="outcome")
