"""The real embedded model end to end: demo, facts learned, show and metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()


def test_demo_runs_the_whole_loop_and_teaches_a_fact_the_base_model_gets_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["demo", str(tmp_path / "demo"), "--max-steps", "30"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "demo" / "notes.dlm"
    question = "When does the Tern leave Gullmouth?"
    base = runner.invoke(app, ["prompt", str(path), question, "--adapter-version", "base"])
    trained = runner.invoke(app, ["prompt", str(path), question])
    assert "7:40" not in base.stdout
    assert "7:40" in trained.stdout

    shown = json.loads(runner.invoke(app, ["show", str(path), "--json"]).stdout)
    assert shown["store"]["current"] == "v0002"
    # The demo ends with the held-out check of the preference phase against SFT alone.
    assert "9. Held-out check" in result.output
    assert "v0002 vs v0001 by reference: win rate" in result.output
    [held_out] = shown["store"]["evals"]
    assert held_out["versions"] == ["v0002", "v0001"] and held_out["prompts"] == 8
    assert [r["phase"] for r in shown["store"]["runs"]] == ["sft", "dpo"]
    metrics = json.loads(runner.invoke(app, ["metrics", str(path), "--json"]).stdout)
    losses = [s["loss"] for s in metrics["runs"][0]["steps"]]
    assert len(losses) == 30 and losses[-1] < losses[0] / 4
    dpo = metrics["runs"][1]
    assert len(dpo["steps"]) == 10 and dpo["steps"][0]["loss"] > 0
    names = {e["name"] for e in dpo["evals"]}
    assert {"heldout_pref_accuracy_before", "heldout_pref_margin_after"} <= names
    assert "held-out pairs (1)" in result.output

    # Whatever was mined is in the document with its marker, and reverts cleanly.
    listed = json.loads(runner.invoke(app, ["preference", "list", str(path), "--json"]).stdout)
    mined_events = metrics["runs"][0]["mining"]
    assert len(mined_events) == 1 and mined_events[0]["judge"] == "sway"
    assert len(listed["applied"]) == mined_events[0]["pairs_mined"]
    if listed["applied"]:
        assert "dlm-auto-mined" in path.read_text(encoding="utf-8")
        reverted = runner.invoke(app, ["preference", "revert", str(path)])
        assert reverted.exit_code == 0, reverted.output
        assert "dlm-auto-mined" not in path.read_text(encoding="utf-8")
    assert (tmp_path / "home" / "models" / "smollm2-135m" / "model.safetensors").exists()
