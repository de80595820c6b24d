"""`dlm prompt`: ask the trained adapter (or the base model) a question."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dlm.documents import load_valid_document
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
from dlm.models import base_model_dir
from dlm.placement import DeviceOption
from dlm.sampling import BackendOption, TensorParallelOption
from trainer.generation.backends.choice import Backend, BackendChoice

if TYPE_CHECKING:
    from trainer.generation.best_of import BestOf
    from trainer.rewards.settings import JudgeSettings

BEST_OF_TEMPERATURE = 0.7
"""Best-of-N samples at mining's temperature unless told: greedy answers would all agree."""


def prompt(
    path: Annotated[Path, typer.Argument(help="The .dlm document whose adapter answers.")],
    text: Annotated[str, typer.Argument(help="The question.")],
    max_new_tokens: Annotated[int, typer.Option(help="Longest answer, in tokens.", min=1)] = 128,
    temp: Annotated[
        float | None,
        typer.Option(
            help=f"Sampling temperature; 0 is greedy (default: 0, or {BEST_OF_TEMPERATURE} "
            "with --best-of).",
            min=0,
        ),
    ] = None,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass.", min=0, max=1)] = 0.95,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    adapter_version: Annotated[
        str | None,
        typer.Option(help="vNNNN, or `base` for the base model alone (default: current)."),
    ] = None,
    best_of: Annotated[
        int,
        typer.Option(
            help="Sample this many answers and print the one --judge scores highest.", min=1
        ),
    ] = 1,
    judge: Annotated[
        str | None, typer.Option(help=f"With --best-of: {JUDGE_HELP} Default: sway.")
    ] = None,
    judge_timeout: JudgeTimeoutOption = 30.0,
    judge_cache: JudgeCacheOption = None,
    judge_url: JudgeUrlOption = None,
    rubric: RubricOption = None,
    judge_max_output: JudgeMaxOutputOption = DEFAULT_MAX_OUTPUT,
    judge_max_reasoning: JudgeMaxReasoningOption = DEFAULT_MAX_REASONING,
    judge_env: JudgeEnvOption = None,
    judge_record_command: JudgeRecordCommandOption = False,
    backend: BackendOption = Backend.HF,
    tensor_parallel_size: TensorParallelOption = 1,
    device: DeviceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (docs/json.md).")] = False,
) -> None:
    """Answer a question with the document's current adapter, chat template applied.

    With --best-of N, N answers are sampled and the judge's favourite is printed
    (--json shows every answer with its score).

    Example: dlm prompt notes.dlm "When does the Tern leave Gullmouth?"

    Example: dlm prompt notes.dlm "Who keeps the light?" --best-of 4 --judge reward
    """
    choice = BackendChoice(backend, tensor_parallel_size)
    flags = _judge_flags(
        best_of,
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
    temperature = _temperature(temp, best_of)
    loaded = load_valid_document(path)
    from trainer.runtime.environment import set_offline

    set_offline()
    from trainer.generation.answering import Question, answer_question
    from trainer.generation.generate import Sampling
    from trainer.runtime.devices import choose_placement
    from trainer.store import Store, dlm_home

    store = Store.open(loaded.frontmatter.dlm_id, dlm_home())
    question = Question(
        text=text,
        version=_version(store, path, adapter_version),
        model_dir=base_model_dir(loaded.frontmatter.base_model),
        placement=choose_placement(device, loaded.frontmatter.training.precision),
        sampling=Sampling(max_new_tokens, temperature, top_p, seed, samples=best_of),
        system_prompt=loaded.frontmatter.system_prompt,
        judge=flags,
        backend=choice,
    )
    answered = answer_question(question, store)
    summary: dict[str, Any] = {"schema_version": 1, "adapter_version": answered.version}
    summary["answer"] = answered.text
    if answered.best_of is not None and answered.judge is not None:
        summary.update(_best_of_json(answered.best_of, answered.judge))
        if not as_json:
            _echo_scores(answered.best_of, answered.judge)
    typer.echo(to_json(summary) if as_json else answered.text)


def _version(store: Any, path: Path, requested: str | None) -> str:
    """The adapter version to answer with: the one asked for (it must exist), else the
    current one."""
    return str(store.resolve_version(requested, str(path), "answers come from it"))


def _judge_flags(
    best_of: int,
    judge: str | None,
    timeout: float,
    cache: Path | None,
    url: str | None,
    rubric: Path | None,
    *,
    max_output: int = DEFAULT_MAX_OUTPUT,
    max_reasoning: int = DEFAULT_MAX_REASONING,
    keep_env: tuple[str, ...] = (),
    record_command: bool = False,
) -> JudgeSettings | None:
    """The judge of --best-of N (N > 1); judge flags without it are a usage error."""
    if best_of > 1:
        from trainer.rewards.settings import JudgeSettings

        return JudgeSettings(
            judge or DEFAULT_JUDGE,
            timeout,
            cache,
            url,
            rubric,
            max_output=max_output,
            max_reasoning=max_reasoning,
            keep_env=keep_env,
            record_command=record_command,
        )
    given = [
        flag
        for flag, value in (
            ("--judge", judge),
            ("--judge-cache", cache),
            ("--judge-url", url),
            ("--rubric", rubric),
            ("--judge-env", keep_env or None),
            ("--judge-record-command", record_command or None),
        )
        if value is not None
    ]
    if given:
        raise CliError(
            f"{', '.join(given)} picks among several answers: add --best-of N (e.g. "
            "--best-of 4), or leave the judge flags out.",
            code=EXIT_USAGE,
        )
    return None


def _temperature(temp: float | None, best_of: int) -> float:
    """The sampling temperature; best-of-N with greedy decoding is refused."""
    if temp is None:
        return BEST_OF_TEMPERATURE if best_of > 1 else 0.0
    if temp == 0 and best_of > 1:
        raise CliError(
            f"--best-of {best_of} with --temp 0 would sample the same greedy answer "
            f"{best_of} times: give a temperature above 0 (the default with --best-of "
            f"is {BEST_OF_TEMPERATURE}).",
            code=EXIT_USAGE,
        )
    return temp


def _best_of_json(result: BestOf, judge: str) -> dict[str, Any]:
    """The best-of fields of `dlm prompt --json` (docs/json.md)."""
    return {
        "answer": result.answer.text,
        "judge": judge,
        "best": result.best,
        "candidates": [asdict(answer) for answer in result.answers],
    }


def _echo_scores(result: BestOf, judge: str) -> None:
    """The scores on stderr, so stdout stays the answer alone."""
    scores = ", ".join(
        f"{'*' if i == result.best else ''}{a.score:.3g}" for i, a in enumerate(result.answers)
    )
    typer.echo(f"best of {len(result.answers)} by {judge}: {scores}", err=True)
