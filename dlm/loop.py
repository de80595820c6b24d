"""Wiring for `dlm loop`: rounds of mine -> apply -> preference phase -> held-out gate.

Each round starts from the current adapter. Mining draws a fresh seed (recorded with
the mining event) and writes its pairs into the document; the preference phase trains
a new version; `dlm eval` compares the new version with the round's starting one on the
document's held-out pairs, and the gate (trainer.evaluation.gate) promotes it or
rejects it. A rejected round leaves no trace but its record: the starting version is
current again (the new one stays in the store, marked rejected in the eval record) and
the round's mined sections are reverted from the document, byte for byte. Ctrl-C rolls
the round in progress back the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlm.documents import LoadedDocument, load_valid_document
from dlm.errors import EXIT_INTERRUPTED, CliError
from dlm.mining import MineOptions, run_mining
from dlm.models import base_model_dir
from dlm.training import TrainOptions, run_training
from dlm.verbosity import note
from dlm.writer import Change, write_edits

if TYPE_CHECKING:
    from trainer.evaluation.gate import GateSettings
    from trainer.rewards.settings import JudgeSettings
    from trainer.store import Store


@dataclass(frozen=True, slots=True)
class LoopOptions:
    """The flags of `dlm loop`: rounds, the gate and its judge, mining, training, eval."""

    rounds: int
    gate: GateSettings
    mining: MineOptions
    """Mining's flags; the loop applies the pairs and draws a fresh seed each round."""
    gate_judge: JudgeSettings | None = None
    max_new_tokens: int = 128
    device: str | None = None
    progress_jsonl: bool = False


@dataclass(frozen=True, slots=True)
class RoundReport:
    """What one round did and what the gate decided."""

    round: int
    start_version: str
    seed: int | None
    pairs_mined: int
    sections: tuple[str, ...]
    """The ids of the mined sections the round wrote into the document."""
    trained_version: str | None
    eval_id: int | None
    decision: str
    """`promoted`, `rejected`, or `skipped` (nothing was mined)."""
    reasons: tuple[str, ...]
    comparison: dict[str, Any] | None = field(default=None)


def run_loop(
    path: Path, options: LoopOptions, report: Callable[[RoundReport], None]
) -> list[RoundReport]:
    """Run the rounds; `report` gets each finished one. Returns them all."""
    from trainer.runtime.environment import set_offline

    set_offline()
    rounds: list[RoundReport] = []
    for number in range(1, options.rounds + 1):
        note(f"Round {number} of {options.rounds}")
        done = _round(path, number, options)
        rounds.append(done)
        report(done)
    return rounds


def _round(path: Path, number: int, options: LoopOptions) -> RoundReport:
    """One round, rolled back if it is interrupted before its verdict."""
    loaded, store = _open(path)
    prompts = _gate_prompts(loaded, path)
    start = store.require_version(str(path), "the loop mines from it")
    mined_before = _mined(loaded)
    applied: tuple[str, ...] = ()
    try:
        summary = _mine(loaded, store, options)
        applied = _applied(summary)
        if not applied:
            return _skipped(number, start, summary)
        trained = _train(path, options)
        return _judge(path, number, start, summary, applied, trained, prompts, options)
    except BaseException as stop:
        # Ctrl-C may land after mining wrote its sections but before it returned them:
        # what to revert is also read from the document (mined sections it did not have).
        _roll_back(path, store, start, applied, mined_before)
        if isinstance(stop, KeyboardInterrupt) or getattr(stop, "code", None) == EXIT_INTERRUPTED:
            raise CliError(
                f"Interrupted in round {number}: the round was rolled back ({len(applied)} "
                f"mined section(s) reverted, {start} current).",
                code=EXIT_INTERRUPTED,
            ) from None
        raise


def _open(path: Path) -> tuple[LoadedDocument, Store]:
    from trainer.store import Store, dlm_home

    loaded = load_valid_document(path)
    return loaded, Store.open(loaded.frontmatter.dlm_id, dlm_home())


def _gate_prompts(loaded: LoadedDocument, path: Path) -> tuple[Any, ...]:
    """The held-out prompts the gate asks; the loop refuses to run without them."""
    from trainer.evaluation.prompts import heldout_prompts

    prompts = tuple(heldout_prompts(loaded.document))
    if not prompts:
        raise CliError(
            f"{path}: the loop's gate needs held-out pairs to check each round on. Hold some "
            "out with `training: heldout: 0.2` in the frontmatter (they stop being trained "
            "on), and train again before looping."
        )
    return prompts


def _mine(loaded: LoadedDocument, store: Store, options: LoopOptions) -> dict[str, Any]:
    """Mine from the current adapter with a fresh seed and write the pairs in."""
    from trainer.mining.plan import load_plan

    mining = dataclasses.replace(options.mining, seed=None, apply_now=True, replace=True)
    summary = run_mining(loaded, store, load_plan(store.pending_plan_path()), mining)
    assert summary is not None, "the loop runs in one process"
    return summary


def _applied(summary: dict[str, Any]) -> tuple[str, ...]:
    """The section ids mining wrote into the document (none unless it applied)."""
    if summary["write_mode"] != "applied":
        return ()
    return tuple(pair["section_id"] for pair in summary["pairs"])


def _skipped(number: int, start: str, summary: dict[str, Any]) -> RoundReport:
    reasons = tuple(summary["advice"]) or ("mining found no pair worth training on",)
    return RoundReport(
        number, start, summary["seed"], summary["pairs_mined"], (), None, None, "skipped", reasons
    )


def _train(path: Path, options: LoopOptions) -> Any:
    """The preference phase on the document as it is now; its result."""
    loaded = load_valid_document(path)
    train = TrainOptions(
        phases=("preference",), device=options.device, progress_jsonl=options.progress_jsonl
    )
    [result] = run_training(loaded, train, lambda result: None)
    return result


def _judge(
    path: Path,
    number: int,
    start: str,
    summary: dict[str, Any],
    applied: tuple[str, ...],
    trained: Any,
    prompts: tuple[Any, ...],
    options: LoopOptions,
) -> RoundReport:
    """Evaluate the new version against the round's start, record the verdict, act on it."""
    from dataclasses import asdict

    from trainer.evaluation.evaluate import EvalRequest, evaluate
    from trainer.evaluation.gate import judge_round
    from trainer.evaluation.record import record_eval
    from trainer.runtime.devices import choose_placement

    loaded, store = _open(path)
    request = EvalRequest(
        prompts=prompts,
        version=trained.adapter_version,
        model_dir=base_model_dir(loaded.frontmatter.base_model),
        placement=choose_placement(options.device, loaded.frontmatter.training.precision),
        system_prompt=loaded.frontmatter.system_prompt,
        against=start,
        judge=options.gate_judge if options.gate.eval_score == "judge" else None,
        by=options.gate.eval_score,
        max_new_tokens=options.max_new_tokens,
        fluency=options.gate.guards,
    )
    note(f"Gate: {trained.adapter_version} against {start} on {len(prompts)} held-out prompts")
    report = evaluate(request, store)
    verdict = judge_round(report, options.gate, (trained.before, trained.after))
    eval_id = record_eval(store, report, verdict.decision)
    if not verdict.promoted:
        _roll_back(path, store, start, applied, _mined(loaded) - set(applied))
    comparison = asdict(report.comparison) if report.comparison else None
    return RoundReport(
        number,
        start,
        summary["seed"],
        summary["pairs_mined"],
        applied,
        trained.adapter_version,
        eval_id,
        verdict.decision,
        verdict.reasons,
        comparison,
    )


def _mined(loaded: LoadedDocument) -> frozenset[str]:
    """The ids of the document's auto-mined sections."""
    return frozenset(s.section_id for s in loaded.document.sections if s.auto_mined)


def _roll_back(
    path: Path, store: Store, start: str, applied: tuple[str, ...], kept: frozenset[str]
) -> None:
    """`start` current again and the round's mined sections reverted and forgotten: those
    it applied, and any mined section on disk that is not among the `kept` ones."""
    from trainer.mining.plan import revert_edits

    with store.lock(wait=True, on_wait=note):
        if store.current_version() != start:
            store.set_current(start)

        def compute(version: LoadedDocument) -> Change[list[str]]:
            ours = set(applied) | (_mined(version) - kept)
            if not ours:  # revert_edits would take no ids as "all of them"
                return Change([], [])
            edits, removed = revert_edits(version.document, section_ids=ours)
            return Change(edits, [s.section_id for s in removed])

        written = write_edits(load_valid_document(path), compute)
        store.replay.purge(written.outcome)
