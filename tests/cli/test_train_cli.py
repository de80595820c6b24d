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


def test_train_prompt_show_metrics(tiny_model_dir: Path, tmp_path: Path, home: Path) -> None:
    path = write_document(tmp_path, tiny_model_dir)
    result = runner.invoke(app, ["train", str(path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["runs"][0]
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


PAIR = (
    "\n::preference::\n### Prompt\nWho keeps the light?\n### Chosen\nMorwenna Teague.\n"
    "### Rejected\nNobody knows.\n"
)
MINED = (
    '\n::preference::\n<!-- dlm-auto-mined: judge_name="sway" judge_score_chosen="0.5" '
    'judge_score_rejected="0.1" mined_at="2026-11-20T10:00:00Z" mined_run_id="1" -->\n'
    "### Prompt\nWhen does the Tern leave?\n### Chosen\nAt 7:40.\n### Rejected\nLater.\n"
)


def test_train_all_runs_sft_then_dpo_and_show_lists_both(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = write_document(tmp_path, tiny_model_dir, extra=PAIR + MINED)
    result = runner.invoke(app, ["train", str(path), "--json"])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)["runs"]
    assert [(r["phase"], r["adapter_version"]) for r in runs] == [
        ("sft", "v0001"),
        ("dpo", "v0002"),
    ]
    assert (runs[1]["pairs"], runs[1]["mined_pairs"], runs[1]["from_version"]) == (2, 1, "v0001")
    shown = json.loads(runner.invoke(app, ["show", str(path), "--json"]).stdout)
    assert [r["phase"] for r in shown["store"]["runs"]] == ["sft", "dpo"]

    plot = tmp_path / "runs.png"
    metrics = runner.invoke(app, ["metrics", str(path), "--plot", str(plot)])
    assert metrics.exit_code == 0, metrics.output
    assert "run 2 dpo completed" in metrics.stdout and "train_reward_margin" in metrics.stdout
    assert plot.read_bytes().startswith(b"\x89PNG")

    again = runner.invoke(app, ["train", str(path), "--phase", "preference", "--no-mined"])
    assert again.exit_code == 0, again.output
    assert "(dpo from v0002, reference pre_adapter): 1 step on 1 pair (0 mined" in again.stdout


def test_preference_phase_errors_are_clear(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = write_document(tmp_path, tiny_model_dir, extra=MINED)
    no_adapter = runner.invoke(app, ["train", str(path), "--phase", "preference"])
    assert no_adapter.exit_code == 1
    assert (
        "No trained adapter for PATH yet, and the preference phase refines it" in no_adapter.output
    )
    fresh = runner.invoke(app, ["train", str(path), "--phase", "preference", "--fresh"])
    assert fresh.exit_code == 2 and "Drop --fresh" in fresh.output
    assert runner.invoke(app, ["train", str(path), "--phase", "sft"]).exit_code == 0
    excluded = runner.invoke(app, ["train", str(path), "--phase", "preference", "--no-mined"])
    assert excluded.exit_code == 1 and "excluded by --no-mined" in excluded.output
    assert not (home / "store" / DLM_ID / "adapter" / "versions" / "v0002").exists()


def test_prompt_before_training_says_what_to_do(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = write_document(tmp_path, tiny_model_dir)
    result = runner.invoke(app, ["prompt", str(path), "hi"])
    assert result.exit_code == 1
    expected = f"No trained adapter for {path} yet, and answers come from it. Run `dlm train"
    assert expected in result.output


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
    assert json.loads(result.stdout)["runs"][0]["adapter_version"] == "v0001"


def test_json_outputs_match_docs(tiny_model_dir: Path, tmp_path: Path, home: Path) -> None:
    from tests.cli.test_json_docs import _documented, _shape

    path = write_document(tmp_path, tiny_model_dir)
    path = write_document(tmp_path, tiny_model_dir, extra=PAIR)
    trained = json.loads(runner.invoke(app, ["train", str(path), "--json"]).stdout)
    documented_train = _documented("dlm train --json")
    assert trained["schema_version"] == documented_train["schema_version"]
    assert [set(run) for run in trained["runs"]] == [set(run) for run in documented_train["runs"]]
    shown = json.loads(runner.invoke(app, ["show", str(path), "--json"]).stdout)
    documented_show = _documented("dlm show --json")
    assert set(shown) == set(documented_show)
    # tests/cli/test_eval_cli.py and test_export_cli.py check the shapes of these lists
    for listed in ("evals", "exports"):
        assert shown["store"].pop(listed) == []
        del documented_show["store"][listed]
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
