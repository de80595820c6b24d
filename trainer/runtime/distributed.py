"""One process among several started by torchrun: who it is, and the few collectives dlm uses.

torchrun (or any launcher speaking its protocol) tells each process `RANK`,
`WORLD_SIZE` and `LOCAL_RANK` in the environment; a process without them is a world
of one, and every function here is then a no-op. Training itself is synchronised by
trl/transformers (DDP); dlm adds only what the library does not do: agreeing on the
inputs before training, gathering sampled candidates on rank 0, and refusing to run
when the trainer would not see the other processes.
"""

from __future__ import annotations

import hashlib
import os
import signal
from dataclasses import dataclass
from types import FrameType
from typing import Any, TypeVar

from trainer.errors import TrainerError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class World:
    """This process's place among the processes of one run (0-based ranks)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that writes the store, metrics and output."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """More than one process."""
        return self.size > 1


SINGLE = World()
"""The world of a process that torchrun did not start."""


class RankStoppedError(TrainerError):
    """torchrun stopped this process because another process of the run failed."""


def current_world() -> World:
    """This process's rank and world size, from torchrun's environment variables."""
    size = _env_int("WORLD_SIZE", 1)
    if size <= 1:
        return SINGLE
    return World(_env_int("RANK", 0), size, _env_int("LOCAL_RANK", 0))


def join(world: World, *, backend: str = "gloo") -> None:
    """Join the run's process group with `backend` (gloo on CPUs, NCCL on GPUs).

    Also turns torchrun's SIGTERM (sent when another process failed) into an
    exception, so rank 0 closes its run as failed instead of vanishing mid-write.
    """
    if not world.distributed:
        return
    import torch
    import torch.distributed as dist

    signal.signal(signal.SIGTERM, _stopped)
    if dist.is_initialized():
        return
    if backend == "nccl":
        torch.cuda.set_device(world.local_rank)
    dist.init_process_group(backend=backend)


def leave(world: World) -> None:
    """Leave the process group, if this process joined one."""
    if not world.distributed:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def training_arguments(world: World, *, device: str, precision: str) -> dict[str, Any]:
    """The device arguments of a trl config: CPU or GPU, mixed precision, and DDP for one
    process of `world` (docs/hardware.md).

    `use_cpu` on a CPU is what makes transformers join the gloo group at all (without it
    each process trains alone), and keeps a run asked for the CPU off a GPU that exists.
    """
    arguments: dict[str, Any] = {
        "use_cpu": device != "cuda",
        "bf16": precision == "bf16",
        "fp16": precision == "fp16",
    }
    if world.distributed:
        backend = "nccl" if device == "cuda" else "gloo"
        arguments.update(ddp_backend=backend, ddp_find_unused_parameters=False)
    return arguments


def check_trainer_world(world: World, trainer_world_size: int) -> None:
    """Fail loudly when torchrun started several processes but the trainer sees only itself."""
    if trainer_world_size == world.size:
        return
    raise TrainerError(
        f"torchrun started {world.size} processes, but the trainer of rank {world.rank} sees "
        f"a world of {trainer_world_size}: each process would train alone on all the data "
        "and write its own adapter. On a CPU machine the trainer needs `use_cpu=True` and the "
        "gloo backend; on GPUs, one GPU per process. Run through `dlm train PATH --nproc N`, "
        "which sets both."
    )


def barrier(world: World) -> None:
    """Wait until every rank gets here (e.g. until rank 0 has written a new adapter version)."""
    if not world.distributed:
        return
    import torch.distributed as dist

    dist.barrier()


def agree(world: World, value: str, what: str) -> None:
    """Every rank must hold the same `value` (a digest of `what`); raise on every rank if not."""
    if not world.distributed:
        return
    import torch.distributed as dist

    values: list[Any] = [None] * world.size
    dist.all_gather_object(values, value)
    differing = [rank for rank, seen in enumerate(values) if seen != values[0]]
    if differing:
        raise TrainerError(
            f"The processes of this run disagree on {what}: rank {differing[0]} has "
            f"{values[differing[0]]}, rank 0 has {values[0]}. Every node needs the same "
            "document and the same store: share $DLM_HOME between nodes (or copy the "
            "document's store to each) and run the same command on each."
        )


def from_main(world: World, value: T) -> T:
    """Rank 0's `value` on every rank (for choices a rank could make differently, such as
    the timed bf16 probe)."""
    if not world.distributed:
        return value
    import torch.distributed as dist

    box: list[T] = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def fingerprint(*values: Any) -> str:
    """A short digest of plain values (dataclasses included) to compare across ranks."""
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]


def gather_to_main(world: World, value: T) -> list[T] | None:
    """Every rank's `value`, in rank order, on rank 0; None on the other ranks."""
    if not world.distributed:
        return [value]
    import torch.distributed as dist

    gathered: list[Any] | None = [None] * world.size if world.is_main else None
    dist.gather_object(value, gathered, dst=0)
    return gathered


def threads_per_process() -> int | None:
    """The intra-op threads the launcher gave this process (`OMP_NUM_THREADS`), if any."""
    value = _env_int("OMP_NUM_THREADS", 0)
    return value if value > 0 else None


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise RankStoppedError(
        "torchrun stopped this process because another process of the run failed "
        "(its error is above)."
    )


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default
