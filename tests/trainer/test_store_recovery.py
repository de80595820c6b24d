"""Runs left running by a dead process: closed as interrupted when the store is next opened."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from trainer.store import Store
from trainer.store.metrics import RUN_STATUSES
from trainer.store.owner import RunOwner, is_alive, this_process
from trainer.store.recovery import recover_runs

ROOT = Path(__file__).resolve().parents[2]
DLM_ID = "01ABC"


def _run(store: Store) -> int:
    return store.metrics.start_run(
        phase="sft", method="lora", seed=1, base_model="m", doc_sha256="d", config={}
    )


def _set_owner(store: Store, run_id: int, **columns: object) -> None:
    """Overwrite owner columns of a run (`pid`, `host`, `started`)."""
    for name, value in columns.items():
        store.metrics.connection.execute(
            f"UPDATE runs SET owner_{name} = ? WHERE run_id = ?", (value, run_id)
        )


def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def _status(store: Store, run_id: int) -> str:
    run = store.metrics.run(run_id)
    assert run is not None
    return run.status


def test_an_abandoned_run_is_interrupted_and_its_leftovers_removed(tmp_path: Path) -> None:
    store = Store.open(DLM_ID, tmp_path)
    done = _run(store)
    store.metrics.finish_run(done, status="completed", adapter_version="v0001")
    killed = _run(store)
    _set_owner(store, killed, pid=_dead_pid(), started=None)
    scratch = store.root / "tmp" / f"run-{killed}"
    (scratch / "checkpoint").mkdir(parents=True)
    incoming = store.root / "adapter" / "versions" / ".incoming-x1"
    incoming.mkdir()

    reopened = Store.open(DLM_ID, tmp_path)
    run = reopened.metrics.run(killed)
    assert run is not None and run.status == "interrupted"
    assert run.ended_at is not None and run.ended_at >= run.started_at
    assert _status(reopened, done) == "completed"
    assert not scratch.exists() and not incoming.exists()
    assert recover_runs(reopened) == []  # once only


def test_a_run_is_left_alone_while_another_process_holds_the_lock(tmp_path: Path) -> None:
    # A training in another process: it recorded its run and holds the lock.
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from trainer.store import Store
        store = Store.open({DLM_ID!r}, Path({str(tmp_path)!r}))
        with store.lock():
            store.metrics.start_run(phase="sft", method="lora", seed=1, base_model="m",
                                    doc_sha256="d", config={{}})
            print("ready", flush=True)
            sys.stdin.read()
        """
    )
    training = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert training.stdout is not None and training.stdout.readline() == "ready\n"
        store = Store.open(DLM_ID, tmp_path)
        # Even an owner that looks gone (a pid reused by another process) keeps its run.
        _set_owner(store, 1, started="another-boot:1")
        assert recover_runs(store) == []
        assert _status(Store.open(DLM_ID, tmp_path), 1) == "running"
        assert training.poll() is None
    finally:
        assert training.stdin is not None
        training.stdin.close()
        training.wait(timeout=30)
    assert _status(Store.open(DLM_ID, tmp_path), 1) == "interrupted"  # lock free, owner gone


def test_a_live_owner_keeps_its_run_with_the_lock_free(tmp_path: Path) -> None:
    # A rank of a launch whose launcher (the lock holder) died still trains.
    store = Store.open(DLM_ID, tmp_path)
    run_id = _run(store)
    (store.root / "tmp" / f"run-{run_id}").mkdir()
    assert recover_runs(Store.open(DLM_ID, tmp_path)) == []
    assert _status(store, run_id) == "running"
    assert (store.root / "tmp" / f"run-{run_id}").is_dir()


def test_a_reused_pid_does_not_keep_a_run(tmp_path: Path) -> None:
    store = Store.open(DLM_ID, tmp_path)
    run_id = _run(store)
    _set_owner(store, run_id, started="another-boot:1")  # our pid, another process's start
    assert recover_runs(store) == [run_id]


def test_another_hosts_run_is_judged_by_the_lock_alone(tmp_path: Path) -> None:
    store = Store.open(DLM_ID, tmp_path)
    run_id = _run(store)
    _set_owner(store, run_id, host="elsewhere.invalid")
    with store.lock():
        assert recover_runs(Store.open(DLM_ID, tmp_path)) == []
    assert _status(store, run_id) == "running"
    assert recover_runs(store) == [run_id]


def test_a_run_recorded_without_owner_is_judged_by_the_lock_alone(tmp_path: Path) -> None:
    store = Store.open(DLM_ID, tmp_path)
    run_id = _run(store)
    _set_owner(store, run_id, pid=None, host=None, started=None)  # before 0005_run_owner
    assert [run.owner for run in store.metrics.open_runs()] == [None]
    assert _status(Store.open(DLM_ID, tmp_path), run_id) == "interrupted"


def test_a_read_only_open_recovers_nothing(tmp_path: Path) -> None:
    store = Store.open(DLM_ID, tmp_path)
    run_id = _run(store)
    _set_owner(store, run_id, pid=_dead_pid(), started=None)
    (store.root / "tmp" / f"run-{run_id}").mkdir()
    reader = Store.open(DLM_ID, tmp_path, read_only=True)
    assert recover_runs(reader) == []
    assert _status(reader, run_id) == "running"
    assert (store.root / "tmp" / f"run-{run_id}").is_dir()


def test_an_owner_is_alive_only_while_its_process_runs() -> None:
    assert is_alive(this_process()) is True
    assert is_alive(RunOwner(_dead_pid(), this_process().host, None)) is False
    assert is_alive(RunOwner(os.getpid(), "elsewhere.invalid", None)) is None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_killed_child_not_yet_reaped_is_gone() -> None:
    script = (
        "import sys, time; from trainer.store.owner import this_process; "
        "print(this_process().started, flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None
        started = child.stdout.readline().decode().strip()
        owner = RunOwner(child.pid, this_process().host, started)
        assert is_alive(owner) is True
        os.kill(child.pid, signal.SIGKILL)
        _wait_until_zombie(child.pid)
        assert is_alive(owner) is False
    finally:
        child.kill()
        child.wait(timeout=30)


def test_every_run_status_is_documented() -> None:
    for page in ("json.md", "metrics.md"):
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        assert all(f"`{status}`" in text for status in RUN_STATUSES), page


def _wait_until_zombie(pid: int) -> None:
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return
        time.sleep(0.05)
