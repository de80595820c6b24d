"""Wiring for `dlm train`: the store and its lock, the base model, then each phase in turn,
in one process or as one rank of a torchrun launch (`dlm.launch`)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from dlm.documents import LoadedDocument
from dlm.errors import EXIT_INTERRUPTED, CliError
from dlm.verbosity import note

if TYPE_CHECKING:
    from trainer.runtime.devices import Placement
    from trainer.runtime.distributed import World
    from trainer.training.document import RunResult


@dataclass(frozen=True, slots=True)
class TrainOptions:
    """The flags of `dlm train` that shape the runs."""

    phases: tuple[str, ...]
    """"sft" and/or "preference", in order."""
    no_mined: bool = False
    max_steps: int | None = None
    seed: int | None = None
    fresh: bool = False
    no_wait: bool = False
    device: str | None = None
    """--device (None: $DLM_DEVICE, else auto)."""
    progress_jsonl: bool = False
    """--progress jsonl: JSON lines on stderr instead of the bar."""


def run_training(
    loaded: LoadedDocument, options: TrainOptions, report: Callable[[RunResult], None]
) -> list[RunResult]:
    """Run the phases; `report` gets each finished run. Under torchrun every rank calls
    this, and only rank 0 writes the store and gets results (the others get [])."""
    from trainer.runtime.environment import set_offline

    set_offline()
    from dlm.placement import place
    from trainer.runtime.distributed import current_world, leave

    world = current_world()
    placement = place(options.device, loaded.frontmatter.training.precision, world)
    try:
        return _run(loaded, options, report, world, placement)
    finally:
        leave(world)


def _run(
    loaded: LoadedDocument,
    options: TrainOptions,
    report: Callable[[RunResult], None],
    world: World,
    placement: Placement,
) -> list[RunResult]:
    from dlm.launch import open_store, store_lock
    from trainer.errors import TrainerError
    from trainer.models import resolve_base_model
    from trainer.runtime.distributed import threads_per_process
    from trainer.runtime.environment import configure_threads
    from trainer.store import dlm_home
    from trainer.training.document import DocumentTraining, train_document

    home = dlm_home()
    frontmatter = loaded.frontmatter
    store = open_store(frontmatter.dlm_id, home, world)
    configure_threads(threads_per_process() if world.distributed else None)
    results: list[RunResult] = []
    echo: Callable[[str], None] = note

    def _reported(result: RunResult) -> None:
        results.append(result)
        report(result)

    try:
        with store_lock(store, world, wait=not options.no_wait, on_wait=echo):
            resolved = resolve_base_model(
                frontmatter.base_model, home, progress=echo if world.is_main else None
            )
            training = DocumentTraining(
                document=loaded.document,
                document_bytes=loaded.data,
                phases=options.phases,
                model_dir=resolved.path,
                placement=placement,
                include_mined=not options.no_mined,
                max_steps=options.max_steps,
                seed=options.seed,
                fresh=options.fresh,
            )
            events = partial(_events, world, options.progress_jsonl)
            train_document(training, store, events, _reported, world)
    except KeyboardInterrupt:
        done = f" Runs completed before it: {len(results)}." if results else ""
        raise CliError(
            f"Interrupted: the phase in progress wrote no adapter version.{done}",
            code=EXIT_INTERRUPTED,
        ) from None
    except TrainerError as error:
        if world.distributed:
            raise CliError(f"rank {world.rank} of {world.size}: {error}") from None
        raise
    return results


def _events(world: World, jsonl: bool) -> AbstractContextManager[Any]:
    from dlm.progress import JsonlEvents, RichEvents
    from trainer.events import SilentEvents

    if not world.is_main:
        return nullcontext(SilentEvents())
    return JsonlEvents() if jsonl else RichEvents()
