"""The miner: prompts -> seeded batched samples (again, hotter, for prompts short of
variety) -> one score per candidate -> pairs -> staged (or applied) marked sections, and
a metrics event (docs/self-improving-loop.md)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dlmlang import Document, SectionKind
from dlmlang.errors import UsageError
from dlmlang.heldout import heldout_pairs
from trainer.generation.backends.base import SamplingBackend
from trainer.generation.backends.hf import HFBackend
from trainer.generation.generate import Sampling
from trainer.generation.seeded_sampling import Candidate
from trainer.mining.candidates import judgeable_candidates
from trainer.mining.diversity import Diversity, DiversityReport, SamplePass, raise_diversity
from trainer.mining.pairs import MinedPair, SkipReason, select_pairs
from trainer.mining.plan import StagedPair, stage_pair
from trainer.rewards.base import BaseRM, RewardDetails, conversation

Progress = Callable[[str, str, int, int, str], None]
"""(event, stage, done, total, message): start/progress/done of load, sample, judge, write."""


@dataclass(frozen=True, slots=True)
class MiningRequest:
    """What to mine and how."""

    document: Document
    run_id: int
    """The training run that produced the sampling adapter (the marker's mined_run_id)."""
    sampling: Sampling
    threshold: float | None = None
    max_pairs: int | None = None
    sections: tuple[str, ...] = ()
    """Only prompts of these instruction sections (all when empty)."""
    known_ids: frozenset[str] = frozenset()
    """Section ids already in the document or the plan."""
    diversity: Diversity = field(default_factory=Diversity)
    """Extra, hotter passes for prompts short of variety (`diversity.OFF`: none)."""


@dataclass(frozen=True, slots=True)
class MiningResult:
    """Pairs staged for writing, prompts skipped by reason, and advice when none were."""

    pairs: list[StagedPair]
    prompts_seen: int
    skipped: dict[str, int]
    threshold: float
    margins_below: list[float] = field(default_factory=list)
    seconds: float = 0.0
    diversity: DiversityReport = field(default_factory=lambda: DiversityReport(enabled=True))

    def advice(self) -> list[str]:
        """What mining did by itself, and what to try when prompts were skipped."""
        note = self.diversity.note()
        lines = [note] if note else []
        if self.skipped.get(SkipReason.INSUFFICIENT_VARIETY):
            lines.append(self._variety_advice())
        if self.skipped.get(SkipReason.BELOW_THRESHOLD):
            seen = ", ".join(f"{m:.3f}" for m in sorted(self.margins_below, reverse=True)[:5])
            lines.append(
                f"below threshold: margins {seen} < {self.threshold:g}; lower --threshold if "
                "those pairs are worth training on."
            )
        if self.skipped.get(SkipReason.ALREADY_PRESENT):
            lines.append("already present: those pairs are in the document or the plan.")
        return lines

    def _variety_advice(self) -> str:
        """What to try for prompts whose samples stayed (near) identical."""
        if not self.diversity.enabled:
            return (
                "insufficient variety: the samples were (near) identical; raise --temp or "
                "--top-p, or --samples, or drop --no-raise-diversity so mining samples them "
                "again, hotter."
            )
        hottest = max(self.diversity.temperatures, default=None)
        heat = f" even at temperature {hottest:g}" if hottest is not None else ""
        return (
            f"insufficient variety: the samples were (near) identical{heat}; raise --top-p "
            "or --samples (an adapter that learned one answer by heart gives it every time)."
        )


def check_sections(document: Document, sections: Sequence[str], name: str = "the document") -> None:
    """Refuse section ids that are not instruction sections of `document` (a UsageError
    listing the ones there are), before anything is loaded."""
    known = [s.section_id for s in document.content_sections() if s.kind is SectionKind.INSTRUCTION]
    unknown = [section for section in sections if section not in known]
    if unknown:
        there = ", ".join(known) or "none"
        raise UsageError(
            f"--section {', '.join(unknown)}: no such instruction section in {name}. "
            f"Its instruction sections are: {there} (`dlm show {name} --json` lists them)."
        )


def document_prompts(document: Document, sections: Sequence[str] = ()) -> dict[str, str]:
    """Each distinct `### Q` of the chosen instruction sections -> its section id; the
    held-out pairs (`training.heldout`) are never mined, so no pair trains on them."""
    held = {h.pair.question for h in heldout_pairs(document)}
    prompts: dict[str, str] = {}
    for section in document.content_sections():
        if section.kind is not SectionKind.INSTRUCTION:
            continue
        if sections and section.section_id not in sections:
            continue
        for pair in section.pairs:
            if pair.question not in held:
                prompts.setdefault(pair.question, section.section_id)
    return prompts


def mine(
    request: MiningRequest,
    model: Any,
    tokenizer: Any,
    judge: BaseRM,
    progress: Progress,
) -> MiningResult:
    """Sample with transformers from `model`, then judge, pair and stage (see `mine_with`)."""
    return mine_with(HFBackend(model, tokenizer), request, judge, progress)


def mine_with(
    backend: SamplingBackend,
    request: MiningRequest,
    judge: BaseRM,
    progress: Progress,
    *,
    resample_with: SamplingBackend | None = None,
) -> MiningResult:
    """Sample with `backend` (the extra passes that raise diversity with `resample_with`,
    default `backend`), judge every surviving candidate once, pair, and stage the pairs."""
    started = time.perf_counter()
    frontmatter = request.document.frontmatter
    system_prompt = frontmatter.system_prompt if frontmatter else None
    prompts = document_prompts(request.document, request.sections)
    first = _sample_pass(backend, system_prompt, progress, "sampling {n} prompt(s)")
    sampled = first(list(prompts), request.sampling)
    again = _sample_pass(
        resample_with or backend,
        system_prompt,
        progress,
        "raising diversity: sampling {n} prompt(s) again at temperature {t:g}",
    )
    sampled, diversity = raise_diversity(again, sampled, request.sampling, request.diversity)
    cleaned, skipped = judgeable_candidates(sampled)
    judged = _judged(judge, cleaned, progress)
    default_threshold = judge.scale.default_threshold
    threshold = request.threshold if request.threshold is not None else default_threshold
    selected = select_pairs(judged, threshold=threshold, max_pairs=None)
    skipped.update({str(k): v for k, v in selected.skipped.items()})
    mined_at = datetime.now(UTC)
    staged: list[StagedPair] = []
    for pair in selected.pairs:
        candidate = _stage(pair, prompts[pair.prompt], judge.name, request.run_id, mined_at)
        candidate = dataclasses.replace(candidate, threshold=threshold)
        if candidate.section_id in request.known_ids:
            skipped[SkipReason.ALREADY_PRESENT] += 1
        else:
            staged.append(candidate)
    if request.max_pairs is not None:
        del staged[request.max_pairs :]
    return MiningResult(
        pairs=staged,
        prompts_seen=len(prompts),
        skipped=dict(skipped),
        threshold=threshold,
        margins_below=selected.margins_below,
        seconds=time.perf_counter() - started,
        diversity=diversity,
    )


def _sample_pass(
    backend: SamplingBackend, system_prompt: str | None, progress: Progress, message: str
) -> SamplePass:
    """One batched `backend.sample` call per pass, announced with `message` ({n} prompts,
    {t} temperature) and reporting progress on the sample stage."""

    def sample(prompts: Sequence[str], config: Sampling) -> dict[str, list[Candidate]]:
        text = message.format(n=len(prompts), t=config.temperature)
        progress("start", "sample", 0, len(prompts), text)
        return backend.sample(
            list(prompts),
            config,
            system_prompt=system_prompt,
            progress=lambda done, total: progress("progress", "sample", done, total, ""),
        )

    return sample


def _judged(
    judge: BaseRM, cleaned: dict[str, list[str]], progress: Progress
) -> dict[str, tuple[list[str], list[RewardDetails]]]:
    """Each prompt's candidates with their scores, all scored in one batch."""
    items = [(prompt, text) for prompt, texts in cleaned.items() for text in texts]
    progress("start", "judge", 0, len(items), f"judging {len(items)} candidate(s)")
    details = judge.score_batch_details([conversation(p, t) for p, t in items])
    progress("progress", "judge", len(items), len(items), "")
    judged: dict[str, tuple[list[str], list[RewardDetails]]] = {p: ([], []) for p in cleaned}
    for (prompt, text), detail in zip(items, details, strict=True):
        judged[prompt][0].append(text)
        judged[prompt][1].append(detail)
    return judged


def _stage(pair: MinedPair, source: str, judge: str, run_id: int, when: datetime) -> StagedPair:
    return stage_pair(
        pair.prompt,
        pair.chosen,
        pair.rejected,
        score_chosen=pair.score_chosen,
        score_rejected=pair.score_rejected,
        source_section_id=source,
        judge=judge,
        run_id=run_id,
        mined_at=when,
        reasoning=(pair.chosen_reasoning, pair.rejected_reasoning),
    )
