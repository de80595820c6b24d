"""AutoRM and the outcome model on a tiny sequence-classification checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from trainer.rewards.auto import AutoRM, split_selector
from trainer.rewards.base import LOGITS, JudgeError, conversation
from trainer.rewards.outcome import OutcomeRM
from trainer.rewards.profiles import Profile, profile_from_config

BATCH = [
    conversation("Who keeps the light?", "Morwenna Teague keeps Black Rock Light."),
    conversation("When does the Tern leave?", "At 7:40 " * 30),
    conversation("Capital of France?", "Paris."),
    conversation("Who?", "no idea"),
    conversation("When?", "every morning from Gullmouth pier, " * 5),
]


@pytest.fixture(scope="module")
def orm(orm_dir: Path) -> OutcomeRM:
    rm = AutoRM.load(str(orm_dir), max_length=64)
    assert isinstance(rm, OutcomeRM)
    return rm


def test_batch_scores_equal_one_at_a_time_in_input_order(orm: OutcomeRM) -> None:
    together = orm.score_batch(BATCH, batch_size=2)
    alone = [orm.score(messages) for messages in BATCH]
    assert together == pytest.approx(alone, abs=1e-4)
    assert orm.score_batch(BATCH[::-1], batch_size=3) == pytest.approx(alone[::-1], abs=1e-4)


def test_length_sorted_micro_batches_one_forward_row_per_candidate(
    orm: OutcomeRM, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="dlm.rewards"):
        orm.score_batch(BATCH, batch_size=2)
    batches = [r.getMessage() for r in caplog.records if "batch" in r.getMessage()]
    assert len(batches) == 3 and "batch 1/3, 2 rows" in batches[0]


def test_details_report_logits_tokens_and_truncation(orm: OutcomeRM) -> None:
    score, details = orm.score(BATCH[1], return_details=True)
    assert details.score == score and details.raw_logits == (score,)
    assert details.normalized_score == LOGITS.to_common(score)
    assert details.truncated and details.tokens_scored == 64
    short = orm.score_batch([BATCH[2]], return_details=True)[0][1]
    assert not short.truncated and 0 < short.tokens_scored < 64


def test_the_outcome_model_is_the_miners_judge_as_it_is(orm: OutcomeRM) -> None:
    details = orm.score_batch_details([conversation("Capital of France?", "Paris.")])
    assert details[0].score == pytest.approx(orm.score(BATCH[2]), abs=1e-4)
    assert orm.scale.default_threshold == 1.0 and orm.name == f"hf:{orm.reference}"


def test_fingerprint_names_what_the_scores_depend_on(orm: OutcomeRM) -> None:
    fingerprint = orm.fingerprint()
    assert {"selector", "revision", "dtype", "template", "max_length"} <= set(fingerprint)
    assert fingerprint["max_length"] == "64" and fingerprint["dtype"] == "float32"


def test_text_pair_mode_without_a_template(tiny_model_dir: Path, tmp_path: Path) -> None:
    from tests.rewards.conftest import build_reward_model

    path = build_reward_model(
        tmp_path / "rm", tiny_model_dir, head="sequence", labels=1, chat=False
    )
    rm = AutoRM.load(str(path))
    assert isinstance(rm, OutcomeRM) and rm.checkpoint is not None
    assert rm.checkpoint.input_mode == "pair"
    assert rm.score_batch(BATCH, 2) == pytest.approx([rm.score(m) for m in BATCH], abs=1e-4)


def test_profiles_come_first_then_the_config() -> None:
    assert profile_from_config("x", {"architectures": ["LlamaForSequenceClassification"]}).kind == (
        "outcome"
    )
    assert profile_from_config("x", {"architectures": ["BertForTokenClassification"]}).kind == (
        "process"
    )
    with pytest.raises(JudgeError, match="is a language model"):
        profile_from_config("x", {"architectures": ["LlamaForCausalLM"]})


def test_a_profile_that_needs_remote_code_is_refused_without_opt_in(orm_dir: Path) -> None:
    profile = Profile("*", kind="outcome", head="sequence", needs_remote_code=True)
    with pytest.raises(JudgeError, match=r"trust_remote_code=1"):
        AutoRM.load(str(orm_dir), profiles=(profile,))


def test_unknown_options_and_methods_are_refused(orm_dir: Path) -> None:
    with pytest.raises(JudgeError, match="do not apply"):
        AutoRM.load(str(orm_dir), tensor_parallel_size=2)
    with pytest.raises(JudgeError, match="Unknown load_method"):
        AutoRM.load(str(orm_dir), load_method="onnx")  # type: ignore[arg-type]


def test_selector_options_are_url_decoded() -> None:
    assert split_selector("m?agg=min&sep=%0A%0A") == ("m", {"agg": "min", "sep": "\n\n"})
    with pytest.raises(JudgeError, match="twice"):
        split_selector("m?agg=min&agg=last")
