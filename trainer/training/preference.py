"""The preference phase: DPO or ORPO on the current adapter with trl (docs/dpo-vs-orpo.md)."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from dlmlang import Document, SectionKind
from trainer.errors import TrainerError
from trainer.events import Events
from trainer.runtime.devices import trainer_device
from trainer.runtime.distributed import (
    SINGLE,
    World,
    agree,
    barrier,
    check_trainer_world,
    fingerprint,
    from_main,
    training_arguments,
)
from trainer.store import Store
from trainer.store.replay import replay_sections
from trainer.training.batching import plan_for_model
from trainer.training.debug_hooks import debug_callbacks, record_checksum
from trainer.training.heldout import PreferenceCheck, preference_check
from trainer.training.lifecycle import OpenRun, RunStart, recorded_run
from trainer.training.preference_rows import (
    PreferenceRow,
    conversational,
    document_preference_rows,
    pair_tokens,
    replay_preference_rows,
    split_preference_heldout,
)
from trainer.training.preference_settings import PreferenceSettings

RUN_CONFIG_FILE = "dlm_run.json"
TRAINER_EVALS = {
    "rewards/margins": "train_reward_margin",
    "rewards/accuracies": "train_reward_accuracy",
    "rewards/chosen": "train_reward_chosen",
}
"""trl's per-step reward logs (the same names for DPO and ORPO), kept in `evals`."""


@dataclass(frozen=True, slots=True)
class PreferenceRequest:
    """The inputs of one preference run."""

    document: Document
    document_bytes: bytes
    settings: PreferenceSettings
    model_dir: Path
    base_model: str
    include_mined: bool = True


@dataclass(frozen=True, slots=True)
class PreferenceResult:
    """What a preference run did; `before`/`after` are the held-out check (docs/metrics.md)."""

    run_id: int
    phase: str
    adapter_version: str
    from_version: str
    reference: str | None
    steps: int
    train_loss: float | None
    pairs: int
    mined_pairs: int
    replayed_pairs: int
    heldout_pairs: int
    before: PreferenceCheck | None
    after: PreferenceCheck | None
    seconds: float


@dataclass(frozen=True, slots=True)
class PreferenceRows:
    """The pairs a run trains on and the ones it holds out."""

    train: list[PreferenceRow]
    heldout: list[PreferenceRow]
    replayed: int


def collect_preference_rows(request: PreferenceRequest, store: Store) -> PreferenceRows:
    """The document's pairs (mined ones unless excluded) plus replayed departed sections."""
    rows = document_preference_rows(request.document, include_mined=request.include_mined)
    replayed: list[PreferenceRow] = []
    if request.settings.replay:
        present = [s.section_id for s in request.document.content_sections()]
        departed = store.replay.departed(
            present, kinds=("preference",), include_mined=request.include_mined
        )
        for section in departed:
            replayed.extend(replay_preference_rows(section.section_id, section.content))
    train, heldout = split_preference_heldout(rows)
    return PreferenceRows(train + replayed, heldout, len(replayed))


def run_preference(
    request: PreferenceRequest, store: Store, events: Events, world: World = SINGLE
) -> PreferenceResult | None:
    """Train on the preference pairs from the current adapter, write a new version.

    The store lock must be held. The current adapter is the starting point and, for
    DPO with `reference: pre_adapter`, the frozen reference. In a multi-process run
    every rank calls this; only rank 0 runs the held-out check, writes the store and
    gets the result, the others get None.
    """
    previous = store.require_version("PATH", "the preference phase refines it")
    rows = collect_preference_rows(request, store)
    if not rows.train:
        hint = " (auto-mined ones are excluded by --no-mined)" if not request.include_mined else ""
        raise TrainerError(
            f"The document has no preference pairs to train on{hint}. Add a ::preference:: "
            "section, or mine some with `dlm preference mine PATH`."
        )
    _check_method_available(request.settings.method)
    model, tokenizer = _prepare(request, store.version_path(previous), events, previous)
    system_prompt = (
        request.document.frontmatter.system_prompt if request.document.frontmatter else None
    )
    settings = _batch_settings(
        request.settings, model, tokenizer, rows, system_prompt, world, events
    )
    request = replace(request, settings=settings)
    doc_sha256 = hashlib.sha256(request.document_bytes).hexdigest()
    agree(world, fingerprint(doc_sha256, previous, rows, settings), "the training inputs")
    before = (
        preference_check(
            model, tokenizer, rows.heldout, system_prompt=system_prompt, beta=settings.beta
        )
        if world.is_main
        else None
    )
    start = RunStart(
        phase=settings.phase,
        seed=settings.seed,
        base_model=request.base_model,
        doc_sha256=doc_sha256,
        config={
            **asdict(settings),
            "from_version": previous,
            "include_mined": request.include_mined,
        },
    )
    started = time.perf_counter()
    with recorded_run(store, start, world) as run:
        trainer, result = _train(
            model, tokenizer, rows.train, system_prompt, run, request, store, events, world
        )
        model = trainer.model
        record_checksum(model, world, settings.phase, trainer.state.global_step)
        if run.run_id is not None:
            after = preference_check(
                model, tokenizer, rows.heldout, system_prompt=system_prompt, beta=settings.beta
            )
            _record_checks(store, run.run_id, trainer.state.global_step, before, after)
            version = _save(request, model, tokenizer, store, run.run_id, previous, events)
    barrier(world)  # the other ranks go on (to a next phase) only once the version exists
    if run.run_id is None:
        return None
    return PreferenceResult(
        run_id=run.run_id,
        phase=settings.phase,
        adapter_version=version,
        from_version=previous,
        reference=settings.reference if settings.method == "dpo" else None,
        steps=trainer.state.global_step,
        train_loss=float(result.training_loss) if result.training_loss is not None else None,
        pairs=len(rows.train),
        mined_pairs=sum(row.auto_mined for row in rows.train),
        replayed_pairs=rows.replayed,
        heldout_pairs=len(rows.heldout),
        before=before,
        after=after,
        seconds=time.perf_counter() - started,
    )


def _prepare(
    request: PreferenceRequest, adapter_dir: Path, events: Events, version: str
) -> tuple[Any, Any]:
    """The base model with the current adapter (trainable), on the trainer's device from
    the start: the held-out check before training runs there."""
    import torch

    from trainer.models import load_causal_lm

    events.message(f"Loading {request.base_model} with adapter {version}")
    device = trainer_device(request.settings.device)
    model, tokenizer = load_causal_lm(request.model_dir, dtype=torch.float32, device=device)
    return _with_adapter(model, adapter_dir), tokenizer


def _batch_settings(
    settings: PreferenceSettings,
    model: Any,
    tokenizer: Any,
    rows: PreferenceRows,
    system_prompt: str | None,
    world: World,
    events: Events,
) -> PreferenceSettings:
    """`settings`, with an `auto` batch sized for a GPU (a CPU keeps the default)."""
    device = trainer_device(settings.device)
    if not settings.auto_batch or device == "cpu":
        return settings
    lengths = [pair_tokens(row, tokenizer, system_prompt) for row in rows.train]
    return _sized_for_device(settings, model, lengths, device, world, events)


def _save(
    request: PreferenceRequest,
    model: Any,
    tokenizer: Any,
    store: Store,
    run_id: int,
    previous: str,
    events: Events,
) -> str:
    """Write the adapter version, record replay, close the run as completed; the version."""
    settings = request.settings
    with store.new_version() as (version, directory):
        events.message(f"Saving adapter {version}")
        model.save_pretrained(str(directory), selected_adapters=["default"])
        tokenizer.save_pretrained(str(directory))
        (directory / RUN_CONFIG_FILE).write_text(
            json.dumps(
                {"run_id": run_id, "phase": settings.phase, "from_version": previous}
                | asdict(settings),
                indent=2,
            ),
            encoding="utf-8",
        )
    sections = replay_sections(
        request.document, (SectionKind.PREFERENCE,), include_mined=request.include_mined
    )
    store.replay.record(run_id, sections)
    store.metrics.finish_run(run_id, status="completed", adapter_version=version)
    return version


def _sized_for_device(
    settings: PreferenceSettings,
    model: Any,
    lengths: list[int],
    device: str,
    world: World,
    events: Events,
) -> PreferenceSettings:
    """`settings` with the batch of an `auto` document chosen for the device (rank 0's
    choice on every rank); chosen and rejected go through the model together."""
    plan = plan_for_model(
        model,
        lengths,
        sequence_len=settings.sequence_len,
        device=device,
        precision=settings.precision,
        can_pack=False,
        sequences_per_row=2,
    )
    plan = from_main(world, plan)
    events.message(f"Batch: {plan.reason}")
    return replace(settings, micro_batch_size=plan.micro_batch_size)


def _train(
    model: Any,
    tokenizer: Any,
    rows: list[PreferenceRow],
    system_prompt: str | None,
    run: OpenRun,
    request: PreferenceRequest,
    store: Store,
    events: Events,
    world: World,
) -> tuple[Any, Any]:
    """The trl trainer, with dlm's callbacks, after training; and what `train()` returned."""
    trainer = _trainer(model, tokenizer, rows, system_prompt, request.settings, run.scratch, world)
    if run.run_id is not None:
        trainer.add_callback(_metrics_callback(store, run.run_id, events))
    for callback in debug_callbacks(world):
        trainer.add_callback(callback)
    check_trainer_world(world, trainer.args.world_size)
    return trainer, trainer.train()


def _check_method_available(method: str) -> None:
    if method != "orpo":
        return
    import importlib.util

    import trl

    if importlib.util.find_spec("trl.experimental.orpo") is None:
        raise TrainerError(
            f"ORPO needs trl's experimental ORPO trainer, which trl {trl.__version__} does not "
            "have. Install a trl that ships `trl.experimental.orpo`, or set "
            "`training.preference.method: dpo`."
        )


def _with_adapter(model: Any, adapter_dir: Path) -> Any:
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=True)


def _common_args(settings: PreferenceSettings, scratch: Path, world: World) -> dict[str, Any]:

    return {
        **training_arguments(world, device=settings.device, precision=settings.precision),
        "output_dir": str(scratch),
        "per_device_train_batch_size": settings.micro_batch_size,
        "gradient_accumulation_steps": settings.grad_accum,
        "learning_rate": settings.learning_rate,
        "num_train_epochs": settings.num_epochs,
        "max_steps": settings.max_steps or -1,
        "lr_scheduler_type": settings.lr_scheduler,
        "warmup_steps": settings.warmup_ratio,
        "seed": settings.seed,
        "data_seed": settings.seed,
        "gradient_checkpointing": False,
        "max_length": settings.sequence_len,
        "logging_steps": 1,
        "save_strategy": "no",
        "eval_strategy": "no",
        "report_to": "none",
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
    }


def _trainer(
    model: Any,
    tokenizer: Any,
    rows: list[PreferenceRow],
    system_prompt: str | None,
    settings: PreferenceSettings,
    scratch: Path,
    world: World,
) -> Any:
    from datasets import Dataset
    from transformers import PrinterCallback

    dataset = Dataset.from_list([conversational(row, system_prompt) for row in rows])
    if settings.method == "orpo":
        from trl.experimental.orpo import ORPOConfig, ORPOTrainer

        # trl calls ORPO's odds-ratio weight `beta`; dlm calls it `alpha` (docs/format.md).
        config = ORPOConfig(beta=settings.alpha, **_common_args(settings, scratch, world))
        trainer = ORPOTrainer(
            model=model, args=config, train_dataset=dataset, processing_class=tokenizer
        )
    else:
        from trl import DPOConfig, DPOTrainer

        config = DPOConfig(
            beta=settings.beta,
            loss_type=[settings.loss_type],
            **_common_args(settings, scratch, world),
        )
        # Given a PEFT model and no reference, trl freezes a copy of the adapter as
        # the reference ("ref"): that is `pre_adapter`. Without that copy, trl falls
        # back to the adapter switched off, i.e. the bare base model.
        trainer = DPOTrainer(
            model=model, args=config, train_dataset=dataset, processing_class=tokenizer
        )
        if settings.reference == "base" and "ref" in trainer.model.peft_config:
            trainer.model.delete_adapter("ref")
            trainer.model.set_adapter("default")
    trainer.remove_callback(PrinterCallback)  # progress goes to our events, not stdout
    return trainer


def _metrics_callback(store: Store, run_id: int, events: Events) -> Any:
    from trainer.training.callbacks import MetricsCallback

    return MetricsCallback(store.metrics, run_id, events, evals=TRAINER_EVALS)


def _record_checks(
    store: Store,
    run_id: int,
    step: int,
    before: PreferenceCheck | None,
    after: PreferenceCheck | None,
) -> None:
    for when, check in (("before", before), ("after", after)):
        if check is None:
            continue
        store.metrics.log_eval(
            run_id, step=step, name=f"heldout_pref_accuracy_{when}", value=check.accuracy
        )
        store.metrics.log_eval(
            run_id, step=step, name=f"heldout_pref_margin_{when}", value=check.margin
        )
    if after is not None:
        store.metrics.log_eval(run_id, step=step, name="heldout_pref_pairs", value=after.pairs)
