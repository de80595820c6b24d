"""`dlm export`: an adapter version merged into the base model, as a checkpoint or a GGUF."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dlm.documents import load_valid_document
from dlm.jsonout import to_json
from dlm.models import base_model_dir
from dlm.verbosity import note

if TYPE_CHECKING:
    from trainer.export import ExportResult


class ExportFormat(StrEnum):
    """What `--format` accepts."""

    MERGED = "merged"
    GGUF = "gguf"


class Quant(StrEnum):
    """What `--quant` accepts (trainer.export.QUANTS)."""

    F16 = "f16"
    Q8_0 = "q8_0"
    Q4_K_M = "q4_k_m"


FORMAT_HELP = "merged: a transformers checkpoint (vLLM loads it too); gguf: for llama.cpp."
QUANT_HELP = "The GGUF's quantization (--format gguf)."


def export(
    path: Annotated[Path, typer.Argument(help="The .dlm document whose adapter is exported.")],
    export_format: Annotated[
        ExportFormat, typer.Option("--format", help=FORMAT_HELP)
    ] = ExportFormat.MERGED,
    quant: Annotated[Quant, typer.Option(help=QUANT_HELP)] = Quant.Q4_K_M,
    adapter_version: Annotated[
        str | None,
        typer.Option(help="vNNNN, or `base` for the base model alone (default: current)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="The directory to write (default: <store>/exports/<version>-<format>).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an earlier export in --out.")
    ] = False,
    ollama: Annotated[
        str | None,
        typer.Option(
            "--ollama",
            help="Also write an Ollama Modelfile for a model of this NAME (--format gguf).",
            metavar="NAME",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (docs/json.md).")] = False,
) -> None:
    """Export an adapter version merged into its base model (docs/export.md).

    The export is written into a temporary directory and renamed into place when
    complete, and recorded in the store (`dlm show`). A GGUF is made with llama.cpp's
    own converter and quantizer, built once on first use.

    Example: dlm export notes.dlm --format gguf --quant q4_k_m --ollama notes
    """
    loaded = load_valid_document(path)
    from trainer.runtime.environment import set_offline

    set_offline()
    from trainer.export import ExportRequest, default_out, export_adapter, record_export
    from trainer.export.toolenv import tools_dir
    from trainer.store import Store, dlm_home

    store = Store.open(loaded.frontmatter.dlm_id, dlm_home())
    version = store.resolve_version(adapter_version, str(path), "the export starts from it")
    target = out or default_out(store.root, version, export_format.value, quant.value)
    request = ExportRequest(
        model_dir=base_model_dir(loaded.frontmatter.base_model),
        adapter_dir=None if version == "base" else store.version_path(version),
        version=version,
        out=target.expanduser().absolute(),
        format=export_format.value,
        quant=quant.value,
        force=force,
        ollama_name=ollama,
        system_prompt=loaded.frontmatter.system_prompt,
    )
    result = export_adapter(request, tools_dir(dlm_home()), note)
    record_export(store.root, result)
    typer.echo(to_json(_summary(result)) if as_json else _text(result))


def _summary(result: ExportResult) -> dict[str, Any]:
    """`dlm export --json` (docs/json.md)."""
    return {
        "schema_version": 1,
        "adapter_version": result.version,
        "format": result.format,
        "quant": result.quant,
        "path": str(result.path),
        "files": result.files,
        "bytes": result.bytes,
        "seconds": round(result.seconds, 1),
        "model_file": result.model_file,
        "modelfile": str(result.modelfile) if result.modelfile else None,
        "ollama_command": result.ollama_command,
        "notes": result.notes,
    }


def _text(result: ExportResult) -> str:
    """The human summary: where the export is, and the Ollama command if any."""
    kind = result.format if result.quant is None else f"{result.format} {result.quant}"
    lines = [
        f"Exported {result.version} ({kind}, {result.bytes / 1e6:.1f} MB in "
        f"{result.seconds:.1f} s) to {result.path}",
        *result.notes,
    ]
    if result.ollama_command:
        lines.append(f"Add it to Ollama: {result.ollama_command}")
    return "\n".join(lines)
