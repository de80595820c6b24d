"""From a document's `base_model` to a local checkpoint directory. Never downloads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trainer.errors import ModelNotFoundError
from trainer.models.materialize import materialize
from trainer.models.registry import REGISTRY, registry_name


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A base model found on this machine."""

    name: str
    kind: str
    """registry | local | hf-cache"""
    path: Path


def resolve_base_model(
    name: str, home: Path, *, progress: Callable[[str], None] | None = None
) -> ResolvedModel:
    """Find `name`: a registry name, a local directory, or `hf:<org>/<model>` in the HF cache."""
    canonical = registry_name(name)
    if canonical is not None:
        path = materialize(REGISTRY[canonical], home / "models" / canonical, progress)
        return ResolvedModel(canonical, "registry", path)
    if name.startswith("hf:"):
        return ResolvedModel(name, "hf-cache", _from_hf_cache(name[3:]))
    directory = Path(name).expanduser()
    if (directory / "config.json").is_file():
        return ResolvedModel(name, "local", directory.resolve())
    known = ", ".join(sorted(REGISTRY))
    raise ModelNotFoundError(
        f"base_model {name!r} is not a registry name ({known}), not a directory with a "
        f"config.json, and not `hf:<org>/<model>`. Use one of those; dlm never downloads."
    )


def _from_hf_cache(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        raise ModelNotFoundError(
            f"hf:{repo_id} is not in the local Hugging Face cache, and dlm never downloads. "
            f"Fetch it on a machine with network (`huggingface-cli download {repo_id}`) and "
            "copy the cache, or point base_model at a local directory."
        ) from None
