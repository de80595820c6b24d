"""Training a document: each phase it asks for, in turn, on the chosen placement.

The use case behind `dlm train` (the CLI adds the store lock, progress bars and exit
codes around it); benches and tests call it too. Under torchrun every rank calls it
and only rank 0 gets results.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from dlmlang import Document
from trainer.events import Events
from trainer.runtime.devices import Placement
from trainer.runtime.distributed import SINGLE, World
from trainer.store import Store
from trainer.training.preference import PreferenceRequest, PreferenceResult, run_preference
from trainer.training.preference_settings import PreferenceSettings
from trainer.training.sft import SFTRequest, SFTResult, run_sft
from trainer.training.sft_settings import SFTSettings

PHASES = ("sft", "preference")
RunResult = SFTResult | PreferenceResult


@dataclass(frozen=True, slots=True)
class DocumentTraining:
    """What to train: the document, its phases and where, with the flags that shape runs."""

    document: Document
    document_bytes: bytes
    phases: tuple[str, ...]
    """"sft" and/or "preference", in order."""
    model_dir: Path
    """The base model's checkpoint directory."""
    placement: Placement
    include_mined: bool = True
    max_steps: int | None = None
    seed: int | None = None
    fresh: bool = False

    def __post_init__(self) -> None:
        unknown = [phase for phase in self.phases if phase not in PHASES]
        if unknown:
            raise ValueError(f"unknown phases {unknown}: the phases are {PHASES}")


def train_document(
    training: DocumentTraining,
    store: Store,
    events: Callable[[], AbstractContextManager[Events]],
    report: Callable[[RunResult], None] = lambda result: None,
    world: World = SINGLE,
) -> list[RunResult]:
    """Run each phase with fresh `events()`; `report` gets each finished run. The store
    lock must be held; ranks other than 0 get []."""
    results: list[RunResult] = []
    for phase in training.phases:
        with events() as phase_events:
            result = run_phase(phase, training, store, phase_events, world)
        if result is not None:
            results.append(result)
            report(result)
    return results


def run_phase(
    phase: str, training: DocumentTraining, store: Store, events: Events, world: World = SINGLE
) -> RunResult | None:
    """One phase ("sft" or "preference") of the document; None on ranks other than 0."""
    frontmatter = training.document.frontmatter
    assert frontmatter is not None, "a valid document has frontmatter"
    placement = training.placement
    kind = SFTSettings if phase == "sft" else PreferenceSettings
    settings = kind.from_training(
        frontmatter.training,
        precision=placement.precision,
        device=placement.kind,
        max_steps=training.max_steps,
        seed=training.seed,
    )
    parts = (training.document, training.document_bytes)
    where = (training.model_dir, frontmatter.base_model)
    if isinstance(settings, SFTSettings):
        request = SFTRequest(*parts, settings, *where, fresh=training.fresh)
        return run_sft(request, store, events, world)
    preference = PreferenceRequest(*parts, settings, *where, include_mined=training.include_mined)
    return run_preference(preference, store, events, world)
