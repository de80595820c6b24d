"""`dlm preference list|apply|revert|discard`: the staged plan and mined sections."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from dlm.documents import LoadedDocument, load_valid_document
from dlm.errors import EXIT_USAGE, CliError
from dlm.jsonout import to_json
from dlm.judging import (
    DEFAULT_JUDGE,
    DEFAULT_MAX_OUTPUT,
    DEFAULT_MAX_REASONING,
    JUDGE_HELP,
    JudgeCacheOption,
    JudgeEnvOption,
    JudgeMaxOutputOption,
    JudgeMaxReasoningOption,
    JudgeRecordCommandOption,
    JudgeTimeoutOption,
    JudgeUrlOption,
    RubricOption,
)
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
from dlm.render import printable
from dlm.sampling import BackendOption, DataParallelOption, TensorParallelOption
from dlm.verbosity import note
from dlm.writer import Change, Written, write_edits
from trainer.generation.backends.choice import Backend, BackendChoice

app = typer.Typer(
    help="Mined preference pairs: list, apply, revert, discard.\n\n"
    "Example: dlm preference list notes.dlm",
    no_args_is_help=True,
)

DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Print the text edits instead of writing the file.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (docs/json.md).")]


@app.command("list")
def list_pairs(
    path: Annotated[Path, typer.Argument(help="The .dlm document.")], as_json: AsJson = False
) -> None:
    """Mined sections in the document, and pairs staged but not yet applied.

    Example: dlm preference list notes.dlm --json
    """
    loaded, store = _open(path)
    from trainer.mining.plan import staged_pairs

    applied = [s for s in loaded.document.sections if s.marker is not None]
    staged = staged_pairs(_plan(store), loaded.document)
    if as_json:
        typer.echo(to_json(_list_json(applied, staged)))
        return
    typer.echo(f"{len(staged)} staged pair(s) and {len(applied)} mined section(s) in {path}.")
    for pair in staged:
        typer.echo(
            f"\nstaged {pair.section_id} (run {pair.run_id}, judge {printable(pair.judge)}, "
            f"margin {pair.margin:.3f})"
        )
        typer.echo(f"  prompt:   {_one_line(pair.prompt)}")
        _echo_answer("chosen", pair.chosen, pair.score_chosen, pair.reasoning_chosen)
        _echo_answer("rejected", pair.rejected, pair.score_rejected, pair.reasoning_rejected)
    for section in applied:
        marker = section.marker
        assert marker is not None
        typer.echo(
            f"\nin the document {section.section_id} (run {marker.mined_run_id}, judge "
            f"{printable(marker.judge_name)}, margin {marker.margin:.3f})"
        )
        triple = section.triples[0]
        typer.echo(f"  prompt:   {_one_line(triple.prompt)}")
        _echo_answer("chosen", triple.chosen, marker.judge_score_chosen, None)
        _echo_answer("rejected", triple.rejected, marker.judge_score_rejected, None)


def _echo_answer(side: str, text: str, score: float, reasoning: str | None) -> None:
    """One answer of a pair with its score, and the judge's reasoning if it gave one."""
    typer.echo(f"  {side + ':':9} {_one_line(text)}  [score {score:.3f}]")
    if reasoning:
        typer.echo(f"  {'':9} reasoning: {_one_line(reasoning)}")


def _one_line(text: str, limit: int = 200) -> str:
    """`text` on one printable line, shortened to `limit` characters."""
    flat = " ".join(printable(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class ProgressFormat(StrEnum):
    """How `dlm preference mine` reports progress besides its bars."""

    JSONL = "jsonl"


@app.command()
def apply(
    path: Annotated[Path, typer.Argument(help="The .dlm document.")],
    force: Annotated[
        bool, typer.Option(help="Append pairs whose source section is gone at the end.")
    ] = False,
    dry_run: DryRun = False,
    as_json: AsJson = False,
) -> None:
    """Insert the staged pairs after the instruction sections they were mined from.

    Pairs already in the document are skipped; the plan is kept, so a revert can be
    applied again. If the file is saved while dlm works, the pairs are placed in the
    saved text (docs/self-improving-loop.md).

    Example: dlm preference apply notes.dlm --dry-run --json
    """
    loaded, store = _open(path)
    from trainer.mining.plan import apply_plan

    def compute(version: LoadedDocument) -> Change[list[str]]:
        plan = _plan(store)
        if plan is None or not plan.pairs:
            raise CliError(f"Nothing staged for {path}; mine first.", code=EXIT_USAGE)
        result = apply_plan(version.document, plan, force=force)
        return Change(result.edits, [pair.section_id for pair in result.inserted])

    if dry_run:
        change = compute(loaded)
        _print_edits(loaded, change, as_json)
        return
    with _locked(store):
        written = write_edits(loaded, compute, kept="The staged pairs are kept.")
    _print_written(loaded, written, f"{len(written.outcome)} pair(s) inserted", as_json)


@app.command()
def revert(
    path: Annotated[Path, typer.Argument(help="The .dlm document.")],
    run_id: Annotated[int | None, typer.Option(help="Only sections mined by this run.")] = None,
    section: Annotated[
        list[str] | None, typer.Option(help="Only this section id (repeatable).")
    ] = None,
    dry_run: DryRun = False,
    as_json: AsJson = False,
) -> None:
    """Remove auto-mined sections (all by default) and forget them for replay.

    With --dry-run nothing changes, and the JSON lists the ids it would remove under
    "sections" (an editor that applies the edits itself then runs `dlm preference forget`).

    Example: dlm preference revert notes.dlm --run-id 3
    """
    loaded, store = _open(path)
    from trainer.mining.plan import revert_edits

    def compute(version: LoadedDocument) -> Change[list[str]]:
        edits, removed = revert_edits(version.document, run_id=run_id, section_ids=section or ())
        if not removed:
            raise CliError(f"No auto-mined sections to revert in {path}.", code=EXIT_USAGE)
        return Change(edits, [s.section_id for s in removed])

    if dry_run:
        _print_edits(loaded, compute(loaded), as_json)
        return
    with _locked(store):
        written = write_edits(loaded, compute)
        store.replay.purge(written.outcome)
    _print_written(loaded, written, f"{len(written.outcome)} section(s) removed", as_json)


@app.command()
def forget(
    path: Annotated[Path, typer.Argument(help="The .dlm document.")],
    section: Annotated[list[str], typer.Option(help="The id of a section to forget (repeatable).")],
    as_json: AsJson = False,
) -> None:
    """Forget sections for replay, so that later runs do not train on them again.

    `dlm preference revert` does this itself; an editor that reverts mined sections with
    the edits of `revert --dry-run` runs this afterwards, with the ids that run listed.

    Example: dlm preference forget notes.dlm --section 0123456789abcdef
    """
    _, store = _open(path)
    with _locked(store):
        store.replay.purge(section)
    if as_json:
        typer.echo(to_json({"schema_version": 1, "path": str(path), "forgotten": section}))
    else:
        typer.echo(f"Forgot {len(section)} section(s) for replay.")


@app.command()
def discard(path: Annotated[Path, typer.Argument(help="The .dlm document.")]) -> None:
    """Delete the staged plan.

    Example: dlm preference discard notes.dlm
    """
    _, store = _open(path)
    with _locked(store):
        plan = _plan(store)
        if plan is None:
            typer.echo(f"No staged plan for {path}.")
            return
        store.pending_plan_path().unlink()
    typer.echo(f"Discarded {len(plan.pairs)} staged pair(s).")


def _open(path: Path) -> tuple[LoadedDocument, Any]:
    from trainer.store import Store, dlm_home

    loaded = load_valid_document(path)
    return loaded, Store.open(loaded.frontmatter.dlm_id, dlm_home())


def _plan(store: Any) -> Any:
    """The staged plan as it is now (read again under the lock before a write)."""
    from trainer.mining.plan import load_plan

    return load_plan(store.pending_plan_path())


def _locked(store: Any) -> Any:
    """The store lock, waiting with a message while another run holds it."""
    return store.lock(wait=True, on_wait=note)


def _open_as_rank(path: Path) -> tuple[LoadedDocument, Any, Any]:
    """The document, store and plan for a command that may be one process of a torchrun
    launch."""
    from dlm.launch import open_store
    from trainer.runtime.distributed import current_world, join
    from trainer.store import dlm_home

    world = current_world()
    join(world, backend="gloo")  # before the store: rank 0 creates it for the others
    loaded = load_valid_document(path)
    store = open_store(loaded.frontmatter.dlm_id, dlm_home(), world)
    return loaded, store, _plan(store)


def _launch_mining(
    path: Path, launch: LaunchOptions, argv: list[str], sections: tuple[str, ...]
) -> int:
    """Start the ranks of `dlm preference mine` under torchrun; node 0 checks first."""
    store = None
    if launch.node_rank == 0:
        loaded, store = _open(path)
        _preflight(loaded, store, path, sections)
    else:
        load_valid_document(path)
    failure = "Mining failed: nothing was staged or written."
    return launch_ranks(launch, argv, store=store, wait=True, failure=failure)


def _preflight(loaded: LoadedDocument, store: Any, path: Path, sections: tuple[str, ...]) -> None:
    """What node 0 checks before any rank starts: the sections exist, an adapter exists."""
    from trainer.mining.document import adapter_run
    from trainer.mining.miner import check_sections

    check_sections(loaded.document, sections, str(path))
    adapter_run(store, str(path))


def _print_edits(loaded: LoadedDocument, change: Change[list[str]], as_json: bool) -> None:
    """The edits of a dry run, and the ids of the sections they insert or remove."""
    if as_json:
        payload = {
            "schema_version": 1,
            "path": str(loaded.path),
            "edits": _edits_json(change.edits),
            "sections": change.outcome,
        }
        typer.echo(to_json(payload))
    else:
        typer.echo(_edits_text(change.edits))


def _print_written(loaded: LoadedDocument, written: Written[Any], what: str, as_json: bool) -> None:
    if as_json:
        message = {
            "schema_version": 1,
            "path": str(loaded.path),
            "changed": what,
            "sections": written.outcome,
            "recomputed": written.recomputed,
        }
        typer.echo(to_json(message))
        return
    typer.echo(f"{loaded.path}: {what}.")
    if written.recomputed:
        typer.echo(
            f"  ({loaded.path} was saved while dlm worked; the edits were made to the saved text.)"
        )


def _edits_json(edits: list[Any]) -> list[dict[str, Any]]:
    from dlm.render import range_json

    return [{"range": range_json(edit.range), "new_text": edit.new_text} for edit in edits]


def _edits_text(edits: list[Any]) -> str:
    lines = []
    for edit in edits:
        start = edit.range.start
        verb = "insert at" if edit.new_text else "delete from"
        lines.append(f"{verb} {start.line + 1}:{start.character + 1}:\n{edit.new_text}")
    return "\n".join(lines)


def _list_json(applied: list[Any], staged: list[Any]) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "applied": [
            {
                "section_id": s.section_id,
                "prompt": s.triples[0].prompt,
                "judge": s.marker.judge_name,
                "score_chosen": s.marker.judge_score_chosen,
                "score_rejected": s.marker.judge_score_rejected,
                "margin": s.marker.margin,
                "run_id": s.marker.mined_run_id,
                "mined_at": s.marker.mined_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            for s in applied
        ],
        "staged": [
            {**{k: v for k, v in asdict(p).items() if k != "section_text"}, "margin": p.margin}
            for p in staged
        ],
    }


@app.command()
def mine(
    path: Annotated[Path, typer.Argument(help="The .dlm document.")],
    judge: Annotated[str, typer.Option(help=JUDGE_HELP)] = DEFAULT_JUDGE,
    samples: Annotated[int, typer.Option(help="Candidates per prompt.", min=2)] = 4,
    max_pairs: Annotated[int | None, typer.Option(help="Keep the largest margins.", min=1)] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Smallest margin kept (default: the judge's).")
    ] = None,
    temp: Annotated[float, typer.Option(help="Sampling temperature.", min=0.01)] = 0.7,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass.", min=0, max=1)] = 0.95,
    max_new_tokens: Annotated[int, typer.Option(help="Longest candidate.", min=1)] = 256,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Sampling seed (default: a fresh one per run, printed and recorded, so mining "
            "again draws new candidates; give it to reproduce a run).",
            show_default=False,
        ),
    ] = None,
    section: Annotated[
        list[str] | None, typer.Option(help="Only this instruction section (repeatable).")
    ] = None,
    apply_now: Annotated[
        bool, typer.Option("--apply", help="Write the pairs into the document now.")
    ] = False,
    replace: Annotated[bool, typer.Option(help="Start the staged plan afresh.")] = False,
    raise_diversity: Annotated[
        bool,
        typer.Option(
            "--raise-diversity/--no-raise-diversity",
            help="Sample prompts whose answers were (near) identical again, up to twice, "
            "warmer each time (up to temperature 1.5), before skipping them.",
        ),
    ] = True,
    judge_timeout: JudgeTimeoutOption = 30.0,
    judge_cache: JudgeCacheOption = None,
    judge_url: JudgeUrlOption = None,
    rubric: RubricOption = None,
    judge_max_output: JudgeMaxOutputOption = DEFAULT_MAX_OUTPUT,
    judge_max_reasoning: JudgeMaxReasoningOption = DEFAULT_MAX_REASONING,
    judge_env: JudgeEnvOption = None,
    judge_record_command: JudgeRecordCommandOption = False,
    progress: Annotated[
        ProgressFormat | None,
        typer.Option(help="`jsonl`: one JSON progress object per line on stderr."),
    ] = None,
    backend: BackendOption = Backend.HF,
    tensor_parallel_size: TensorParallelOption = 1,
    data_parallel_size: DataParallelOption = 1,
    device: DeviceOption = None,
    as_json: AsJson = False,
    nproc: NprocOption = 1,
    nnodes: NnodesOption = 1,
    node_rank: NodeRankOption = 0,
    master_addr: MasterAddrOption = None,
    master_port: MasterPortOption = None,
    context: typer.Context = None,  # type: ignore[assignment]  # typer fills it in
) -> None:
    """Sample answers from the adapter, judge them, and stage the best/worst pairs.

    Exit 0 when pairs were mined, 2 when none were (the reasons are printed).
    `--backend vllm` samples on CUDA GPUs through vLLM; `--nproc N` shares the
    questions between N processes under torchrun, and rank 0 judges and writes
    (docs/scale-out.md).

    Example: dlm preference mine notes.dlm --samples 4 --max-pairs 6

    Example: dlm preference mine notes.dlm --nproc 2
    """
    from dlm.mining import MineOptions, run_mining
    from trainer.rewards.settings import JudgeSettings

    judging = JudgeSettings(  # checks the judge flags against each other, before any launch
        judge,
        judge_timeout,
        judge_cache,
        judge_url,
        rubric,
        max_output=judge_max_output,
        max_reasoning=judge_max_reasoning,
        keep_env=tuple(judge_env or ()),
        record_command=judge_record_command,
    )
    choice = BackendChoice(backend, tensor_parallel_size, data_parallel_size)  # checks sizes
    sections = tuple(section or ())
    launch = LaunchOptions(nproc, nnodes, node_rank, master_addr, master_port)
    if launch.distributed:
        _mine_under_torchrun(path, launch, backend, device, rank_argv(context), sections)
        return
    loaded, store, plan = _open_for_mining(path, sections)
    options = MineOptions(
        judge=judging,
        samples=samples,
        max_pairs=max_pairs,
        threshold=threshold,
        temp=temp,
        top_p=top_p,
        max_new_tokens=max_new_tokens,
        seed=seed,
        sections=sections,
        apply_now=apply_now,
        replace=replace,
        jsonl=progress is ProgressFormat.JSONL,
        backend=choice,
        device=device,
        raise_diversity=raise_diversity,
    )
    summary = run_mining(loaded, store, plan, options)
    if summary is not None:  # None on ranks other than 0: rank 0 reports for the run
        _report_mining(summary, as_json)


def _mine_under_torchrun(
    path: Path,
    launch: LaunchOptions,
    backend: Backend,
    device: str | None,
    argv: list[str],
    sections: tuple[str, ...],
) -> None:
    """Re-launch this mining command as `launch.nproc` processes; exits with their status."""
    from dlm.mining import VLLM_NPROC

    if backend is not Backend.HF:
        raise CliError(VLLM_NPROC, code=EXIT_USAGE)
    check_processes(device, launch.nproc)
    leave_with(_launch_mining(path, launch, argv, sections))


def _open_for_mining(path: Path, sections: tuple[str, ...]) -> tuple[LoadedDocument, Any, Any]:
    """The document, its store and plan, with `--section` ids checked before any model loads."""
    from trainer.mining.miner import check_sections

    loaded, store, plan = _open_as_rank(path)
    check_sections(loaded.document, sections, str(path))
    store.documents.record(loaded.path)  # rank 0 only: the others open the store read-only
    return loaded, store, plan


def _report_mining(summary: dict[str, Any], as_json: bool) -> None:
    """Print the summary; exit 2 when nothing was mined or written (docs/json.md)."""
    if as_json:
        typer.echo(to_json(summary))
    else:
        typer.echo(
            f"{summary['pairs_mined']} pair(s) from {summary['prompts_seen']} prompt(s), "
            f"{summary['write_mode']}; skipped: {skipped_in_words(summary['skipped'])}; "
            f"seed {summary['seed']} (--seed {summary['seed']} mines the same again)"
        )
        for line in summary["advice"]:
            typer.echo(f"  {line}")
    wrote = summary["write_mode"] == "applied"
    leave_with(EXIT_USAGE if not summary["pairs_mined"] and not wrote else 0)


SKIP_WORDS = {
    "insufficient_variety": "too little variety among the answers",
    "below_threshold": "margin below the threshold",
    "already_present": "already in the document or staged",
    "malformed": "malformed answers",
}


def skipped_in_words(skipped: dict[str, int]) -> str:
    """`{"below_threshold": 2}` as "2 prompt(s) with margin below the threshold"."""
    if not skipped:
        return "none"
    return ", ".join(
        f"{count} prompt(s) with {SKIP_WORDS.get(reason, reason.replace('_', ' '))}"
        if reason != "already_present"
        else f"{count} prompt(s) {SKIP_WORDS[reason]}"
        for reason, count in sorted(skipped.items())
    )
