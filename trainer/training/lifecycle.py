"""One training run's life in the store, for every phase (SFT, DPO/ORPO, reward model).

Opened as a run row on rank 0, given a scratch directory, closed as failed or
interrupted if the block raises (the phase closes it as completed when it has saved
what it made: `save_version` for an adapter), and its scratch directory removed
whatever happens. A run whose process dies without closing it is marked interrupted
by the store's recovery. Held-out checks before and after training are logged with
`record_checks`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from trainer.events import Events
from trainer.runtime.distributed import SINGLE, World
from trainer.store import Store
from trainer.store.replay import ReplaySection

RUN_CONFIG_FILE = "dlm_run.json"
"""Written into each adapter version: the run and the settings that produced it."""


@dataclass(frozen=True, slots=True)
class OpenRun:
    """A run in progress: its id in the store (rank 0 only) and its scratch directory."""

    run_id: int | None
    """None on the ranks other than 0, which write nothing to the store."""
    scratch: Path

    @property
    def recorded_id(self) -> int:
        """The run id on rank 0 (where the store is written)."""
        assert self.run_id is not None, "only rank 0 records the run"
        return self.run_id


@dataclass(frozen=True, slots=True)
class RunStart:
    """What the store records when a run opens."""

    phase: str
    seed: int
    base_model: str
    doc_sha256: str
    config: dict[str, Any]
    method: str = "lora"


@contextmanager
def recorded_run(store: Store, start: RunStart, world: World = SINGLE) -> Iterator[OpenRun]:
    """Open a run on rank 0, yield it, close it as failed or interrupted if the block
    raises, and remove its scratch directory."""
    run_id = (
        store.metrics.start_run(
            phase=start.phase,
            method=start.method,
            seed=start.seed,
            base_model=start.base_model,
            doc_sha256=start.doc_sha256,
            config=start.config,
            world_size=world.size,
        )
        if world.is_main
        else None
    )
    scratch = scratch_dir(store, run_id or 0, world)
    recorded: AbstractContextManager[None] = (
        store.metrics.failure_recorded(run_id) if run_id is not None else nullcontext()
    )
    try:
        with recorded:
            yield OpenRun(run_id, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def scratch_dir(store: Store, run_id: int, world: World) -> Path:
    """The trainer's output directory: in the store for rank 0, a private temp dir elsewhere."""
    if world.is_main:
        scratch = store.root / "tmp" / f"run-{run_id}"
        scratch.mkdir(parents=True, exist_ok=True)
        return scratch
    return Path(tempfile.mkdtemp(prefix=f"dlm-rank{world.rank}-"))


def save_version(
    store: Store,
    run_id: int,
    model: Any,
    tokenizer: Any,
    run_config: dict[str, Any],
    sections: list[ReplaySection],
    events: Events,
    *,
    adapters: list[str] | None = None,
) -> str:
    """Write a new adapter version (only `adapters`, all when None) with its run config,
    record `sections` for replay, close the run as completed; the version."""
    with store.new_version() as (version, directory):
        events.message(f"Saving adapter {version}")
        model.save_pretrained(str(directory), selected_adapters=adapters)
        tokenizer.save_pretrained(str(directory))
        (directory / RUN_CONFIG_FILE).write_text(json.dumps(run_config, indent=2), encoding="utf-8")
    store.replay.record(run_id, sections)
    store.metrics.finish_run(run_id, status="completed", adapter_version=version)
    return version


class RankedCheck(Protocol):
    """A check of how a model ranks chosen over rejected answers."""

    @property
    def accuracy(self) -> float: ...

    @property
    def margin(self) -> float: ...


def record_checks(
    store: Store,
    run_id: int,
    step: int,
    name: str,
    before: RankedCheck | None,
    after: RankedCheck | None,
) -> None:
    """Log `{name}_accuracy_{when}` and `{name}_margin_{when}` for the checks run before
    and after training (a check that was not run logs nothing)."""
    for when, check in (("before", before), ("after", after)):
        if check is None:
            continue
        store.metrics.log_eval(
            run_id, step=step, name=f"{name}_accuracy_{when}", value=check.accuracy
        )
        store.metrics.log_eval(run_id, step=step, name=f"{name}_margin_{when}", value=check.margin)
