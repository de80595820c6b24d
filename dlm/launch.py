"""`--nproc`: dlm re-launching itself under torchrun, one process per rank (docs/scale-out.md).

The command the user typed becomes the launcher: it checks the document and, on node
0, creates the store and holds its lock while it runs
`python -m torch.distributed.run ... -m dlm <the same command without --nproc>`.
Each process torchrun starts finds `DLM_LAUNCHED=1` and torchrun's `RANK`/`WORLD_SIZE`
in its environment and runs as one rank (`trainer.runtime.distributed`). The launcher waits,
and exits with the code rank 0 left in `DLM_EXIT_FILE`, or with 1 if any process failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dlm.errors import EXIT_INTERRUPTED, EXIT_USAGE, CliError
from dlm.verbosity import note

if TYPE_CHECKING:
    from trainer.runtime.distributed import World

LAUNCHED = "DLM_LAUNCHED"
"""Set to 1 in the processes dlm starts under torchrun: the launcher holds the store lock."""
EXIT_FILE = "DLM_EXIT_FILE"
"""Where rank 0 leaves the exit code the launcher should exit with (0 or 2)."""
LAUNCH_PARAMETERS = ("nproc", "nnodes", "node_rank", "master_addr", "master_port")

NprocOption = Annotated[
    int,
    typer.Option(
        help="Processes on this machine (torchrun --nproc-per-node): several CPU processes "
        "(gloo) or one per GPU (NCCL).",
        min=1,
    ),
]
NnodesOption = Annotated[
    int, typer.Option(help="Machines in the run (torchrun --nnodes); needs --master-addr.", min=1)
]
NodeRankOption = Annotated[
    int, typer.Option(help="This machine's rank, 0 to --nnodes - 1 (torchrun --node-rank).", min=0)
]
MasterAddrOption = Annotated[
    str | None,
    typer.Option(help="Address of node 0, where the run meets (torchrun --master-addr)."),
]
MasterPortOption = Annotated[
    int | None,
    typer.Option(help="Free port on node 0 (torchrun --master-port; default 29500).", min=1),
]


@dataclass(frozen=True, slots=True)
class LaunchOptions:
    """The torchrun flags of one command; one process on one node launches nothing."""

    nproc: int = 1
    nnodes: int = 1
    node_rank: int = 0
    master_addr: str | None = None
    master_port: int | None = None

    def __post_init__(self) -> None:
        if self.node_rank >= self.nnodes:
            raise CliError(
                f"--node-rank {self.node_rank} is not below --nnodes {self.nnodes}; number the "
                "machines 0 to nnodes - 1.",
                code=EXIT_USAGE,
            )
        if self.nnodes > 1 and not self.master_addr:
            raise CliError(
                "--nnodes above 1 needs --master-addr: the address of node 0, the same on every "
                "machine (and --master-port if 29500 is taken).",
                code=EXIT_USAGE,
            )

    @property
    def distributed(self) -> bool:
        """More than one process in all: torchrun is needed."""
        return self.nproc * self.nnodes > 1

    @property
    def world_size(self) -> int:
        """Processes in the whole run."""
        return self.nproc * self.nnodes


def torchrun_command(options: LaunchOptions, argv: list[str], python: str = "") -> list[str]:
    """The torchrun command line that runs `dlm <argv>` once per process.

    Both torchrun and the processes run with `-P`, so a module in the working directory
    (a planted `typer.py`, say) is never imported in place of an installed one.
    """
    python = python or sys.executable
    command = [python, "-P", "-m", "torch.distributed.run"]
    command += ["--nproc-per-node", str(options.nproc)]
    if options.nnodes == 1 and options.master_addr is None:
        command.append("--standalone")
    else:
        command += ["--nnodes", str(options.nnodes), "--node-rank", str(options.node_rank)]
        command += ["--master-addr", options.master_addr or "127.0.0.1"]
        if options.master_port is not None:
            command += ["--master-port", str(options.master_port)]
    # --no-python: torchrun starts the given program itself, so it gets -P too.
    return [*command, "--no-python", python, "-P", "-u", "-m", "dlm", *argv]


def rank_environment(
    options: LaunchOptions, environ: Mapping[str, str], cores: int
) -> dict[str, str]:
    """The environment of the processes: the launch marker, and the cores shared out among
    them (`OMP_NUM_THREADS` = cores // processes on this machine, unless already set)."""
    env = dict(environ)
    env[LAUNCHED] = "1"
    if not environ.get("OMP_NUM_THREADS"):
        env["OMP_NUM_THREADS"] = str(max(1, cores // options.nproc))
    return env


def rank_argv(context: typer.Context | None) -> list[str]:
    """The command being run, as arguments for `dlm`, without the launch flags.

    Rebuilt from what the command line parser read, so every flag reaches the ranks
    as given; the document path is made absolute.
    """
    if context is None:
        raise CliError("Launching processes needs the command line: run it as `dlm ...`.")
    names: list[str] = []
    current: Any = context
    while current is not None and current.parent is not None:
        names.insert(0, current.info_name or "")
        current = current.parent
    arguments: list[str] = []
    options: list[str] = []
    for parameter in context.command.params:
        name = parameter.name or ""
        value = context.params.get(name)
        if name in LAUNCH_PARAMETERS or value is None:
            continue
        if parameter.param_type_name == "argument":
            arguments.append(_absolute(value))
        elif parameter.param_type_name == "option":
            options += _option_argv(parameter, value)
    return [*names, *arguments, *options]


def launched_by_dlm() -> bool:
    """This process is a rank that `dlm --nproc` started (so the launcher holds the lock)."""
    return os.environ.get(LAUNCHED) == "1"


def open_store(dlm_id: str, home: Path, world: World) -> Any:
    """The document's store for this process: rank 0 opens (and if need be creates) it,
    the other ranks open it read-only once rank 0 has (the process group must be joined)."""
    from trainer.runtime.distributed import barrier
    from trainer.store import Store

    store = Store.open(dlm_id, home) if world.is_main else None
    barrier(world)
    return store if store is not None else Store.open(dlm_id, home, read_only=True)


def store_lock(
    store: Any, world: World, *, wait: bool, on_wait: Callable[[str], None]
) -> AbstractContextManager[None]:
    """The store lock for this process: a single process takes it; among ranks, the dlm
    launcher already holds it, or, when torchrun was started by hand, rank 0 takes it."""
    if world.distributed and (launched_by_dlm() or not world.is_main):
        return nullcontext()
    lock: AbstractContextManager[None] = store.lock(wait=wait, on_wait=on_wait)
    return lock


def leave_with(code: int) -> None:
    """End the command with `code`: in a dlm-launched rank, hand it to the launcher (torchrun
    treats any nonzero exit as a crash); elsewhere exit with it."""
    target = os.environ.get(EXIT_FILE)
    if launched_by_dlm() and target:
        Path(target).write_text(f"{code}\n", encoding="utf-8")
        return
    if code:
        raise typer.Exit(code)


def launch(
    options: LaunchOptions,
    argv: list[str],
    *,
    store: Any | None,
    wait: bool,
    failure: str,
) -> int:
    """Run `dlm <argv>` under torchrun holding the store lock; the exit code to use.

    `store` is None on nodes other than 0, which leave the store to node 0 (on a shared
    $DLM_HOME, two launchers creating it at once would race). `failure` starts the
    message when a process fails ("Training failed: ...").
    """
    if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:
        raise CliError(
            "This command already runs as one process of a torchrun launch; drop --nproc and "
            "--nnodes (torchrun's own flags decide the processes), or run dlm without torchrun.",
            code=EXIT_USAGE,
        )
    import tempfile  # here: most commands never launch

    with tempfile.TemporaryDirectory(prefix="dlm-launch-") as scratch:
        exit_file = Path(scratch) / "exit-code"
        env = rank_environment(options, os.environ, available_cores())
        env[EXIT_FILE] = str(exit_file)
        lock: AbstractContextManager[None] = (
            store.lock(wait=wait, on_wait=note) if store is not None else nullcontext()
        )
        with lock:
            code = _wait(subprocess.Popen(torchrun_command(options, argv), env=env))
        if code != 0:
            raise CliError(
                f"{failure} A process of this {options.world_size}-process run failed (torchrun "
                f"exit {code}); its error is above."
            )
        return int(exit_file.read_text(encoding="utf-8")) if exit_file.exists() else 0


def available_cores() -> int:
    """CPU cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _wait(process: subprocess.Popen[bytes]) -> int:
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.wait()  # torchrun got the same Ctrl-C and is stopping its processes
        message = "Interrupted: torchrun stopped every process of the run."
        raise CliError(message, code=EXIT_INTERRUPTED) from None


def _option_argv(option: Any, value: Any) -> list[str]:
    flag = option.opts[0]
    if option.is_flag and isinstance(value, bool):
        if value:
            return [flag]
        return [option.secondary_opts[0]] if option.secondary_opts else []
    values = value if option.multiple else [value]
    out: list[str] = []
    for item in values:
        out += [flag, _text(item)]
    return out


def _text(value: Any) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _absolute(value: Any) -> str:
    return str(Path(_text(value)).absolute())
