"""One run lifecycle for every phase: opened, closed as failed or interrupted when the
block raises, and its scratch directory always removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.store import Store
from trainer.training.lifecycle import RunStart, recorded_run

START = RunStart(phase="sft", seed=0, base_model="tiny", doc_sha256="0" * 64, config={"a": 1})


def test_a_run_that_completes_keeps_its_status_and_loses_its_scratch(tmp_path: Path) -> None:
    store = Store.open("01JQ7Z0000000000000000000A", tmp_path)
    with recorded_run(store, START) as run:
        assert run.scratch.is_dir() and run.scratch.parent == store.root / "tmp"
        (run.scratch / "checkpoint").write_text("x", encoding="utf-8")
        store.metrics.finish_run(run.recorded_id, status="completed", adapter_version="v0001")
    row = store.metrics.run(run.recorded_id)
    assert row is not None and (row.status, row.config) == ("completed", {"a": 1})
    assert not run.scratch.exists()


@pytest.mark.parametrize(
    ("error", "status"), [(RuntimeError("boom"), "failed"), (KeyboardInterrupt(), "interrupted")]
)
def test_a_run_that_raises_is_closed_and_loses_its_scratch(
    tmp_path: Path, error: BaseException, status: str
) -> None:
    store = Store.open("01JQ7Z0000000000000000000A", tmp_path)
    with pytest.raises(type(error)), recorded_run(store, START) as run:
        raise error
    row = store.metrics.run(run.recorded_id)
    assert row is not None and row.status == status and row.adapter_version is None
    assert not run.scratch.exists()
