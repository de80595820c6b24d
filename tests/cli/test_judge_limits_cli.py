"""The judge limits and `cli:` naming flags, through `dlm preference mine` and `dlm prompt`."""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dlmlang
from dlm.cli import app
from dlm.errors import exit_code
from dlmlang.errors import UsageError
from tests.cli.test_mine_cli import JUDGE
from tests.cli.test_train_cli import write_document
from trainer.rewards.settings import JudgeSettings

runner = CliRunner()
SECRET = "sk-do-not-save-me"
SECRET_JUDGE = "cli:" + shlex.join([sys.executable, str(JUDGE), "ok", "--api-key", SECRET])
MINE = ["--samples", "4", "--max-new-tokens", "12", "--temp", "1.5", "--threshold", "0.05"]
MINE += ["--seed", "0"]


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("judge-limits")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLM_HOME", str(directory / "home"))
        path = write_document(directory, tiny_model_dir, max_steps=2)
        assert runner.invoke(app, ["train", str(path)]).exit_code == 0
        yield path


def mine(path: Path, *extra: str) -> object:
    args = ["preference", "mine", str(path), *MINE, "--replace", "--json", *extra]
    return runner.invoke(app, args)


def saved_anywhere(path: Path, text: str) -> list[Path]:
    """Files of the document's directory (document, store, plan, metrics) holding `text`."""
    return [f for f in path.parent.rglob("*") if f.is_file() and text.encode() in f.read_bytes()]


def test_the_marker_and_summary_name_the_script_not_its_arguments(trained: Path) -> None:
    before = trained.read_bytes()
    name = f"cli:{os.path.basename(sys.executable)} judge.py"
    staged = mine(trained, "--judge", SECRET_JUDGE)
    assert staged.exit_code == 0, staged.output  # type: ignore[attr-defined]
    assert json.loads(staged.stdout)["judge"] == name  # type: ignore[attr-defined]
    assert saved_anywhere(trained, SECRET) == []  # the plan, the metrics
    result = mine(trained, "--judge", SECRET_JUDGE, "--apply")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    document = dlmlang.parse_bytes(trained.read_bytes())
    mined = [s.marker for s in document.sections if s.auto_mined]
    assert document.ok and [m.judge_name for m in mined if m] == [name]
    assert saved_anywhere(trained, SECRET) == []
    trained.write_bytes(before)


def test_record_command_keeps_the_whole_command_line(trained: Path) -> None:
    result = mine(trained, "--judge", SECRET_JUDGE, "--judge-record-command")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert json.loads(result.stdout)["judge"] == SECRET_JUDGE  # type: ignore[attr-defined]
    runner.invoke(app, ["preference", "discard", str(trained)])


def test_mining_stops_on_reasoning_over_the_limit(trained: Path) -> None:
    result = mine(trained, "--judge", SECRET_JUDGE, "--judge-max-reasoning", "5")
    assert result.exit_code == 1
    assert "--judge-max-reasoning" in result.output and SECRET not in result.output


def test_best_of_stops_on_output_over_the_limit(trained: Path) -> None:
    args = ["prompt", str(trained), "Who?", "--max-new-tokens", "8", "--best-of", "2"]
    result = runner.invoke(app, [*args, "--judge", SECRET_JUDGE, "--judge-max-output", "10"])
    assert result.exit_code == 1 and "--judge-max-output" in result.output


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"selector": "sway", "keep_env": ("HF_TOKEN",)}, "--judge-env applies only to cli:"),
        ({"selector": "sway", "record_command": True}, "--judge-record-command applies only"),
        ({"selector": "cli:x", "keep_env": ("A=1",)}, "--judge-env takes a variable's name"),
    ],
)
def test_judge_flag_mistakes(flags: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message) as raised:
        JudgeSettings(**flags)  # type: ignore[arg-type]
    assert exit_code(raised.value) == 2


@pytest.mark.parametrize("command", [["preference", "mine"], ["prompt"]])
def test_help_names_the_limit_flags(command: list[str]) -> None:
    shown = " ".join(runner.invoke(app, [*command, "--help"]).output.split())
    for flag in ("--judge-max-output", "--judge-max-reasoning", "--judge-env"):
        assert flag in shown
    assert "--judge-record-command" in shown


def test_judge_flags_without_best_of_are_usage_errors(trained: Path) -> None:
    args = ["prompt", str(trained), "Who?", "--judge-env", "HF_TOKEN", "--judge-record-command"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--judge-env, --judge-record-command picks among several answers" in result.output


def test_the_command_line_defaults_are_the_trainers() -> None:
    from dlm import judging
    from trainer.rewards import base

    assert judging.DEFAULT_MAX_OUTPUT == base.DEFAULT_MAX_OUTPUT == 1 << 20
    assert judging.DEFAULT_MAX_REASONING == base.DEFAULT_MAX_REASONING == 16384
    assert JudgeSettings().max_output == base.DEFAULT_MAX_OUTPUT
    assert JudgeSettings().selector == judging.DEFAULT_JUDGE
