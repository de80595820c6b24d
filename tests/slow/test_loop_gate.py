"""The loop's gate on the embedded model: a round mined by a reward-hacking judge (short
answers win) that does not improve the held-out answers by the minimum asked is undone:
the document and the current adapter are as they were, and the verdict is recorded."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()
HERE = Path(__file__).resolve().parent
BENCH = HERE.parents[1] / "bench" / "loop"


def test_a_round_that_does_not_improve_held_out_answers_enough_is_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    path = tmp_path / "harbour.dlm"
    path.write_text((BENCH / "harbour.dlm").read_text(encoding="utf-8"), encoding="utf-8")
    trained = runner.invoke(app, ["train", str(path)])
    assert trained.exit_code == 0, trained.output
    before = path.read_bytes()
    hack = "cli:" + shlex.join([sys.executable, str(HERE / "short_judge.py")])
    args = ["loop", str(path), "--judge", hack, "--samples", "6", "--temp", "1.0"]
    result = runner.invoke(
        app, [*args, "--max-new-tokens", "40", "--min-improvement", "0.3", "--json"]
    )
    assert result.exit_code == 0, result.output
    [done] = json.loads(result.stdout)["rounds"]
    assert done["decision"] == "rejected", done
    assert done["sections"] and done["trained_version"] == "v0002"
    assert "less than the required +0.300" in done["reasons"][0]
    assert path.read_bytes() == before
    shown = json.loads(runner.invoke(app, ["show", str(path), "--json"]).stdout)
    assert shown["store"]["current"] == "v0001"
    assert "v0002" in shown["store"]["adapter_versions"]
    assert shown["store"]["evals"][-1]["decision"] == "rejected"
