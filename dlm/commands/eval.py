"""`dlm eval`: answer held-out prompts with an adapter version, score, compare with another."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dlm.documents import load_valid_document
from dlm.errors import CliError
from dlm.jsonout import to_json
from dlm.judging import (
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
from dlm.models import base_model_dir
from dlm.placement import DeviceOption
from dlm.render import printable

if TYPE_CHECKING:
    from trainer.evaluation.evaluate import EvalReport
    from trainer.evaluation.prompts import EvalPrompt
    from trainer.rewards.settings import JudgeSettings


def evaluate(
    path: Annotated[Path, typer.Argument(help="The .dlm document.")],
    prompts: Annotated[
        Path | None,
        typer.Option(
            help='More prompts: one per line, or JSON Lines with "prompt" and an optional '
            '"reference" answer.'
        ),
    ] = None,
    heldout: Annotated[
        bool,
        typer.Option(help="Ask the document's held-out pairs (training.heldout)."),
    ] = True,
    adapter_version: Annotated[
        str | None,
        typer.Option(help="The version to evaluate: vNNNN or `base` (default: current)."),
    ] = None,
    against: Annotated[
        str | None,
        typer.Option(help="Compare with this version (vNNNN or `base`), prompt by prompt."),
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option(help=f"Score answers with this judge (not sway): {JUDGE_HELP}"),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            help="The score that decides a comparison: `judge` or `reference` (word-overlap "
            "F1). Default: the judge's when given."
        ),
    ] = None,
    max_new_tokens: Annotated[int, typer.Option(help="Longest answer, in tokens.", min=1)] = 128,
    fluency: Annotated[
        bool,
        typer.Option(
            help="Also score each answer's fluency: the base model's mean log-probability "
            "per answer token (garbage scores low)."
        ),
    ] = False,
    judge_timeout: JudgeTimeoutOption = 30.0,
    judge_cache: JudgeCacheOption = None,
    judge_url: JudgeUrlOption = None,
    rubric: RubricOption = None,
    judge_max_output: JudgeMaxOutputOption = DEFAULT_MAX_OUTPUT,
    judge_max_reasoning: JudgeMaxReasoningOption = DEFAULT_MAX_REASONING,
    judge_env: JudgeEnvOption = None,
    judge_record_command: JudgeRecordCommandOption = False,
    device: DeviceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (docs/json.md).")] = False,
) -> None:
    """Answer held-out prompts with an adapter version and score the answers.

    The prompts are the document's held-out pairs (`training.heldout` in the frontmatter:
    never trained on, their answers the references) and any --prompts file. Answers are
    greedy. With --against, each prompt's two answers are compared: the win rate with a
    95% bootstrap interval, and the mean score difference. Recorded in metrics.sqlite.

    Example: dlm eval notes.dlm --against base

    Example: dlm eval notes.dlm --prompts questions.jsonl --judge hf:my-reward-model --json
    """
    judging = _judge_settings(
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
    loaded = load_valid_document(path)
    from trainer.runtime.environment import set_offline

    set_offline()
    from trainer.evaluation.evaluate import EvalRequest
    from trainer.runtime.devices import choose_placement
    from trainer.store import Store, dlm_home

    store = Store.open(loaded.frontmatter.dlm_id, dlm_home())
    request = EvalRequest(
        prompts=tuple(_prompts(loaded.document, path, prompts, heldout=heldout)),
        version=store.resolve_version(adapter_version, str(path), "the eval asks it"),
        model_dir=base_model_dir(loaded.frontmatter.base_model),
        placement=choose_placement(device, loaded.frontmatter.training.precision),
        system_prompt=loaded.frontmatter.system_prompt,
        against=None if against is None else store.resolve_version(against, str(path), ""),
        judge=judging,
        by=by,
        max_new_tokens=max_new_tokens,
        fluency=fluency,
    )
    report, eval_id = _run(request, store, quiet=as_json)
    _print(report, eval_id, as_json)


def _judge_settings(judge: str | None, *args: Any, **options: Any) -> JudgeSettings | None:
    """The judge asked for, or None; judge flags without --judge are a usage error."""
    if judge is None:
        return None
    from trainer.rewards.settings import JudgeSettings

    return JudgeSettings(judge, *args, **options)


def _prompts(document: Any, path: Path, file: Path | None, *, heldout: bool) -> list[EvalPrompt]:
    """The held-out pairs (unless --no-heldout) and the file's prompts, in that order."""
    from trainer.evaluation.prompts import heldout_prompts, read_prompts_file

    asked = heldout_prompts(document) if heldout else []
    if file is not None:
        asked += read_prompts_file(file)
    if not asked:
        raise CliError(
            f"{path}: no prompts to evaluate. Hold out some pairs with `training: heldout: "
            "0.2` in the frontmatter (they stop being trained on), or give --prompts FILE."
        )
    return asked


def _run(request: Any, store: Any, *, quiet: bool) -> tuple[EvalReport, int]:
    """Evaluate with a progress bar on stderr (none with --json), then record."""
    from rich.console import Console
    from rich.progress import Progress

    from trainer.evaluation.evaluate import evaluate
    from trainer.evaluation.record import record_eval

    with Progress(console=Console(stderr=True), disable=quiet, transient=True) as bar:
        task = bar.add_task("evaluating", total=None)

        def show(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        report = evaluate(request, store, show)
    return report, record_eval(store, report)


def _print(report: EvalReport, eval_id: int, as_json: bool) -> None:
    """The table and the summary, or the JSON of docs/json.md."""
    from trainer.evaluation.record import report_items, report_summary

    if as_json:
        summary = {"schema_version": 1, "eval_id": eval_id, **report_summary(report)}
        typer.echo(to_json({**summary, "items": report_items(report)}))
        return
    _table(report)
    for mean in report.summaries:
        parts = [f"{mean.words:.1f} words"]
        if mean.fluency is not None:
            parts.append(f"fluency {mean.fluency:.2f} nats/token")
        if mean.reference_f1 is not None:
            parts.insert(0, f"reference F1 {mean.reference_f1:.3f}")
        if mean.judge is not None:
            parts.insert(0, f"judge {mean.judge:+.3f}")
        typer.echo(f"{mean.version}: " + ", ".join(parts))
    comparison = report.comparison
    if comparison is not None:
        first, second = report.versions
        typer.echo(
            f"{first} vs {second} by {report.by}: win rate {comparison.win_rate:.2f} "
            f"[{comparison.low:.2f}, {comparison.high:.2f}] over {comparison.prompts} prompts "
            f"({comparison.wins} won, {comparison.ties} tied, {comparison.losses} lost), "
            f"mean difference {comparison.mean_delta:+.3f}"
        )


def eval_line(overview: dict[str, Any]) -> str:
    """One recorded eval in a line: its versions, the comparison or the means, the verdict."""
    versions = " vs ".join(overview["versions"])
    head = f"eval {overview['eval_id']} {overview['at']}: {versions}, {overview['prompts']} prompts"
    comparison = overview["comparison"]
    if comparison is not None:
        body = (
            f"win rate by {overview['by']} {comparison['win_rate']:.2f} "
            f"[{comparison['low']:.2f}, {comparison['high']:.2f}], "
            f"mean difference {comparison['mean_delta']:+.3f}"
        )
    else:
        mean = overview["means"][0]
        score = mean["judge"] if overview["by"] == "judge" else mean["reference_f1"]
        body = f"mean {overview['by']} {score:.3f}"
    decision = f" ({overview['decision']})" if overview["decision"] else ""
    return f"{head}: {body}{decision}"


def _table(report: EvalReport) -> None:
    """One row per prompt: the prompt, each version's answer, their main scores."""
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    table.add_column("prompt", max_width=40)
    for version in report.versions:
        table.add_column(version, max_width=48)
        table.add_column(report.by, justify="right")
    for item in report.items:
        cells = [_short(item.prompt.text)]
        for answer in item.answers:
            cells += [_short(answer.text), f"{answer.score(report.by):.3f}"]
        table.add_row(*cells)
    Console(soft_wrap=False).print(table)


def _short(text: str, limit: int = 120) -> str:
    """One line, at most `limit` characters, safe to print."""
    flat = " ".join(printable(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
