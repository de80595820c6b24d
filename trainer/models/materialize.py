"""Turning the embedded GGUF into a plain safetensors checkpoint, once (README, "Install").

transformers loads GGUF and dequantises the weights, but keeps a quantizer on
the model that refuses saving and training. The weights are plain already, so
we drop the quantizer and save once under $DLM_HOME/models/<name>/; later loads
take a fraction of a second instead of the GGUF conversion.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock

from trainer.errors import ModelNotFoundError
from trainer.models.registry import GgufSource

MARKER = "dlm-materialized.txt"


def gguf_path(source: GgufSource) -> Path:
    """The GGUF file inside its installed distribution (never imported)."""
    try:
        files = importlib.metadata.files(source.distribution) or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for entry in files:
        if str(entry) == source.filename:
            located = Path(str(entry.locate()))
            if located.is_file():
                return located
    raise ModelNotFoundError(
        f"The embedded model file {source.filename} is missing: the package "
        f"{source.distribution} is not installed. Reinstall dlm (`uv sync`) to get it."
    )


def materialize(
    source: GgufSource, target: Path, progress: Callable[[str], None] | None = None
) -> Path:
    """`target` holding a safetensors checkpoint of `source`, converting it if needed."""
    if (target / MARKER).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / f".{target.name}.lock")):
        if (target / MARKER).exists():
            return target
        gguf = gguf_path(source)
        if progress is not None:
            progress(
                f"First use of {source.description}: converting {gguf.name} into a checkpoint "
                f"under {target} (once, about half a minute)..."
            )
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            _convert(gguf, staging)
            (staging / MARKER).write_text(f"from {gguf}\n", encoding="utf-8")
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return target


def _convert(gguf: Path, destination: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # The weights were dequantised on load; what remains is bookkeeping that
    # blocks save_pretrained and training.
    plain: Any = model
    plain.hf_quantizer = None
    plain.is_quantized = False
    if hasattr(plain.config, "quantization_config"):
        del plain.config.quantization_config
    model.save_pretrained(str(destination), safe_serialization=True)
    tokenizer.save_pretrained(str(destination))
