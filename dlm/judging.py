"""`--judge` and its flags, shared by `dlm preference mine` and `dlm prompt --best-of`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dlm.errors import EXIT_USAGE, CliError

if TYPE_CHECKING:
    from trainer.judges.base import Judge

DEFAULT_JUDGE = "sway"
JUDGE_HELP = (
    "sway, sway:logprob, hf:<model>, prm:<model>, reward, ensemble:<file.yaml>, "
    "py:<module>:<Class>, api:<model> or cli:<cmd> (docs/judges.md)."
)
JudgeTimeoutOption = Annotated[
    float, typer.Option(help="Seconds per cli: judge call or api: request.", min=0.1)
]
JudgeCacheOption = Annotated[
    Path | None,
    typer.Option(help="Keep judge scores in this directory (SQLite) and reuse them."),
]
JudgeUrlOption = Annotated[
    str | None,
    typer.Option(help="api: judges: the OpenAI-compatible API base, e.g. http://host:8080/v1."),
]
RubricOption = Annotated[
    Path | None, typer.Option(help="api: judges: the rubric file (default: a 0-10 rubric).")
]


@dataclass(frozen=True, slots=True)
class JudgeFlags:
    """The judge flags of one command, checked against each other when built."""

    selector: str = DEFAULT_JUDGE
    timeout: float = 30.0
    cache: Path | None = None
    url: str | None = None
    rubric: Path | None = None

    def __post_init__(self) -> None:
        if self.selector.startswith("api:") and not self.url:
            raise CliError(
                f"--judge {self.selector} needs --judge-url URL: the API base of an "
                "OpenAI-compatible server, e.g. --judge-url http://127.0.0.1:8080/v1.",
                code=EXIT_USAGE,
            )
        takes_api_flags = self.selector.startswith(("api:", "ensemble:"))
        for flag, value in (("--judge-url", self.url), ("--rubric", self.rubric)):
            if value is not None and not takes_api_flags:
                raise CliError(
                    f"{flag} applies only to api: judges (or an ensemble with one), "
                    f"not to --judge {self.selector}.",
                    code=EXIT_USAGE,
                )

    @property
    def needs_sampling_model(self) -> bool:
        """Whether the judge scores with the adapter's own model (the sway judges)."""
        from trainer.judges.selector import uses_sampling_model

        return uses_sampling_model(self.selector)


def build_judge(
    flags: JudgeFlags,
    *,
    model: Any,
    tokenizer: Any,
    system_prompt: str | None,
    store_root: Path,
) -> Judge:
    """The judge, loaded: a broken one fails here, before any sampling."""
    from trainer.judges.selector import make_judge
    from trainer.rewards.outcome import REWARD_DIR
    from trainer.store import dlm_home

    judge = make_judge(
        flags.selector,
        model=model,
        tokenizer=tokenizer,
        system_prompt=system_prompt,
        home=dlm_home(),
        timeout=flags.timeout,
        reward_dir=store_root / REWARD_DIR,
        cache_dir=flags.cache,
        judge_url=flags.url,
        rubric=flags.rubric,
    )
    judge.load()
    return judge
