"""A transformers callback that records every logged step in SQLite and reports it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from transformers import TrainerCallback

from trainer.events import Events, StepEvent
from trainer.store import MetricsDB


class MetricsCallback(TrainerCallback):
    """Steps land in `metrics.sqlite` as they happen, and go to the progress display."""

    def __init__(
        self,
        metrics: MetricsDB,
        run_id: int,
        events: Events,
        *,
        evals: Mapping[str, str] | None = None,
    ) -> None:
        """`evals` maps trainer log keys (e.g. `rewards/margins`) to eval names to record."""
        self._metrics = metrics
        self._evals = dict(evals or {})
        self._run_id = run_id
        self._events = events
        self._last_time = time.perf_counter()
        self._last_tokens = 0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Tell the display how many steps are coming."""
        self._last_time = time.perf_counter()
        self._events.start(int(state.max_steps))

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        """Record a training log line (eval and summary lines are recorded elsewhere)."""
        logs = logs or {}
        if "loss" not in logs:
            return
        now = time.perf_counter()
        tokens = int(getattr(state, "num_input_tokens_seen", 0) or 0)
        elapsed = now - self._last_time
        speed = (tokens - self._last_tokens) / elapsed if elapsed > 0 and tokens else None
        self._last_time, self._last_tokens = now, tokens
        loss = _number(logs.get("loss"))
        rate = _number(logs.get("learning_rate"))
        self._metrics.log_step(
            self._run_id,
            step=int(state.global_step),
            loss=loss,
            learning_rate=rate,
            grad_norm=_number(logs.get("grad_norm")),
            tokens_per_second=speed,
        )
        for key, name in self._evals.items():
            value = _number(logs.get(key))
            if value is not None:
                self._metrics.log_eval(
                    self._run_id, step=int(state.global_step), name=name, value=value
                )
        self._events.step(
            StepEvent(int(state.global_step), int(state.max_steps), loss, rate, speed)
        )


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
