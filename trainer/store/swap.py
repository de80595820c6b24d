"""Replacing a whole directory of the store so that a reader never sees it half-written.

The new content is written into a temp directory beside the target and fsynced;
only then is the old directory moved aside (to `.<name>.previous`), the new one
renamed into place, and the old one deleted. A crash between those two renames
leaves `.<name>.previous`, which the next replacement (or `recover_directory`)
puts back. Callers hold the store lock, so no other dlm process reads in between.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from trainer.store.atomic import fsync_directory, fsync_tree


@contextmanager
def replacing_directory(target: Path) -> Iterator[Path]:
    """Yield an empty temp dir; when the block succeeds it becomes `target`.

    On any exception (Ctrl-C included) the temp dir goes and `target` is untouched.
    """
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    recover_directory(target)
    for stale in parent.glob(f".{target.name}.incoming-*"):
        shutil.rmtree(stale, ignore_errors=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.incoming-", dir=parent))
    os.chmod(temporary, 0o755)  # mkdtemp's 0700 is for the temp name, not the result
    previous = _previous(target)
    try:
        yield temporary
        fsync_tree(temporary)
        if target.exists():
            os.rename(target, previous)
        os.rename(temporary, target)
        fsync_directory(parent)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    shutil.rmtree(previous, ignore_errors=True)


def recover_directory(target: Path) -> None:
    """Undo an interrupted replacement: put the previous directory back if `target` is gone."""
    previous = _previous(target)
    if not previous.exists():
        return
    if target.exists():
        shutil.rmtree(previous, ignore_errors=True)
    else:
        os.rename(previous, target)


def _previous(target: Path) -> Path:
    return target.parent / f".{target.name}.previous"
