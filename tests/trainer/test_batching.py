"""The `auto` batch: 4 rows on a CPU; on a GPU sized by the document and by free memory;
packing that keeps every row's attention its own."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import dlmlang
from trainer.events import SilentEvents
from trainer.store import Store
from trainer.training.batching import (
    CPU_MICRO_BATCH,
    MIN_STEPS_PER_EPOCH,
    BatchInputs,
    ModelShape,
    plan_batch,
)
from trainer.training.sft import SFTRequest, run_sft
from trainer.training.sft_settings import SFTSettings

SMOLLM2_135M = ModelShape(layers=30, hidden=576, intermediate=1536, vocab=49152)
GIB = 2**30


def gpu(lengths: list[int], *, free_gib: float = 100, pack: bool = False) -> BatchInputs:
    """Inputs for SmolLM2-135M in bf16 on a GPU with `free_gib` free."""
    return BatchInputs(
        lengths=lengths,
        sequence_len=1024,
        on_gpu=True,
        free_bytes=int(free_gib * GIB),
        bytes_per_token=SMOLLM2_135M.bytes_per_token("bf16"),
        can_pack=pack,
    )


def test_the_cpu_keeps_the_measured_four_rows() -> None:
    plan = plan_batch(BatchInputs(lengths=[60] * 5000, sequence_len=1024, on_gpu=False))
    assert (plan.micro_batch_size, plan.packing) == (CPU_MICRO_BATCH, False)


def test_a_small_document_on_a_gpu_keeps_the_cpu_batch_so_it_learns_as_much() -> None:
    plan = plan_batch(gpu([60] * 40, pack=True))
    assert (plan.micro_batch_size, plan.packing) == (CPU_MICRO_BATCH, False)
    assert "steps per epoch" in plan.reason


def test_a_large_document_on_a_gpu_grows_the_batch_keeping_the_steps_per_epoch() -> None:
    plan = plan_batch(gpu([900] * 2000, free_gib=1000))
    assert plan.micro_batch_size == 2000 // MIN_STEPS_PER_EPOCH
    assert not plan.packing


def test_free_memory_caps_the_batch() -> None:
    per_row = SMOLLM2_135M.bytes_per_token("bf16") * 1000
    plan = plan_batch(gpu([1000] * 4000, free_gib=8))
    assert plan.micro_batch_size == int(8 * GIB * 0.5) // per_row
    assert plan.micro_batch_size < 4000 // MIN_STEPS_PER_EPOCH
    assert "what fits in memory" in plan.reason
    tiny = plan_batch(gpu([1000] * 4000, free_gib=0.5))
    assert tiny.micro_batch_size == 1  # below the CPU batch when even 4 rows do not fit


def test_preference_pairs_count_both_sides() -> None:
    single = plan_batch(gpu([1000] * 4000, free_gib=8))
    pairs = plan_batch(replace(gpu([1000] * 4000, free_gib=8), sequences_per_row=2))
    assert pairs.micro_batch_size == single.micro_batch_size // 2


def test_many_short_rows_are_packed_when_packed_rows_still_give_the_steps() -> None:
    plan = plan_batch(gpu([50] * 20000, free_gib=1000, pack=True))
    packed_rows = -(-50 * 20000 // 1024)
    assert plan.packing
    assert plan.micro_batch_size == packed_rows // MIN_STEPS_PER_EPOCH
    assert plan_batch(gpu([50] * 200, pack=True)).packing is False  # would be 10 rows
    assert plan_batch(gpu([50] * 20000)).packing is False  # preference: never packed


def test_the_shape_of_a_loaded_model(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    shape = ModelShape.of(model)
    assert (shape.layers, shape.hidden, shape.intermediate) == (2, 64, 128)
    assert shape.bytes_per_token("fp32") > shape.bytes_per_token("bf16")


def test_the_estimate_matches_what_smollm2_was_measured_to_keep() -> None:
    assert SMOLLM2_135M.bytes_per_token("bf16") / 1e6 == pytest.approx(1.9, rel=0.05)
    assert 2.7 <= SMOLLM2_135M.bytes_per_token("fp32") / 1e6 <= 3.5  # never under the measure


BODY = "".join(
    f"::instruction::\n### Q\nWhen does ferry {n} leave?\n### A\nAt {n}:40 from pier {n}.\n\n"
    for n in range(12)
)


def test_packed_rows_learn_exactly_what_padded_rows_do(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """One step over every row, packed or padded, has the same loss: a packed row's
    attention and labels never reach into its neighbours."""
    losses = {}
    for pack in (False, True):
        text = (
            f"---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: {tiny_model_dir}\n"
            f"training:\n  sequence_len: 256\n  lora_dropout: 0\n---\n\n{BODY}"
        )
        document = dlmlang.parse(text)
        assert document.ok and document.frontmatter is not None
        settings = SFTSettings.from_training(
            document.frontmatter.training, precision="fp32", max_steps=1
        )
        settings = replace(settings, micro_batch_size=32, packing=pack)
        store = Store.open("01JQ7Z0000000000000000000A", tmp_path / f"home-{pack}")
        request = SFTRequest(document, text.encode(), settings, tiny_model_dir, "tiny")
        result = run_sft(request, store, SilentEvents())
        assert result is not None
        (step,) = store.metrics.steps(result.run_id)
        assert step.loss is not None
        losses[pack] = step.loss
    assert losses[True] == pytest.approx(losses[False], rel=1e-4)
