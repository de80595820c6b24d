"""The metrics as flat rows (one value of one step or eval each), and following what a store
adds: the data behind `dlm metrics --csv` and `--watch` (docs/metrics.md)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from trainer.store.metrics import MetricsDB, RunRow

COLUMNS = ("run_id", "phase", "source", "step", "metric", "value")
"""The fields of a row, in order (the CSV header)."""
STEP_METRICS = ("loss", "learning_rate", "grad_norm", "tokens_per_second")
"""The values a logged step can carry, in the order they are listed."""


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One value: a step's metric (`source` "step") or an evaluation (`source` "eval")."""

    run_id: int
    phase: str
    source: str
    step: int | None
    metric: str
    value: float

    def fields(self) -> tuple[int, str, str, int | None, str, float]:
        """The values in the order of COLUMNS."""
        return (self.run_id, self.phase, self.source, self.step, self.metric, self.value)


@dataclass(frozen=True, slots=True)
class Update:
    """What a look at the store found that the previous look had not."""

    runs: list[RunRow] = field(default_factory=list)
    """Runs that are new or changed status (or adapter version) since the last look."""
    rows: list[MetricRow] = field(default_factory=list)
    mining: list[dict[str, Any]] = field(default_factory=list)
    """New mining events, as `MetricsDB.mining_events` gives them."""


def metric_rows(metrics: MetricsDB, runs: Sequence[RunRow]) -> list[MetricRow]:
    """Every step metric with a value, then every eval, of each run in order; a step's
    missing values (None) have no row."""
    rows: list[MetricRow] = []
    for run in runs:
        for step in metrics.steps(run.run_id):
            for name in STEP_METRICS:
                value = getattr(step, name)
                if value is not None:
                    rows.append(MetricRow(run.run_id, run.phase, "step", step.step, name, value))
        rows.extend(
            MetricRow(run.run_id, run.phase, "eval", e.step, e.name, e.value)
            for e in metrics.evals(run.run_id)
        )
    return rows


class MetricsFollower:
    """Looks at the store again and again, and tells what is new each time."""

    def __init__(self, metrics: MetricsDB, run_id: int | None = None) -> None:
        self._metrics = metrics
        self._run_id = run_id
        self._runs: dict[int, tuple[str, str | None]] = {}
        self._rows: Counter[MetricRow] = Counter()
        self._events: set[int] = set()

    def poll(self) -> Update:
        """What was added since the last poll (everything, the first time)."""
        runs = [r for r in self._metrics.runs() if self._run_id in (None, r.run_id)]
        changed = [r for r in runs if self._runs.get(r.run_id) != (r.status, r.adapter_version)]
        self._runs.update({r.run_id: (r.status, r.adapter_version) for r in runs})
        seen = Counter(self._rows)
        rows = []
        for row in metric_rows(self._metrics, runs):
            if seen[row] > 0:
                seen[row] -= 1
            else:
                rows.append(row)
                self._rows[row] += 1
        events = [
            event
            for event in self._metrics.mining_events(self._run_id)
            if event["event_id"] not in self._events
        ]
        self._events.update(event["event_id"] for event in events)
        return Update(changed, rows, events)


def follow(metrics: MetricsDB, run_id: int | None, interval: float) -> Iterator[Update]:
    """Updates of the store every `interval` seconds, forever (the first one is everything);
    the caller stops by leaving the loop (Ctrl-C)."""
    follower = MetricsFollower(metrics, run_id)
    while True:
        yield follower.poll()
        time.sleep(interval)
