"""`dlm preference list|apply|revert|discard`: the staged plan and mined sections."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from dlm.documents import LoadedDocument, load_valid_document
from dlm.errors import EXIT_USAGE, CliError
from dlm.files import write_atomically
from dlm.judging import (
    DEFAULT_JUDGE,
    JUDGE_HELP,
    JudgeCacheOption,
    JudgeFlags,
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
from dlm.sampling import (
    Backend,
    BackendChoice,
    BackendOption,
    DataParallelOption,
    TensorParallelOption,
)

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
    loaded, _, plan = _open(path)
    from trainer.mining.plan import staged_pairs

    applied = [s for s in loaded.document.sections if s.marker is not None]
    staged = staged_pairs(plan, loaded.document)
    if as_json:
        typer.echo(json.dumps(_list_json(applied, staged), indent=2))
        return
    typer.echo(f"{len(applied)} mined section(s) in {path}, {len(staged)} staged pair(s).")
    for section in applied:
        marker = section.marker
        assert marker is not None
        typer.echo(
            f"  applied {section.section_id} run {marker.mined_run_id} {marker.judge_name} "
            f"margin {marker.margin:.3f}: {section.triples[0].prompt[:60]!r}"
        )
    for pair in staged:
        typer.echo(
            f"  staged  {pair.section_id} run {pair.run_id} {pair.judge} "
            f"margin {pair.margin:.3f}: {pair.prompt[:60]!r}"
        )


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
    applied again.

    Example: dlm preference apply notes.dlm --dry-run --json
    """
    loaded, _, plan = _open(path)
    from trainer.mining.plan import apply_plan

    if plan is None or not plan.pairs:
        raise CliError(f"Nothing staged for {path}; mine first.", code=EXIT_USAGE)
    result = apply_plan(loaded.document, plan, force=force)
    _write_or_print(loaded, result.edits, dry_run, as_json, f"{len(result.inserted)} pair(s)")


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

    Example: dlm preference revert notes.dlm --run-id 3
    """
    loaded, store, _ = _open(path)
    from trainer.mining.plan import revert_edits

    edits, removed = revert_edits(loaded.document, run_id=run_id, section_ids=section or ())
    if not removed:
        raise CliError(f"No auto-mined sections to revert in {path}.", code=EXIT_USAGE)
    _write_or_print(loaded, edits, dry_run, as_json, f"{len(removed)} section(s) removed")
    if not dry_run:
        store.replay.purge(s.section_id for s in removed)


@app.command()
def discard(path: Annotated[Path, typer.Argument(help="The .dlm document.")]) -> None:
    """Delete the staged plan.

    Example: dlm preference discard notes.dlm
    """
    _, store, plan = _open(path)
    if plan is None:
        typer.echo(f"No staged plan for {path}.")
        return
    store.pending_plan_path().unlink()
    typer.echo(f"Discarded {len(plan.pairs)} staged pair(s).")


def _open(path: Path) -> tuple[LoadedDocument, Any, Any]:
    from trainer.mining.plan import load_plan
    from trainer.store import Store, dlm_home

    loaded = load_valid_document(path)
    store = Store.open(loaded.frontmatter.dlm_id, dlm_home())
    return loaded, store, load_plan(store.pending_plan_path())


def _open_as_rank(path: Path) -> tuple[LoadedDocument, Any, Any]:
    """`_open` for a command that may be one process of a torchrun launch."""
    from dlm.launch import open_store
    from trainer.distributed import current_world, join
    from trainer.mining.plan import load_plan
    from trainer.store import dlm_home

    world = current_world()
    join(world, backend="gloo")  # before the store: rank 0 creates it for the others
    loaded = load_valid_document(path)
    store = open_store(loaded.frontmatter.dlm_id, dlm_home(), world)
    return loaded, store, load_plan(store.pending_plan_path())


def _launch_mining(path: Path, launch: LaunchOptions, argv: list[str]) -> int:
    """Start the ranks of `dlm preference mine` under torchrun; node 0 checks the adapter."""
    from dlm.mining import adapter_run

    store = None
    if launch.node_rank == 0:
        loaded, store, _ = _open(path)
        adapter_run(loaded, store)
    else:
        load_valid_document(path)
    failure = "Mining failed: nothing was staged or written."
    return launch_ranks(launch, argv, store=store, wait=True, failure=failure)


def _write_or_print(
    loaded: LoadedDocument, edits: list[Any], dry_run: bool, as_json: bool, what: str
) -> None:
    from dlmlang.edits import apply_edits

    if dry_run:
        payload = {"schema_version": 1, "path": str(loaded.path), "edits": _edits_json(edits)}
        typer.echo(json.dumps(payload, indent=2) if as_json else _edits_text(edits))
        return
    text = loaded.data.decode("utf-8")
    new_text = apply_edits(text, edits)
    current = loaded.path.read_bytes()
    if hashlib.sha256(current).digest() != hashlib.sha256(loaded.data).digest():
        raise CliError(f"{loaded.path} changed while dlm was working; run again.")
    write_atomically(loaded.path, new_text.encode("utf-8"))
    message = {"schema_version": 1, "path": str(loaded.path), "changed": what}
    typer.echo(json.dumps(message) if as_json else f"{loaded.path}: {what}.")


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
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    section: Annotated[
        list[str] | None, typer.Option(help="Only this instruction section (repeatable).")
    ] = None,
    apply_now: Annotated[
        bool, typer.Option("--apply", help="Write the pairs into the document now.")
    ] = False,
    replace: Annotated[bool, typer.Option(help="Start the staged plan afresh.")] = False,
    judge_timeout: JudgeTimeoutOption = 30.0,
    judge_cache: JudgeCacheOption = None,
    judge_url: JudgeUrlOption = None,
    rubric: RubricOption = None,
    progress: Annotated[
        str | None, typer.Option(help="`jsonl`: one JSON progress object per line on stderr.")
    ] = None,
    backend: BackendOption = Backend.HF,
    tensor_parallel_size: TensorParallelOption = 1,
    data_parallel_size: DataParallelOption = 1,
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
    from dlm.mining import VLLM_NPROC, MineOptions, run_mining

    flags = JudgeFlags(judge, judge_timeout, judge_cache, judge_url, rubric)
    choice = BackendChoice(backend, tensor_parallel_size, data_parallel_size)
    launch = LaunchOptions(nproc, nnodes, node_rank, master_addr, master_port)
    if launch.distributed:
        if backend is not Backend.HF:
            raise CliError(VLLM_NPROC, code=EXIT_USAGE)
        leave_with(_launch_mining(path, launch, rank_argv(context)))
        return
    loaded, store, plan = _open_as_rank(path)
    options = MineOptions(
        judge=flags,
        samples=samples,
        max_pairs=max_pairs,
        threshold=threshold,
        temp=temp,
        top_p=top_p,
        max_new_tokens=max_new_tokens,
        seed=seed,
        sections=tuple(section or ()),
        apply_now=apply_now,
        replace=replace,
        jsonl=progress == "jsonl",
        backend=choice,
    )
    summary = run_mining(loaded, store, plan, options)
    if summary is None:
        return  # a rank other than 0: rank 0 reports for the run
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(
            f"{summary['pairs_mined']} pair(s) from {summary['prompts_seen']} prompt(s), "
            f"{summary['write_mode']}; skipped: {summary['skipped'] or 'none'}"
        )
        for line in summary["advice"]:
            typer.echo(f"  {line}")
    leave_with(EXIT_USAGE if not summary["pairs_mined"] else 0)
