"""Mining raises diversity by itself: prompts whose answers were (near) identical are
sampled again, warmer and with their own seeds, before they are skipped."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import torch

import dlmlang
from trainer.generation.backends.hf import HFBackend
from trainer.generation.generate import Sampling
from trainer.generation.seeded_sampling import Candidate
from trainer.mining.diversity import (
    OFF,
    Diversity,
    DiversityReport,
    pass_seed,
    raise_diversity,
    raised_sampling,
)
from trainer.mining.miner import MiningRequest, MiningResult, mine_with
from trainer.mining.pairs import SkipReason
from trainer.rewards.base import BaseRM, Messages
from trainer.rewards.scale import RUBRIC_0_10

DOCUMENT = (
    "---\ndlm_id: 01JQ7Z8M3K4Q2V6X9B1C5D7E8F\nbase_model: tiny\nsystem_prompt: Be brief.\n---\n\n"
    "::instruction::\n### Q\nWhen does the Tern leave?\n### A\nAt 7:40.\n\n"
    "### Q\nWho keeps Black Rock Light?\n### A\nMorwenna Teague.\n"
)
COLD, WARM = "When does the Tern leave?", "Who keeps Black Rock Light?"


class Length(BaseRM):
    """Characters of the answer."""

    scale = RUBRIC_0_10

    def score(self, messages: Messages) -> float:
        return float(len(messages[-1]["content"]))


class Scripted:
    """A backend whose answers to `COLD` are all the same below temperature 1.2; it logs
    each call's prompts, temperature and seed."""

    name = "scripted"

    def __init__(self, *, cold_answer: str = "At 7:40.") -> None:
        self.calls: list[tuple[list[str], float, int]] = []
        self._cold_answer = cold_answer

    def load(self) -> None:
        """Nothing to load."""

    def sample(
        self,
        prompts: Sequence[str],
        config: Sampling,
        *,
        system_prompt: str | None,
        progress: Any = None,
    ) -> dict[str, list[Candidate]]:
        self.calls.append((list(prompts), config.temperature, config.seed))
        return {p: self._answers(p, config) for p in prompts}

    def _answers(self, prompt: str, config: Sampling) -> list[Candidate]:
        if prompt == COLD and config.temperature < 1.2:
            return [Candidate(self._cold_answer, False)] * config.samples
        return [
            Candidate(f"{prompt} {config.seed} {'x' * i}", False) for i in range(config.samples)
        ]

    def answer(self, question: str, config: Sampling, *, system_prompt: str | None) -> str:
        return ""

    def close(self) -> None:
        """Nothing to release."""


def _quiet(event: str, stage: str, done: int, total: int, message: str) -> None:
    """No progress output."""


ON = Diversity()


def _request(temperature: float, diversity: Diversity = ON, seed: int = 3) -> Any:
    document = dlmlang.parse(DOCUMENT)
    sampling = Sampling(max_new_tokens=12, temperature=temperature, seed=seed, samples=4)
    return MiningRequest(document, run_id=1, sampling=sampling, threshold=0.5, diversity=diversity)


def test_raised_sampling_warms_in_even_steps_to_the_cap_with_its_own_seed() -> None:
    first = Sampling(temperature=0.7, seed=5, samples=4)
    raised = [raised_sampling(first, Diversity(), step) for step in (1, 2)]
    assert [r.temperature for r in raised] == [1.1, 1.5]
    assert [r.seed for r in raised] == [pass_seed(5, 1), pass_seed(5, 2)]
    assert len({first.seed, *(r.seed for r in raised)}) == 3
    assert all(r.samples == 4 and r.top_p == first.top_p for r in raised)
    hot = Sampling(temperature=2.0, seed=5)
    assert raised_sampling(hot, Diversity(), 1).temperature == 2.0  # never colder


def test_only_the_short_prompts_are_sampled_again_one_call_per_pass() -> None:
    backend = Scripted()
    first = Sampling(temperature=0.7, seed=3, samples=4)
    sampled = backend.sample([COLD, WARM], first, system_prompt=None)

    def again(prompts: Sequence[str], config: Sampling) -> dict[str, list[Candidate]]:
        return backend.sample(prompts, config, system_prompt=None)

    pooled, report = raise_diversity(again, sampled, first, Diversity())
    assert backend.calls[1:] == [([COLD], 1.1, pass_seed(3, 1)), ([COLD], 1.5, pass_seed(3, 2))]
    assert report == DiversityReport(True, resampled=1, temperatures=[1.1, 1.5], rescued=1)
    assert len(pooled[COLD]) == 12 and pooled[WARM] == sampled[WARM]


def test_malformed_extra_answers_are_left_out_of_the_pool() -> None:
    first = Sampling(temperature=0.7, seed=3, samples=2)
    sampled = {COLD: [Candidate("same", False)] * 2}

    def empty(prompts: Sequence[str], config: Sampling) -> dict[str, list[Candidate]]:
        return {p: [Candidate("", False), Candidate("```\ncut", True)] for p in prompts}

    pooled, report = raise_diversity(empty, sampled, first, Diversity())
    assert pooled[COLD] == sampled[COLD]
    assert (report.resampled, report.rescued, report.temperatures) == (1, 0, [1.1, 1.5])


def test_mining_rescues_a_prompt_and_says_so() -> None:
    backend = Scripted()
    result = mine_with(backend, _request(0.7), Length(), _quiet)
    assert len(backend.calls) == 3  # the first pass, then two over COLD alone
    assert sorted(p.prompt for p in result.pairs) == [COLD, WARM]
    assert result.skipped == {}
    assert result.diversity == DiversityReport(True, 1, [1.1, 1.5], 1)
    assert result.advice()[0].startswith(
        "raised diversity: 1 prompt(s) with (near) identical answers sampled again at "
        "temperature 1.1, 1.5; 1 then had distinct answers to judge."
    )


def test_a_separate_backend_can_take_the_extra_passes() -> None:
    first, extra = Scripted(), Scripted()
    result = mine_with(first, _request(0.7), Length(), _quiet, resample_with=extra)
    assert len(first.calls) == 1 and [c[0] for c in extra.calls] == [[COLD], [COLD]]
    assert len(result.pairs) == 2


def test_turned_off_it_skips_as_before() -> None:
    backend = Scripted()
    result = mine_with(backend, _request(0.7, OFF), Length(), _quiet)
    assert len(backend.calls) == 1
    assert [p.prompt for p in result.pairs] == [WARM]
    assert result.skipped == {SkipReason.INSUFFICIENT_VARIETY: 1}
    assert result.diversity == DiversityReport(enabled=False)
    assert result.advice() == [
        "insufficient variety: the samples were (near) identical; raise --temp or --top-p, "
        "or --samples, or drop --no-raise-diversity so mining samples them again, hotter."
    ]


def test_a_prompt_still_short_after_the_extra_passes_is_skipped_and_advised() -> None:
    result = MiningResult(
        pairs=[],
        prompts_seen=1,
        skipped={SkipReason.INSUFFICIENT_VARIETY: 1},
        threshold=0.1,
        diversity=DiversityReport(True, resampled=1, temperatures=[1.1, 1.5], rescued=0),
    )
    assert result.advice()[1].startswith(
        "insufficient variety: the samples were (near) identical even at temperature 1.5;"
    )


def without_whitespace(model: Any, tokenizer: Any) -> None:
    """Make the tiny model unable to write whitespace-only tokens: near-greedy, its
    answers are then all the same and not empty (untouched, they are all blank lines)."""
    blank = [i for i in range(len(tokenizer)) if not tokenizer.decode([i]).strip()]
    with torch.no_grad():
        model.get_output_embeddings().weight[blank] = 0.0


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path) -> HFBackend:
    from trainer.models import load_causal_lm

    model, tokenizer = load_causal_lm(tiny_model_dir, dtype=torch.float32)
    model.eval()
    without_whitespace(model, tokenizer)
    return HFBackend(model, tokenizer)


def test_a_greedy_like_first_pass_is_rescued_by_warmer_passes(tiny: HFBackend) -> None:
    cold = mine_with(tiny, _request(0.01, OFF), Length(), _quiet)
    assert cold.pairs == [] and cold.skipped == {SkipReason.INSUFFICIENT_VARIETY: 2}

    raised = mine_with(tiny, _request(0.01), Length(), _quiet)
    assert raised.diversity.resampled == 2 and raised.diversity.rescued == 2
    assert raised.diversity.temperatures[0] == 0.755
    assert len(raised.pairs) == 2 and raised.skipped == {}

    again = mine_with(tiny, _request(0.01), Length(), _quiet)
    assert again.diversity == raised.diversity
    assert [(p.chosen, p.rejected) for p in again.pairs] == [
        (p.chosen, p.rejected) for p in raised.pairs
    ]
    other = mine_with(tiny, _request(0.01, seed=4), Length(), _quiet)
    assert [p.chosen for p in other.pairs] != [p.chosen for p in raised.pairs]
