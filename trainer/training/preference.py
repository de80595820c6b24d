"""The preference phase: DPO or ORPO on the current adapter with trl (docs/dpo-vs-orpo.md)."""

from __future__ import annotations

import hashlib
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
)
from trainer.store import Store
from trainer.store.replay import replay_sections
from trainer.training.batching import plan_for_model
from trainer.training.debug_hooks import debug_callbacks, record_checksum
from trainer.training.heldout import PreferenceCheck, preference_check
from trainer.training.lifecycle import (
    OpenRun,
    RunStart,
    record_checks,
    recorded_run,
    save_version,
)
from trainer.training.phase_settings import trl_arguments
from trainer.training.preference_rows import (
    PreferenceRow,
    conversational,
    document_preference_rows,
    pair_tokens,
    replay_preference_rows,
    split_preference_heldout,
)
from trainer.training.preference_settings import PreferenceSettings

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
    rows = _rows_to_train(request, store)
    _check_method_available(request.settings.method)
    ready = _prepare(request, store.version_path(previous), previous, rows, events, world)
    request = replace(request, settings=ready.settings)
    start = _run_start(request, previous, rows, world)
    before = _held_out_check(ready.model, ready, rows) if world.is_main else None
    started = time.perf_counter()
    with recorded_run(store, start, world) as run:
        trainer, result = _train(ready, rows.train, run, store, events, world)
        steps = trainer.state.global_step
        record_checksum(trainer.model, world, ready.settings.phase, steps)
        if run.run_id is not None:
            after = _held_out_check(trainer.model, ready, rows)
            _record_checks(store, run.run_id, steps, before, after)
            version = _save(
                request, trainer.model, ready.tokenizer, store, run.run_id, previous, events
            )
    barrier(world)  # the other ranks go on (to a next phase) only once the version exists
    if run.run_id is None:
        return None
    settings = ready.settings
    return PreferenceResult(
        run_id=run.run_id,
        phase=settings.phase,
        adapter_version=version,
        from_version=previous,
        reference=settings.reference if settings.method == "dpo" else None,
        steps=steps,
        train_loss=float(result.training_loss) if result.training_loss is not None else None,
        pairs=len(rows.train),
        mined_pairs=sum(row.auto_mined for row in rows.train),
        replayed_pairs=rows.replayed,
        heldout_pairs=len(rows.heldout),
        before=before,
        after=after,
        seconds=time.perf_counter() - started,
    )


def _rows_to_train(request: PreferenceRequest, store: Store) -> PreferenceRows:
    """`collect_preference_rows`, refusing a document with no pairs to train on."""
    rows = collect_preference_rows(request, store)
    if not rows.train:
        hint = " (auto-mined ones are excluded by --no-mined)" if not request.include_mined else ""
        raise TrainerError(
            f"The document has no preference pairs to train on{hint}. Add a ::preference:: "
            "section, or mine some with `dlm preference mine PATH`."
        )
    return rows


@dataclass(frozen=True, slots=True)
class _Prepared:
    """The model with the current adapter, its tokenizer, the document's system prompt,
    and the settings with the batch chosen for the device."""

    model: Any
    tokenizer: Any
    system_prompt: str | None
    settings: PreferenceSettings


def _prepare(
    request: PreferenceRequest,
    adapter_dir: Path,
    version: str,
    rows: PreferenceRows,
    events: Events,
    world: World,
) -> _Prepared:
    """The model loaded with the adapter, and the batch sized for it."""
    model, tokenizer = _load_models(request, adapter_dir, events, version)
    system_prompt = (
        request.document.frontmatter.system_prompt if request.document.frontmatter else None
    )
    settings = _batch_settings(
        request.settings, model, tokenizer, rows, system_prompt, world, events
    )
    return _Prepared(model, tokenizer, system_prompt, settings)


def _load_models(
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


def _run_start(
    request: PreferenceRequest, previous: str, rows: PreferenceRows, world: World
) -> RunStart:
    """What the store records for this run, once every rank agrees on the inputs."""
    settings = request.settings
    doc_sha256 = hashlib.sha256(request.document_bytes).hexdigest()
    agree(world, fingerprint(doc_sha256, previous, rows, settings), "the training inputs")
    return RunStart(
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


def _held_out_check(model: Any, ready: _Prepared, rows: PreferenceRows) -> PreferenceCheck | None:
    """`model`'s preference check on the held-out pairs."""
    return preference_check(
        model,
        ready.tokenizer,
        rows.heldout,
        system_prompt=ready.system_prompt,
        beta=ready.settings.beta,
    )


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
    about = {"run_id": run_id, "phase": settings.phase, "from_version": previous}
    run_config = about | asdict(settings)
    sections = replay_sections(
        request.document, (SectionKind.PREFERENCE,), include_mined=request.include_mined
    )
    return save_version(
        store, run_id, model, tokenizer, run_config, sections, events, adapters=["default"]
    )


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
    ready: _Prepared,
    rows: list[PreferenceRow],
    run: OpenRun,
    store: Store,
    events: Events,
    world: World,
) -> tuple[Any, Any]:
    """The trl trainer, with dlm's callbacks, after training; and what `train()` returned."""
    trainer = _trainer(ready, rows, run.scratch, world)
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


def _trainer(ready: _Prepared, rows: list[PreferenceRow], scratch: Path, world: World) -> Any:
    from datasets import Dataset
    from transformers import PrinterCallback

    model, tokenizer, settings = ready.model, ready.tokenizer, ready.settings
    arguments = trl_arguments(
        settings, learning_rate=settings.learning_rate, scratch=scratch, world=world
    )
    dataset = Dataset.from_list([conversational(row, ready.system_prompt) for row in rows])
    if settings.method == "orpo":
        from trl.experimental.orpo import ORPOConfig, ORPOTrainer

        # trl calls ORPO's odds-ratio weight `beta`; dlm calls it `alpha` (docs/format.md).
        config = ORPOConfig(beta=settings.alpha, **arguments)
        trainer = ORPOTrainer(
            model=model, args=config, train_dataset=dataset, processing_class=tokenizer
        )
    else:
        from trl import DPOConfig, DPOTrainer

        config = DPOConfig(
            beta=settings.beta,
            loss_type=[settings.loss_type],
            **arguments,
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
    record_checks(store, run_id, step, "heldout_pref", before, after)
    if after is not None:
        store.metrics.log_eval(run_id, step=step, name="heldout_pref_pairs", value=after.pairs)
