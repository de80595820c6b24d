"""`dlm loop`: rounds of mining, applying, preference training, each gated on held-out answers."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dlm.jsonout import to_json
from dlm.judging import (
    DEFAULT_JUDGE,
    DEFAULT_MAX_OUTPUT,
    DEFAULT_MAX_REASONING,
    JUDGE_HELP,
    JudgeCacheOption,
    JudgeTimeoutOption,
    JudgeUrlOption,
    RubricOption,
)
from dlm.placement import DeviceOption

if TYPE_CHECKING:
    from dlm.loop import RoundReport


def loop(
    path: Annotated[Path, typer.Argument(help="The .dlm document (trained, with held-out pairs).")],
    rounds: Annotated[int, typer.Option(help="Rounds to run.", min=1)] = 1,
    gate: Annotated[
        str,
        typer.Option(
            help="What must not get worse: `reference` (held-out answers' word-overlap F1 "
            "with the references), `judge` (--gate-judge's scores) or `pref-margin` (the "
            "preference phase's held-out margin)."
        ),
    ] = "reference",
    min_improvement: Annotated[
        float, typer.Option(help="The gate's score must rise by at least this much.")
    ] = 0.0,
    guards: Annotated[
        bool,
        typer.Option(
            help="Also reject a round whose answers stop matching the references or stop "
            "reading fluently to the base model (the garbage guards)."
        ),
    ] = True,
    gate_judge: Annotated[
        str | None,
        typer.Option(
            help=f"With --gate judge, the judge of held-out answers (not sway): {JUDGE_HELP}"
        ),
    ] = None,
    judge: Annotated[str, typer.Option(help=f"Mining's judge: {JUDGE_HELP}")] = DEFAULT_JUDGE,
    samples: Annotated[int, typer.Option(help="Candidates per prompt.", min=2)] = 4,
    max_pairs: Annotated[int | None, typer.Option(help="Pairs per round, at most.", min=1)] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Smallest margin kept (default: the judge's).")
    ] = None,
    temp: Annotated[float, typer.Option(help="Mining's sampling temperature.", min=0.01)] = 0.7,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass.", min=0, max=1)] = 0.95,
    max_new_tokens: Annotated[
        int, typer.Option(help="Longest candidate or held-out answer, in tokens.", min=1)
    ] = 128,
    judge_timeout: JudgeTimeoutOption = 30.0,
    judge_cache: JudgeCacheOption = None,
    judge_url: JudgeUrlOption = None,
    rubric: RubricOption = None,
    device: DeviceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (docs/json.md).")] = False,
) -> None:
    """Run rounds of mine -> apply -> preference phase, keeping a round only if held-out
    answers are not worse.

    Each round mines from the current adapter with a fresh seed, writes the pairs into the
    document, trains the preference phase, and evaluates the new version against the
    round's starting one on the document's held-out pairs (`training.heldout`). A rejected
    round is undone: the starting version is current again and its mined sections are
    reverted. Ctrl-C rolls the round in progress back.

    Example: dlm loop notes.dlm --rounds 3 --max-pairs 6

    Example: dlm loop notes.dlm --gate judge --gate-judge hf:my-reward-model --min-improvement 0.1
    """
    from dlm.loop import LoopOptions, run_loop
    from dlm.mining import MineOptions
    from trainer.evaluation.gate import GateSettings
    from trainer.rewards.settings import JudgeSettings

    def judged(selector: str) -> JudgeSettings:
        return JudgeSettings(
            selector, judge_timeout, judge_cache, judge_url, rubric,
            max_output=DEFAULT_MAX_OUTPUT, max_reasoning=DEFAULT_MAX_REASONING,
        )  # fmt: skip

    settings = GateSettings(gate, min_improvement, guards)
    options = LoopOptions(
        rounds=rounds,
        gate=settings,
        mining=MineOptions(
            judge=judged(judge),
            samples=samples,
            max_pairs=max_pairs,
            threshold=threshold,
            temp=temp,
            top_p=top_p,
            max_new_tokens=max_new_tokens,
            seed=None,
            sections=(),
            apply_now=True,
            replace=True,
            jsonl=False,
            device=device,
        ),
        gate_judge=_gate_judge(gate, gate_judge, judged),
        max_new_tokens=max_new_tokens,
        device=device,
    )
    done = run_loop(path, options, lambda r: None if as_json else typer.echo(round_line(r)))
    if as_json:
        typer.echo(to_json({"schema_version": 1, "rounds": [asdict(r) for r in done]}))


def _gate_judge(gate: str, selector: str | None, judged: Any) -> Any:
    """--gate-judge's settings: required by --gate judge, refused otherwise."""
    from dlm.errors import EXIT_USAGE, CliError

    if gate == "judge" and selector is None:
        raise CliError(
            "--gate judge needs --gate-judge SEL: who scores the held-out answers.", code=EXIT_USAGE
        )
    if gate != "judge" and selector is not None:
        message = f"--gate-judge applies to --gate judge, not --gate {gate}."
        raise CliError(message, code=EXIT_USAGE)
    return None if selector is None else judged(selector)


def round_line(done: RoundReport) -> str:
    """One round in a line: what was mined and trained, and the gate's verdict with why."""
    head = f"round {done.round} from {done.start_version}"
    if done.decision == "skipped":
        return f"{head}: nothing mined (seed {done.seed}): " + "; ".join(done.reasons)
    return (
        f"{head}: {len(done.sections)} pair(s) mined (seed {done.seed}), trained "
        f"{done.trained_version}, {done.decision}: " + "; ".join(done.reasons)
    )
