"""dlm on a CUDA GPU (`pytest -m gpu`; skipped where torch sees none; vLLM not needed).

Every phase, judge and command runs its models on the GPU and keeps the CPU run's
contract (exit codes, runs, versions, JSON). Each test records the models dlm loads and
checks where their parameters ended up, and that the GPU allocated memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from tests.cli.test_train_cli import DLM_ID
from tests.rewards.conftest import build_reward_model

pytestmark = pytest.mark.gpu
runner = CliRunner()

QA = "::instruction::\n### Q\nWhen does the Tern leave?\n### A\nAt 7:40 from Gullmouth pier.\n\n"
FACTS = [
    ("Who keeps the light?", "Morwenna Teague.", "Nobody knows."),
    ("When does the Tern leave?", "At 7:40.", "Whenever."),
    ("What colour is the light?", "Green.", "I am not sure."),
    ("Where is the pier?", "In Gullmouth.", "Somewhere."),
    ("How often does it flash?", "Every six seconds.", "Often."),
    ("What is the ferry called?", "The Tern.", "A boat."),
    ("Who built the light?", "The harbour trust.", "People."),
]
PAIRS = "".join(
    f"::preference::\n### Prompt\n{q}\n### Chosen\n{c}\n### Rejected\n{r}\n\n" for q, c, r in FACTS
)


def document(tmp_path: Path, model_dir: Path, method: str = "dpo") -> Path:
    """A document with Q/A and 7 hand-written pairs (so the held-out check runs), in the
    precision dlm picks for the GPU."""
    path = tmp_path / "notes.dlm"
    path.write_text(
        f"---\ndlm_id: {DLM_ID}\nbase_model: {model_dir}\nsystem_prompt: Be brief.\n"
        "training:\n  max_steps: 2\n  sequence_len: 64\n  micro_batch_size: 2\n"
        f"  preference:\n    method: {method}\n---\n\n"
        "Morwenna Teague keeps Black Rock Light.\n\n" + QA + PAIRS,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`DLM_HOME` in the test's own directory, and no device forced by the environment."""
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DLM_DEVICE", raising=False)
    return tmp_path / "home"


@pytest.fixture
def loaded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every causal LM and reward model dlm loads during the test, and the GPU's peak
    memory reset."""
    import torch

    import trainer.models
    import trainer.rewards.checkpoint
    import trainer.training.reward

    models: list[Any] = []

    def recording(load: Any, pick: Any) -> Any:
        def spy(*args: Any, **kwargs: Any) -> Any:
            result = load(*args, **kwargs)
            models.append(pick(result))
            return result

        return spy

    monkeypatch.setattr(
        trainer.models,
        "load_causal_lm",
        recording(trainer.models.load_causal_lm, lambda r: r[0]),
    )
    monkeypatch.setattr(
        trainer.training.reward,
        "load_sequence_classifier",
        recording(trainer.training.reward.load_sequence_classifier, lambda r: r[0]),
    )
    checkpoint = trainer.rewards.checkpoint.Checkpoint
    monkeypatch.setattr(
        checkpoint, "_load_model", recording(checkpoint._load_model, lambda model: model)
    )
    torch.cuda.reset_peak_memory_stats()
    yield models


def assert_on_the_gpu(models: list[Any], expected: int) -> None:
    """At least `expected` models were loaded, each with every parameter on CUDA."""
    import torch

    assert len(models) >= expected
    for model in models:
        assert {p.device.type for p in model.parameters()} == {"cuda"}, type(model)
    assert torch.cuda.max_memory_allocated() > 0


def train(path: Path, *extra: str) -> dict[str, Any]:
    result = runner.invoke(app, ["train", str(path), "--json", *extra])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_sft_then_dpo_train_on_the_gpu_with_the_heldout_check(
    tiny_model_dir: Path, tmp_path: Path, home: Path, loaded: list[Any]
) -> None:
    import torch

    path = document(tmp_path, tiny_model_dir)
    runs = train(path)["runs"]
    phases = [(r["phase"], r["adapter_version"]) for r in runs]
    assert phases == [("sft", "v0001"), ("dpo", "v0002")]
    assert_on_the_gpu(loaded, expected=2)
    report = json.loads(runner.invoke(app, ["metrics", str(path), "--json"]).stdout)
    dpo = next(run for run in report["runs"] if run["phase"] == "dpo")
    names = {row["name"] for row in dpo["evals"]}
    assert {"heldout_pref_accuracy_before", "heldout_pref_accuracy_after"} <= names
    from trainer.store import Store

    config = Store.open(DLM_ID, home).metrics.run(1)
    assert config is not None
    expected = "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    assert (config.config["precision"], config.config["device"]) == (expected, "cuda")


def test_orpo_trains_on_the_gpu(
    tiny_model_dir: Path, tmp_path: Path, home: Path, loaded: list[Any]
) -> None:
    path = document(tmp_path, tiny_model_dir, method="orpo")
    train(path, "--phase", "sft")
    runs = train(path, "--phase", "preference")["runs"]
    assert [(r["phase"], r["adapter_version"]) for r in runs] == [("orpo", "v0002")]
    assert_on_the_gpu(loaded, expected=2)


def test_device_cpu_keeps_everything_off_the_gpu(
    tiny_model_dir: Path, tmp_path: Path, home: Path, loaded: list[Any]
) -> None:
    path = document(tmp_path, tiny_model_dir)
    train(path, "--phase", "sft", "--device", "cpu")
    assert loaded and all({p.device.type for p in m.parameters()} == {"cpu"} for m in loaded)
    from trainer.store import Store

    run = Store.open(DLM_ID, home).metrics.run(1)
    assert run is not None and run.config["device"] == "cpu"


def mine(path: Path, judge: str) -> Any:
    arguments = ["preference", "mine", str(path), "--judge", judge, "--samples", "4", "--seed", "0"]
    arguments += ["--max-new-tokens", "12", "--temp", "1.5", "--threshold", "0", "--json"]
    return runner.invoke(app, arguments)


def test_mining_samples_and_judges_on_the_gpu(
    tiny_model_dir: Path, tmp_path: Path, home: Path, loaded: list[Any]
) -> None:
    path = document(tmp_path, tiny_model_dir)
    train(path, "--phase", "sft")
    loaded.clear()
    sway = mine(path, "sway")
    assert sway.exit_code in (0, 2), sway.output
    summary = json.loads(sway.stdout)
    assert summary["judge"] == "sway" and summary["prompts_seen"] == 1
    assert_on_the_gpu(loaded, expected=1)

    loaded.clear()
    reward_dir = build_reward_model(
        tmp_path / "orm", tiny_model_dir, head="sequence", labels=1, chat=True
    )
    scored = mine(path, f"hf:{reward_dir}")
    assert scored.exit_code in (0, 2), scored.output
    assert json.loads(scored.stdout)["judge"].startswith("hf:")
    assert_on_the_gpu(loaded, expected=2)  # the sampling model and the reward model


def test_prompt_and_best_of_answer_on_the_gpu(
    tiny_model_dir: Path, tmp_path: Path, home: Path, loaded: list[Any]
) -> None:
    path = document(tmp_path, tiny_model_dir)
    train(path, "--phase", "sft")
    loaded.clear()
    answer = runner.invoke(
        app, ["prompt", str(path), "Who keeps the light?", "--max-new-tokens", "8", "--json"]
    )
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.stdout)["adapter_version"] == "v0001"
    options = ["--best-of", "3", "--judge", "sway", "--max-new-tokens", "8", "--json"]
    best = runner.invoke(app, ["prompt", str(path), "Who keeps the light?", *options])
    assert best.exit_code == 0, best.output
    assert len(json.loads(best.stdout)["candidates"]) == 3
    assert_on_the_gpu(loaded, expected=2)


def test_reward_model_trains_and_scores_on_the_gpu(
    tiny_model_dir: Path, tmp_path: Path, home: Path, loaded: list[Any]
) -> None:
    path = document(tmp_path, tiny_model_dir)
    trained = runner.invoke(app, ["reward", "train", str(path), "--steps", "2", "--json"])
    assert trained.exit_code == 0, trained.output
    assert_on_the_gpu(loaded, expected=1)
    train(path, "--phase", "sft")
    loaded.clear()
    scored = mine(path, "reward")
    assert scored.exit_code in (0, 2), scored.output
    assert_on_the_gpu(loaded, expected=2)


def test_training_under_torchrun_uses_the_local_ranks_gpu(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = document(tmp_path, tiny_model_dir)
    command = [sys.executable, "-P", "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc-per-node", "1", "--no-python", sys.executable, "-P", "-m", "dlm"]
    done = subprocess.run(
        [*command, "train", str(path), "--phase", "sft", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DLM_HOME": str(home)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    from trainer.store import Store

    run = Store.open(DLM_ID, home).metrics.run(1)
    assert run is not None and run.status == "completed" and run.config["device"] == "cuda"


def test_two_processes_train_on_two_gpus(tiny_model_dir: Path, tmp_path: Path, home: Path) -> None:
    import torch

    if torch.cuda.device_count() < 2:
        pytest.skip("needs two CUDA GPUs")
    path = document(tmp_path, tiny_model_dir)
    done = subprocess.run(
        [sys.executable, "-m", "dlm", "train", str(path), "--nproc", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "DLM_HOME": str(home)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    from trainer.store import Store

    runs = Store.open(DLM_ID, home).metrics.runs()
    assert [(r.phase, r.status, r.world_size) for r in runs] == [
        ("sft", "completed", 2),
        ("dpo", "completed", 2),
    ]


def test_an_auto_batch_grows_and_packs_on_the_gpu_for_a_large_document(
    tiny_model_dir: Path, tmp_path: Path, home: Path, loaded: list[Any]
) -> None:
    """Without `micro_batch_size` in the document, a 600-row document trains with more
    than the CPU's 4 rows per step, packed, and the run records the choice."""
    body = "".join(
        f"::instruction::\n### Q\nWhen does ferry {n} leave?\n### A\nAt {n % 12}:40.\n\n"
        for n in range(600)
    )
    path = tmp_path / "large.dlm"
    path.write_text(
        f"---\ndlm_id: {DLM_ID}\nbase_model: {tiny_model_dir}\n"
        f"training:\n  max_steps: 2\n  sequence_len: 128\n---\n\n{body}",
        encoding="utf-8",
    )
    train(path, "--phase", "sft")
    assert_on_the_gpu(loaded, expected=1)
    from trainer.store import Store
    from trainer.training.batching import CPU_MICRO_BATCH

    run = Store.open(DLM_ID, home).metrics.run(1)
    assert run is not None and run.config["auto_batch"] is True
    assert run.config["packing"] is True
    assert run.config["micro_batch_size"] > CPU_MICRO_BATCH


def test_doctor_run_trains_and_samples_on_the_gpu(tiny_model_dir: Path, home: Path) -> None:
    import torch

    result = runner.invoke(app, ["doctor", "--run", "--base", str(tiny_model_dir), "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0, report["problems"]
    run = report["run"]
    assert run["device"].startswith("cuda") and run["peak_gpu_mb"] > 0
    assert run["precision"] == ("bf16" if torch.cuda.get_device_capability()[0] >= 8 else "fp32")


@pytest.mark.slow
def test_the_demo_runs_end_to_end_on_the_gpu(tmp_path: Path, home: Path) -> None:
    """`dlm demo` on the embedded model, every step on the GPU, still teaching the fact."""
    result = runner.invoke(app, ["demo", str(tmp_path / "demo"), "--device", "cuda"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "demo" / "notes.dlm"
    trained = runner.invoke(app, ["prompt", str(path), "When does the Tern leave Gullmouth?"])
    assert "7:40" in trained.stdout
    shown = json.loads(runner.invoke(app, ["show", str(path), "--json"]).stdout)
    assert [r["phase"] for r in shown["store"]["runs"]] == ["sft", "dpo"]
    from trainer.store import Store

    store = Store.open(shown["dlm_id"], home)
    assert {run.config["device"] for run in store.metrics.runs()} == {"cuda"}
