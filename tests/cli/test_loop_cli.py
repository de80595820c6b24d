"""`dlm loop` end to end on a tiny model: a gated round is kept or undone, never half done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from dlm.errors import EXIT_INTERRUPTED
from tests.cli.test_eval_cli import keys, write
from tests.cli.test_json_docs import _documented
from tests.cli.test_mine_cli import judge
from tests.cli.test_train_cli import DLM_ID, ROOT
from tests.signals import interruptible
from trainer.store import Store

runner = CliRunner()


@pytest.fixture
def trained(tiny_model_dir: Path, tmp_path: Path, home: Path) -> Path:
    """The eval tests' document (half its pairs held out), trained once (v0001)."""
    path = write(tmp_path, tiny_model_dir, 0.5)
    assert runner.invoke(app, ["train", str(path)]).exit_code == 0
    return path


def loop(path: Path, *extra: str, env: dict[str, str] | None = None) -> object:
    args = ["loop", str(path), "--judge", judge("ok"), "--samples", "4", "--temp", "1.5"]
    return runner.invoke(app, [*args, "--max-new-tokens", "8", "--json", *extra], env=env)


def store(home: Path) -> Store:
    return Store.open(DLM_ID, home)


def test_a_round_that_is_not_better_is_undone(trained: Path, home: Path) -> None:
    before = trained.read_bytes()
    result = loop(trained, "--min-improvement", "0.5")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    summary = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert keys(summary) == keys(_documented("dlm loop --json"))
    [done] = summary["rounds"]
    assert done["decision"] == "rejected" and done["sections"]
    assert "less than the required +0.500" in done["reasons"][0]
    assert trained.read_bytes() == before  # the mined sections reverted, byte for byte
    kept = store(home)
    assert kept.current_version() == "v0001" and done["trained_version"] in kept.versions()
    [recorded] = kept.metrics.answer_evals()
    assert (recorded.eval_id, recorded.decision) == (done["eval_id"], "rejected")
    assert recorded.summary["versions"] == [done["trained_version"], "v0001"]


def test_a_round_that_passes_the_gate_is_kept(trained: Path, home: Path) -> None:
    result = loop(trained, "--min-improvement", "-1", "--no-guards")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    [done] = json.loads(result.stdout)["rounds"]  # type: ignore[attr-defined]
    assert done["decision"] == "promoted" and done["comparison"]["prompts"] >= 1
    assert store(home).current_version() == done["trained_version"] == "v0002"
    listed = json.loads(runner.invoke(app, ["preference", "list", str(trained), "--json"]).stdout)
    assert {s["section_id"] for s in listed["applied"]} == set(done["sections"])


def test_a_failed_round_is_rolled_back(trained: Path, home: Path) -> None:
    before = trained.read_bytes()
    result = loop(trained, env={"DLM_DEBUG_FAIL_RANK": "0"})
    assert result.exit_code != 0
    assert trained.read_bytes() == before
    assert store(home).current_version() == "v0001"


def test_the_gate_needs_held_out_pairs(tiny_model_dir: Path, tmp_path: Path, home: Path) -> None:
    path = write(tmp_path, tiny_model_dir, 0.0)
    assert runner.invoke(app, ["train", str(path)]).exit_code == 0
    result = loop(path)
    assert result.exit_code == 1
    assert "heldout: 0.2" in result.output  # type: ignore[attr-defined]


def test_judge_gate_flags_go_together(trained: Path) -> None:
    assert loop(trained, "--gate", "judge").exit_code == 2  # type: ignore[attr-defined]
    unused = loop(trained, "--gate-judge", judge("ok"))
    assert unused.exit_code == 2  # type: ignore[attr-defined]


def test_ctrl_c_in_a_round_rolls_it_back(trained: Path, home: Path) -> None:
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) once the round
    has written its mined sections: the document is as it was and v0001 stays current."""
    before = trained.read_bytes()
    args = ["loop", str(trained), "--judge", judge("ok"), "--samples", "4", "--temp", "1.5"]
    process = subprocess.Popen(
        [sys.executable, "-m", "dlm", *args, "--max-new-tokens", "8"],
        cwd=ROOT,
        env={**os.environ, "DLM_HOME": str(home)},
        preexec_fn=interruptible,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while trained.read_bytes() == before and process.poll() is None:
            assert time.monotonic() < deadline, "the round never wrote its mined sections"
            time.sleep(0.01)
        assert process.poll() is None, process.communicate()[0]
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == EXIT_INTERRUPTED, output
    assert "the round was rolled back" in output, output
    assert trained.read_bytes() == before
    assert store(home).current_version() == "v0001"
