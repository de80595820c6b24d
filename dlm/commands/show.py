"""`dlm show`: the document and its store at a glance."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from dlm.commands.eval import eval_line
from dlm.documents import load_valid_document
from dlm.jsonout import to_json
from dlm.render import printable
from dlm.sharing import note_document


def show(
    path: Annotated[Path, typer.Argument(help="The .dlm document.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON of docs/json.md.")
    ] = False,
) -> None:
    """Summarise a document: sections by type, auto-mined count, adapter versions, runs.

    Example: dlm show notes.dlm --json
    """
    loaded = load_valid_document(path)
    from trainer.store import Store, dlm_home

    store = Store.open(loaded.frontmatter.dlm_id, dlm_home())
    summary = _summary(loaded.document, store, str(path))
    summary["preference"] = _preference(loaded.document, store)
    summary["shared_with"] = note_document(store, path, warn=not as_json)
    if as_json:
        typer.echo(to_json(summary))
        return
    counts = summary["document"]["sections"]
    base = printable(str(summary["base_model"]))
    typer.echo(f"{path}  (dlm_id {summary['dlm_id']}, base model {base})")
    typer.echo(
        "sections: "
        + ", ".join(f"{count} {kind}" for kind, count in counts.items())
        + f"; {summary['document']['auto_mined']} auto-mined"
    )
    versions = summary["store"]["adapter_versions"]
    current = summary["store"]["current"]
    typer.echo(f"adapter: {current or 'none yet'} ({len(versions)} version(s)) in {store.root}")
    preference = summary["preference"]
    typer.echo(f"staged pairs: {preference['staged']}")
    if preference["last_mining"]:
        last = preference["last_mining"]
        typer.echo(
            f"last mining: run {last['run_id']} {last['judge']}, {last['pairs_mined']} pair(s) "
            f"from {last['prompts_seen']} prompt(s), {last['write_mode']} ({last['at']})"
        )
    for overview in summary["store"]["evals"]:
        typer.echo(f"  {eval_line(overview)}")
    for made in summary["store"]["exports"]:
        kind = made["format"] if made["quant"] is None else f"{made['format']} {made['quant']}"
        typer.echo(f"  export: {made['adapter_version']} {kind} -> {made['path']} ({made['at']})")
    for run in summary["store"]["runs"]:
        processes = f", {run['world_size']} processes" if run["world_size"] > 1 else ""
        typer.echo(
            f"  run {run['run_id']}: {run['phase']} {run['status']} -> "
            f"{run['adapter_version'] or '-'} ({run['started_at']}{processes})"
        )


def _preference(document: Any, store: Any) -> dict[str, Any]:
    from trainer.mining.plan import load_plan, staged_pairs

    events = store.metrics.mining_events()
    last = events[-1] if events else None
    if last is not None:
        last = {k: v for k, v in last.items() if k not in ("event_id", "pairs")}
    return {
        "staged": len(staged_pairs(load_plan(store.pending_plan_path()), document)),
        "last_mining": last,
    }


def _summary(document: Any, store: Any, path: str) -> dict[str, Any]:
    from trainer.evaluation.record import eval_overview
    from trainer.export import read_exports

    sections = document.content_sections()
    kinds = Counter(s.kind.value for s in sections)
    return {
        "schema_version": 1,
        "path": path,
        "dlm_id": document.frontmatter.dlm_id,
        "base_model": document.frontmatter.base_model,
        "document": {
            "sections": dict(sorted(kinds.items())),
            "auto_mined": sum(1 for s in sections if s.auto_mined),
        },
        "store": {
            "root": str(store.root),
            "current": store.current_version(),
            "adapter_versions": store.versions(),
            "runs": [
                {
                    "run_id": run.run_id,
                    "phase": run.phase,
                    "method": run.method,
                    "status": run.status,
                    "adapter_version": run.adapter_version,
                    "started_at": run.started_at,
                    "ended_at": run.ended_at,
                    "world_size": run.world_size,
                }
                for run in store.metrics.runs()
            ],
            "evals": [eval_overview(row) for row in store.metrics.answer_evals()],
            "exports": read_exports(store.root),
        },
    }
