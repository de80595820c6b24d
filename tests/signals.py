"""Child processes that Ctrl-C reaches, however the test run itself was started."""

from __future__ import annotations

import signal


def interruptible() -> None:
    """Run in the child before exec: SIGINT back to its default action.

    A background job (`.ci/run &`, nohup) starts with SIGINT ignored, its children inherit
    that, and Python then never turns SIGINT into KeyboardInterrupt. Pass this as
    `preexec_fn` to a child the test will interrupt.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
