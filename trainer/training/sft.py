"""The SFT phase: LoRA on the base model (or the current adapter) with trl's SFTTrainer."""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from dlmlang import Document, SectionKind
from trainer.errors import TrainerError
from trainer.events import Events, StepEvent
from trainer.runtime.devices import trainer_device
from trainer.runtime.distributed import (
    SINGLE,
    World,
    agree,
    barrier,
    check_trainer_world,
    fingerprint,
    from_main,
)
from trainer.store import Store
from trainer.store.replay import replay_sections
from trainer.training.batching import plan_for_model
from trainer.training.debug_hooks import debug_callbacks, record_checksum
from trainer.training.lifecycle import (
    RUN_CONFIG_FILE,
    OpenRun,
    RunStart,
    recorded_run,
    save_version,
)
from trainer.training.phase_settings import trl_arguments
from trainer.training.rows import (
    Row,
    TokenizedRows,
    document_rows,
    replay_rows,
    split_heldout,
    tokenize_rows,
    without_heldout,
)
from trainer.training.sft_settings import SFTSettings


@dataclass(frozen=True, slots=True)
class SFTResult:
    """What an SFT run did."""

    run_id: int
    adapter_version: str
    steps: int
    train_loss: float | None
    eval_loss: float | None
    rows: int
    eval_rows: int
    replayed_rows: int
    tokens_per_second: float | None
    seconds: float


@dataclass(frozen=True, slots=True)
class SFTRequest:
    """The inputs of one SFT run."""

    document: Document
    document_bytes: bytes
    settings: SFTSettings
    model_dir: Path
    base_model: str
    fresh: bool = False


def collect_rows(request: SFTRequest, store: Store) -> tuple[list[Row], int]:
    """The document's rows plus replayed rows of sections that left it (at most as many),
    the held-out pairs left out of both."""
    rows = without_heldout(document_rows(request.document), request.document)
    if request.fresh or not request.settings.replay:
        return rows, 0
    present = [s.section_id for s in request.document.content_sections()]
    departed = store.replay.departed(present, kinds=("prose", "instruction"))
    replayed: list[Row] = []
    for section in departed:
        replayed.extend(replay_rows(section.section_id, section.content))
    replayed = without_heldout(replayed, request.document)[: len(rows)]
    return rows + replayed, len(replayed)


def run_sft(
    request: SFTRequest, store: Store, events: Events, world: World = SINGLE
) -> SFTResult | None:
    """Train, write a new adapter version, record the run; the store lock must be held.

    In a multi-process run every rank calls this; only rank 0 writes the store (run
    row, steps, adapter version, replay) and gets the result, the others get None.
    """
    rows, replayed = _rows_to_train(request, store)
    train_rows, eval_rows = split_heldout(rows)
    ready = _prepare(request, train_rows, eval_rows, events, world)
    request = replace(request, settings=ready.settings)
    previous = None if request.fresh else store.current_version()
    model = _with_adapter(
        ready.model, ready.settings, store.version_path(previous) if previous else None
    )
    start = _run_start(request, previous, rows, world)
    started = time.perf_counter()
    with recorded_run(store, start, world) as run:
        outcome = _train(model, ready, store, run, events, world)
        record_checksum(model, world, "sft", outcome.steps)
        if world.is_main:
            version = _save(request, model, ready.tokenizer, store, run.recorded_id, events)
    barrier(world)  # the other ranks go on (to a next phase) only once the version exists
    if run.run_id is None:
        return None
    return SFTResult(
        run_id=run.run_id,
        adapter_version=version,
        steps=outcome.steps,
        train_loss=outcome.train_loss,
        eval_loss=outcome.eval_loss,
        rows=len(train_rows),
        eval_rows=len(eval_rows),
        replayed_rows=replayed,
        tokens_per_second=outcome.tokens_per_second,
        seconds=time.perf_counter() - started,
    )


def _rows_to_train(request: SFTRequest, store: Store) -> tuple[list[Row], int]:
    """`collect_rows`, refusing a document with nothing to train on."""
    rows, replayed = collect_rows(request, store)
    if not rows:
        raise TrainerError(
            "The document has no prose or instruction content to train on; add some, "
            "or run `dlm train --phase preference` for the preference phase."
        )
    return rows, replayed


@dataclass(frozen=True, slots=True)
class _Prepared:
    """The base model on the trainer's device, its tokenizer, the tokenized rows, and the
    settings with the batch chosen for that device."""

    model: Any
    tokenizer: Any
    train: TokenizedRows
    held: TokenizedRows
    settings: SFTSettings


def _prepare(
    request: SFTRequest, train_rows: list[Row], eval_rows: list[Row], events: Events, world: World
) -> _Prepared:
    import torch

    from trainer.models import load_causal_lm

    settings = request.settings
    frontmatter = request.document.frontmatter
    assert frontmatter is not None
    events.message(f"Loading {request.base_model}")
    device = trainer_device(settings.device)
    model, tokenizer = load_causal_lm(request.model_dir, dtype=torch.float32, device=device)
    train, held = (
        tokenize_rows(
            part,
            tokenizer,
            system_prompt=frontmatter.system_prompt,
            max_length=settings.sequence_len,
        )
        for part in (train_rows, eval_rows)
    )
    if settings.auto_batch and device != "cpu":
        settings = _sized_for_device(settings, model, train.input_ids, device, world, events)
    return _Prepared(model, tokenizer, train, held, settings)


def _run_start(
    request: SFTRequest, previous: str | None, rows: list[Row], world: World
) -> RunStart:
    """What the store records for this run, once every rank agrees on the inputs."""
    settings = request.settings
    doc_sha256 = hashlib.sha256(request.document_bytes).hexdigest()
    agree(world, fingerprint(doc_sha256, previous, rows, settings), "the training inputs")
    return RunStart(
        phase="sft",
        seed=settings.seed,
        base_model=request.base_model,
        doc_sha256=doc_sha256,
        config={**asdict(settings), "from_version": previous, "fresh": request.fresh},
    )


def _sized_for_device(
    settings: SFTSettings,
    model: Any,
    rows: list[list[int]],
    device: str,
    world: World,
    events: Events,
) -> SFTSettings:
    """`settings` with the batch of an `auto` document chosen for the device (rank 0's
    choice on every rank: free memory can differ between GPUs)."""
    plan = plan_for_model(
        model,
        [len(row) for row in rows],
        sequence_len=settings.sequence_len,
        device=device,
        precision=settings.precision,
        can_pack=True,
    )
    plan = from_main(world, plan)
    events.message(f"Batch: {plan.reason}")
    return replace(settings, micro_batch_size=plan.micro_batch_size, packing=plan.packing)


def _save(
    request: SFTRequest, model: Any, tokenizer: Any, store: Store, run_id: int, events: Events
) -> str:
    """Write the adapter version, record replay, close the run as completed; the version."""
    run_config = {"run_id": run_id, "phase": "sft", **asdict(request.settings)}
    sections = replay_sections(request.document, (SectionKind.PROSE, SectionKind.INSTRUCTION))
    return save_version(store, run_id, model, tokenizer, run_config, sections, events)


@dataclass(frozen=True, slots=True)
class _Outcome:
    steps: int
    train_loss: float | None
    eval_loss: float | None
    tokens_per_second: float | None


def _with_adapter(model: Any, settings: SFTSettings, adapter_dir: Path | None) -> Any:
    from peft import LoraConfig, PeftModel, get_peft_model

    if adapter_dir is not None:
        return PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=True)
    config = LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=settings.target_modules,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def _train(
    model: Any, ready: _Prepared, store: Store, run: OpenRun, events: Events, world: World
) -> _Outcome:
    """Train with trl's SFTTrainer, then measure the held-out loss."""
    trainer = _trainer(model, ready, store, run, events, world)
    check_trainer_world(world, trainer.args.world_size)
    result = trainer.train()
    eval_loss = _held_out_loss(trainer, ready.held, store, run, world)
    seconds = float(result.metrics.get("train_runtime", 0.0)) or None
    tokens = trainer.state.num_input_tokens_seen
    return _Outcome(
        steps=trainer.state.global_step,
        train_loss=float(result.training_loss) if result.training_loss is not None else None,
        eval_loss=eval_loss,
        tokens_per_second=(tokens / seconds) if seconds and tokens else None,
    )


def _trainer(
    model: Any, ready: _Prepared, store: Store, run: OpenRun, events: Events, world: World
) -> Any:
    """trl's SFTTrainer on the training rows, reporting to dlm's callbacks (not stdout)."""
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import SFTTrainer

    from trainer.training.callbacks import MetricsCallback

    config = _config(ready.settings, run.scratch, world)
    train = ready.train
    columns = {"input_ids": train.input_ids, "completion_mask": train.completion_mask}
    callbacks = [MetricsCallback(store.metrics, run.recorded_id, events)] if world.is_main else []
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=Dataset.from_dict(columns),
        processing_class=ready.tokenizer,
        callbacks=callbacks + debug_callbacks(world),
    )
    trainer.remove_callback(PrinterCallback)  # progress goes to our events, not stdout
    return trainer


def _config(settings: SFTSettings, scratch: Path, world: World) -> Any:
    """The SFTConfig: the shared trl arguments, loss on completions only, packing."""
    from trl import SFTConfig

    return SFTConfig(
        **trl_arguments(
            settings, learning_rate=settings.learning_rate, scratch=scratch, world=world
        ),
        per_device_eval_batch_size=settings.micro_batch_size,
        completion_only_loss=True,
        packing=settings.packing,
        include_num_input_tokens_seen=True,
    )


def _held_out_loss(
    trainer: Any, held: TokenizedRows, store: Store, run: OpenRun, world: World
) -> float | None:
    """The loss on the held-out rows (None without any), logged on rank 0."""
    from datasets import Dataset

    if not held.input_ids:
        return None
    eval_data = Dataset.from_dict(
        {"input_ids": held.input_ids, "completion_mask": held.completion_mask}
    )
    metrics = trainer.evaluate(eval_dataset=eval_data)  # on every rank: it gathers
    eval_loss = float(metrics["eval_loss"])
    if world.is_main:
        store.metrics.log_eval(
            run.recorded_id, step=trainer.state.global_step, name="eval_loss", value=eval_loss
        )
    return eval_loss


__all__ = ["RUN_CONFIG_FILE", "SFTRequest", "SFTResult", "StepEvent", "collect_rows", "run_sft"]
