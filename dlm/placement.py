"""`--device`, and where a command's models run (docs/hardware.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from trainer.runtime.devices import Placement
    from trainer.runtime.distributed import World

DeviceOption = Annotated[
    str | None,
    typer.Option(
        help="Where the models run: auto (a CUDA GPU when there is one, else the CPU), cpu, "
        "cuda or cuda:N. Default: $DLM_DEVICE, else auto.",
        show_default=False,
    ),
]


def place(
    device: str | None, precision: str, world: World, *, backend: str | None = None
) -> Placement:
    """Choose this process's device and precision, and join `world` for them.

    Under torchrun each process gets GPU `LOCAL_RANK` (NCCL) or the CPU (gloo), unless
    `backend` is given, and every process takes rank 0's precision (the CPU probe is timed,
    so processes could disagree).
    """
    from trainer.runtime.devices import Placement, choose_placement, use
    from trainer.runtime.distributed import from_main, join

    local_rank = world.local_rank if world.distributed else None
    placement = choose_placement(device, precision, local_rank=local_rank)
    join(world, backend=backend or placement.backend)
    agreed = from_main(world, placement.precision)
    if agreed != placement.precision:
        placement = Placement(placement.device, agreed)
        use(placement)
    return placement


def check_processes(device: str | None, nproc: int) -> None:
    """Before a launch: on GPUs, one GPU per process must exist on this machine."""
    from trainer.runtime.devices import resolve_device

    if resolve_device(device) != "cpu":
        resolve_device(device, local_rank=nproc - 1)  # the last process's GPU
