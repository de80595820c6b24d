"""The process that opened a run, recorded so that a later command can tell whether it is gone."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class RunOwner:
    """Who opened a run: process id, host name, and when the process started."""

    pid: int
    host: str
    started: str | None
    """`<boot id>:<start time in clock ticks>` on Linux, None where that cannot be read.

    A pid alone is reused (after a reboot, or once the counter wraps); the pair of boot
    and start time names one process for good.
    """


def this_process() -> RunOwner:
    """The owner record of the calling process."""
    pid = os.getpid()
    return RunOwner(pid, socket.gethostname(), _started(pid))


def is_alive(owner: RunOwner) -> bool | None:
    """Whether the owner process still runs; None when it ran on another host (cannot tell)."""
    if owner.host != socket.gethostname():
        return None
    if owner.started is not None:
        # On Linux the recorded start identifies the process: anything else under that
        # pid now (a reused pid, another boot, a zombie) is not it.
        return _started(owner.pid) == owner.started
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True


def _started(pid: int) -> str | None:
    """`<boot id>:<start ticks>` of a live process, None if gone, a zombie, or not Linux."""
    try:
        boot = (_PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = stat[stat.rfind(")") + 2 :].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return f"{boot}:{fields[19]}"
