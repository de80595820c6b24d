"""The machine: offline mode, precision probe, threads, device (spec §5, §6)."""

from __future__ import annotations

import os
import warnings
from functools import cache

from trainer.errors import TrainerError


def set_offline() -> None:
    """No network at run time, ever: Hugging Face libraries read only local files."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[name] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # dlm shows its own progress; the libraries' per-file bars are noise on stderr.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    # Deprecation notices about arguments dlm does not pass are not the user's business.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers\.")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


def device() -> str:
    """ "cuda" when a GPU is usable, else "cpu"."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@cache
def cpu_supports_bf16() -> bool:
    """A real probe: bf16 autocast on this CPU runs, agrees with fp32, and is faster.

    CPUs without native bf16 (e.g. AVX2-only x86) still run bf16 autocast, in
    emulation, measured here at ~50x slower than fp32: speed is part of the answer.
    """
    import torch

    try:
        generator = torch.Generator().manual_seed(0)
        left = torch.randn(64, 64, generator=generator)
        right = torch.randn(64, 64, generator=generator)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            fast = left @ right
        exact = left @ right
    except (RuntimeError, TypeError):
        return False
    error = (fast.float() - exact).abs().max().item()
    agrees = bool(fast.dtype == torch.bfloat16 and error < 0.5 and torch.isfinite(fast).all())
    return agrees and _bf16_is_faster()


def _bf16_is_faster() -> bool:
    """Time one MLP-sized layer (SmolLM2's 576 -> 1536) in fp32 and under bf16 autocast."""
    import time

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
        return min(times[1:])

    return best(autocast=True) < 0.9 * best(autocast=False)


def choose_precision(requested: str) -> str:
    """bf16 or fp32 (or fp16 on a GPU) for the document's `training.precision`."""
    import torch

    on_gpu = torch.cuda.is_available()
    if requested == "fp16" and not on_gpu:
        raise TrainerError(
            "training.precision is fp16, which does not train on a CPU (no fp16 autocast). "
            "Set `precision: auto` (bf16 where the CPU supports it, else fp32) or `fp32`."
        )
    if requested in ("fp32", "fp16", "bf16"):
        return requested
    if on_gpu:
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_supports_bf16() else "fp32"


def configure_threads(threads: int | None) -> int:
    """Intra-op threads: `threads`, else the CPU count (2 threads beat 1 and 4 on 2 cores)."""
    import torch

    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2
    count = max(1, threads or available)
    torch.set_num_threads(count)
    return count
