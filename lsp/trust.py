"""Workspace trust: a judge that runs a program or loads code is refused when it comes from
the settings of a workspace the user has not trusted (a cloned repository's
`.vscode/settings.json` must not plant a command that runs at the user's next Mine)."""

from __future__ import annotations

from dataclasses import dataclass

CODE_PREFIXES = (
    ("cli:", "runs a program"),
    ("py:", "imports a Python module"),
    ("ensemble:", "reads its members, which may run programs, from a file"),
)
"""Judge selectors that run or load code, and what they do."""


@dataclass(frozen=True, slots=True)
class JudgeOrigin:
    """Where the client says the judge setting came from, and whether it trusts that place.

    A client that says nothing (an editor without workspace trust) vouches for its
    settings: the judge counts as the user's own.
    """

    from_workspace: bool = False
    """The judge's value is a workspace (or folder) setting, not the user's."""
    workspace_trusted: bool = False
    """The user trusts the workspace (VS Code's `workspace.isTrusted`)."""


def runs_code(judge: str) -> str | None:
    """What a judge selector does that makes it dangerous (runs a program, loads code),
    or None for a judge that only scores with models and endpoints."""
    for prefix, what in CODE_PREFIXES:
        if judge.startswith(prefix):
            return what
    if "trust_remote_code" in judge:
        return "loads the model's own Python code (trust_remote_code)"
    return None


def refusal(judge: str, origin: JudgeOrigin) -> str | None:
    """Why mining must not run with `judge` from `origin`, or None when it may."""
    what = runs_code(judge)
    if what is None or not origin.from_workspace or origin.workspace_trusted:
        return None
    return (
        f"The judge `{judge}` comes from this workspace's settings, and the workspace is not "
        f"trusted: that judge {what}, so dlm will not use it here. Trust the workspace "
        "(Workspaces: Manage Workspace Trust), or set `dlm.judge` in your user settings."
    )
