"""`dlm train`, `prompt`, `show`, `metrics` end to end on a tiny model; errors and kills."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
DLM_ID = "01JQ7Z0000000000000000000A"


def write_document(tmp_path: Path, model_dir: Path, max_steps: int = 3, extra: str = "") -> Path:
    path = tmp_path / "notes.dlm"
    path.write_text(
        f"---\ndlm_id: {DLM_ID}\nbase_model: {model_dir}\nsystem_prompt: Be brief.\n"
        f"training:\n  max_steps: {max_steps}\n  sequence_len: 64\n  micro_batch_size: 2\n"
        "  precision: fp32\n---\n\nMorwenna Teague keeps Black Rock Light.\n\n"
        "::instruction::\n### Q\nWhen does the Tern leave?\n### A\nAt 7:40.\n" + extra,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_train_prompt_show_metrics(tiny_model_dir: Path, tmp_path: Path, home: Path) -> None:
    path = write_document(tmp_path, tiny_model_dir)
    result = runner.invoke(app, ["train", str(path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["run_id"], summary["adapter_version"], summary["steps"]) == (1, "v0001", 3)

    answer = runner.invoke(
        app, ["prompt", str(path), "When does the Tern leave?", "--max-new-tokens", "5"]
    )
    assert answer.exit_code == 0, answer.output
    assert answer.stdout.endswith("\n")

    shown = json.loads(runner.invoke(app, ["show", str(path), "--json"]).stdout)
    assert shown["store"]["current"] == "v0001"
    assert shown["document"]["sections"] == {"instruction": 1, "prose": 1}
    assert [r["phase"] for r in shown["store"]["runs"]] == ["sft"]

    plot = tmp_path / "loss.png"
    metrics = runner.invoke(
        app, ["metrics", str(path), "--run-id", "1", "--json", "--plot", str(plot)]
    )
    assert metrics.exit_code == 0, metrics.output
    report = json.loads(metrics.stdout)
    assert [s["step"] for s in report["runs"][0]["steps"]] == [1, 2, 3]
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_prompt_before_training_says_what_to_do(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = write_document(tmp_path, tiny_model_dir)
    result = runner.invoke(app, ["prompt", str(path), "hi"])
    assert result.exit_code == 1
    assert f"No trained adapter for {path} yet. Run `dlm train {path}` first." in result.output


def test_document_with_errors_trains_nothing(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = write_document(tmp_path, tiny_model_dir, extra="::instruction::\n### Q\nno answer\n")
    result = runner.invoke(app, ["train", str(path)])
    assert result.exit_code == 1
    assert "DLM042" in result.output and "nothing was done" in result.output
    assert not (home / "store").exists()


def test_missing_model_is_a_clear_error(tmp_path: Path, home: Path) -> None:
    path = write_document(tmp_path, tmp_path / "no-such-model")
    result = runner.invoke(app, ["train", str(path)])
    assert result.exit_code == 1
    assert "dlm never downloads" in result.output


def test_second_concurrent_train_fails_with_no_wait(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    from trainer.store import Store

    path = write_document(tmp_path, tiny_model_dir)
    with Store.open(DLM_ID, home).lock():
        result = runner.invoke(app, ["train", str(path), "--no-wait"])
    assert result.exit_code == 1
    assert f"Another dlm run is using the store of document {DLM_ID}" in result.output


def test_killed_training_leaves_no_version_and_the_next_run_works(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = write_document(tmp_path, tiny_model_dir, max_steps=400)
    environment = {**os.environ, "DLM_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "dlm", "train", str(path)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    database = home / "store" / DLM_ID / "metrics.sqlite"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if database.exists():
            try:
                if sqlite3.connect(database).execute("SELECT count(*) FROM steps").fetchone()[0]:
                    break
            except sqlite3.Error:
                pass
        time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("training never logged a step")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    versions = home / "store" / DLM_ID / "adapter" / "versions"
    assert [p.name for p in versions.iterdir() if not p.name.startswith(".")] == []
    assert not (home / "store" / DLM_ID / "adapter" / "current").exists()
    path.write_text(path.read_text().replace("max_steps: 400", "max_steps: 2"))
    result = runner.invoke(app, ["train", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["adapter_version"] == "v0001"


def test_json_outputs_match_docs(tiny_model_dir: Path, tmp_path: Path, home: Path) -> None:
    from tests.cli.test_json_docs import _documented, _shape

    path = write_document(tmp_path, tiny_model_dir)
    trained = json.loads(runner.invoke(app, ["train", str(path), "--json"]).stdout)
    assert set(trained) == set(_documented("dlm train --json"))
    shown = json.loads(runner.invoke(app, ["show", str(path), "--json"]).stdout)
    documented_show = _documented("dlm show --json")
    assert set(shown) == set(documented_show)
    assert _shape(shown["store"]) == _shape(documented_show["store"])
    assert shown["preference"] == {"staged": 0, "last_mining": None}
    report = json.loads(runner.invoke(app, ["metrics", str(path), "--json"]).stdout)
    documented = _documented("dlm metrics --json")
    assert _shape(report)["runs"][0]["steps"] == _shape(documented)["runs"][0]["steps"]
    assert set(report["runs"][0]) == set(documented["runs"][0])


def test_corrupt_store_is_a_message_not_a_traceback(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = write_document(tmp_path, tiny_model_dir)
    store = home / "store" / DLM_ID
    store.mkdir(parents=True)
    (store / "metrics.sqlite").write_bytes(b"not a database" * 200)
    result = runner.invoke(app, ["show", str(path)])
    assert result.exit_code == 1
    assert "is not a readable SQLite database" in result.output
    assert "Traceback" not in result.output
