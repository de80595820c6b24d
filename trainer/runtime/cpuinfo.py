"""The CPU as /proc/cpuinfo describes it: its model name and the instruction sets that
decide how fast dlm trains on it (docs/hardware.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

WATCHED_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16", "fma", "f16c")
"""The flags worth showing: AVX2/FMA/F16C for fp32 speed, AVX512-BF16 and AMX for native bf16."""
UNKNOWN = "unknown"
CPUINFO = Path("/proc/cpuinfo")


@dataclass(frozen=True, slots=True)
class CpuFeatures:
    """The CPU's model name and which watched flags it has."""

    model: str
    """The first processor's `model name`, or "unknown"."""
    flags: tuple[str, ...]
    """Watched flags the CPU has, in `WATCHED_FLAGS` order."""
    missing: tuple[str, ...]
    """Watched flags it lacks; both empty when the flags could not be read."""


def parse_cpuinfo(text: str) -> CpuFeatures:
    """The first processor block of /proc/cpuinfo text; never raises (unknown parts stay
    "unknown" or empty)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break  # the first processor is enough: the others are the same CPU
            continue
        key, colon, value = line.partition(":")
        if colon:
            fields.setdefault(key.strip().lower(), value.strip())
    model = fields.get("model name") or UNKNOWN
    if "flags" not in fields:
        return CpuFeatures(model, (), ())
    present = set(fields["flags"].split())
    return CpuFeatures(
        model,
        tuple(flag for flag in WATCHED_FLAGS if flag in present),
        tuple(flag for flag in WATCHED_FLAGS if flag not in present),
    )


def read_cpu_features(path: Path = CPUINFO) -> CpuFeatures:
    """This machine's CPU features; "unknown" where there is no /proc/cpuinfo (not Linux)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return CpuFeatures(UNKNOWN, (), ())
    return parse_cpuinfo(text)
