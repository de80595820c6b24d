"""`--judge` and its options as typer parameters, shared by `dlm preference mine` and
`dlm prompt --best-of`; what they build is trainer.rewards.settings's."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    pass

DEFAULT_JUDGE = "sway"
DEFAULT_MAX_OUTPUT = 1 << 20
"""--judge-max-output's default (trainer.rewards.base's, without importing the trainer)."""
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
