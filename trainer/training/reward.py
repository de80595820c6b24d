"""Training the document's own reward model with trl's `RewardTrainer` (`dlm reward train`).

The document's base model is loaded as a sequence classifier with one output (a fresh
score head), LoRA adapters go on every linear layer with the head fully trained,
and the Bradley-Terry loss pushes score(chosen) above score(rejected) on
conversational rows (the document's system prompt, the prompt, the answer), rendered
with the same chat template the `reward` judge uses. The adapters are then merged, and
the whole checkpoint (config, weights, tokenizer with its chat template) replaces
`<store>/reward/` only once complete. With 6 or more pairs about 1 in 6 is held out;
ranking accuracy (chosen scored above rejected) is measured before and after, on the
held-out and on the training pairs, with the judge's own scoring code.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dlmlang import Document
from trainer.errors import TrainerError
from trainer.events import Events
from trainer.rewards.base import conversation
from trainer.rewards.checkpoint import Checkpoint, LoadOptions, Renderer
from trainer.rewards.outcome import REWARD_DIR, OutcomeRM
from trainer.rewards.profiles import Profile
from trainer.runtime.devices import trainer_device
from trainer.runtime.distributed import SINGLE, training_arguments
from trainer.store import Store
from trainer.store.swap import replacing_directory
from trainer.training.lifecycle import OpenRun, RunStart, record_checks, recorded_run
from trainer.training.phase_settings import TRL_RUN_ARGUMENTS
from trainer.training.preference_rows import PreferenceRow, conversational, split_preference_heldout
from trainer.training.reward_pairs import document_pairs
from trainer.training.reward_settings import RewardSettings

RUN_FILE = "dlm_reward.json"
"""Written beside the checkpoint: which run, document and pairs produced it."""
TRAINER_EVALS = {"accuracy": "train_reward_accuracy", "margin": "train_reward_margin"}
"""trl's per-step ranking logs, kept in `evals`."""


@dataclass(frozen=True, slots=True)
class RewardRequest:
    """The inputs of one reward-model run."""

    document: Document
    document_bytes: bytes
    settings: RewardSettings
    model_dir: Path
    base_model: str
    file_pairs: tuple[PreferenceRow, ...] = ()
    pairs_file: str | None = None


@dataclass(frozen=True, slots=True)
class RankingCheck:
    """How often the reward model scores the chosen answer above the rejected one."""

    pairs: int
    accuracy: float
    margin: float
    """Mean score(chosen) - score(rejected), in reward-model logits."""


@dataclass(frozen=True, slots=True)
class RewardResult:
    """What a reward-model run did."""

    run_id: int
    path: str
    steps: int
    train_loss: float | None
    pairs: int
    document_pairs: int
    file_pairs: int
    heldout_pairs: int
    too_long: int
    train_before: RankingCheck
    train_after: RankingCheck
    heldout_before: RankingCheck | None
    heldout_after: RankingCheck | None
    seconds: float


def reward_dir(store: Store) -> Path:
    """Where the document's reward model lives (`--judge reward`)."""
    return store.root / REWARD_DIR


def run_reward_training(request: RewardRequest, store: Store, events: Events) -> RewardResult:
    """Train a reward model on the document's hand-written pairs (and the file's), save it.

    The store lock must be held. Nothing is written to `reward/` unless the run completes.
    """
    system_prompt = _system_prompt(request.document)
    own = document_pairs(request.document)
    rows = own + list(request.file_pairs)
    _require_pairs(rows)
    model, tokenizer = _load_models(request, events)
    scorer = InMemoryRM(model, tokenizer, system_prompt)
    train, heldout = _split(rows, scorer, request.settings.max_length, events)
    before = _ranking(scorer, train, heldout)
    doc_sha256 = hashlib.sha256(request.document_bytes).hexdigest()
    start = _run_start(request, doc_sha256, train)
    started = time.perf_counter()
    with recorded_run(store, start) as run:
        run_id = run.recorded_id
        trainer, output = _train(
            model, tokenizer, train, system_prompt, request.settings, run, store, events
        )
        merged = trainer.model.merge_and_unload()
        after = _ranking(InMemoryRM(merged, tokenizer, system_prompt), train, heldout)
        steps = int(trainer.state.global_step)
        _record_rankings(store, run_id, steps, before, after)
        about = {"run_id": run_id, "doc_sha256": doc_sha256, "base_model": request.base_model}
        target = _save(merged, tokenizer, store, about, events)
        store.metrics.finish_run(run_id, status="completed", adapter_version=None)
    return RewardResult(
        run_id=run_id,
        path=str(target),
        steps=steps,
        train_loss=float(output.training_loss) if output.training_loss is not None else None,
        pairs=len(train),
        document_pairs=len(own),
        file_pairs=len(request.file_pairs),
        heldout_pairs=len(heldout),
        too_long=len(rows) - len(train) - len(heldout),
        train_before=before.train,
        train_after=after.train,
        heldout_before=before.heldout,
        heldout_after=after.heldout,
        seconds=time.perf_counter() - started,
    )


def _system_prompt(document: Document) -> str | None:
    frontmatter = document.frontmatter
    assert frontmatter is not None
    return frontmatter.system_prompt


def _require_pairs(rows: list[PreferenceRow]) -> None:
    if not rows:
        raise TrainerError(
            "There are no hand-written preference pairs to train a reward model on. Add a "
            "::preference:: section, or pass --pairs FILE.jsonl."
        )


def _load_models(request: RewardRequest, events: Events) -> tuple[Any, Any]:
    """The base model as a sequence classifier on the trainer's device, and its tokenizer."""
    import torch

    settings = request.settings
    events.message(f"Loading {request.base_model} as a reward model")
    torch.manual_seed(settings.seed)  # the new score head starts from the same weights
    model, tokenizer = load_sequence_classifier(request.model_dir)
    model.to(trainer_device(settings.device))  # the check before training runs there too
    return model, tokenizer


def _run_start(request: RewardRequest, doc_sha256: str, train: list[PreferenceRow]) -> RunStart:
    """What the store records for this run."""
    settings = request.settings
    return RunStart(
        phase="reward",
        seed=settings.seed,
        base_model=request.base_model,
        doc_sha256=doc_sha256,
        config={
            **asdict(settings),
            "steps": settings.total_steps(len(train)),
            "pairs": len(train),
            "pairs_file": request.pairs_file,
        },
    )


def load_sequence_classifier(directory: Path) -> tuple[Any, Any]:
    """(model with a new one-logit score head, tokenizer) from a causal-LM checkpoint, fp32."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging

    logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    logging.set_verbosity_error()  # type: ignore[no-untyped-call]  # "score.weight is new" is the point
    tokenizer = AutoTokenizer.from_pretrained(str(directory))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    model = AutoModelForSequenceClassification.from_pretrained(
        str(directory), num_labels=1, dtype=torch.float32
    )
    # The head reads the last token that is not padding: without a pad id it cannot batch.
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


class InMemoryRM(OutcomeRM):
    """An `OutcomeRM` over a model in memory: the `reward` judge's exact scoring path."""

    def __init__(self, model: Any, tokenizer: Any, system_prompt: str | None) -> None:
        super().__init__("reward", selector="reward")
        self.checkpoint = _LoadedCheckpoint(model, tokenizer, self.options)
        self._system_prompt = system_prompt

    def longest(self, row: PreferenceRow) -> int:
        """Tokens of the longer of the pair's two conversations, as the judge reads them."""
        checkpoint = self._loaded()
        return max(
            checkpoint.token_count(
                checkpoint.render(conversation(row.prompt, answer, self._system_prompt))
            )
            for answer in (row.chosen, row.rejected)
        )

    def check(self, rows: Sequence[PreferenceRow]) -> RankingCheck | None:
        """Ranking accuracy and mean margin over `rows`; None without rows."""
        if not rows:
            return None
        batch = []
        for row in rows:
            batch.append(conversation(row.prompt, row.chosen, self._system_prompt))
            batch.append(conversation(row.prompt, row.rejected, self._system_prompt))
        model = self._loaded().model
        was_training = model.training
        model.eval()
        try:
            scores = self.score_batch(batch)
        finally:
            model.train(was_training)
        margins = [scores[i] - scores[i + 1] for i in range(0, len(scores), 2)]
        return RankingCheck(
            pairs=len(rows),
            accuracy=sum(m > 0 for m in margins) / len(margins),
            margin=sum(margins) / len(margins),
        )


class _LoadedCheckpoint(Checkpoint):
    """A `Checkpoint` around a model and tokenizer that are already loaded."""

    def __init__(self, model: Any, tokenizer: Any, options: LoadOptions) -> None:
        profile = Profile("reward", kind="outcome", head="sequence")
        Renderer.__init__(self, "reward", Path("."), profile, options, tokenizer)
        self.model = model


def _split(
    rows: list[PreferenceRow], scorer: InMemoryRM, limit: int, events: Events
) -> tuple[list[PreferenceRow], list[PreferenceRow]]:
    """(train, held out) among the pairs that fit in `limit` tokens; the others are reported."""
    kept = [row for row in rows if scorer.longest(row) <= limit]
    if not kept:
        raise TrainerError(
            f"Every pair is longer than training.sequence_len ({limit} tokens). Raise "
            "sequence_len in the document's frontmatter, or use shorter pairs."
        )
    if len(kept) < len(rows):
        events.message(
            f"Left out {len(rows) - len(kept)} pair(s) longer than training.sequence_len "
            f"({limit} tokens)."
        )
    return split_preference_heldout(kept)


def _save(model: Any, tokenizer: Any, store: Store, about: dict[str, Any], events: Events) -> Path:
    """Write the merged checkpoint into `reward/`, replacing the old one only once complete."""
    target = reward_dir(store)
    with replacing_directory(target) as directory:
        events.message(f"Saving the reward model to {target}")
        model.save_pretrained(str(directory), safe_serialization=True)
        tokenizer.save_pretrained(str(directory))
        (directory / RUN_FILE).write_text(json.dumps(about, indent=2), encoding="utf-8")
    return target


@dataclass(frozen=True, slots=True)
class _Ranking:
    """The ranking checks on the training pairs and on the held-out ones (None without)."""

    train: RankingCheck
    heldout: RankingCheck | None


def _ranking(
    scorer: InMemoryRM, train: Sequence[PreferenceRow], heldout: Sequence[PreferenceRow]
) -> _Ranking:
    return _Ranking(_checked(scorer, train), scorer.check(heldout))


def _checked(scorer: InMemoryRM, rows: Sequence[PreferenceRow]) -> RankingCheck:
    check = scorer.check(rows)
    assert check is not None  # the training pairs are never empty
    return check


def _train(
    model: Any,
    tokenizer: Any,
    rows: list[PreferenceRow],
    system_prompt: str | None,
    settings: RewardSettings,
    run: OpenRun,
    store: Store,
    events: Events,
) -> tuple[Any, Any]:
    """The trl trainer, with dlm's callback, after training; and what `train()` returned."""
    trainer = _trainer(model, tokenizer, rows, system_prompt, settings, run.scratch)
    trainer.add_callback(_metrics_callback(store, run.recorded_id, events))
    return trainer, trainer.train()


def _trainer(
    model: Any,
    tokenizer: Any,
    rows: list[PreferenceRow],
    system_prompt: str | None,
    settings: RewardSettings,
    scratch: Path,
) -> Any:
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import RewardTrainer

    config = _config(settings, settings.total_steps(len(rows)), scratch)
    lora = _lora(settings)
    dataset = Dataset.from_list([conversational(row, system_prompt) for row in rows])
    trainer = RewardTrainer(
        model=model,
        args=config,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora,
    )
    trainer.remove_callback(PrinterCallback)  # progress goes to our events, not stdout
    return trainer


def _config(settings: RewardSettings, steps: int, scratch: Path) -> Any:
    """The RewardConfig: `steps` steps at a constant learning rate, no accumulation."""
    from trl import RewardConfig

    return RewardConfig(
        output_dir=str(scratch),
        per_device_train_batch_size=settings.micro_batch_size,
        gradient_accumulation_steps=1,
        learning_rate=settings.learning_rate,
        max_steps=steps,
        lr_scheduler_type="constant",
        warmup_steps=0,
        seed=settings.seed,
        data_seed=settings.seed,
        **training_arguments(SINGLE, device=settings.device, precision=settings.precision),
        max_length=None,  # long pairs were left out, and counted, before
        **TRL_RUN_ARGUMENTS,
    )


def _lora(settings: RewardSettings) -> Any:
    """LoRA on every linear layer, with the new score head trained in full."""
    from peft import LoraConfig, TaskType

    return LoraConfig(
        task_type=TaskType.SEQ_CLS,
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=0.0,
        target_modules="all-linear",
        modules_to_save=["score"],  # the new head learns in full, not through a low-rank update
    )


def _metrics_callback(store: Store, run_id: int, events: Events) -> Any:
    from trainer.training.callbacks import MetricsCallback

    return MetricsCallback(store.metrics, run_id, events, evals=TRAINER_EVALS)


def _record_rankings(
    store: Store, run_id: int, step: int, before: _Ranking, after: _Ranking
) -> None:
    record_checks(store, run_id, step, "train_rank", before.train, after.train)
    record_checks(store, run_id, step, "heldout_rank", before.heldout, after.heldout)
