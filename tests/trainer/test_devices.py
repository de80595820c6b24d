"""The device policy (trainer/runtime/devices.py): the device from --device / $DLM_DEVICE, the
precision from the device, and a clear error for a device this machine does not have.

CUDA itself cannot run on the CI machines; where a test needs "a machine with N GPUs" it
sets torch's answers to `is_available`/`device_count`/`get_device_properties`, and
tests/gpu/ runs the real thing on a GPU."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from typer.testing import CliRunner

from dlm.cli import app
from dlm.placement import check_processes
from tests.cli.test_train_cli import write_document
from trainer.runtime.devices import (
    DeviceError,
    Placement,
    choose_precision,
    cpu_supports_bf16,
    probe_cpu_bf16,
    resolve_device,
)


@pytest.fixture
def gpus(monkeypatch: pytest.MonkeyPatch) -> object:
    """Make torch report `count` CUDA GPUs (with bf16) without touching a real one."""

    def have(count: int, *, bf16: bool = True) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
        gpu = SimpleNamespace(name="GPU", total_memory=2**34, major=8 if bf16 else 7, minor=0)
        monkeypatch.setattr(torch.cuda, "get_device_properties", lambda *a, **k: gpu)

    return have


def test_auto_is_the_cpu_without_a_gpu(gpus: object, monkeypatch: pytest.MonkeyPatch) -> None:
    gpus(0)  # type: ignore[operator]
    monkeypatch.delenv("DLM_DEVICE", raising=False)
    assert resolve_device(None) == resolve_device("auto") == resolve_device("CPU") == "cpu"


def test_auto_is_the_first_gpu_and_each_process_gets_its_own(gpus: object) -> None:
    gpus(2)  # type: ignore[operator]
    assert resolve_device("auto") == resolve_device("cuda") == "cuda:0"
    assert resolve_device("cuda:1") == "cuda:1"
    assert resolve_device("auto", local_rank=1) == "cuda:1"
    assert resolve_device("cpu", local_rank=1) == "cpu"


def test_the_environment_chooses_when_the_flag_does_not(
    gpus: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    gpus(1)  # type: ignore[operator]
    monkeypatch.setenv("DLM_DEVICE", "cpu")
    assert resolve_device(None) == "cpu"
    assert resolve_device("cuda") == "cuda:0"  # the flag wins


@pytest.mark.parametrize(
    ("count", "requested", "local_rank", "message"),
    [
        (0, "cuda", None, "torch sees no CUDA GPU here"),
        (1, "cuda:1", None, "GPU 1 was asked for, but this machine has 1 (cuda:0 to cuda:0)"),
        (2, "cuda", 2, "With --nproc N on GPUs, N can be at most 2; .* --device cpu"),
        (2, "cuda:0", 1, "a multi-process run gives each process its own"),
        (1, "gpu", None, "Unknown device 'gpu': use auto, cpu, cuda or cuda:N"),
        (1, "cuda:x", None, "Unknown device 'cuda:x'"),
    ],
)
def test_devices_this_machine_lacks_are_clear_errors(
    gpus: object, count: int, requested: str, local_rank: int | None, message: str
) -> None:
    gpus(count)  # type: ignore[operator]
    with pytest.raises(DeviceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve_device(requested, local_rank=local_rank)


def test_a_launch_needs_one_gpu_per_process(gpus: object) -> None:
    gpus(2)  # type: ignore[operator]
    check_processes("auto", 2)
    check_processes("cpu", 8)  # processes on the CPU need no GPU
    with pytest.raises(DeviceError, match="N can be at most 2"):
        check_processes(None, 3)


def test_precision_follows_the_device_not_the_machine(gpus: object) -> None:
    gpus(1, bf16=True)  # type: ignore[operator]
    assert choose_precision("auto", "cuda:0") == "bf16"
    # A GPU elsewhere never makes CPU weights bf16: the CPU's own probe decides.
    assert choose_precision("auto", "cpu") == ("bf16" if cpu_supports_bf16() else "fp32")
    gpus(1, bf16=False)  # type: ignore[operator]
    assert choose_precision("auto", "cuda:0") == "fp32"
    assert choose_precision("fp16", "cuda:0") == "fp16"
    with pytest.raises(DeviceError, match="fp16, which does not train on a CPU"):
        choose_precision("fp16", "cpu")


def test_the_cpu_probe_reports_what_it_measured() -> None:
    probe = probe_cpu_bf16()
    assert probe.runs and probe.max_error is not None and probe.max_error < 0.5
    assert probe.fp32_ms is not None and probe.fp32_ms > 0
    assert probe.usable == cpu_supports_bf16()


def test_placement_dtypes_and_backends() -> None:
    assert Placement("cpu", "fp32").weights_dtype() == torch.float32
    assert Placement("cpu", "bf16").weights_dtype() == torch.bfloat16
    gpu = Placement("cuda:1", "fp16")
    assert (gpu.on_gpu, gpu.kind, gpu.backend, gpu.weights_dtype()) == (
        True,
        "cuda",
        "nccl",
        torch.float16,
    )
    assert (Placement("cpu", "fp32").kind, Placement("cpu", "fp32").backend) == ("cpu", "gloo")


@pytest.mark.parametrize(
    "command", [["train"], ["prompt", "--max-new-tokens", "2", "--adapter-version", "base"]]
)
def test_asking_for_a_gpu_on_a_cpu_machine_says_so(
    command: list[str],
    tiny_model_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    gpus: object,
) -> None:
    gpus(0)  # type: ignore[operator]
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    path = write_document(tmp_path, tiny_model_dir)
    arguments = [command[0], str(path), *(["Hi?"] if command[0] == "prompt" else [])]
    result = CliRunner().invoke(app, [*arguments, *command[1:], "--device", "cuda"])
    assert result.exit_code == 1, result.output
    assert "Device cuda was asked for, but torch sees no CUDA GPU here" in result.output
    assert "Use --device cpu" in result.output
