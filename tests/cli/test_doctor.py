"""`dlm doctor`: the report on this machine, a missing device as a problem, the trial run."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

import trainer.runtime.doctor
from dlm.cli import app
from dlm.commands.doctor import report_lines
from tests.cli.test_json_docs import _documented, conforms
from trainer.errors import ModelNotFoundError
from trainer.runtime.cpuinfo import WATCHED_FLAGS
from trainer.runtime.doctor import examine

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
FAKE_CPUINFO = (
    "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n"
    "flags\t\t: fpu avx avx2 fma f16c avx512f avx512_bf16 amx_tile amx_bf16\n"
)


@pytest.fixture(autouse=True)
def _no_device_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DLM_DEVICE", raising=False)


def _doctor(*arguments: str) -> tuple[int, Any]:
    result = runner.invoke(app, ["doctor", *arguments, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_json_describes_this_machine(home: Path) -> None:
    code, report = _doctor()
    assert (code, report["schema_version"], report["ok"], report["problems"]) == (0, 1, True, [])
    expected = "cuda:0" if torch.cuda.is_available() else "cpu"
    assert report["choice"]["device"] == expected
    assert report["choice"]["requested"] == "auto"
    assert report["choice"]["precision"] in ("bf16", "fp32")
    assert report["choice"]["reason"].startswith(f"{expected}: ")
    assert report["torch"]["version"] == torch.__version__
    assert report["torch"]["cuda_build"] == torch.version.cuda
    cpu = report["cpu"]
    assert isinstance(cpu["flags"], list) and isinstance(cpu["missing_flags"], list)
    assert set(cpu["flags"]) | set(cpu["missing_flags"]) in (set(), set(WATCHED_FLAGS))
    assert cpu["cores"] >= 1
    assert report["libraries"]["trl"] == importlib.metadata.version("trl")
    assert report["vllm"]["importable"] == (importlib.util.find_spec("vllm") is not None)
    assert report["model"]["materialized"] is False  # a fresh DLM_HOME
    assert Path(report["model"]["gguf"]).is_file()
    assert (report["home"]["path"], report["home"]["exists"]) == (str(home), False)
    assert report["home"]["free_bytes"] > 0
    assert report["run"] is None


def test_text_names_the_device_and_precision(home: Path) -> None:
    _, report = _doctor("--device", "cpu")
    result = runner.invoke(app, ["doctor", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    precision = report["choice"]["precision"]
    assert lines[0] == f"device     cpu in {precision} (--device cpu, precision auto)"
    assert lines[1].startswith("why        cpu: asked for; ")
    assert any(line.startswith("torch      " + torch.__version__) for line in lines)


@NO_GPU
def test_a_missing_gpu_is_a_problem_with_exit_1(home: Path) -> None:
    result = runner.invoke(app, ["doctor", "--device", "cuda"])
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("problem    Device cuda was asked for, but torch sees no CUDA GPU here")
    assert "Use --device cpu" in first
    code, report = _doctor("--device", "cuda")
    assert (code, report["ok"], report["choice"]["device"]) == (1, False, None)
    assert report["problems"] == [report["choice"]["reason"]]


def test_an_unknown_device_is_a_problem(home: Path) -> None:
    code, report = _doctor("--device", "tpu")
    assert code == 1
    assert report["problems"] == [
        "Unknown device 'tpu': use auto, cpu, cuda or cuda:N (--device or DLM_DEVICE)."
    ]


def test_the_embedded_model_missing_is_a_problem(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(source: object) -> Path:
        raise ModelNotFoundError("not installed")

    monkeypatch.setattr(trainer.runtime.doctor, "gguf_path", missing)
    code, report = _doctor()
    assert code == 1
    assert report["model"]["gguf"] is None
    assert report["problems"][0].startswith("The embedded model smollm2-135m is not converted yet")


def test_base_without_run_is_a_usage_error() -> None:
    result = runner.invoke(app, ["doctor", "--base", "smollm2-135m"])
    assert result.exit_code == 2
    assert "--base names the model of the trial run; add --run." in result.output


def test_report_reads_the_cpuinfo_it_is_given(home: Path) -> None:
    report = examine("cpu", cpuinfo=FAKE_CPUINFO)
    assert report.cpu.model == "Intel(R) Xeon(R) Platinum 8480+"
    assert report.cpu.flags == WATCHED_FLAGS and report.cpu.missing_flags == ()
    assert (report.choice.requested, report.choice.requested_from) == ("cpu", "--device")
    assert report.choice.reason.startswith("cpu: asked for; ")
    unknown = examine("cpu", cpuinfo="")
    assert (unknown.cpu.model, unknown.cpu.flags, unknown.cpu.missing_flags) == ("unknown", (), ())


def test_the_device_variable_is_the_request(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLM_DEVICE", "cpu")
    choice = examine(cpuinfo="").choice
    assert (choice.requested, choice.requested_from, choice.device) == ("cpu", "DLM_DEVICE", "cpu")


def test_run_trains_three_steps_and_samples(tiny_model_dir: Path, home: Path) -> None:
    code, report = _doctor("--run", "--base", str(tiny_model_dir))
    assert code == 0, report["problems"]
    run = report["run"]
    assert (run["steps"], len(run["step_seconds"])) == (3, 3)
    assert run["base_model"] == str(tiny_model_dir)
    assert (run["device"], run["precision"]) == (
        report["choice"]["device"],
        report["choice"]["precision"],
    )
    timings = [run["load_seconds"], *run["step_seconds"], run["sample_seconds"]]
    assert all(seconds > 0 for seconds in timings)
    assert run["train_tokens_per_second"] > 0 and run["sample_load_seconds"] > 0
    assert run["sample_tokens"] >= 0 and isinstance(run["answer"], str)
    assert (run["peak_gpu_mb"] is None) == (run["device"] == "cpu")
    assert not (home / "store").exists()  # the trial's store was a temporary directory
    assert conforms(report, _documented("dlm doctor --json"))


def test_without_run_no_model_code_is_imported(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dlm", "doctor", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "DLM_HOME": str(tmp_path), "DLM_DEVICE": ""},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()}
    assert "torch" in imported
    assert not imported & {"transformers", "trl", "peft", "accelerate", "vllm"}


def test_a_failed_trial_run_is_a_problem(home: Path, tmp_path: Path) -> None:
    code, report = _doctor("--run", "--base", str(tmp_path / "no-model"))
    assert code == 1
    assert report["run"] is None
    assert report["problems"][0].startswith("The trial run failed: base_model ")


def test_a_gpu_machine_as_torch_describes_it(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The GPU path on any machine: torch.cuda answers as on a machine with a V100 and an H200."""
    gpus = [
        SimpleNamespace(name="Tesla V100", total_memory=16 * 2**30, major=7, minor=0),
        SimpleNamespace(name="NVIDIA H200", total_memory=141 * 2**30, major=9, minor=0),
    ]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: len(gpus))

    def properties(where: int | str | torch.device) -> SimpleNamespace:
        return gpus[where if isinstance(where, int) else torch.device(where).index or 0]

    monkeypatch.setattr(torch.cuda, "get_device_properties", properties)
    report = examine("cuda:1", cpuinfo="")
    assert [(gpu.name, gpu.compute_capability, gpu.bf16) for gpu in report.gpus] == [
        ("Tesla V100", "7.0", False),
        ("NVIDIA H200", "9.0", True),
    ]
    assert report.gpus[1].total_memory_mb == 141 * 1024
    assert (report.choice.device, report.choice.precision) == ("cuda:1", "bf16")
    assert report.choice.reason == "cuda:1: NVIDIA H200, bf16 supported"
    lines = report_lines(report)
    assert "gpu 1      NVIDIA H200, 144,384 MB, compute capability 9.0, bf16" in lines
    v100 = examine("cuda:0", cpuinfo="").choice
    assert v100.reason == "cuda:0: Tesla V100, no native bf16 (compute capability 7.0)"
    assert v100.precision == "fp32"  # never emulated bf16 on an older GPU
    missing = examine("cuda:2", cpuinfo="")
    assert missing.problems[0].startswith("GPU 2 was asked for, but this machine has 2 ")


def test_a_converted_model_is_reported_with_its_size(home: Path) -> None:
    converted = home / "models" / "smollm2-135m"
    converted.mkdir(parents=True)
    (converted / "dlm-materialized.txt").write_text("from test\n", encoding="utf-8")
    (converted / "model.safetensors").write_bytes(b"\0" * 1000)
    model = examine("cpu", cpuinfo="").model
    assert (model.materialized, model.materialized_bytes) == (True, 1010)
    assert model.path == str(converted)
