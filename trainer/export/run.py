"""The export use case: merge an adapter version, convert it, write it atomically."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

from trainer.errors import ExportError
from trainer.export import gguf, ollama
from trainer.export.merged import write_merged
from trainer.export.toolenv import LlamaCppTools, ensure_tools
from trainer.export.types import FORMATS, QUANTS, ExportRequest, ExportResult
from trainer.store.atomic import fsync_directory, fsync_tree

Progress = Callable[[str], None]


def export_adapter(request: ExportRequest, tools_root: Path, progress: Progress) -> ExportResult:
    """Write `request.out` complete, or leave nothing there: the merged checkpoint, or a
    GGUF (with an Ollama Modelfile when asked), built in a temp dir renamed into place."""
    _check(request)
    _check_target(request)  # before building any tool; again under the lock
    started = time.monotonic()
    tools = ensure_tools(tools_root, progress) if request.format == "gguf" else None
    request.out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(request.out.parent / f".{request.out.name}.lock")):
        _check_target(request)
        with _staging(request.out) as (staging, scratch):
            result = _write(request, tools, staging, scratch, progress)
            _replace(request.out, staging)
    files = sorted(p.name for p in request.out.iterdir())
    size = sum(p.stat().st_size for p in request.out.rglob("*") if p.is_file())
    return ExportResult(
        version=request.version,
        format=request.format,
        quant=request.quant if request.format == "gguf" else None,
        path=request.out,
        files=files,
        bytes=size,
        seconds=time.monotonic() - started,
        model_file=result.model_file,
        modelfile=request.out / result.modelfile.name if result.modelfile else None,
        ollama_command=_ollama_command(request),
        notes=result.notes,
    )


def default_out(store_root: Path, version: str, format: str, quant: str) -> Path:
    """`<store>/exports/<version>-merged` or `<store>/exports/<version>-gguf-<quant>`."""
    name = f"{version}-merged" if format == "merged" else f"{version}-gguf-{quant}"
    return store_root / "exports" / name


def _check(request: ExportRequest) -> None:
    """The request's options go together."""
    if request.format not in FORMATS:
        raise ExportError(f"--format {request.format!r}: use one of {', '.join(FORMATS)}.")
    if request.quant not in QUANTS:
        raise ExportError(f"--quant {request.quant!r}: use one of {', '.join(QUANTS)}.")
    if request.ollama_name is not None:
        if request.format != "gguf":
            raise ExportError("--ollama needs a GGUF: add --format gguf.")
        ollama.check_name(request.ollama_name)


def _check_target(request: ExportRequest) -> None:
    """The output directory may be written: absent, empty, or replaced with --force."""
    out = request.out
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} exists and is not a directory: choose another --out.")
    if out.is_dir() and any(out.iterdir()) and not request.force:
        raise ExportError(
            f"{out} already holds an export. Add --force to replace it, or choose another --out."
        )


@contextmanager
def _staging(out: Path) -> Iterator[tuple[Path, Path]]:
    """A temp dir beside `out` to build the export in and one for intermediate files;
    both are gone afterwards unless the first was renamed into place."""
    for stale in out.parent.glob(f".{out.name}.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    staging.chmod(_directory_mode())  # mkdtemp's 0700 would hide the export from a server
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-work-", dir=out.parent))
    try:
        yield staging, scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)


def _directory_mode() -> int:
    """The mode a new directory gets under this process's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


class _Written:
    """What `_write` put in the staging directory besides the weights."""

    def __init__(self) -> None:
        self.model_file: str | None = None
        self.modelfile: Path | None = None
        self.notes: list[str] = []


def _write(
    request: ExportRequest,
    tools: LlamaCppTools | None,
    staging: Path,
    scratch: Path,
    progress: Progress,
) -> _Written:
    """The export's files, into `staging`."""
    written = _Written()
    merged = staging if request.format == "merged" else scratch / "merged"
    what = "the base model alone" if request.adapter_dir is None else request.version
    progress(f"Merging {what} into the base model's weights...")
    write_merged(request.model_dir, request.adapter_dir, merged)
    if request.format == "merged" or tools is None:
        return written
    written.model_file = _write_gguf(request, tools, merged, staging, scratch, progress)
    if request.ollama_name is not None:
        progress("Writing the Ollama Modelfile...")
        template = _chat_template(merged)
        text = ollama.modelfile(written.model_file, template, request.system_prompt)
        written.modelfile = staging / "Modelfile"
        written.modelfile.write_text(text, encoding="utf-8")
        if not ollama.is_chatml(template):
            written.notes.append(
                "The chat template is not ChatML: the Modelfile has no TEMPLATE, so Ollama "
                "uses the template stored in the GGUF."
            )
    return written


def _write_gguf(
    request: ExportRequest,
    tools: LlamaCppTools,
    merged: Path,
    staging: Path,
    scratch: Path,
    progress: Progress,
) -> str:
    """The GGUF file in `staging`: converted to f16, then quantized unless f16 was asked."""
    name = f"{request.out.name}.gguf"
    log = scratch / "llama.cpp.log"
    f16 = staging / name if request.quant == "f16" else scratch / "model-f16.gguf"
    progress("Converting to GGUF (f16) with llama.cpp's convert_hf_to_gguf.py...")
    _keeping_log(lambda: gguf.convert_to_f16(tools, merged, f16, log), log, request.out)
    if request.quant != "f16":
        progress(f"Quantizing to {request.quant} with llama.cpp...")
        quantized, quant = staging / name, request.quant
        _keeping_log(lambda: gguf.quantize(tools, f16, quantized, quant, log), log, request.out)
    return name


def _keeping_log(step: Callable[[], None], log: Path, out: Path) -> None:
    """Run `step`; if it fails, keep the tool's log beside the export's place, and say so."""
    try:
        step()
    except ExportError as error:
        kept = out.with_name(f"{out.name}.log")
        if log.exists():
            shutil.copyfile(log, kept)
        raise ExportError(str(error).replace(str(log), str(kept))) from None


def _chat_template(checkpoint: Path) -> str | None:
    """The tokenizer's Jinja chat template, as saved in the checkpoint."""
    jinja = checkpoint / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    config = checkpoint / "tokenizer_config.json"
    if config.is_file():
        template = json.loads(config.read_text(encoding="utf-8")).get("chat_template")
        return template if isinstance(template, str) else None
    return None


def _replace(out: Path, staging: Path) -> None:
    """`staging` renamed to `out`, an earlier export there (--force) moved aside first."""
    fsync_tree(staging)
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{time.time_ns()}")
        out.rename(old)
    staging.rename(out)
    fsync_directory(out.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _ollama_command(request: ExportRequest) -> str | None:
    if request.ollama_name is None:
        return None
    return ollama.create_command(request.ollama_name, str(request.out / "Modelfile"))
