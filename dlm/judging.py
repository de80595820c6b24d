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
DEFAULT_MAX_OUTPUT = 1 << 20
"""--judge-max-output's default (trainer.judges.base's, without importing the trainer)."""
DEFAULT_MAX_REASONING = 16384
"""--judge-max-reasoning's default."""
JUDGE_HELP = (
    "sway, sway:logprob, hf:<model>, prm:<model>, reward, ensemble:<file.yaml>, "
    "py:<module>:<Class>, api:<model> or cli:<cmd> (docs/judges.md)."
)
JudgeTimeoutOption = Annotated[
    float,
    typer.Option(
        help="Seconds per cli: judge call (then it is killed, with its process group) or "
        "api: request.",
        min=0.1,
    ),
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
JudgeMaxOutputOption = Annotated[
    int,
    typer.Option(
        help="Bytes a judge may answer with: a cli: judge's stdout (it is killed past this) "
        "or an api: judge's HTTP body.",
        min=1,
    ),
]
JudgeMaxReasoningOption = Annotated[
    int, typer.Option(help="Characters of reasoning any judge may give per answer.", min=0)
]
JudgeEnvOption = Annotated[
    list[str] | None,
    typer.Option(
        help="cli: judges: pass this environment variable through although it is withheld "
        "as a secret (repeatable; docs/judges.md).",
    ),
]
JudgeRecordCommandOption = Annotated[
    bool,
    typer.Option(
        help="cli: judges: record the whole command line as the judge's name (marker, "
        "--json), not just the program and script names.",
    ),
]


@dataclass(frozen=True, slots=True)
class JudgeFlags:
    """The judge flags of one command, checked against each other when built."""

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
        self._check_cli_flags()

    def _check_cli_flags(self) -> None:
        takes_cli_flags = self.selector.startswith(("cli:", "ensemble:"))
        for flag, given in (
            ("--judge-env", bool(self.keep_env)),
            ("--judge-record-command", self.record_command),
        ):
            if given and not takes_cli_flags:
                raise CliError(
                    f"{flag} applies only to cli: judges (or an ensemble with one), "
                    f"not to --judge {self.selector}.",
                    code=EXIT_USAGE,
                )
        for name in self.keep_env:
            if not name or "=" in name:
                raise CliError(
                    f"--judge-env takes a variable's name, not {name!r}: the judge gets the "
                    "value dlm was started with, e.g. --judge-env HF_TOKEN.",
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
    """The judge, loaded and bounded: a broken one fails here, before any sampling."""
    from trainer.judges.base import BoundedJudge
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
        max_output=flags.max_output,
        keep_env=flags.keep_env,
        record_command=flags.record_command,
    )
    judge.load()
    # Every judgement of mining and best-of passes here, whichever judge made it.
    return BoundedJudge(judge, flags.max_reasoning)
