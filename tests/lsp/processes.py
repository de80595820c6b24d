"""Helpers of the language-server tests: waiting for processes to end, a mined section."""

from __future__ import annotations

import psutil

MINED_SECTION = """
::preference::
<!-- dlm-auto-mined: judge_name="sway" judge_score_chosen="0.82" judge_score_rejected="0.31" \
mined_at="2026-04-23T18:42:11Z" mined_run_id="7" -->
### Prompt
Which ferry?
### Chosen
The Tern.
### Rejected
None.
""".replace("\\\n", "")
"""An auto-mined preference section, a blank line first."""


def gone(pids: list[int], timeout: float = 15) -> bool:
    """True once none of `pids` runs (a zombie waiting for its reaper counts as gone)."""
    processes = []
    for pid in pids:
        try:
            processes.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in alive)
