"""`--judge` values -> judges, each a `BaseRM`: one table, read top to bottom (docs/judges.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.rewards.base import DEFAULT_MAX_OUTPUT, BaseRM, JudgeError
from trainer.rewards.command import DEFAULT_TIMEOUT_S, CliRM
from trainer.rewards.wrappers import with_system_prompt

SELECTORS = (
    ("sway", "the adapter against the base model, mean log-ratio per token (default)"),
    ("sway:logprob", "mean token log-probability under the adapter"),
    ("hf:<model>", "a sequence-classification reward model, local directory or HF cache"),
    ("prm:<model>[?agg=min&sep=%0A%0A]", "a process reward model, one score per step"),
    ("reward", "the document's own reward model (`dlm reward train`)"),
    ("ensemble:<file.yaml>", "weighted reward models on a common scale"),
    ("py:<module>:<Class>", "your own BaseRM subclass"),
    ("api:<model>", "an LLM on an OpenAI-compatible endpoint (--judge-url, --rubric)"),
    ("cli:<command>", "an external program, JSON on stdin/stdout"),
)


@dataclass(frozen=True, slots=True)
class JudgeContext:
    """What a selector may need to build its judge: the document's model, paths, options.

    `max_output` bounds a `cli:` judge's stdout and an `api:` judge's HTTP body (bytes);
    `keep_env` and `record_command` are the `cli:` judge's (docs/judges.md).
    """

    home: Path
    model: Any = None
    tokenizer: Any = None
    system_prompt: str | None = None
    reward_dir: Path | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    judge_url: str | None = None
    rubric: Path | None = None
    max_output: int = DEFAULT_MAX_OUTPUT
    keep_env: tuple[str, ...] = ()
    record_command: bool = False


def uses_sampling_model(selector: str) -> bool:
    """Whether the judge scores with the document's own model (and so needs it loaded)."""
    if selector.startswith("ensemble:"):
        from trainer.rewards.ensemble import member_selectors

        path = Path(selector[len("ensemble:") :]).expanduser()
        return any(uses_sampling_model(member) for member in member_selectors(path))
    return selector in ("sway", "sway:logprob")


def make_judge(selector: str, context: JudgeContext) -> BaseRM:
    """The judge `selector` names, not loaded yet; an unknown selector lists the valid ones."""
    for prefix, build in _BUILDERS:
        if selector == prefix or (prefix.endswith(":") and selector.startswith(prefix)):
            return build(selector[len(prefix) :], context)
    known = "; ".join(f"{name} ({what})" for name, what in SELECTORS)
    raise JudgeError(f"Unknown judge {selector!r}. Judges: {known}.")


def _sway(_: str, context: JudgeContext) -> BaseRM:
    from trainer.rewards.sway import SwayRM

    return with_system_prompt(SwayRM(context.model, context.tokenizer), context.system_prompt)


def _sway_logprob(_: str, context: JudgeContext) -> BaseRM:
    from trainer.rewards.sway import SwayRM

    judge = SwayRM(context.model, context.tokenizer, logprob=True)
    return with_system_prompt(judge, context.system_prompt)


def _hf(reference: str, context: JudgeContext) -> BaseRM:
    from trainer.rewards.auto import loader_options, split_selector
    from trainer.rewards.outcome import OutcomeRM

    name, options = split_selector(reference)
    return OutcomeRM(name, options=loader_options(options), home=context.home)


def _prm(reference: str, context: JudgeContext) -> BaseRM:
    from trainer.rewards.auto import AutoRM, split_selector

    name, options = split_selector(reference)
    renamed: dict[str, Any] = {_PRM_KEYS.get(k, k): v for k, v in options.items()}
    return AutoRM.build(name, kind="process", home=context.home, selector=f"prm:{name}", **renamed)


def _reward(_: str, context: JudgeContext) -> BaseRM:
    from trainer.rewards.outcome import OutcomeRM

    reward_dir = context.reward_dir
    if reward_dir is None or not (reward_dir / "config.json").is_file():
        raise JudgeError(
            "No reward model has been trained for this document yet, and `--judge reward` "
            "scores with it. Train one with `dlm reward train <doc>` first, or pick another "
            "judge."
        )
    # `dlm reward train` trains on conversations with the document's system prompt.
    judge = OutcomeRM(str(reward_dir), selector="reward")
    return with_system_prompt(judge, context.system_prompt)


def _ensemble(path_text: str, context: JudgeContext) -> BaseRM:
    from trainer.rewards.ensemble import load_ensemble

    path = Path(path_text).expanduser()
    return load_ensemble(path, lambda member: make_judge(member, context))


def _plugin(reference: str, _: JudgeContext) -> BaseRM:
    from trainer.rewards.custom import load_plugin

    return load_plugin(reference)


def _api(model: str, context: JudgeContext) -> BaseRM:
    from trainer.rewards.llm_judge import load_api_rm

    judge = load_api_rm(
        model,
        context.judge_url,
        rubric=context.rubric,
        timeout=context.timeout,
        max_output=context.max_output,
    )
    return with_system_prompt(judge, context.system_prompt)


def _cli(command: str, context: JudgeContext) -> BaseRM:
    return CliRM(
        command,
        timeout=context.timeout,
        max_output=context.max_output,
        keep_env=context.keep_env,
        record_command=context.record_command,
    )


_BUILDERS: tuple[tuple[str, Callable[[str, JudgeContext], BaseRM]], ...] = (
    ("sway", _sway),
    ("sway:logprob", _sway_logprob),
    ("hf:", _hf),
    ("prm:", _prm),
    ("reward", _reward),
    ("ensemble:", _ensemble),
    ("py:", _plugin),
    ("api:", _api),
    ("cli:", _cli),
)
_PRM_KEYS = {"agg": "aggregation", "sep": "step_delimiter"}
