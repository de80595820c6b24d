"""Mining a document: the use case behind `dlm preference mine` (the CLI adds the store
lock, progress output, staging and writing); benches and tests call it too.

Samples from the current adapter with the chosen engine and device, judges every
candidate once, pairs them. Under torchrun every rank calls it: the ranks share the
first sampling pass, rank 0 samples again the prompts short of variety, judges and gets
the outcome, the others get None.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from dlmlang import Document
from trainer.errors import CorruptStoreError
from trainer.generation.backends.choice import BackendChoice, load_backend
from trainer.mining.miner import (
    MiningRequest,
    MiningResult,
    Progress,
    check_sections,
    mine_with,
)
from trainer.mining.sharded import ShardedBackend, serve_shard
from trainer.rewards.settings import JudgeSettings, load_judge
from trainer.runtime.devices import Placement
from trainer.runtime.distributed import SINGLE, World, agree, fingerprint
from trainer.store import RunRow, Store


@dataclass(frozen=True, slots=True)
class DocumentMining:
    """What to mine: the document, how to sample and judge, and where."""

    document: Document
    document_bytes: bytes
    model_dir: Path
    """The base model's checkpoint directory."""
    placement: Placement
    judge: JudgeSettings
    request: MiningRequest
    """The prompts' sampling, threshold and limits; its `run_id` is replaced by the run
    that wrote the current adapter."""
    backend: BackendChoice = field(default_factory=BackendChoice)


@dataclass(frozen=True, slots=True)
class MiningOutcome:
    """What rank 0 mined, from which adapter, judged by which judge."""

    result: MiningResult
    judge: str
    adapter_version: str
    run_id: int


def adapter_run(store: Store, document: str) -> tuple[str, RunRow]:
    """The current adapter version and the training run that wrote it; NoAdapterError
    naming `document` when there is none yet."""
    version = store.require_version(document, "mining samples from it")
    run = next((r for r in store.metrics.runs() if r.adapter_version == version), None)
    if run is None:
        raise CorruptStoreError(
            f"Adapter {version} of {document} has no training run in the store's metrics. "
            f"Run `dlm train {document}` to write a new version."
        )
    return version, run


def mine_document(
    mining: DocumentMining,
    store: Store,
    progress: Progress,
    world: World = SINGLE,
    document: str = "PATH",
) -> MiningOutcome | None:
    """Sample, judge and pair; `document` names the file in messages."""
    from dataclasses import replace

    check_sections(mining.document, mining.request.sections, document)
    version, run = adapter_run(store, document)
    progress("start", "load", 0, 1, f"loading adapter {version}")
    backend, model, tokenizer = load_backend(
        mining.backend,
        mining.model_dir,
        store.version_path(version),
        mining.placement,
        seed=mining.request.sampling.seed,
        need_model=world.is_main and mining.judge.needs_sampling_model,
    )
    request = replace(mining.request, run_id=run.run_id)
    digest = hashlib.sha256(mining.document_bytes).hexdigest()
    shape = (
        request.sampling,
        request.threshold,
        request.max_pairs,
        request.sections,
        request.diversity,
    )
    inputs = fingerprint(
        digest, version, run.run_id, sorted(request.known_ids), shape, mining.judge
    )
    agree(world, inputs, "the mining inputs")
    if not world.is_main:
        try:
            serve_shard(backend, request, world)
        finally:
            backend.close()
        return None
    frontmatter = mining.document.frontmatter
    judge = load_judge(  # a broken judge fails here, before any sampling
        mining.judge,
        model=model,
        tokenizer=tokenizer,
        system_prompt=frontmatter.system_prompt if frontmatter is not None else None,
        store_root=store.root,
    )
    progress("done", "load", 1, 1, "")
    sampler = ShardedBackend(backend, world) if world.distributed else backend
    try:
        # The other ranks stop after the first pass: rank 0 alone samples the few prompts
        # short of variety again (each prompt's streams are its own, so the same candidates).
        result = mine_with(sampler, request, judge, progress, resample_with=backend)
    finally:
        backend.close()
        judge.close()
    return MiningOutcome(result, judge.name, version, run.run_id)
