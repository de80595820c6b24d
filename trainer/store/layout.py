"""Where a document's store lives, its lock, and its atomic adapter versions."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from dlmlang.errors import UsageError
from trainer.errors import CorruptStoreError, NoAdapterError, StoreLockedError
from trainer.store.atomic import fsync_directory, fsync_tree, write_atomically
from trainer.store.documents import DocumentLog
from trainer.store.metrics import MetricsDB
from trainer.store.recovery import recover_runs
from trainer.store.replay import ReplayLog

_VERSION = re.compile(r"v(\d{4,})")
_ASKED_VERSION = re.compile(r"v?(\d{1,9})")


def dlm_home() -> Path:
    """$DLM_HOME, or ~/.dlm."""
    return Path(os.environ.get("DLM_HOME") or Path.home() / ".dlm")


class Store:
    """One document's store: `$DLM_HOME/store/<dlm_id>/`."""

    def __init__(self, root: Path, dlm_id: str, *, read_only: bool = False) -> None:
        self.root = root
        self.dlm_id = dlm_id
        self.metrics = MetricsDB(root / "metrics.sqlite", read_only=read_only)
        self.replay = ReplayLog(self.metrics)
        self.documents = DocumentLog(self.metrics)

    @classmethod
    def open(cls, dlm_id: str, home: Path | None = None, *, read_only: bool = False) -> Store:
        """The store of `dlm_id`, created on first use.

        Runs left running by a process that is gone are closed as interrupted first
        (trainer/store/recovery.py). `read_only` (the processes of a multi-process run
        other than rank 0) opens an existing store without creating, migrating or
        recovering anything.
        """
        root = (home or dlm_home()) / "store" / dlm_id
        if read_only:
            if not (root / "metrics.sqlite").is_file():
                raise CorruptStoreError(
                    f"No store for document {dlm_id} at {root} on this machine. Every node of a "
                    "multi-node run needs the document's store: share $DLM_HOME between the "
                    "nodes, or copy the store to each."
                )
            return cls(root, dlm_id, read_only=True)
        for part in ("adapter/versions", "preference", "tmp"):
            (root / part).mkdir(parents=True, exist_ok=True)
        store = cls(root, dlm_id)
        recover_runs(store)
        return store

    @contextmanager
    def lock(
        self, *, wait: bool = True, on_wait: Callable[[str], None] | None = None
    ) -> Iterator[None]:
        """Hold the store's file lock: one `dlm train` or `mine` per document at a time."""
        lock = FileLock(str(self.root / "lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            message = f"Another dlm run is using the store of document {self.dlm_id} ({self.root})."
            if not wait:
                raise StoreLockedError(
                    f"{message} Wait for it to finish, or run without --no-wait to queue."
                ) from None
            if on_wait is not None:
                on_wait(f"{message} Waiting for it to finish...")
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def current_version(self) -> str | None:
        """The live adapter version ("v0003"), or None before the first training run."""
        pointer = self.root / "adapter" / "current"
        if not pointer.exists():
            return None
        name = pointer.read_text(encoding="utf-8").strip()
        if not _VERSION.fullmatch(name) or not self.version_path(name).is_dir():
            raise CorruptStoreError(
                f"{pointer} names {name!r}, which is not a complete adapter version. Write the "
                f"name of one of {self.versions() or 'no versions'} into it, or delete it to "
                "start from the base model."
            )
        return name

    def require_version(self, document: str, needs: str) -> str:
        """The live adapter version; `NoAdapterError` saying what `needs` it, and the fix."""
        version = self.current_version()
        if version is None:
            raise NoAdapterError(
                f"No trained adapter for {document} yet, and {needs}. "
                f"Run `dlm train {document}` first."
            )
        return version

    def resolve_version(self, requested: str | None, document: str, needs: str) -> str:
        """The version a user asked for ("v0002", "2" or "base"; it must exist), else the
        live one (`require_version`)."""
        if requested is None:
            return self.require_version(document, needs)
        if requested == "base":
            return requested
        match = _ASKED_VERSION.fullmatch(requested.strip())
        version = f"v{int(match.group(1)):04d}" if match else requested
        if version not in self.versions():
            known = ", ".join([*self.versions(), "base"])
            raise UsageError(f"No adapter version {requested} for {document} (versions: {known}).")
        return version

    def version_path(self, version: str) -> Path:
        """The directory of an adapter version."""
        return self.root / "adapter" / "versions" / version

    def versions(self) -> list[str]:
        """Complete adapter versions, oldest first."""
        directory = self.root / "adapter" / "versions"
        names = [p.name for p in directory.iterdir() if p.is_dir() and _VERSION.fullmatch(p.name)]
        return sorted(names, key=lambda n: int(n[1:]))

    @contextmanager
    def new_version(self) -> Iterator[tuple[str, Path]]:
        """Yield (name, temp dir) to write a version into; it appears only when complete.

        On success the files are fsynced, the directory renamed into place and
        `adapter/current` replaced atomically. On any exception (Ctrl-C included)
        the temp dir goes and `current` is unchanged.
        """
        versions_dir = self.root / "adapter" / "versions"
        for stale in versions_dir.glob(".incoming-*"):
            shutil.rmtree(stale, ignore_errors=True)
        existing = self.versions()
        name = f"v{(int(existing[-1][1:]) + 1) if existing else 1:04d}"
        temporary = Path(tempfile.mkdtemp(prefix=".incoming-", dir=versions_dir))
        try:
            yield name, temporary
            fsync_tree(temporary)
            os.rename(temporary, versions_dir / name)
            fsync_directory(versions_dir)
            write_atomically(self.root / "adapter" / "current", f"{name}\n".encode())
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise

    def set_current(self, version: str) -> None:
        """Make a complete version the live one again (the loop's rejected rounds); the
        store lock must be held."""
        if version not in self.versions():
            raise CorruptStoreError(f"{self.root}: no complete adapter version {version}.")
        write_atomically(self.root / "adapter" / "current", f"{version}\n".encode())

    def pending_plan_path(self) -> Path:
        """Where the staged mining plan lives."""
        return self.root / "preference" / "pending.json"
