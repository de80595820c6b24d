"""`dlm train`: SFT on prose and questions, then the preference phase on preference pairs."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dlm.commands.preference import ProgressFormat
from dlm.documents import LoadedDocument, load_valid_document
from dlm.errors import EXIT_USAGE, CliError
from dlm.jsonout import to_json
from dlm.launch import (
    LaunchOptions,
    MasterAddrOption,
    MasterPortOption,
    NnodesOption,
    NodeRankOption,
    NprocOption,
    leave_with,
    rank_argv,
)
from dlm.launch import launch as launch_ranks
from dlm.placement import DeviceOption, check_processes
from dlm.verbosity import note
from dlmlang import Document, SectionKind

if TYPE_CHECKING:
    from dlm.training import TrainOptions
    from trainer.training.document import RunResult
    from trainer.training.preference import PreferenceResult
    from trainer.training.sft import SFTResult


class Phase(StrEnum):
    """Which phases `dlm train` runs."""

    ALL = "all"
    SFT = "sft"
    PREFERENCE = "preference"


def train(
    path: Annotated[Path, typer.Argument(help="The .dlm document to train on.")],
    phase: Annotated[
        Phase,
        typer.Option(
            help="all: SFT when there is prose or Q/A, then the preference phase when the "
            "document has preference pairs (and training.preference.enabled is not false). "
            "sft or preference: only that phase."
        ),
    ] = Phase.ALL,
    no_mined: Annotated[
        bool,
        typer.Option(
            "--no-mined",
            help="Leave auto-mined preference sections out (from the document and from replay).",
        ),
    ] = False,
    max_steps: Annotated[
        int | None,
        typer.Option(help="Stop each phase after this many optimizer steps.", min=1),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: training.seed).")] = None,
    fresh: Annotated[
        bool,
        typer.Option(help="SFT from the base model instead of the current adapter; no replay."),
    ] = False,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Fail at once if another run holds the store.")
    ] = False,
    device: DeviceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    progress: Annotated[
        ProgressFormat | None,
        typer.Option(help="`jsonl`: one JSON progress object per line on stderr, no bar."),
    ] = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Train, then train again each time the document is saved with changes and "
            "no errors (1 s after the last write; one run at a time) until Ctrl-C.",
        ),
    ] = False,
    nproc: NprocOption = 1,
    nnodes: NnodesOption = 1,
    node_rank: NodeRankOption = 0,
    master_addr: MasterAddrOption = None,
    master_port: MasterPortOption = None,
    context: typer.Context = None,  # type: ignore[assignment]  # typer fills it in
) -> None:
    """Train the document's LoRA adapter: SFT, then DPO or ORPO on preference pairs.

    Each phase writes a new adapter version to the store ($DLM_HOME, default ~/.dlm)
    and records a run (phase sft, dpo or orpo) with its steps in metrics.sqlite.
    The preference phase starts from the current adapter; with at least 6 pairs it
    holds some hand-written ones out and reports accuracy and margin before/after.
    A document with errors trains nothing. `--nproc N` trains with N processes
    under torchrun (DDP: gloo on CPU, NCCL on GPUs), each with micro_batch_size rows
    per step; only rank 0 writes the store (docs/scale-out.md).

    Example: dlm train notes.dlm --max-steps 40

    Example: dlm train notes.dlm --phase preference --no-mined

    Example: dlm train notes.dlm --nproc 2

    Example: dlm train notes.dlm --watch --max-steps 20

    `--watch` trains once, then each time the saved document changes: a document
    with errors is reported like `dlm check` and waited on, unchanged bytes are
    skipped, and a failed run is reported and the watch goes on. Ctrl-C while
    waiting exits 0; during a run it interrupts the run as without --watch (exit
    130). Not with --json or --nproc/--nnodes; `--progress jsonl` adds "watch"
    stage lines for programs (the VS Code extension's Train on Save).

    Exit codes: 0 trained (or a watch stopped while waiting), 1 failure (bad
    document, no adapter for the preference phase, store busy with --no-wait, a
    failed process), 2 usage error or nothing to train, 130 interrupted.
    """
    launch = LaunchOptions(nproc, nnodes, node_rank, master_addr, master_port)
    if fresh and phase is Phase.PREFERENCE:
        raise CliError(
            "--fresh restarts SFT from the base model; the preference phase needs the "
            "current adapter. Drop --fresh, or use --phase all.",
            code=2,
        )
    from dlm.training import TrainOptions

    options = TrainOptions(
        phases=(),
        no_mined=no_mined,
        max_steps=max_steps,
        seed=seed,
        fresh=fresh,
        no_wait=no_wait,
        device=device,
        progress_jsonl=progress is ProgressFormat.JSONL,
    )
    if watch:
        _watch(path, phase, options, launch, as_json=as_json)
        return
    loaded = load_valid_document(path)
    phases = _phases(loaded, phase, no_mined=no_mined)
    if launch.distributed:
        check_processes(device, launch.nproc)
        leave_with(_launch(loaded, launch, rank_argv(context), no_wait))
        return
    report = (lambda result: None) if as_json else (lambda r: typer.echo(describe(r)))
    results = _train_loaded(loaded, replace(options, phases=phases), report)
    if as_json and results:
        runs = [run_json(result) for result in results]
        typer.echo(to_json({"schema_version": 2, "runs": runs}))


def _phases(loaded: LoadedDocument, phase: Phase, *, no_mined: bool) -> tuple[str, ...]:
    """The phases to run on the document, or a usage error when it has nothing to train."""
    phases = phases_to_run(loaded.document, phase, include_mined=not no_mined)
    if not phases:
        raise CliError(
            f"{loaded.path} has nothing to train: add prose, a ::instruction:: section or a "
            "::preference:: section.",
            code=2,
        )
    return tuple(p.value for p in phases)


def _train_loaded(
    loaded: LoadedDocument, options: TrainOptions, report: Callable[[RunResult], None]
) -> list[RunResult]:
    """Record the document with its store, then run the phases in this process."""
    from dlm.training import run_training

    _note_document(loaded)
    return run_training(loaded, options, report)


def _watch(
    path: Path, phase: Phase, options: TrainOptions, launch: LaunchOptions, *, as_json: bool
) -> None:
    """`--watch`: train now and after each saved change, one run at a time (dlm.watch)."""
    if as_json or launch.distributed or int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:
        raise CliError(
            "--watch trains in this one process and prints a line per event: drop --json "
            "(use --progress jsonl for machine-readable events) and --nproc/--nnodes, and do "
            "not run it under torchrun.",
            code=EXIT_USAGE,
        )
    from dlm.progress import watch_event
    from dlm.watch import watch_document

    def train_once(loaded: LoadedDocument) -> str | None:
        phased = replace(options, phases=_phases(loaded, phase, no_mined=options.no_mined))
        results = _train_loaded(loaded, phased, lambda r: typer.echo(describe(r)))
        return results[-1].adapter_version if results else None

    def announce(event: str, message: str, version: str | None) -> None:
        typer.echo(message)
        if options.progress_jsonl:
            watch_event(event, message, version)

    watch_document(path, train_once, announce)


def _launch(loaded: LoadedDocument, launch: LaunchOptions, argv: list[str], no_wait: bool) -> int:
    """Start the ranks under torchrun, once node 0 has the store and every node the model."""
    from trainer.runtime.environment import set_offline

    set_offline()
    from trainer.models import resolve_base_model
    from trainer.store import Store, dlm_home

    home = dlm_home()
    store = Store.open(loaded.frontmatter.dlm_id, home) if launch.node_rank == 0 else None
    resolve_base_model(loaded.frontmatter.base_model, home, progress=note)
    return launch_ranks(
        launch,
        argv,
        store=store,
        wait=not no_wait,
        failure="Training failed: the phase in progress wrote no adapter version.",
    )


def _note_document(loaded: LoadedDocument) -> None:
    """Record the document with its store, warning about copies sharing it (rank 0 only)."""
    from dlm.sharing import note_document
    from trainer.runtime.distributed import current_world
    from trainer.store import Store, dlm_home

    if current_world().is_main:
        store = Store.open(loaded.frontmatter.dlm_id, dlm_home())
        note_document(store, loaded.path)
        store.metrics.close()


def phases_to_run(document: Document, phase: Phase, *, include_mined: bool) -> list[Phase]:
    """The phases `--phase` asks for that the document has data for (explicit ones always)."""
    if phase is not Phase.ALL:
        return [phase]
    sections = document.content_sections()
    phases = []
    if any(s.kind in (SectionKind.PROSE, SectionKind.INSTRUCTION) for s in sections):
        phases.append(Phase.SFT)
    has_pairs = any(
        s.kind is SectionKind.PREFERENCE and (include_mined or not s.auto_mined) for s in sections
    )
    assert document.frontmatter is not None
    enabled = document.frontmatter.training.preference.enabled
    if has_pairs and enabled is not False:
        phases.append(Phase.PREFERENCE)
    return phases


def run_json(result: SFTResult | PreferenceResult) -> dict[str, Any]:
    """One run of `dlm train --json` (docs/json.md)."""
    fields = asdict(result)
    return {"phase": fields.pop("phase", "sft"), **fields}


def describe(result: SFTResult | PreferenceResult) -> str:
    """One line saying what a run did."""
    from trainer.training.sft import SFTResult

    loss = f"{result.train_loss:.3f}" if result.train_loss is not None else "-"
    if isinstance(result, SFTResult):
        return (
            f"Run {result.run_id} (sft): {_count(result.steps, 'step')} on "
            f"{_count(result.rows, 'row')} "
            f"({result.replayed_rows} replayed), loss {loss}"
            + (f", held-out loss {result.eval_loss:.3f}" if result.eval_loss is not None else "")
            + f" -> adapter {result.adapter_version} ({result.seconds:.0f} s)."
        )
    reference = f", reference {result.reference}" if result.reference else ""
    line = (
        f"Run {result.run_id} ({result.phase} from {result.from_version}{reference}): "
        f"{_count(result.steps, 'step')} on {_count(result.pairs, 'pair')} "
        f"({result.mined_pairs} mined, "
        f"{result.replayed_pairs} replayed), loss {loss}"
    )
    if result.before is not None and result.after is not None:
        line += (
            f"; held-out pairs ({result.heldout_pairs}): accuracy {result.before.accuracy:.2f}"
            f" -> {result.after.accuracy:.2f}, margin {result.before.margin:+.3f}"
            f" -> {result.after.margin:+.3f}"
        )
    return line + f" -> adapter {result.adapter_version} ({result.seconds:.0f} s)."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
