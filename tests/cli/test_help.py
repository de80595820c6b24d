"""Every command has help with an example; the top-level help documents exit codes."""

from __future__ import annotations

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from dlm.cli import app

runner = CliRunner()
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def test_top_level_help_lists_exit_codes() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Exit codes: 0 success; 1 failure" in " ".join(result.output.split())


SUBCOMMANDS = [
    f"{group} {name}"
    for group, command in get_command(app).commands.items()  # type: ignore[attr-defined]
    for name in getattr(command, "commands", {})
]


@pytest.mark.parametrize("command", COMMANDS + SUBCOMMANDS)
def test_command_help_has_an_example(command: str) -> None:
    result = runner.invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert f"Example: dlm {command}" in " ".join(result.output.split())
