"""The store: layout, run ids, live steps, atomic versions, the lock, replay, corruption."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trainer.errors import CorruptStoreError, StoreLockedError
from trainer.store import ReplaySection, Store

ROOT = Path(__file__).resolve().parents[2]


def _run(store: Store, phase: str = "sft") -> int:
    return store.metrics.start_run(
        phase=phase, method="lora", seed=1, base_model="m", doc_sha256="d", config={"a": 1}
    )


def test_layout_and_run_ids_shared_by_phases(tmp_path: Path) -> None:
    store = Store.open("01ABC", tmp_path)
    assert store.root == tmp_path / "store" / "01ABC"
    assert (store.root / "adapter" / "versions").is_dir()
    assert [_run(store, "sft"), _run(store, "dpo"), _run(store, "orpo")] == [1, 2, 3]
    assert store.metrics.run(2) is not None and store.metrics.run(2).phase == "dpo"  # type: ignore[union-attr]
    assert store.metrics.run(2).config == {"a": 1}  # type: ignore[union-attr]


def test_steps_are_visible_to_another_connection_while_the_run_is_open(tmp_path: Path) -> None:
    store = Store.open("01ABC", tmp_path)
    run_id = _run(store)
    store.metrics.log_step(
        run_id, step=1, loss=2.5, learning_rate=1e-3, grad_norm=1.0, tokens_per_second=9.0
    )
    other = sqlite3.connect(store.root / "metrics.sqlite")
    assert other.execute("SELECT step, loss FROM steps").fetchall() == [(1, 2.5)]
    assert Store.open("01ABC", tmp_path).metrics.run(run_id).status == "running"  # type: ignore[union-attr]


def test_migrations_are_applied_once(tmp_path: Path) -> None:
    Store.open("01ABC", tmp_path)
    Store.open("01ABC", tmp_path)
    connection = sqlite3.connect(tmp_path / "store" / "01ABC" / "metrics.sqlite")
    names = [row[0] for row in connection.execute("SELECT name FROM schema_migrations")]
    assert names == [
        "0001_runs_steps_evals",
        "0002_replay",
        "0003_preference_mining",
        "0004_documents",
        "0005_run_owner",
        "0006_mining_seed",
        "0007_answer_evals",
    ]


def test_versions_appear_whole_and_failures_leave_nothing(tmp_path: Path) -> None:
    store = Store.open("01ABC", tmp_path)
    assert store.current_version() is None
    with store.new_version() as (name, directory):
        (directory / "adapter.bin").write_bytes(b"x")
    assert (name, store.current_version(), store.versions()) == ("v0001", "v0001", ["v0001"])
    with pytest.raises(RuntimeError), store.new_version() as (_, directory):
        (directory / "adapter.bin").write_bytes(b"half")
        raise RuntimeError("killed")
    assert store.current_version() == "v0001" and store.versions() == ["v0001"]
    assert not list((store.root / "adapter" / "versions").glob(".incoming-*"))


def test_a_killed_writer_leaves_no_half_version(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from trainer.store import Store
        store = Store.open("01ABC", Path({str(tmp_path)!r}))
        with store.new_version() as (name, directory):
            (directory / "adapter.bin").write_bytes(b"half")
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], check=False)
    assert result.returncode == -9
    store = Store.open("01ABC", tmp_path)
    assert store.versions() == [] and store.current_version() is None
    with store.new_version() as (name, directory):
        (directory / "adapter.bin").write_bytes(b"whole")
    assert name == "v0001"
    assert not list((store.root / "adapter" / "versions").glob(".incoming-*"))


def test_second_process_cannot_take_the_lock(tmp_path: Path) -> None:
    store = Store.open("01ABC", tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                sys.path.insert(0, {str(ROOT)!r})
                from pathlib import Path
                from trainer.store import Store
                with Store.open("01ABC", Path({str(tmp_path)!r})).lock():
                    print("held", flush=True)
                    time.sleep(2)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with (
        pytest.raises(
            StoreLockedError, match="Another dlm run is using the store of document 01ABC"
        ),
        store.lock(wait=False),
    ):
        pass
    messages: list[str] = []
    with store.lock(wait=True, on_wait=messages.append):
        assert holder.poll() is not None or True
    assert messages and "Waiting" in messages[0]
    holder.wait(timeout=10)


def test_replay_departed_and_purge(tmp_path: Path) -> None:
    store = Store.open("01ABC", tmp_path)
    run_id = _run(store)
    store.replay.record(
        run_id,
        [
            ReplaySection("a", "prose", "::prose::\nA\n", False),
            ReplaySection("b", "instruction", "::instruction::\n...", False),
            ReplaySection("m", "preference", "::preference::\n...", True),
        ],
    )
    departed = store.replay.departed(["a"], kinds=["prose", "instruction"])
    assert [s.section_id for s in departed] == ["b"]
    assert departed[0].first_seen_run == run_id
    assert [
        s.section_id for s in store.replay.departed([], kinds=["preference"], include_mined=False)
    ] == []
    assert store.replay.purge(["b"]) == 1
    assert store.replay.departed(["a"], kinds=["instruction"]) == []


def test_corrupt_files_give_clear_errors(tmp_path: Path) -> None:
    store = Store.open("01ABC", tmp_path)
    (store.root / "adapter" / "current").write_text("v0007\n")
    with pytest.raises(CorruptStoreError, match="not a complete adapter version"):
        store.current_version()
    broken = tmp_path / "store" / "01XYZ"
    broken.mkdir(parents=True)
    (broken / "metrics.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CorruptStoreError, match="not a readable SQLite database"):
        Store.open("01XYZ", tmp_path)
