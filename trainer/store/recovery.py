"""Runs left `running` by a process that died (SIGKILL, power loss): closed as interrupted.

A training process closes its own run, even on Ctrl-C; one killed outright cannot.
Every training holds the store lock for its whole run, so a run still recorded as
running while nobody holds the lock, and whose process is gone, belongs to no one.
The next command that opens the store for writing closes it (docs/metrics.md, "Run
statuses").
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from trainer.errors import StoreLockedError
from trainer.store.metrics import OpenRun
from trainer.store.owner import is_alive

if TYPE_CHECKING:
    from trainer.store.layout import Store


def recover_runs(store: Store) -> list[int]:
    """Close the store's abandoned runs as interrupted, remove their scratch; their ids.

    Does nothing while another process holds the store lock (a training may be live;
    a later command looks again) or on a read-only store.
    """
    if store.metrics.read_only or not _abandoned(store.metrics.open_runs()):
        return []  # the lock is taken only when there is something to recover
    try:
        with store.lock(wait=False):
            return _recover(store)
    except StoreLockedError:
        return []


def _recover(store: Store) -> list[int]:
    """Under the lock: close what is still abandoned, then clean what those runs left."""
    open_runs = store.metrics.open_runs()
    abandoned = _abandoned(open_runs)
    closed = [run.run_id for run in abandoned if store.metrics.close_interrupted(run.run_id)]
    for run_id in closed:
        shutil.rmtree(store.root / "tmp" / f"run-{run_id}", ignore_errors=True)
    if len(abandoned) == len(open_runs):
        # No live process has a run, and the lock is ours: nobody is writing a version.
        versions = store.root / "adapter" / "versions"
        for stale in versions.glob(".incoming-*"):
            shutil.rmtree(stale, ignore_errors=True)
    return closed


def _abandoned(runs: list[OpenRun]) -> list[OpenRun]:
    """The runs whose process is gone; on another host (or unrecorded) the lock decides."""
    return [run for run in runs if run.owner is None or is_alive(run.owner) is not True]
