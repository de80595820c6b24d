"""Answering a question with a document's adapter: the use case behind `dlm prompt` (the
CLI adds the flags and the output); one answer, or the judge's favourite of N."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trainer.generation.backends.choice import BackendChoice, load_backend
from trainer.generation.best_of import BestOf, best_of
from trainer.generation.generate import Sampling
from trainer.rewards.settings import JudgeSettings, load_judge
from trainer.runtime.devices import Placement
from trainer.store import Store


@dataclass(frozen=True, slots=True)
class Question:
    """What to ask, of which adapter version, how to sample, and (for best-of-N) the judge."""

    text: str
    version: str
    """An adapter version of the store ("v0003"), or "base" for the base model alone."""
    model_dir: Path
    placement: Placement
    sampling: Sampling
    system_prompt: str | None = None
    judge: JudgeSettings | None = None
    """Best-of-N: `sampling.samples` answers, the judge's favourite kept."""
    backend: BackendChoice = field(default_factory=BackendChoice)


@dataclass(frozen=True, slots=True)
class Answered:
    """The answer kept; with a judge, every sampled answer with its score."""

    text: str
    version: str
    best_of: BestOf | None = None
    judge: str | None = None


def answer_question(question: Question, store: Store) -> Answered:
    """Load the adapter on its engine and device, answer, close everything."""
    adapter = None if question.version == "base" else store.version_path(question.version)
    needs_model = question.judge is not None and question.judge.needs_sampling_model
    sampler, model, tokenizer = load_backend(
        question.backend,
        question.model_dir,
        adapter,
        question.placement,
        seed=question.sampling.seed,
        need_model=needs_model,
    )
    try:
        if question.judge is None:
            text = sampler.answer(
                question.text, question.sampling, system_prompt=question.system_prompt
            )
            return Answered(text, question.version)
        judge = load_judge(
            question.judge,
            model=model,
            tokenizer=tokenizer,
            system_prompt=question.system_prompt,
            store_root=store.root,
        )
        try:
            result = best_of(
                sampler,
                judge,
                question.text,
                question.sampling,
                system_prompt=question.system_prompt,
            )
        finally:
            judge.close()
        return Answered(result.answer.text, question.version, result, judge.name)
    finally:
        sampler.close()
