"""How busy a GPU was over a stretch of a benchmark: nvidia-smi sampled in the background."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import threading
import time
from types import TracebackType

INTERVAL_MS = 100


class GpuBusy:
    """Samples a GPU's utilization (percent of time a kernel ran) while the block runs.

    `mean(start, end)` averages the samples taken between two `time.perf_counter()`
    stamps (e.g. the first and last training step). Without nvidia-smi, or on a CPU,
    there are no samples and `mean` is None.
    """

    def __init__(self, device: str) -> None:
        self._index = device.partition(":")[2] or "0"
        self._enabled = device.startswith("cuda") and shutil.which("nvidia-smi") is not None
        self._samples: list[tuple[float, int]] = []
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> GpuBusy:
        if self._enabled:
            command = ["nvidia-smi", "-i", self._index, "--query-gpu=utilization.gpu"]
            command += ["--format=csv,noheader,nounits", f"-lms={INTERVAL_MS}"]
            self._process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=10)

    def mean(self, start: float, end: float) -> float | None:
        """The mean utilization (percent) of the samples taken between two stamps."""
        inside = [value for stamp, value in self._samples if start <= stamp <= end]
        return statistics.fmean(inside) if inside else None

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            value = line.strip()
            if value.isdigit():
                self._samples.append((time.perf_counter(), int(value)))
