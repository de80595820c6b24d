"""`--backend vllm` from the command line: mining end to end and `dlm prompt` on the fake
`vllm` (tests/fake_vllm/), the usage errors, and the message when vLLM is missing."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from tests.cli.test_mine_cli import judge
from tests.cli.test_train_cli import DLM_ID, write_document
from tests.conftest import FakeVllmLog
from trainer.generation.backends import vllm as backend_module

runner = CliRunner()


@pytest.fixture(scope="module")
def trained_once(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A document trained for two steps, its store under `<dir>/home`."""
    directory = tmp_path_factory.mktemp("vllm-cli")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLM_HOME", str(directory / "home"))
        path = write_document(directory, tiny_model_dir, max_steps=2)
        result = runner.invoke(app, ["train", str(path)])
        assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def trained(trained_once: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DLM_HOME", str(trained_once.parent / "home"))
    yield trained_once
    runner.invoke(app, ["preference", "discard", str(trained_once)])


@pytest.fixture
def gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_module, "visible_gpus", lambda: ["0"])


def _mine(path: Path, *extra: str) -> object:
    return runner.invoke(
        app,
        [
            "preference",
            "mine",
            str(path),
            "--backend",
            "vllm",
            "--samples",
            "4",
            "--max-new-tokens",
            "12",
            "--threshold",
            "0.05",
            "--seed",
            "0",
            "--json",
            *extra,
        ],
    )


def test_mine_samples_through_vllm_and_a_cli_judge_needs_no_local_model(
    trained: Path,
    tiny_model_dir: Path,
    fake_vllm: FakeVllmLog,
    gpu: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_local_model(*args: object) -> None:
        raise AssertionError("the transformers model was loaded")

    monkeypatch.setattr("trainer.generation.generate.load_for_generation", no_local_model)
    result = _mine(trained, "--judge", judge("ok"), "--progress", "jsonl")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    summary = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert summary["pairs_mined"] == 1 and summary["write_mode"] == "staged"
    stages = [json.loads(line)["stage"] for line in result.stderr.splitlines()]  # type: ignore[attr-defined]
    assert {"load", "sample", "judge", "write"} <= set(stages)

    [engine] = fake_vllm.calls("LLM")
    assert engine["model"] == str(tiny_model_dir.resolve())
    assert engine["kwargs"]["enable_lora"] is True and engine["kwargs"]["max_lora_rank"] == 8
    assert engine["kwargs"]["dtype"] == "float32"  # the document's `precision: fp32`
    version = trained.parent / "home" / "store" / DLM_ID / "adapter" / "versions" / "v0001"
    [lora] = fake_vllm.calls("LoRARequest")
    assert (lora["lora_name"], lora["lora_int_id"], lora["lora_path"]) == ("v0001", 1, str(version))
    [params] = fake_vllm.calls("SamplingParams")
    assert params["kwargs"]["n"] == 4 and params["kwargs"]["max_tokens"] == 12
    assert params["kwargs"]["temperature"] == 0.7 and params["kwargs"]["top_p"] == 0.95


def test_mine_with_the_sway_judge_scores_with_the_local_model(
    trained: Path, fake_vllm: FakeVllmLog, gpu: None
) -> None:
    result = _mine(trained, "--judge", "sway:logprob")
    assert result.exit_code in (0, 2), result.output  # type: ignore[attr-defined]
    summary = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert summary["judge"] == "sway:logprob" and summary["prompts_seen"] == 1
    assert len(fake_vllm.calls("generate")) == 1


def test_prompt_answers_through_vllm(trained: Path, fake_vllm: FakeVllmLog, gpu: None) -> None:
    result = runner.invoke(
        app, ["prompt", str(trained), "When does the Tern leave?", "--backend", "vllm"]
    )
    assert result.exit_code == 0, result.output
    [params] = fake_vllm.calls("SamplingParams")
    assert params["kwargs"]["n"] == 1 and params["kwargs"]["temperature"] == 0.0
    assert result.stdout.startswith("The ") and result.stdout.endswith(":40.\n")

    base = runner.invoke(
        app, ["prompt", str(trained), "Q?", "--backend", "vllm", "--adapter-version", "base"]
    )
    assert base.exit_code == 0, base.output
    assert "enable_lora" not in fake_vllm.calls("LLM")[-1]["kwargs"]


def test_without_vllm_both_commands_fail_with_the_install_command(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)
    for command in (
        ["prompt", str(trained), "Q?", "--backend", "vllm"],
        ["preference", "mine", str(trained), "--backend", "vllm", "--judge", judge("ok")],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 1, result.output
        assert "needs vLLM, which cannot be imported" in result.output
        assert "uv pip install vllm" in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["preference", "mine", "notes.dlm", "--data-parallel-size", "2"],
        ["preference", "mine", "notes.dlm", "--tensor-parallel-size", "2", "--backend", "hf"],
        ["prompt", "notes.dlm", "Q?", "--tensor-parallel-size", "2"],
    ],
)
def test_gpu_sizes_without_the_vllm_backend_are_a_usage_error(command: list[str]) -> None:
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert "add `--backend vllm`" in result.output


def test_an_unknown_backend_is_a_usage_error() -> None:
    result = runner.invoke(app, ["prompt", "notes.dlm", "Q?", "--backend", "tpu"])
    assert result.exit_code == 2 and "hf" in result.output and "vllm" in result.output
