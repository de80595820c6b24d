"""Train and Show metrics from the editor: `dlm train --progress jsonl --json` with
`$/progress` (cancellable), and a short summary of `dlm metrics --json`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from uuid import uuid4

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from lsp import cli_bridge
from lsp.features import long_runs
from lsp.features.asking import refresh_views
from lsp.features.loop import guarded_async, on_disk

if TYPE_CHECKING:
    from lsp.server import DlmServer

TRAIN = "dlm.trainAdapter"
METRICS = "dlm.metricsSummary"
SHOWN_RUNS = 3
"""Runs the metrics summary describes (the latest ones)."""


async def train(ls: DlmServer, uri: str) -> None:
    """Train the document's adapter with progress; then say what the runs did."""
    if uri in ls.training:
        _tell(ls, types.MessageType.Warning, "This document is training already.")
        return
    found = on_disk(ls, uri, "trains")
    if found is None:
        return
    path = found[1]
    token = f"dlm-train-{uuid4().hex}"
    arguments = ["train", str(path), "--progress", "jsonl", "--json"]
    ls.training.add(uri)
    try:
        result = await long_runs.run_with_progress(ls, token, "Training", path.name, arguments)
    finally:
        ls.training.discard(uri)
    if result is None:
        return
    if result.code != 0:
        long_runs.fail(ls, token, result)
        return
    runs = [run for run in result.json().get("runs", []) if isinstance(run, dict)]
    summary = "; ".join(_trained(run) for run in runs) or "nothing trained"
    ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=summary))
    if runs:
        ls.adapters.set_version(uri, str(runs[-1]["adapter_version"]))
    refresh_views(ls)
    _tell(ls, types.MessageType.Info, f"Trained {path.name}: {summary}.")


def _trained(run: dict[str, Any]) -> str:
    loss = run.get("train_loss")
    loss_text = f", loss {loss:.3f}" if isinstance(loss, int | float) else ""
    return f"{run.get('phase')} {run.get('adapter_version')} ({run.get('steps')} steps{loss_text})"


async def show_metrics(ls: DlmServer, uri: str) -> str | None:
    """Show a short summary of `dlm metrics --json` (and return it)."""
    path_text = to_fs_path(uri)
    if path_text is None:
        return None
    path = Path(path_text)
    problem = cli_bridge.unusable_reason(path)
    if problem is not None:
        _tell(ls, types.MessageType.Warning, problem)
        return None
    result = await ls.children.run(ls.settings.dlm_command, ["metrics", str(path), "--json"])
    if result.code != 0:
        _tell(ls, types.MessageType.Error, result.error_tail())
        return None
    summary = metrics_summary(path.name, result.json())
    _tell(ls, types.MessageType.Info, summary)
    return summary


def metrics_summary(name: str, payload: dict[str, Any]) -> str:
    """A few lines on the latest runs of `dlm metrics --json`: steps, loss, evals, mining."""
    runs = [run for run in payload.get("runs", []) if isinstance(run, dict)]
    if not runs:
        return f"{name}: no training runs yet. Run Train first."
    earlier = len(runs) - SHOWN_RUNS
    head = f"{name}: {len(runs)} training run{'s' * (len(runs) != 1)}"
    lines = [head + (f", the latest {SHOWN_RUNS}:" if earlier > 0 else ":")]
    lines += [_run_line(run) for run in runs[-SHOWN_RUNS:]]
    return "\n".join(lines)


def _run_line(run: dict[str, Any]) -> str:
    losses = [s["loss"] for s in run.get("steps", []) if isinstance(s.get("loss"), int | float)]
    parts = [f"{len(run.get('steps', []))} steps"]
    if losses:
        parts.append(f"loss {losses[0]:.3f} → {losses[-1]:.3f}")
    for evaluation in run.get("evals", []):
        if isinstance(evaluation.get("value"), int | float):
            parts.append(f"{evaluation.get('name')} {evaluation['value']:.3f}")
    mined = sum(int(m.get("pairs_mined", 0)) for m in run.get("mining", []))
    if run.get("mining"):
        parts.append(f"{mined} pair{'s' * (mined != 1)} mined from it")
    version = run.get("adapter_version") or "no adapter"
    what = f"Run {run.get('run_id')} {run.get('phase')} → {version} ({run.get('status')})"
    return f"{what}: {', '.join(parts)}."


def _tell(ls: DlmServer, kind: types.MessageType, message: str) -> None:
    ls.window_show_message(types.ShowMessageParams(type=kind, message=message))


def register(server: DlmServer) -> None:
    """Wire the Train and Show metrics commands."""

    @server.command(TRAIN)
    async def train_command(ls: LanguageServer, *arguments: Any) -> None:
        server = cast("DlmServer", ls)
        await guarded_async(server, "training", train(server, str(arguments[0])))

    @server.command(METRICS)
    async def metrics_command(ls: LanguageServer, *arguments: Any) -> str | None:
        server = cast("DlmServer", ls)
        return await guarded_async(server, "metrics", show_metrics(server, str(arguments[0])))
