"""Answering as the library does it (the use case behind `dlm prompt`)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

from tests.trainer.test_document_training import training
from trainer.events import SilentEvents
from trainer.generation.answering import Question, answer_question
from trainer.generation.generate import Sampling
from trainer.rewards.settings import JudgeSettings
from trainer.runtime.devices import Placement
from trainer.store import Store
from trainer.training.document import train_document


def test_one_answer_then_the_judges_favourite_of_three(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    store = Store.open("01JQ7Z0000000000000000000A", tmp_path)
    train_document(training(tiny_model_dir, ("sft",)), store, lambda: nullcontext(SilentEvents()))
    asked = Question(
        text="When does the Tern leave?",
        version="v0001",
        model_dir=tiny_model_dir,
        placement=Placement("cpu", "fp32"),
        sampling=Sampling(max_new_tokens=6, temperature=0.0),
    )
    greedy = answer_question(asked, store)
    assert (greedy.version, greedy.best_of, greedy.judge) == ("v0001", None, None)
    assert greedy.text == answer_question(asked, store).text  # greedy: the same answer

    sampled = Sampling(max_new_tokens=6, temperature=1.0, seed=3, samples=3)
    best = answer_question(
        Question(
            text=asked.text,
            version="v0001",
            model_dir=tiny_model_dir,
            placement=asked.placement,
            sampling=sampled,
            judge=JudgeSettings("sway"),
        ),
        store,
    )
    assert best.judge == "sway" and best.best_of is not None
    assert len(best.best_of.answers) == 3
    assert best.text == best.best_of.answer.text
    top = max(answer.score for answer in best.best_of.answers)
    assert best.best_of.answer.score == top
