"""How a judge is asked for (`--judge` and its options) and the one place that builds it:
loaded, checked and bounded, for mining, best-of-N and the language server's settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlmlang.errors import UsageError
from trainer.rewards.base import DEFAULT_MAX_OUTPUT, DEFAULT_MAX_REASONING, BaseRM

DEFAULT_JUDGE = "sway"


@dataclass(frozen=True, slots=True)
class JudgeSettings:
    """How to build a judge: its selector and the limits and options around it, checked
    against each other when made (each option applies to some judges only)."""

    selector: str = DEFAULT_JUDGE
    timeout: float = 30.0
    cache: Path | None = None
    url: str | None = None
    rubric: Path | None = None
    max_output: int = DEFAULT_MAX_OUTPUT
    max_reasoning: int = DEFAULT_MAX_REASONING
    keep_env: tuple[str, ...] = ()
    record_command: bool = False

    def __post_init__(self) -> None:
        if self.selector.startswith("api:") and not self.url:
            raise UsageError(
                f"--judge {self.selector} needs --judge-url URL: the API base of an "
                "OpenAI-compatible server, e.g. --judge-url http://127.0.0.1:8080/v1.",
            )
        takes_api_flags = self.selector.startswith(("api:", "ensemble:"))
        for flag, value in (("--judge-url", self.url), ("--rubric", self.rubric)):
            if value is not None and not takes_api_flags:
                raise UsageError(
                    f"{flag} applies only to api: judges (or an ensemble with one), "
                    f"not to --judge {self.selector}.",
                )
        self._check_cli_flags()

    def _check_cli_flags(self) -> None:
        takes_cli_flags = self.selector.startswith(("cli:", "ensemble:"))
        for flag, given in (
            ("--judge-env", bool(self.keep_env)),
            ("--judge-record-command", self.record_command),
        ):
            if given and not takes_cli_flags:
                raise UsageError(
                    f"{flag} applies only to cli: judges (or an ensemble with one), "
                    f"not to --judge {self.selector}.",
                )
        for name in self.keep_env:
            if not name or "=" in name:
                raise UsageError(
                    f"--judge-env takes a variable's name, not {name!r}: the judge gets the "
                    "value dlm was started with, e.g. --judge-env HF_TOKEN.",
                )

    @property
    def needs_sampling_model(self) -> bool:
        """Whether the judge scores with the adapter's own model (the sway judges)."""
        from trainer.rewards.selector import uses_sampling_model

        return uses_sampling_model(self.selector)


def load_judge(
    flags: JudgeSettings,
    *,
    model: Any,
    tokenizer: Any,
    system_prompt: str | None,
    store_root: Path,
) -> BaseRM:
    """The judge `build_judge` gives, loaded: a broken one fails here, before any sampling."""
    judge = build_judge(
        flags, model=model, tokenizer=tokenizer, system_prompt=system_prompt, store_root=store_root
    )
    judge.load()
    return judge


def build_judge(
    flags: JudgeSettings,
    *,
    model: Any,
    tokenizer: Any,
    system_prompt: str | None,
    store_root: Path,
) -> BaseRM:
    """The judge `flags` ask for, cached if asked and bounded, not loaded yet."""
    from trainer.rewards.outcome import REWARD_DIR
    from trainer.rewards.selector import JudgeContext, make_judge
    from trainer.rewards.wrappers import BoundedRM
    from trainer.store import dlm_home

    context = JudgeContext(
        home=dlm_home(),
        model=model,
        tokenizer=tokenizer,
        system_prompt=system_prompt,
        reward_dir=store_root / REWARD_DIR,
        timeout=flags.timeout,
        judge_url=flags.url,
        rubric=flags.rubric,
        max_output=flags.max_output,
        keep_env=flags.keep_env,
        record_command=flags.record_command,
    )
    judge = make_judge(flags.selector, context)
    if flags.cache is not None:
        from trainer.rewards.cache import CachedRM

        judge = CachedRM(judge, flags.cache)
    # Every score of mining and best-of passes here, whichever judge gave it.
    return BoundedRM(judge, flags.max_reasoning)
