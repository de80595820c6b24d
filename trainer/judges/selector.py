"""`--judge` selectors -> judges: one table, read top to bottom (docs/judges.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainer.judges.base import DEFAULT_MAX_OUTPUT, Judge, JudgeError
from trainer.judges.command import DEFAULT_TIMEOUT_S, CliJudge
from trainer.judges.reward_model import RewardModelJudge
from trainer.judges.sway import SwayJudge
from trainer.rewards.base import BaseRM, RewardJudge

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


def uses_sampling_model(selector: str) -> bool:
    """Whether the judge scores with the document's own model (and so needs it loaded)."""
    if selector.startswith("ensemble:"):
        from trainer.rewards.ensemble import member_selectors

        path = Path(selector[len("ensemble:") :]).expanduser()
        return any(uses_sampling_model(member) for member in member_selectors(path))
    return selector in ("sway", "sway:logprob")


def make_judge(
    selector: str,
    *,
    model: Any,
    tokenizer: Any,
    system_prompt: str | None,
    home: Path,
    timeout: float = DEFAULT_TIMEOUT_S,
    reward_dir: Path | None = None,
    cache_dir: Path | None = None,
    judge_url: str | None = None,
    rubric: Path | None = None,
    max_output: int = DEFAULT_MAX_OUTPUT,
    keep_env: tuple[str, ...] = (),
    record_command: bool = False,
) -> Judge:
    """The judge for `selector` (cached in `cache_dir` if given); unknown ones list the valid.

    `max_output` bounds a `cli:` judge's stdout and an `api:` judge's HTTP body (bytes);
    `keep_env` and `record_command` are the `cli:` judge's (docs/judges.md).
    """
    judge = _make(
        selector,
        model=model,
        tokenizer=tokenizer,
        system_prompt=system_prompt,
        home=home,
        timeout=timeout,
        reward_dir=reward_dir,
        judge_url=judge_url,
        rubric=rubric,
        max_output=max_output,
        keep_env=keep_env,
        record_command=record_command,
    )
    if cache_dir is None:
        return judge
    from trainer.rewards.cache import CachedRM

    # The cached model scores the same conversations as the judge did (its system prompt).
    prompt = judge.system_prompt if isinstance(judge, RewardJudge) else None
    return RewardJudge(CachedRM(as_reward_model(judge), cache_dir), system_prompt=prompt)


def make_reward_model(selector: str, **context: Any) -> BaseRM:
    """The selector as a `BaseRM` (judges such as `sway` and `cli:` are adapted)."""
    return as_reward_model(_make(selector, **context))


def as_reward_model(judge: Judge) -> BaseRM:
    """A `RewardJudge`'s model, or any other judge adapted to `BaseRM`."""
    from trainer.rewards.wrapped import JudgeRM

    return judge.rm if isinstance(judge, RewardJudge) else JudgeRM(judge)


def _make(
    selector: str,
    *,
    model: Any,
    tokenizer: Any,
    system_prompt: str | None,
    home: Path,
    timeout: float = DEFAULT_TIMEOUT_S,
    reward_dir: Path | None = None,
    judge_url: str | None = None,
    rubric: Path | None = None,
    max_output: int = DEFAULT_MAX_OUTPUT,
    keep_env: tuple[str, ...] = (),
    record_command: bool = False,
) -> Judge:
    context: dict[str, Any] = {
        "model": model,
        "tokenizer": tokenizer,
        "system_prompt": system_prompt,
        "home": home,
        "timeout": timeout,
        "reward_dir": reward_dir,
        "judge_url": judge_url,
        "rubric": rubric,
        "max_output": max_output,
        "keep_env": keep_env,
        "record_command": record_command,
    }
    if selector == "sway":
        return SwayJudge(model, tokenizer, system_prompt=system_prompt)
    if selector == "sway:logprob":
        return SwayJudge(model, tokenizer, system_prompt=system_prompt, logprob=True)
    if selector.startswith("hf:"):
        return RewardModelJudge(selector[3:], home=home)
    if selector.startswith("prm:"):
        from trainer.rewards.auto import AutoRM, split_selector

        reference, options = split_selector(selector[4:])
        renamed: dict[str, Any] = {_PRM_KEYS.get(k, k): v for k, v in options.items()}
        rm = AutoRM.build(
            reference, kind="process", home=home, selector=f"prm:{reference}", **renamed
        )
        return RewardJudge(rm)
    if selector == "reward":
        # `dlm reward train` trains on conversations with the document's system prompt.
        return RewardJudge(_trained_reward_model(reward_dir), system_prompt=system_prompt)
    if selector.startswith("ensemble:"):
        from trainer.rewards.ensemble import load_ensemble

        path = Path(selector[len("ensemble:") :]).expanduser()
        ensemble = load_ensemble(path, lambda member: make_reward_model(member, **context))
        return RewardJudge(ensemble)
    if selector.startswith("py:"):
        from trainer.rewards.custom import load_plugin

        return RewardJudge(load_plugin(selector[3:]))
    if selector.startswith("api:"):
        from trainer.rewards.llm_judge import load_api_rm

        rm = load_api_rm(
            selector[4:], judge_url, rubric=rubric, timeout=timeout, max_output=max_output
        )
        return RewardJudge(rm, system_prompt=system_prompt)
    if selector.startswith("cli:"):
        return CliJudge(
            selector[4:],
            timeout=timeout,
            max_output=max_output,
            keep_env=keep_env,
            record_command=record_command,
        )
    known = "; ".join(f"{name} ({what})" for name, what in SELECTORS)
    raise JudgeError(f"Unknown judge {selector!r}. Judges: {known}.")


_PRM_KEYS = {"agg": "aggregation", "sep": "step_delimiter"}


def _trained_reward_model(reward_dir: Path | None) -> BaseRM:
    from trainer.rewards.outcome import OutcomeRM

    if reward_dir is None or not (reward_dir / "config.json").is_file():
        raise JudgeError(
            "No reward model has been trained for this document yet, and `--judge reward` "
            "scores with it. Train one with `dlm reward train <doc>` first, or pick another "
            "judge."
        )
    return OutcomeRM(str(reward_dir), selector="reward")
