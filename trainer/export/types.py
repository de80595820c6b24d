"""What an export is asked for and what it produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("merged", "gguf")
QUANTS = ("f16", "q8_0", "q4_k_m")
DEFAULT_QUANT = "q4_k_m"


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """One export of an adapter version: the base model with it merged, in a format."""

    model_dir: Path
    """The base model's checkpoint directory."""
    adapter_dir: Path | None
    """The adapter version's directory; None exports the base model alone."""
    version: str
    """The adapter version's name ("v0003", or "base")."""
    out: Path
    """The directory to create (it must not exist, be empty, or `force`)."""
    format: str = "merged"
    quant: str = DEFAULT_QUANT
    """The GGUF's quantization (format gguf only)."""
    force: bool = False
    ollama_name: str | None = None
    """Also write an Ollama Modelfile for a model of this name (format gguf only)."""
    system_prompt: str | None = None
    """The document's system prompt, for the Modelfile's SYSTEM."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    """A finished export: where it is, what it holds, how long it took."""

    version: str
    format: str
    quant: str | None
    path: Path
    files: list[str]
    """File names inside `path`, sorted."""
    bytes: int
    seconds: float
    model_file: str | None = None
    """The GGUF file's name (format gguf)."""
    modelfile: Path | None = None
    ollama_command: str | None = None
    notes: list[str] = field(default_factory=list)
    """Things the user should know (an Ollama template left to Ollama, say)."""
