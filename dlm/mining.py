"""Wiring for `dlm preference mine`: the lock, the adapter, the judge, the plan, metrics."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dlm.documents import LoadedDocument
from dlm.errors import EXIT_USAGE, CliError
from dlm.verbosity import note
from dlm.writer import Change, write_edits
from trainer.generation.backends.choice import Backend, BackendChoice

if TYPE_CHECKING:
    from trainer.rewards.settings import JudgeSettings
    from trainer.runtime.devices import Placement
    from trainer.runtime.distributed import World


@dataclass(frozen=True, slots=True)
class MineOptions:
    """The flags of `dlm preference mine`."""

    judge: JudgeSettings
    samples: int
    max_pairs: int | None
    threshold: float | None
    temp: float
    top_p: float
    max_new_tokens: int
    seed: int | None
    """None: a fresh seed for this run (rank 0's on every rank)."""
    sections: tuple[str, ...]
    apply_now: bool
    replace: bool
    jsonl: bool
    backend: BackendChoice = field(default_factory=BackendChoice)
    device: str | None = None
    """--device (None: $DLM_DEVICE, else auto)."""
    raise_diversity: bool = True
    """False with --no-raise-diversity: prompts short of variety are not sampled again."""


def run_mining(
    loaded: LoadedDocument, store: Any, plan: Any, options: MineOptions
) -> dict[str, Any] | None:
    """Mine under the store lock; returns the JSON summary (docs/json.md).

    Under torchrun every rank calls this: the ranks share the sampling, rank 0 judges,
    writes and returns the summary, the others return None.
    """
    from trainer.runtime.environment import set_offline

    set_offline()
    from dlm.launch import store_lock
    from dlm.placement import place
    from trainer.runtime.distributed import current_world, leave

    world = current_world()
    if world.distributed and options.backend.backend is not Backend.HF:
        raise CliError(VLLM_NPROC, code=EXIT_USAGE)
    # Each process samples on its own device; the ranks exchange only Python objects
    # (prompts, candidates), which gloo carries on GPU machines too.
    precision = loaded.frontmatter.training.precision
    placement = place(options.device, precision, world, backend="gloo")
    from trainer.runtime.distributed import from_main

    # A fresh seed per run unless one is given, the same on every rank (rank 0's).
    seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
    options = dataclasses.replace(options, seed=from_main(world, seed))
    try:
        echo: Callable[[str], None] = note
        with store_lock(store, world, wait=True, on_wait=echo):
            return _mine(loaded, store, plan, options, world, placement)
    finally:
        leave(world)


VLLM_NPROC = (
    "--nproc shares sampling with transformers between processes; vLLM has its own "
    "--data-parallel-size. Use one of the two."
)


def _mine(
    loaded: LoadedDocument,
    store: Any,
    plan: Any,
    options: MineOptions,
    world: World,
    placement: Placement,
) -> dict[str, Any] | None:
    from trainer.mining.document import DocumentMining, mine_document
    from trainer.models import resolve_base_model
    from trainer.runtime.distributed import threads_per_process
    from trainer.runtime.environment import configure_threads
    from trainer.store import dlm_home

    emit = _progress(options.jsonl) if world.is_main else _silent
    configure_threads(threads_per_process() if world.distributed else None)
    mining = DocumentMining(
        document=loaded.document,
        document_bytes=loaded.data,
        model_dir=resolve_base_model(loaded.frontmatter.base_model, dlm_home()).path,
        placement=placement,
        judge=options.judge,
        request=_request(loaded, plan, options),
        backend=options.backend,
    )
    outcome = mine_document(mining, store, emit, world, document=str(loaded.path))
    if outcome is None:
        return None
    result = outcome.result
    mode = _write(loaded, store, plan, options, result, outcome.judge, outcome.run_id)
    emit("done", "write", len(result.pairs), len(result.pairs), mode)
    return {
        "schema_version": 1,
        "run_id": outcome.run_id,
        "judge": outcome.judge,
        "seed": options.seed,
        "prompts_seen": result.prompts_seen,
        "pairs_mined": len(result.pairs),
        "skipped": result.skipped,
        "threshold": result.threshold,
        "write_mode": mode,
        "diversity": result.diversity.to_json(),
        "advice": result.advice(),
        "pairs": [
            {"section_id": p.section_id, "prompt": p.prompt, "margin": p.margin}
            for p in result.pairs
        ],
    }


def _request(loaded: LoadedDocument, plan: Any, options: MineOptions) -> Any:
    from trainer.generation.generate import Sampling
    from trainer.mining.diversity import OFF, Diversity
    from trainer.mining.miner import MiningRequest

    assert options.seed is not None, "run_mining chose the run's seed"
    known = {s.section_id for s in loaded.document.sections}
    if plan is not None and not options.replace:
        known |= {p.section_id for p in plan.pairs}
    return MiningRequest(
        document=loaded.document,
        run_id=0,  # the adapter's training run, filled in by mine_document
        sampling=Sampling(
            max_new_tokens=options.max_new_tokens,
            temperature=options.temp,
            top_p=options.top_p,
            seed=options.seed,
            samples=options.samples,
        ),
        threshold=options.threshold,
        max_pairs=options.max_pairs,
        sections=options.sections,
        known_ids=frozenset(known),
        diversity=Diversity() if options.raise_diversity else OFF,
    )


def _write(
    loaded: LoadedDocument,
    store: Any,
    plan: Any,
    options: MineOptions,
    result: Any,
    judge: str,
    run_id: int,
) -> str:
    """Stage (and with --apply write) the pairs, record the event; the write mode.

    The pairs are staged first, so a refused write (the document saved with errors
    meanwhile) keeps them for `dlm preference apply`.
    """
    from trainer.errors import TrainerError
    from trainer.mining.plan import apply_plan, merge, save_plan, staged_pairs

    sha = hashlib.sha256(loaded.data).hexdigest()
    base = None if options.replace else plan
    mode = "empty"
    refusal: Exception | None = None
    new_plan = base
    if result.pairs:
        new_plan = merge(base, result.pairs, sha)
        save_plan(store.pending_plan_path(), new_plan)
        mode = "staged"
    # With --apply, pairs staged by an earlier run are written too (mining them again
    # finds them "already present" in the plan).
    if options.apply_now and new_plan is not None and staged_pairs(new_plan, loaded.document):

        def compute(version: LoadedDocument) -> Change[None]:
            return Change(apply_plan(version.document, new_plan).edits, None)

        kept = f"The pairs stay staged: `dlm preference apply {loaded.path}` writes them."
        try:
            write_edits(loaded, compute, kept=kept)
            mode = "applied"
        except (CliError, TrainerError) as error:  # recorded as staged, then reported
            refusal = error
    store.metrics.record_mining(
        run_id=run_id,
        judge=judge,
        samples=options.samples,
        prompts_seen=result.prompts_seen,
        skipped=result.skipped,
        threshold=result.threshold,
        write_mode=mode,
        duration_s=result.seconds,
        pairs=[(p.section_id, p.prompt, p.score_chosen, p.score_rejected) for p in result.pairs],
        seed=options.seed,
    )
    if refusal is not None:
        raise refusal
    return mode


def _silent(event: str, stage: str, done: int, total: int, message: str) -> None:
    """Progress of ranks other than 0: rank 0 reports for the run."""


def _progress(jsonl: bool) -> Any:
    from dlm.progress import progress_line  # rich: not on `dlm check`'s import path

    def emit(event: str, stage: str, done: int, total: int, message: str) -> None:
        if jsonl:
            progress_line(event, stage, done, total, message)
        elif message:
            note(message)

    return emit
