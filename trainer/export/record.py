"""The store's log of exports (`<store>/exports.json`), shown by `dlm show`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from trainer.errors import CorruptStoreError
from trainer.export.types import ExportResult
from trainer.store.atomic import write_atomically

LOG = "exports.json"


def record_export(store_root: Path, result: ExportResult) -> dict[str, Any]:
    """Append `result` to the store's export log (rewritten atomically); the entry."""
    entry = {
        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "adapter_version": result.version,
        "format": result.format,
        "quant": result.quant,
        "path": str(result.path),
        "bytes": result.bytes,
        "seconds": round(result.seconds, 1),
        "ollama_command": result.ollama_command,
    }
    path = store_root / LOG
    with FileLock(str(store_root / f".{LOG}.lock")):
        entries = read_exports(store_root)
        entries.append(entry)
        write_atomically(path, (json.dumps(entries, indent=2) + "\n").encode())
    return entry


def read_exports(store_root: Path) -> list[dict[str, Any]]:
    """Every recorded export, oldest first ([] before the first)."""
    path = store_root / LOG
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CorruptStoreError(
            f"{path} is unreadable ({error}). It only lists past exports: delete it to "
            "start the list again."
        ) from None
    if not isinstance(entries, list):
        raise CorruptStoreError(f"{path} is not a JSON list of exports; delete it.")
    return entries
