"""The torchrun launcher: the exact command lines and environments it builds, its checks, and
the rank-side helpers that need no second process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from dlm.errors import CliError
from dlm.launch import (
    EXIT_FILE,
    LAUNCHED,
    LaunchOptions,
    leave_with,
    rank_environment,
    torchrun_command,
)
from tests.cli.test_train_cli import DLM_ID, write_document
from trainer.errors import CorruptStoreError, TrainerError
from trainer.mining.sharded import shard
from trainer.runtime.distributed import (
    SINGLE,
    World,
    check_trainer_world,
    current_world,
    gather_to_main,
    training_arguments,
)

runner = CliRunner()


@pytest.fixture(autouse=True)
def on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """These launches are CPU launches, on GPU machines too (tests/gpu has the GPU ones)."""
    monkeypatch.setenv("DLM_DEVICE", "cpu")


def test_one_machine_uses_a_standalone_rendezvous() -> None:
    command = torchrun_command(LaunchOptions(nproc=2), ["train", "/d/notes.dlm"], python="py")
    assert command == [
        "py",
        "-P",
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--standalone",
        "--no-python",
        "py",
        "-P",
        "-u",
        "-m",
        "dlm",
        "train",
        "/d/notes.dlm",
    ]


def test_several_machines_meet_at_node_0() -> None:
    options = LaunchOptions(
        nproc=4, nnodes=2, node_rank=1, master_addr="10.0.0.5", master_port=29511
    )
    command = torchrun_command(options, ["train", "/d/notes.dlm"], python="py")
    assert command == [
        "py",
        "-P",
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "4",
        "--nnodes",
        "2",
        "--node-rank",
        "1",
        "--master-addr",
        "10.0.0.5",
        "--master-port",
        "29511",
        "--no-python",
        "py",
        "-P",
        "-u",
        "-m",
        "dlm",
        "train",
        "/d/notes.dlm",
    ]
    assert options.world_size == 8 and options.distributed
    assert torchrun_command(LaunchOptions(), ["x"])[0] == sys.executable


def test_threads_are_shared_out_unless_the_user_set_them() -> None:
    env = rank_environment(LaunchOptions(nproc=2), {"PATH": "/bin"}, cores=8)
    assert env == {"PATH": "/bin", LAUNCHED: "1", "OMP_NUM_THREADS": "4"}
    assert rank_environment(LaunchOptions(nproc=4), {}, cores=2)["OMP_NUM_THREADS"] == "1"
    told = rank_environment(LaunchOptions(nproc=2), {"OMP_NUM_THREADS": "3"}, cores=8)
    assert told["OMP_NUM_THREADS"] == "3"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"nnodes": 2, "node_rank": 2, "master_addr": "h"}, "--node-rank 2 is not below"),
        ({"nnodes": 2}, "--nnodes above 1 needs --master-addr"),
    ],
)
def test_bad_launch_flags_are_usage_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(CliError) as raised:
        LaunchOptions(**options)  # type: ignore[arg-type]
    assert raised.value.code == 2 and message in raised.value.message


def test_ranks_get_the_same_command_without_the_launch_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    path = write_document(tmp_path, model)
    seen: dict[str, object] = {}

    def fake_launch(options: LaunchOptions, argv: list[str], **kwargs: object) -> int:
        seen.update(options=options, argv=argv)
        return 0

    monkeypatch.setattr("dlm.commands.train.launch_ranks", fake_launch)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["train", "notes.dlm", "--nproc", "2", "--max-steps", "3", "--no-mined", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert seen["options"] == LaunchOptions(nproc=2)
    assert seen["argv"] == [
        "train",
        str(path),
        "--phase",
        "all",
        "--no-mined",
        "--max-steps",
        "3",
        "--no-fresh",
        "--json",
    ]


def test_mining_command_reaches_the_ranks_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    captured: list[list[str]] = []
    monkeypatch.setattr(
        "dlm.commands.preference.launch_ranks", lambda o, argv, **k: captured.append(argv) or 0
    )
    monkeypatch.setattr("dlm.commands.preference._open", lambda path: (None, None))
    monkeypatch.setattr("dlm.commands.preference._preflight", lambda *args: None)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app,
        ["preference", "mine", "n.dlm", "--nproc", "2", "--section", "a", "--section", "b"],
    )
    assert result.exit_code == 0, result.output
    argv = captured[0]
    assert argv[:3] == ["preference", "mine", str(tmp_path / "n.dlm")]
    assert argv[argv.index("--section") : argv.index("--section") + 4] == [
        "--section",
        "a",
        "--section",
        "b",
    ]
    assert "--nproc" not in argv and "--backend" in argv and "--no-apply" not in argv


def test_vllm_and_nproc_do_not_mix(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["preference", "mine", str(tmp_path / "n.dlm"), "--nproc", "2", "--backend", "vllm"]
    )
    assert result.exit_code == 2
    assert "vLLM has its own --data-parallel-size" in result.output


def test_nproc_inside_a_torchrun_process_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path
) -> None:
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WORLD_SIZE", "2")
    path = write_document(tmp_path, tiny_model_dir)
    result = runner.invoke(app, ["train", str(path), "--nproc", "2"])
    assert result.exit_code == 2
    assert "already runs as one process of a torchrun launch" in result.output


def test_rank_0_hands_its_exit_code_to_the_launcher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer

    with pytest.raises(typer.Exit):
        leave_with(2)
    leave_with(0)
    target = tmp_path / "exit-code"
    monkeypatch.setenv(LAUNCHED, "1")
    monkeypatch.setenv(EXIT_FILE, str(target))
    leave_with(2)
    assert target.read_text() == "2\n"


def test_world_comes_from_torchrun_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = {"use_cpu": True, "bf16": False, "fp16": False}
    assert current_world() == SINGLE
    assert training_arguments(SINGLE, device="cpu", precision="fp32") == cpu
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    world = current_world()
    assert world == World(rank=3, size=4, local_rank=1) and not world.is_main
    ddp = {"ddp_find_unused_parameters": False}
    on_cpu = training_arguments(world, device="cpu", precision="fp32")
    assert on_cpu == {**cpu, **ddp, "ddp_backend": "gloo"}
    on_gpus = training_arguments(world, device="cuda", precision="bf16")
    assert on_gpus == {"use_cpu": False, "bf16": True, "fp16": False, **ddp, "ddp_backend": "nccl"}
    assert gather_to_main(SINGLE, "x") == ["x"]


def test_a_trainer_that_does_not_see_the_other_processes_stops_the_run() -> None:
    check_trainer_world(World(0, 2), 2)
    with pytest.raises(TrainerError, match=r"torchrun started 2 processes.*`use_cpu=True`"):
        check_trainer_world(World(1, 2), 1)


def test_prompts_are_dealt_round_robin() -> None:
    prompts = [f"q{i}" for i in range(7)]
    assert shard(prompts, World(0, 2)) == ["q0", "q2", "q4", "q6"]
    assert shard(prompts, World(1, 2)) == ["q1", "q3", "q5"]
    assert shard(prompts, SINGLE) == prompts


def test_other_ranks_open_the_store_read_only(tmp_path: Path) -> None:
    import sqlite3

    from trainer.store import Store

    with pytest.raises(CorruptStoreError, match="share \\$DLM_HOME between the nodes"):
        Store.open(DLM_ID, tmp_path, read_only=True)
    Store.open(DLM_ID, tmp_path).metrics.close()
    reader = Store.open(DLM_ID, tmp_path, read_only=True)
    assert reader.metrics.runs() == [] and reader.current_version() is None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.metrics.start_run(
            phase="sft", method="lora", seed=0, base_model="m", doc_sha256="x", config={}
        )
