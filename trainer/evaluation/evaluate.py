"""`dlm eval`'s use case: answer prompts with one or two adapter versions, score, compare.

Answers are greedy, so the same version answers the same prompt the same way every
time. Scores: the judge's (any `--judge` selector but the sway ones, which score with
the adapter being evaluated and so favour it), word-overlap F1 with the reference, and
the answer's length in words. The comparison counts, prompt by prompt, how often the
first version's main score beats the second's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean

from dlmlang.errors import UsageError
from trainer.evaluation.compare import Comparison, compare
from trainer.evaluation.overlap import token_f1, words
from trainer.evaluation.prompts import EvalPrompt
from trainer.generation.backends.choice import BackendChoice, load_backend
from trainer.generation.generate import Sampling
from trainer.rewards.base import conversation
from trainer.rewards.settings import JudgeSettings, load_judge
from trainer.runtime.devices import Placement
from trainer.store import Store

Progress = Callable[[str, int, int], None]
"""(what, done, total): e.g. ("answering v0003", 3, 20)."""

BY_JUDGE = "judge"
BY_REFERENCE = "reference"


@dataclass(frozen=True, slots=True)
class EvalRequest:
    """What to ask, of which versions (`against` compares), and how to score."""

    prompts: tuple[EvalPrompt, ...]
    version: str
    """An adapter version ("v0003") or "base"."""
    model_dir: Path
    placement: Placement
    system_prompt: str | None = None
    against: str | None = None
    judge: JudgeSettings | None = None
    by: str | None = None
    """The main score: `judge` or `reference`; by default the judge's when there is one."""
    max_new_tokens: int = 128
    fluency: bool = False
    """Also score each answer's fluency under the base model (`fluency.py`)."""
    backend: BackendChoice = field(default_factory=BackendChoice)

    def __post_init__(self) -> None:
        if not self.prompts:
            raise UsageError("An eval needs prompts: the document's held-out pairs or --prompts.")
        if self.judge is not None and self.judge.needs_sampling_model:
            raise UsageError(
                f"--judge {self.judge.selector} scores with the adapter being evaluated, so it "
                "favours that adapter's answers. Evaluate with an independent judge (hf:, "
                "reward, cli:, api:, py:, ensemble:) or with the references alone."
            )
        _check_main_score(self.main_score, self.prompts)

    @property
    def main_score(self) -> str:
        """`judge` or `reference`: what the comparison and the summary lead with."""
        if self.by is not None:
            return self.by
        return BY_JUDGE if self.judge is not None else BY_REFERENCE

    @property
    def versions(self) -> tuple[str, ...]:
        """The versions answering, the evaluated one first."""
        return (self.version,) if self.against is None else (self.version, self.against)


@dataclass(frozen=True, slots=True)
class ScoredAnswer:
    """One version's answer to one prompt and its scores (None where not measured)."""

    text: str
    judge: float | None
    reference_f1: float | None
    words: int
    fluency: float | None = None

    def score(self, by: str) -> float:
        """The main score."""
        value = self.judge if by == BY_JUDGE else self.reference_f1
        if value is None:
            raise ValueError(f"no {by} score")
        return value


@dataclass(frozen=True, slots=True)
class EvalItem:
    """One prompt and each version's answer, in `EvalReport.versions` order."""

    prompt: EvalPrompt
    answers: tuple[ScoredAnswer, ...]


@dataclass(frozen=True, slots=True)
class VersionSummary:
    """One version's mean scores over the prompts."""

    version: str
    judge: float | None
    reference_f1: float | None
    words: float
    fluency: float | None = None


@dataclass(frozen=True, slots=True)
class EvalReport:
    """The eval: every answer with its scores, the means, and the comparison if asked."""

    versions: tuple[str, ...]
    judge: str | None
    by: str
    items: tuple[EvalItem, ...]
    summaries: tuple[VersionSummary, ...]
    comparison: Comparison | None
    seconds: float


def evaluate(request: EvalRequest, store: Store, progress: Progress | None = None) -> EvalReport:
    """Answer every prompt with each version, score the answers, and compare the versions."""
    started = time.perf_counter()
    report = progress or _quiet
    texts = [_answers(request, store, version, report) for version in request.versions]
    judged = _judge_scores(request, store, texts, report)
    fluent = _fluency(request, texts, report)
    items = tuple(
        EvalItem(
            prompt,
            tuple(
                _scored(
                    texts[v][i],
                    prompt,
                    judged[v][i] if judged else None,
                    fluent[v][i] if fluent else None,
                )
                for v in range(len(texts))
            ),
        )
        for i, prompt in enumerate(request.prompts)
    )
    summaries = tuple(_summary(version, items, v) for v, version in enumerate(request.versions))
    by = request.main_score
    comparison = None
    if request.against is not None:
        firsts = [item.answers[0].score(by) for item in items]
        comparison = compare(firsts, [item.answers[1].score(by) for item in items])
    judge = request.judge.selector if request.judge else None
    seconds = time.perf_counter() - started
    return EvalReport(request.versions, judge, by, items, summaries, comparison, seconds)


def _check_main_score(by: str, prompts: Sequence[EvalPrompt]) -> None:
    if by not in (BY_JUDGE, BY_REFERENCE):
        raise UsageError(f"--by takes {BY_JUDGE} or {BY_REFERENCE}, not {by!r}.")
    missing = [p for p in prompts if p.reference is None]
    if by == BY_REFERENCE and missing:
        raise UsageError(
            f"{len(missing)} prompt(s) have no reference answer (the first: "
            f"{missing[0].source}); give a --judge to score them, or add references "
            '(JSON Lines: {"prompt": ..., "reference": ...}).'
        )


def _answers(request: EvalRequest, store: Store, version: str, progress: Progress) -> list[str]:
    """Greedy answers of `version` to every prompt, the model loaded once."""
    adapter = None if version == "base" else store.version_path(version)
    sampler, _, _ = load_backend(
        request.backend, request.model_dir, adapter, request.placement, seed=0, need_model=False
    )
    sampling = Sampling(max_new_tokens=request.max_new_tokens, temperature=0.0)
    what = f"answering with {version}"
    answers: list[str] = []
    try:
        for prompt in request.prompts:
            progress(what, len(answers), len(request.prompts))
            answers.append(
                sampler.answer(prompt.text, sampling, system_prompt=request.system_prompt)
            )
        progress(what, len(answers), len(request.prompts))
    finally:
        sampler.close()
    return answers


def _judge_scores(
    request: EvalRequest, store: Store, texts: list[list[str]], progress: Progress
) -> list[list[float]] | None:
    """The judge's score of every answer of every version (one batch), or None without one."""
    if request.judge is None:
        return None
    judge = load_judge(
        request.judge,
        model=None,
        tokenizer=None,
        system_prompt=request.system_prompt,
        store_root=store.root,
    )
    batch = [
        conversation(prompt.text, answers[i])
        for answers in texts
        for i, prompt in enumerate(request.prompts)
    ]
    progress("judging", 0, len(batch))
    try:
        scores = judge.score_batch(batch)
    finally:
        judge.close()
    progress("judging", len(batch), len(batch))
    n = len(request.prompts)
    return [scores[v * n : (v + 1) * n] for v in range(len(texts))]


def _fluency(
    request: EvalRequest, texts: list[list[str]], progress: Progress
) -> list[list[float]] | None:
    """Each answer's fluency under the base model, or None when not asked."""
    if not request.fluency:
        return None
    from trainer.evaluation.fluency import base_fluency

    pairs = [(p.text, answers[i]) for answers in texts for i, p in enumerate(request.prompts)]
    progress("fluency under the base model", 0, len(pairs))
    scores = base_fluency(request.model_dir, request.placement, request.system_prompt, pairs)
    progress("fluency under the base model", len(pairs), len(pairs))
    n = len(request.prompts)
    return [scores[v * n : (v + 1) * n] for v in range(len(texts))]


def _scored(
    text: str, prompt: EvalPrompt, judge: float | None, fluency: float | None
) -> ScoredAnswer:
    f1 = token_f1(text, prompt.reference) if prompt.reference is not None else None
    return ScoredAnswer(text, judge, f1, len(words(text)), fluency)


def _summary(version: str, items: Sequence[EvalItem], index: int) -> VersionSummary:
    answers = [item.answers[index] for item in items]
    judged = [a.judge for a in answers if a.judge is not None]
    overlaps = [a.reference_f1 for a in answers if a.reference_f1 is not None]
    fluent = [a.fluency for a in answers if a.fluency is not None]
    return VersionSummary(
        version,
        fmean(judged) if judged else None,
        fmean(overlaps) if overlaps else None,
        fmean(a.words for a in answers),
        fmean(fluent) if fluent else None,
    )


def _quiet(what: str, done: int, total: int) -> None:
    """No progress shown."""
