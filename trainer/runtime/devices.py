"""The one device policy: where every model dlm loads runs, and in which precision.

`--device auto|cpu|cuda|cuda:N` (or $DLM_DEVICE) picks the device; `auto` is the
first CUDA GPU when there is one, else the CPU. Precision follows the device, not
the machine: bf16 on a GPU that has it, the measured probe on a CPU, and never bf16
weights on a CPU because some GPU exists (docs/hardware.md).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from trainer.errors import TrainerError

DEVICE_VARIABLE = "DLM_DEVICE"
CHOICES = "auto, cpu, cuda or cuda:N"


class DeviceError(TrainerError):
    """The requested device does not exist here, or cannot run what was asked."""


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a command's models run, and the precision they use there."""

    device: str
    """"cpu" or "cuda:N"."""
    precision: str
    """"bf16", "fp32" or "fp16" (GPUs only)."""

    @property
    def on_gpu(self) -> bool:
        """True on a CUDA device."""
        return self.device.startswith("cuda")

    @property
    def backend(self) -> str:
        """The torch.distributed backend for processes placed like this: NCCL or gloo."""
        return "nccl" if self.on_gpu else "gloo"

    @property
    def kind(self) -> str:
        """ "cpu" or "cuda": the same on every process of a multi-GPU run."""
        return "cuda" if self.on_gpu else "cpu"

    def weights_dtype(self) -> Any:
        """The torch dtype of weights used for inference (sampling, judging, scoring)."""
        import torch

        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision, torch.float32)


_chosen: list[Placement] = []
"""The placement `choose_placement` made for this process (at most one entry)."""


def current_device() -> str:
    """The device chosen for this process by `choose_placement`, else what `auto` (or
    $DLM_DEVICE) picks: where a model loaded without an explicit device goes."""
    return _chosen[0].device if _chosen else resolve_device(None)


def trainer_device(kind: str) -> str:
    """The device a trainer of `kind` ("cpu" or "cuda") uses in this process: the current
    GPU (`choose_placement` or torchrun's local rank made it so), or the CPU."""
    if kind != "cuda":
        return "cpu"
    import torch

    return f"cuda:{torch.cuda.current_device()}"


def resolve_device(requested: str | None = None, *, local_rank: int | None = None) -> str:
    """`requested` (else $DLM_DEVICE, else auto) as "cpu" or "cuda:N".

    Under torchrun (`local_rank` given) a GPU run puts each process on GPU `local_rank`.
    """
    import torch

    value = (requested or os.environ.get(DEVICE_VARIABLE) or "auto").strip().lower()
    available = torch.cuda.is_available()
    if value == "cpu":
        return "cpu"
    if value == "auto":
        if not available:
            return "cpu"
        value = "cuda"
    if value != "cuda" and not (value.startswith("cuda:") and value[5:].isdigit()):
        raise DeviceError(
            f"Unknown device {value!r}: use {CHOICES} (--device or {DEVICE_VARIABLE})."
        )
    if not available:
        raise DeviceError(
            f"Device {value} was asked for, but torch sees no CUDA GPU here "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}). "
            "Use --device cpu, or install a CUDA build of torch on a machine with a GPU."
        )
    count = torch.cuda.device_count()
    if local_rank is not None:
        if value != "cuda":
            raise DeviceError(
                f"--device {value} names one GPU, but a multi-process run gives each process "
                "its own (GPU = local rank). Use --device cuda or auto."
            )
        index = local_rank
    else:
        index = int(value[5:]) if value.startswith("cuda:") else 0
    if index >= count:
        raise DeviceError(
            f"GPU {index} was asked for, but this machine has {count} "
            f"(cuda:0 to cuda:{count - 1}). With --nproc N on GPUs, N can be at most {count}; "
            "to run more processes, put them on the CPU with --device cpu."
        )
    return f"cuda:{index}"


def choose_precision(requested: str, device: str) -> str:
    """bf16, fp32 or fp16 for the document's `training.precision` on `device`."""
    if not device.startswith("cuda"):
        if requested == "fp16":
            raise DeviceError(
                "training.precision is fp16, which does not train on a CPU (no fp16 autocast). "
                "Set `precision: auto` (bf16 where the CPU supports it, else fp32) or `fp32`."
            )
        if requested in ("fp32", "bf16"):
            return requested
        return "bf16" if cpu_supports_bf16() else "fp32"
    if requested in ("fp32", "fp16", "bf16"):
        return requested
    return "bf16" if gpu_has_bf16(device) else "fp32"


def gpu_has_bf16(device: str) -> bool:
    """Native bf16 on this GPU (compute capability 8.0, Ampere, and newer); torch's own
    check also counts the slow emulation of older GPUs, and looks at the current GPU."""
    import torch

    return bool(torch.cuda.get_device_properties(torch.device(device)).major >= 8)


def choose_placement(
    requested_device: str | None, requested_precision: str, *, local_rank: int | None = None
) -> Placement:
    """The device and precision of one command, and the GPU made current for it."""
    device = resolve_device(requested_device, local_rank=local_rank)
    placement = Placement(device, choose_precision(requested_precision, device))
    use(placement)
    return placement


def use(placement: Placement) -> None:
    """Make `placement` this process's: models loaded later go there."""
    if placement.on_gpu:
        import torch

        # Trainers put the model on the current GPU; cuda:N makes it GPU N.
        torch.cuda.set_device(torch.device(placement.device))
    _chosen[:] = [placement]


@cache
def cpu_supports_bf16() -> bool:
    """A real probe: bf16 autocast on this CPU runs, agrees with fp32, and is faster.

    CPUs without native bf16 (e.g. AVX2-only x86) still run bf16 autocast, in
    emulation, measured at ~50x slower than fp32: speed is part of the answer.
    """
    return probe_cpu_bf16().usable


@dataclass(frozen=True, slots=True)
class Bf16Probe:
    """What the CPU bf16 probe measured."""

    runs: bool
    max_error: float | None
    fp32_ms: float | None
    bf16_ms: float | None

    @property
    def usable(self) -> bool:
        """bf16 agrees with fp32 and is at least 10% faster."""
        return bool(
            self.runs
            and self.max_error is not None
            and self.max_error < 0.5
            and self.fp32_ms is not None
            and self.bf16_ms is not None
            and self.bf16_ms < 0.9 * self.fp32_ms
        )


@cache
def probe_cpu_bf16() -> Bf16Probe:
    """Run bf16 autocast on the CPU: does it agree with fp32, and how fast is each."""
    import torch

    try:
        generator = torch.Generator().manual_seed(0)
        left = torch.randn(64, 64, generator=generator)
        right = torch.randn(64, 64, generator=generator)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            fast = left @ right
        exact = left @ right
    except (RuntimeError, TypeError):
        return Bf16Probe(False, None, None, None)
    if fast.dtype != torch.bfloat16 or not bool(torch.isfinite(fast).all()):
        return Bf16Probe(False, None, None, None)
    error = float((fast.float() - exact).abs().max().item())
    fp32_ms, bf16_ms = _layer_times()
    return Bf16Probe(True, error, fp32_ms, bf16_ms)


def _layer_times() -> tuple[float, float]:
    """Milliseconds of one MLP-sized layer (SmolLM2's 576 -> 1536) in fp32 and bf16 autocast."""
    import torch

    layer = torch.nn.Linear(576, 1536)
    inputs = torch.randn(32, 576)

    def best(autocast: bool) -> float:
        times = []
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            for _ in range(4):  # the first call warms up and is ignored
                started = time.perf_counter()
                layer(inputs)
                times.append(time.perf_counter() - started)
        return min(times[1:]) * 1000

    return best(autocast=False), best(autocast=True)
