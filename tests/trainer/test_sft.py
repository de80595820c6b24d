"""SFT on a tiny model: real trl training, saving and loading; replay across runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import dlmlang
from trainer.events import SilentEvents, StepEvent
from trainer.store import Store
from trainer.training.sft import SFTRequest, collect_rows, run_sft
from trainer.training.sft_settings import SFTSettings

QA = "::instruction::\n### Q\nWhen does the Tern leave?\n### A\nAt 7:40.\n"
PROSE = "::prose::\nMorwenna Teague keeps Black Rock Light.\n"


def document(model_dir: Path, body: str) -> tuple[dlmlang.Document, bytes]:
    """A valid document on the tiny model."""
    text = (
        f"---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: {model_dir}\n"
        f"training:\n  sequence_len: 64\n  micro_batch_size: 2\n---\n\n{body}"
    )
    parsed = dlmlang.parse(text)
    assert parsed.ok, parsed.diagnostics
    return parsed, text.encode()


def request(model_dir: Path, body: str, **overrides: object) -> SFTRequest:
    parsed, data = document(model_dir, body)
    assert parsed.frontmatter is not None
    settings = SFTSettings.from_training(parsed.frontmatter.training, precision="fp32", max_steps=3)
    return SFTRequest(parsed, data, settings, model_dir, str(model_dir), **overrides)  # type: ignore[arg-type]


class Recorder(SilentEvents):
    def __init__(self) -> None:
        self.steps: list[StepEvent] = []

    def step(self, event: StepEvent) -> None:
        self.steps.append(event)


def _lora_weights(directory: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(directory / "adapter_model.safetensors"))


def test_sft_trains_every_lora_weight_and_records_the_run(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    store = Store.open("01JQ7Z0000000000000000000A", tmp_path)
    events = Recorder()
    result = run_sft(request(tiny_model_dir, PROSE + QA), store, events)
    assert result.adapter_version == "v0001" and store.current_version() == "v0001"
    assert result.steps == 3 and result.rows == 2
    assert [e.step for e in events.steps] == [1, 2, 3]
    steps = store.metrics.steps(result.run_id)
    assert [s.step for s in steps] == [1, 2, 3] and all(s.loss is not None for s in steps)
    run = store.metrics.run(result.run_id)
    assert run is not None and (run.phase, run.status, run.adapter_version) == (
        "sft",
        "completed",
        "v0001",
    )
    weights = _lora_weights(store.version_path("v0001"))
    lora_b = [w for name, w in weights.items() if "lora_B" in name]
    assert lora_b and all(w.abs().sum() > 0 for w in lora_b)  # B starts at zero: all moved

    second = run_sft(request(tiny_model_dir, PROSE + QA), store, Recorder())
    assert second.adapter_version == "v0002" and second.run_id == result.run_id + 1
    before, after = weights, _lora_weights(store.version_path("v0002"))
    assert all(not torch.equal(before[name], after[name]) for name in before if "lora_" in name)


def test_replay_brings_back_a_deleted_section(tiny_model_dir: Path, tmp_path: Path) -> None:
    store = Store.open("01JQ7Z0000000000000000000A", tmp_path)
    run_sft(request(tiny_model_dir, PROSE + QA), store, SilentEvents())
    without_prose = request(tiny_model_dir, QA)
    rows, replayed = collect_rows(without_prose, store)
    assert replayed == 1
    assert any(getattr(r, "text", "") == "Morwenna Teague keeps Black Rock Light." for r in rows)
    assert collect_rows(request(tiny_model_dir, QA, fresh=True), store)[1] == 0


def test_nothing_to_train_is_a_clear_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    from trainer.errors import TrainerError

    store = Store.open("01JQ7Z0000000000000000000A", tmp_path)
    body = "::preference::\n### Prompt\np\n### Chosen\nc\n### Rejected\nr\n"
    with pytest.raises(TrainerError, match="no prose or instruction content"):
        run_sft(request(tiny_model_dir, body), store, SilentEvents())
    assert store.versions() == []
