"""Real torchrun runs on the tiny model, on CPU: two processes on one machine, two "nodes"
meeting on 127.0.0.1, a crashing rank, and sharded mining. Asserts on checksums, counts
and losses, never on time."""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app

pytestmark = pytest.mark.slow

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
JUDGE = ROOT / "tests" / "trainer" / "scripts" / "judge.py"
DLM_ID = "01JQ7Z0000000000000000000S"
QUESTIONS = [
    ("When does the Tern leave?", "At 7:40."),
    ("Who keeps the light?", "Morwenna Teague."),
    ("What colour does the light flash?", "Green."),
    ("How often does it flash?", "Every six seconds."),
    ("Where does the Tern leave from?", "Gullmouth pier."),
    ("What is the ferry called?", "The Tern."),
    ("Which island has the light?", "Harwick Island."),
]
PAIRS = [
    ("Who keeps the light?", "Morwenna Teague.", "Nobody knows."),
    ("What is the ferry called?", "The Tern.", "There is no ferry."),
]


def write_document(
    directory: Path, model_dir: Path, *, micro_batch: int = 2, method: str = "dpo"
) -> Path:
    """Eight SFT rows and two preference pairs; no LoRA dropout, so losses compare exactly."""
    body = "".join(f"### Q\n{q}\n### A\n{a}\n\n" for q, a in QUESTIONS)
    pairs = "".join(
        f"::preference::\n### Prompt\n{p}\n### Chosen\n{c}\n### Rejected\n{r}\n\n"
        for p, c, r in PAIRS
    )
    path = directory / "notes.dlm"
    path.write_text(
        f"---\ndlm_id: {DLM_ID}\nbase_model: {model_dir}\nsystem_prompt: Be brief.\n"
        f"training:\n  sequence_len: 64\n  micro_batch_size: {micro_batch}\n"
        f"  lora_dropout: 0.0\n  precision: fp32\n  preference:\n    method: {method}\n---\n\n"
        f"Morwenna Teague keeps Black Rock Light.\n\n::instruction::\n{body}{pairs}",
        encoding="utf-8",
    )
    return path


def environment(home: Path, checksums: Path | None = None, **extra: str) -> dict[str, str]:
    """One thread per process (two processes on two cores), the store, the test hooks."""
    env = {**os.environ, "DLM_HOME": str(home), "OMP_NUM_THREADS": "1", **extra}
    if checksums is not None:
        env["DLM_DEBUG_CHECKSUM_DIR"] = str(checksums)
    return env


def dlm(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """`python -m dlm ARGS`, as a user would run it, in a session of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "dlm", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Wait for dlm (stopping it and its torchrun after 5 minutes); exit code, stdout, stderr."""
    try:
        out, err = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)  # torchrun stops its processes on SIGTERM
        try:
            out, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def checksums(directory: Path, phase: str) -> list[str]:
    """The LoRA checksums each rank wrote after a phase, in rank order."""
    files = sorted(directory.glob(f"{phase}-rank*.json"))
    return [json.loads(f.read_text())["checksum"] for f in files]


def saved_checksum(home: Path, version: str) -> str:
    """The checksum of an adapter version as saved in the store."""
    from safetensors.torch import load_file

    from trainer.training.debug_hooks import weights_checksum

    directory = home / "store" / DLM_ID / "adapter" / "versions" / version
    return weights_checksum(load_file(str(directory / "adapter_model.safetensors")))


def runs(home: Path) -> list[tuple[int, str, str, int, str | None]]:
    """(run_id, phase, status, world_size, adapter_version) of every run."""
    with sqlite3.connect(home / "store" / DLM_ID / "metrics.sqlite") as connection:
        return connection.execute(
            "SELECT run_id, phase, status, world_size, adapter_version FROM runs ORDER BY run_id"
        ).fetchall()


def first_loss(home: Path, run_id: int) -> float:
    """The loss logged at step 1 of a run."""
    with sqlite3.connect(home / "store" / DLM_ID / "metrics.sqlite") as connection:
        row = connection.execute(
            "SELECT loss FROM steps WHERE run_id = ? AND step = 1", (run_id,)
        ).fetchone()
    return float(row[0])


def versions(home: Path) -> list[str]:
    """The adapter versions in the store (complete or not)."""
    directory = home / "store" / DLM_ID / "adapter" / "versions"
    return sorted(p.name for p in directory.iterdir())


def free_port() -> int:
    """A free TCP port below Linux's ephemeral range (32768 up): a client that keeps
    retrying an ephemeral port nobody listens on yet can end up connected to itself,
    and then node 0 cannot bind it."""
    for port in random.sample(range(20000, 32000), 100):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000")


def test_two_processes_train_sft_then_dpo_in_step(tiny_model_dir: Path, tmp_path: Path) -> None:
    home, sums = tmp_path / "home", tmp_path / "sums"
    path = write_document(tmp_path, tiny_model_dir, micro_batch=2)
    process = dlm(
        "train",
        str(path),
        "--nproc",
        "2",
        "--max-steps",
        "3",
        "--json",
        env=environment(home, sums),
    )
    code, out, err = finish(process)
    assert code == 0, err
    report = json.loads(out)
    assert [(r["phase"], r["adapter_version"], r["steps"]) for r in report["runs"]] == [
        ("sft", "v0001", 3),
        ("dpo", "v0002", 3),
    ]
    sft, dpo = checksums(sums, "sft"), checksums(sums, "dpo")
    print(f"sft checksums by rank: {sft}\ndpo checksums by rank: {dpo}")
    assert len(sft) == len(dpo) == 2
    assert sft == [saved_checksum(home, "v0001")] * 2
    assert dpo == [saved_checksum(home, "v0002")] * 2
    assert sft[0] != dpo[0]  # the DPO steps moved the weights
    assert versions(home) == ["v0001", "v0002"]
    assert runs(home) == [(1, "sft", "completed", 2, "v0001"), (2, "dpo", "completed", 2, "v0002")]
    shown = json.loads(
        runner.invoke(app, ["show", str(path), "--json"], env={"DLM_HOME": str(home)}).stdout
    )
    assert [run["world_size"] for run in shown["store"]["runs"]] == [2, 2]

    # One process with the same global batch (2 rows x 2 processes = 4 rows) sees the
    # same first batch from the same starting weights: the same first loss.
    single_home = tmp_path / "single"
    single_dir = tmp_path / "single-doc"
    single_dir.mkdir()
    single = write_document(single_dir, tiny_model_dir, micro_batch=4)
    result = runner.invoke(
        app,
        ["train", str(single), "--phase", "sft", "--max-steps", "1"],
        env={"DLM_HOME": str(single_home)},
    )
    assert result.exit_code == 0, result.output
    two, one = first_loss(home, 1), first_loss(single_home, 1)
    print(f"step-1 loss: 2 processes {two:.6f}, 1 process {one:.6f}")
    assert two == pytest.approx(one, rel=1e-4)


def test_two_nodes_meet_on_localhost_and_train_orpo(tiny_model_dir: Path, tmp_path: Path) -> None:
    home, sums = tmp_path / "home", tmp_path / "sums"
    path = write_document(tmp_path, tiny_model_dir, method="orpo")
    port = str(free_port())
    nodes = [
        dlm(
            "train", str(path), "--max-steps", "3", "--json",
            "--nnodes", "2", "--node-rank", str(rank), "--nproc", "1",
            "--master-addr", "127.0.0.1", "--master-port", port,
            env=environment(home, sums),
        )
        for rank in (0, 1)
    ]  # fmt: skip
    (code0, out0, err0), (code1, out1, err1) = [finish(node) for node in nodes]
    assert (code0, code1) == (0, 0), f"node 0: {err0[-3000:]}\nnode 1: {err1[-3000:]}"
    assert [r["phase"] for r in json.loads(out0)["runs"]] == ["sft", "orpo"]
    assert out1 == ""  # node 1 has no rank 0: it prints nothing
    for phase, version in (("sft", "v0001"), ("orpo", "v0002")):
        sums_by_rank = checksums(sums, phase)
        print(f"{phase} checksums by rank: {sums_by_rank}")
        assert sums_by_rank == [saved_checksum(home, version)] * 2
    assert checksums(sums, "sft") != checksums(sums, "orpo")
    assert versions(home) == ["v0001", "v0002"]
    assert runs(home) == [
        (1, "sft", "completed", 2, "v0001"),
        (2, "orpo", "completed", 2, "v0002"),
    ]


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A document trained for two steps in this process: one adapter version, one run."""
    directory = tmp_path_factory.mktemp("trained")
    path = write_document(directory, tiny_model_dir)
    result = runner.invoke(
        app,
        ["train", str(path), "--phase", "sft", "--max-steps", "2"],
        env={"DLM_HOME": str(directory / "home")},
    )
    assert result.exit_code == 0, result.output
    return path


def test_a_crashing_rank_fails_the_run_and_leaves_the_store_unchanged(
    trained: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(trained.parent / "home", home)
    current = home / "store" / DLM_ID / "adapter" / "current"
    before = (versions(home), current.read_text(), saved_checksum(home, "v0001"))
    env = environment(home, DLM_DEBUG_FAIL_RANK="1")
    process = dlm(
        "train", str(trained), "--nproc", "2", "--phase", "sft", "--max-steps", "3", env=env
    )
    code, _, err = finish(process)
    assert code == 1
    assert "DLM_DEBUG_FAIL_RANK=1: rank 1 fails after step 1" in err
    assert "dlm: Training failed: the phase in progress wrote no adapter version." in err
    assert (versions(home), current.read_text(), saved_checksum(home, "v0001")) == before
    # The run is closed as failed by rank 0, never left running and never completed.
    assert runs(home) == [(1, "sft", "completed", 1, "v0001"), (2, "sft", "failed", 2, None)]


def test_sharded_mining_stages_the_same_pairs_as_one_process(trained: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(trained.parent / "home", home)
    judge = f"cli:{shlex.quote(sys.executable)} {shlex.quote(str(JUDGE))} ok"
    mine = [
        "preference", "mine", str(trained), "--judge", judge, "--samples", "4",
        "--max-new-tokens", "12", "--temp", "1.5", "--threshold", "0.05", "--seed", "7",
        "--json", "--replace",
    ]  # fmt: skip
    one = runner.invoke(app, mine, env={"DLM_HOME": str(home)})
    assert one.exit_code == 0, one.output
    plan_path = home / "store" / DLM_ID / "preference" / "pending.json"
    single_plan = json.loads(plan_path.read_text())
    code, out, err = finish(dlm(*mine, "--nproc", "2", env=environment(home)))
    assert code == 0, err
    assert json.loads(out) == json.loads(one.stdout)
    sharded_plan = json.loads(plan_path.read_text())
    assert single_plan["pairs"]
    assert _without_times(sharded_plan) == _without_times(single_plan)
    events = runner.invoke(app, ["metrics", str(trained), "--json"], env={"DLM_HOME": str(home)})
    assert len(json.loads(events.stdout)["runs"][0]["mining"]) == 2  # one event per mine


def _without_times(plan: dict[str, object]) -> list[dict[str, object]]:
    pairs = plan["pairs"]
    assert isinstance(pairs, list)
    return [
        {
            **pair,
            "mined_at": None,
            "section_text": re.sub(r'mined_at="[^"]*"', "", pair["section_text"]),
        }
        for pair in pairs
    ]
