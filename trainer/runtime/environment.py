"""The process: offline mode and threads (the device policy is trainer/runtime/devices.py)."""

from __future__ import annotations

import os
import warnings


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


def configure_threads(threads: int | None) -> int:
    """Intra-op threads: `threads`, else the CPU count (2 threads beat 1 and 4 on 2 cores)."""
    import torch

    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2
    count = max(1, threads or available)
    torch.set_num_threads(count)
    return count
