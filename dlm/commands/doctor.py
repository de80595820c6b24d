"""`dlm doctor`: what dlm will use on this machine, and why (docs/hardware.md#dlm-doctor)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dlm.errors import EXIT_FAILURE, EXIT_USAGE, CliError
from dlm.jsonout import to_json
from dlm.placement import DeviceOption
from dlm.render import printable
from dlm.verbosity import note

if TYPE_CHECKING:
    from trainer.runtime.doctor import DoctorReport
    from trainer.runtime.trial_run import TrialRun

SCHEMA_VERSION = 1
WIDTH = 11
"""Label column of the text report."""


def doctor(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON of docs/json.md.")
    ] = False,
    run: Annotated[
        bool,
        typer.Option(
            "--run",
            help="Also train 3 SFT steps and answer once on the chosen device, in a "
            "temporary store, and print the timings.",
        ),
    ] = False,
    base: Annotated[
        str | None,
        typer.Option(
            help="With --run: the base model (a registry name or a checkpoint directory). "
            "Default: smollm2-135m.",
            show_default=False,
        ),
    ] = None,
    device: DeviceOption = None,
) -> None:
    """Show what dlm will use here and why: device and precision, GPUs, CPU flags, the
    bf16 probe, library versions, the embedded model, DLM_HOME's free disk.

    Problems come first, each with its fix; any problem makes the exit code 1.

    Example: dlm doctor --run --device cpu
    """
    if base is not None and not run:
        raise CliError("--base names the model of the trial run; add --run.", EXIT_USAGE)
    from trainer.runtime.doctor import examine

    report = examine(device, run=run, base=base, progress=note)
    if as_json:
        typer.echo(to_json(report_json(report)))
    else:
        typer.echo("\n".join(report_lines(report, asked_to_run=run)))
    if not report.ok:
        raise typer.Exit(EXIT_FAILURE)


def report_json(report: DoctorReport) -> dict[str, Any]:
    """The report as the JSON of docs/json.md."""
    payload = {"schema_version": SCHEMA_VERSION, "ok": report.ok, **asdict(report)}
    payload["cpu"]["bf16_probe"]["usable"] = report.cpu.bf16_probe.usable
    return payload


def report_lines(report: DoctorReport, *, asked_to_run: bool = False) -> list[str]:
    """The report as aligned text: problems (with their fix) first."""
    lines = [_row("problem", problem) for problem in report.problems]
    lines += [""] if lines else []
    choice = report.choice
    if choice.device is None:
        lines.append(_row("device", f"none: {choice.requested} does not exist here"))
    else:
        asked = {"--device": f"--device {choice.requested}", "default": "auto"}.get(
            choice.requested_from, f"{choice.requested_from}={choice.requested}"
        )
        lines.append(
            _row("device", f"{choice.device} in {choice.precision} ({asked}, precision auto)")
        )
        lines.append(_row("why", choice.reason))
    torch = report.torch
    build = f"CUDA {torch.cuda_build} build" if torch.cuda_build else "CPU build"
    usable = "CUDA usable" if torch.cuda_available else "CUDA not usable"
    lines.append(_row("python", f"{report.python} on {report.platform}"))
    lines.append(_row("torch", f"{torch.version} ({build}; {usable})"))
    lines += _gpu_rows(report)
    lines.append(_row("cpu", _cpu_text(report)))
    lines.append(_row("libraries", _libraries_text(report)))
    vllm = report.vllm
    found = (vllm.version or "importable") if vllm.importable else "not installed"
    lines.append(_row("vllm", found))
    lines.append(_row("model", _model_text(report)))
    home = report.home
    missing = "" if home.exists else " (not created yet)"
    lines.append(_row("DLM_HOME", f"{home.path}{missing}, {_size(home.free_bytes)} free"))
    if report.run is not None:
        lines += _run_rows(report.run)
    elif asked_to_run and report.choice.device is None:
        lines += ["", _row("trial run", "not run: the device asked for does not exist here")]
    return lines


def _row(label: str, text: str) -> str:
    return f"{label:<{WIDTH}}{printable(text)}"


def _gpu_rows(report: DoctorReport) -> list[str]:
    if not report.gpus:
        return [_row("gpus", "none")]
    return [
        _row(
            f"gpu {gpu.index}",
            f"{gpu.name}, {gpu.total_memory_mb:,} MB, compute capability "
            f"{gpu.compute_capability}, {'bf16' if gpu.bf16 else 'no native bf16'}",
        )
        for gpu in report.gpus
    ]


def _cpu_text(report: DoctorReport) -> str:
    cpu = report.cpu
    text = f"{cpu.model}, {cpu.cores} core(s) for dlm"
    if not cpu.flags and not cpu.missing_flags:
        return f"{text}; flags unknown"
    text += f"; has {' '.join(cpu.flags) or 'none of ours'}"
    return text + (f"; lacks {' '.join(cpu.missing_flags)}" if cpu.missing_flags else "")


def _libraries_text(report: DoctorReport) -> str:
    return ", ".join(f"{name} {version or 'missing'}" for name, version in report.libraries.items())


def _model_text(report: DoctorReport) -> str:
    model = report.model
    if model.materialized and model.materialized_bytes is not None:
        state = f"converted in {model.path} ({_size(model.materialized_bytes)})"
    else:
        state = f"not converted yet (on first use, into {model.path})"
    if model.gguf_bytes is not None:
        source = f"GGUF {_size(model.gguf_bytes)} in {model.distribution}"
    else:
        source = f"GGUF missing ({model.distribution} not installed)"
    return f"{model.name} {state}; {source}"


def _run_rows(trial: TrialRun) -> list[str]:
    steps = ", ".join(f"{seconds:.2f}" for seconds in trial.step_seconds)
    speed = trial.train_tokens_per_second
    rows = [
        "",
        _row("trial run", f"{trial.base_model} on {trial.device} in {trial.precision}"),
        _row("  imports", f"{trial.import_seconds:.2f} s (transformers, peft, trl)"),
        _row("  load", f"{trial.load_seconds:.2f} s (model, data, LoRA)"),
        _row(
            "  steps",
            f"{trial.steps}: {steps} s" + (f"; {speed:,.0f} tokens/s" if speed else ""),
        ),
        _row(
            "  sample",
            f"{trial.sample_tokens} tokens in {trial.sample_seconds:.2f} s, "
            f"{trial.sample_tokens_per_second:,.1f} tokens/s "
            f"(loading {trial.sample_load_seconds:.2f} s)",
        ),
    ]
    if trial.peak_gpu_mb is not None:
        rows.append(_row("  peak GPU", f"{trial.peak_gpu_mb:,.0f} MB"))
    return rows


def _size(count: int) -> str:
    if count >= 2**30:
        return f"{count / 2**30:,.1f} GB"
    return f"{count / 2**20:,.0f} MB"
