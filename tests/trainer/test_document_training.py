"""Training a document as the library does it (the use case behind `dlm train`)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest

import dlmlang
from trainer.events import Events, SilentEvents
from trainer.runtime.devices import Placement
from trainer.store import Store
from trainer.training.document import DocumentTraining, RunResult, train_document

PAIRS = "".join(
    f"::preference::\n### Prompt\nQuestion {n}?\n### Chosen\nAnswer {n}.\n### Rejected\nNo.\n\n"
    for n in range(3)
)
QA = "::instruction::\n### Q\nWhen does the Tern leave?\n### A\nAt 7:40.\n\n"


def training(model_dir: Path, phases: tuple[str, ...]) -> DocumentTraining:
    text = (
        f"---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: {model_dir}\n"
        f"training:\n  max_steps: 2\n  sequence_len: 64\n---\n\n{QA}{PAIRS}"
    )
    document = dlmlang.parse(text)
    assert document.ok, document.diagnostics
    return DocumentTraining(
        document=document,
        document_bytes=text.encode(),
        phases=phases,
        model_dir=model_dir,
        placement=Placement("cpu", "fp32"),
        max_steps=2,
    )


def test_each_phase_runs_in_turn_with_its_own_events(tiny_model_dir: Path, tmp_path: Path) -> None:
    store = Store.open("01JQ7Z0000000000000000000A", tmp_path)
    opened: list[SilentEvents] = []
    reported: list[RunResult] = []

    def events() -> AbstractContextManager[Events]:
        opened.append(SilentEvents())
        return nullcontext(opened[-1])

    results = train_document(
        training(tiny_model_dir, ("sft", "preference")), store, events, reported.append
    )
    assert [(r.adapter_version, r.steps) for r in results] == [("v0001", 2), ("v0002", 2)]
    assert reported == results and len(opened) == 2
    assert [run.phase for run in store.metrics.runs()] == ["sft", "dpo"]


def test_an_unknown_phase_is_refused(tiny_model_dir: Path) -> None:
    with pytest.raises(ValueError, match="unknown phases"):
        training(tiny_model_dir, ("rl",))
