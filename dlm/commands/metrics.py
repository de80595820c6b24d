"""`dlm metrics`: runs, steps and evals from metrics.sqlite, as text, JSON, CSV or a plot, once
or as they come (--watch)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dlm.commands.eval import eval_line
from dlm.documents import load_valid_document
from dlm.errors import EXIT_USAGE, CliError
from dlm.jsonout import to_json
from dlm.verbosity import note

if TYPE_CHECKING:
    from trainer.store import Store
    from trainer.store.metric_rows import MetricRow, Update


def metrics(
    path: Annotated[Path, typer.Argument(help="The .dlm document.")],
    run_id: Annotated[int | None, typer.Option(help="Only this run.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON of docs/json.md.")
    ] = False,
    as_csv: Annotated[
        bool,
        typer.Option(
            "--csv",
            help="Print CSV: a header, then one row per step metric and eval "
            "(run_id,phase,source,step,metric,value).",
        ),
    ] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Write loss curves (one per run) to this PNG file.")
    ] = None,
    watch: Annotated[
        bool,
        typer.Option(
            help="Keep printing new steps, evals, run statuses and mining events as they "
            "are recorded, until Ctrl-C (with --csv: new rows)."
        ),
    ] = False,
    interval: Annotated[
        float, typer.Option(help="With --watch: seconds between looks.", min=0.05)
    ] = 2.0,
) -> None:
    """Show training runs with their steps and evaluations.

    Example: dlm metrics notes.dlm --run-id 1 --json

    Example: dlm metrics notes.dlm --watch --csv > steps.csv
    """
    _check_flags(as_json=as_json, as_csv=as_csv, plot=plot, watch=watch)
    loaded = load_valid_document(path)
    from trainer.store import Store, dlm_home

    store = Store.open(loaded.frontmatter.dlm_id, dlm_home())
    runs = store.metrics.runs()
    if run_id is not None:
        runs = [r for r in runs if r.run_id == run_id]
        if not runs:
            raise CliError(f"No run {run_id} for {path}; `dlm show {path}` lists the runs.")
    if watch:
        _watch(store, path, run_id, interval, as_csv=as_csv)
        return
    if as_csv:
        from trainer.store.metric_rows import metric_rows

        typer.echo(_csv(metric_rows(store.metrics, runs), header=True), nl=False)
        return
    report = [_run_json(store, run) for run in runs]
    from trainer.evaluation.record import eval_overview

    evals = [eval_overview(row) for row in store.metrics.answer_evals()]
    if plot is not None:
        _plot(report, plot)
        note(f"Wrote {plot}.")
    if as_json:
        summary = {"schema_version": 1, "runs": report, "answer_evals": evals}
        typer.echo(to_json(summary))
        return
    _print_report(report, path)
    for overview in evals:
        typer.echo(eval_line(overview))


def _check_flags(*, as_json: bool, as_csv: bool, plot: Path | None, watch: bool) -> None:
    """--json and --csv are two formats of one output; --watch prints as it goes."""
    if as_json and as_csv:
        raise CliError("--json and --csv are two formats: give one of them.", code=EXIT_USAGE)
    if watch and (as_json or plot is not None):
        flag = "--json" if as_json else "--plot"
        raise CliError(
            f"--watch prints rows as they come; {flag} needs the whole history: run "
            f"`dlm metrics PATH {flag}` without --watch (or --watch --csv for rows).",
            code=EXIT_USAGE,
        )


def _print_report(report: list[dict[str, Any]], path: Path) -> None:
    """The text view: a line per run, its mining events and evals under it."""
    if not report:
        typer.echo(f"No runs yet. Train with `dlm train {path}`.")
    for run in report:
        losses = [s["loss"] for s in run["steps"] if s["loss"] is not None]
        first = f"{losses[0]:.3f}" if losses else "-"
        last = f"{losses[-1]:.3f}" if losses else "-"
        typer.echo(
            f"run {run['run_id']} {run['phase']} {run['status']}: {len(run['steps'])} steps, "
            f"loss {first} -> {last}, adapter {run['adapter_version'] or '-'}"
        )
        for event in run["mining"]:
            typer.echo(f"  {_mining_line(event)}")
        for line in _eval_lines(run["evals"]):
            typer.echo(f"  {line}")


def _mining_line(event: dict[str, Any]) -> str:
    return (
        f"mining {event['at']}: {event['judge']}, {event['pairs_mined']} pair(s) from "
        f"{event['prompts_seen']} prompt(s), {event['write_mode']}"
    )


def _csv(rows: list[MetricRow], *, header: bool) -> str:
    """The rows as CSV text (LF line endings), the header first if asked."""
    from trainer.store.metric_rows import COLUMNS

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(COLUMNS)
    writer.writerows(["" if value is None else value for value in row.fields()] for row in rows)
    return buffer.getvalue()


def _watch(store: Store, path: Path, run_id: int | None, interval: float, *, as_csv: bool) -> None:
    """Print the metrics, then what the store adds every `interval` seconds; Ctrl-C ends
    it with exit 0."""
    from trainer.store.metric_rows import follow

    note(f"Watching {path} every {interval:g}s; Ctrl-C stops.")
    try:
        for count, update in enumerate(follow(store.metrics, run_id, interval)):
            if as_csv:
                typer.echo(_csv(update.rows, header=count == 0), nl=False)
            elif count == 0:
                runs = [r for r in store.metrics.runs() if run_id in (None, r.run_id)]
                _print_report([_run_json(store, run) for run in runs], path)
            else:
                for line in _update_lines(update):
                    typer.echo(line)
    except KeyboardInterrupt:
        return


def _update_lines(update: Update) -> list[str]:
    """New runs and statuses, then new steps (a line each, its metrics together), evals
    and mining events."""
    lines = [
        f"run {run.run_id} {run.phase} {run.status}"
        + (f", adapter {run.adapter_version}" if run.adapter_version else "")
        for run in update.runs
    ]
    step: tuple[int, int | None] | None = None
    for row in update.rows:
        if row.source != "step":
            where = f" (step {row.step})" if row.step is not None else ""
            lines.append(f"run {row.run_id} {row.phase} {row.metric} = {row.value:.4f}{where}")
        elif step == (row.run_id, row.step):
            lines[-1] += f", {row.metric} {row.value:.4g}"
        else:
            lines.append(
                f"run {row.run_id} {row.phase} step {row.step}: {row.metric} {row.value:.4g}"
            )
        step = (row.run_id, row.step) if row.source == "step" else None
    lines += [f"run {event['run_id']} {_mining_line(event)}" for event in update.mining]
    return lines


def _eval_lines(evals: list[dict[str, Any]]) -> list[str]:
    """One line per eval name; a name logged every step shows its first and last value."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for evaluation in evals:
        by_name.setdefault(evaluation["name"], []).append(evaluation)
    lines = []
    for name, values in by_name.items():
        if len(values) == 1:
            lines.append(f"{name} = {values[0]['value']:.4f} (step {values[0]['step']})")
        else:
            first, last = values[0], values[-1]
            lines.append(
                f"{name}: {first['value']:.4f} (step {first['step']}) -> "
                f"{last['value']:.4f} (step {last['step']}), {len(values)} values"
            )
    return lines


def _run_json(store: Any, run: Any) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "phase": run.phase,
        "method": run.method,
        "status": run.status,
        "seed": run.seed,
        "base_model": run.base_model,
        "adapter_version": run.adapter_version,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "steps": [
            {
                "step": s.step,
                "loss": s.loss,
                "learning_rate": s.learning_rate,
                "grad_norm": s.grad_norm,
                "tokens_per_second": s.tokens_per_second,
            }
            for s in store.metrics.steps(run.run_id)
        ],
        "evals": [
            {"step": e.step, "name": e.name, "value": e.value}
            for e in store.metrics.evals(run.run_id)
        ],
        "mining": [
            {k: v for k, v in event.items() if k != "event_id"}
            for event in store.metrics.mining_events(run.run_id)
        ],
    }


PREFERENCE_PHASES = ("dpo", "orpo")


def plot_label(run: dict[str, Any]) -> str:
    """A run's name in the plot legend; the status too, unless the run completed."""
    status = "" if run["status"] == "completed" else f", {run['status']}"
    return f"run {run['run_id']} ({run['phase']}{status})"


def _plot(report: list[dict[str, Any]], target: Path) -> None:
    """Loss of every run on one step axis, runs one after another; preference runs
    shaded, with their reward margin on a second panel when there are any."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    preference = [run for run in report if run["phase"] in PREFERENCE_PHASES]
    rows = 2 if preference else 1
    figure, panels = pyplot.subplots(
        rows, 1, figsize=(8, 4.5 * rows), dpi=120, sharex=True, squeeze=False
    )
    losses, margins = panels[0][0], panels[-1][0]
    offset = 0
    for run in report:
        points = [(s["step"], s["loss"]) for s in run["steps"] if s["loss"] is not None]
        label = plot_label(run)
        is_preference = run["phase"] in PREFERENCE_PHASES
        if points:
            steps, values = zip(*points, strict=True)
            shifted = [offset + step for step in steps]
            style = "--" if is_preference else "-"
            losses.plot(shifted, values, style, marker=".", label=label)
            if is_preference:
                for panel in {id(losses): losses, id(margins): margins}.values():
                    panel.axvspan(
                        offset + 0.5, offset + max(steps) + 0.5, color="tab:orange", alpha=0.12
                    )
                reward = [
                    (offset + e["step"], e["value"])
                    for e in run["evals"]
                    if e["name"] == "train_reward_margin" and e["step"] is not None
                ]
                if reward:
                    xs, ys = zip(*reward, strict=True)
                    margins.plot(xs, ys, "--", marker=".", label=label)
            offset += max(steps)
    losses.set_ylabel("training loss")
    losses.set_title("dlm training runs (preference runs shaded)")
    losses.grid(alpha=0.3)
    if report:
        losses.legend()
    if preference:
        margins.set_ylabel("reward margin (chosen - rejected)")
        margins.axhline(0.0, color="grey", linewidth=0.8)
        margins.grid(alpha=0.3)
        margins.legend()
    panels[-1][0].set_xlabel("optimizer step (runs in order)")
    figure.tight_layout()
    figure.savefig(target)
    pyplot.close(figure)
