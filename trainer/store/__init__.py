"""The per-document store under $DLM_HOME (docs/metrics.md): adapter versions, metrics, replay."""

from trainer.store.layout import Store, dlm_home
from trainer.store.metrics import EvalRow, MetricsDB, RunRow, StepRow
from trainer.store.replay import ReplayLog, ReplaySection

__all__ = [
    "EvalRow",
    "MetricsDB",
    "ReplayLog",
    "ReplaySection",
    "RunRow",
    "StepRow",
    "Store",
    "dlm_home",
]
