"""`--backend` and its GPU flags as typer parameters, shared by `dlm prompt` and `dlm
preference mine`; the choice and its loading are trainer.generation.backends.choice's."""

from __future__ import annotations

from typing import Annotated

import typer

from trainer.generation.backends.choice import Backend

BackendOption = Annotated[
    Backend,
    typer.Option(
        help="hf: transformers on this machine, CPU included; vllm: vLLM on CUDA GPUs, "
        "installed separately (docs/scale-out.md).",
        case_sensitive=False,
    ),
]
TensorParallelOption = Annotated[
    int, typer.Option(help="GPUs per vLLM engine (--backend vllm).", min=1)
]
DataParallelOption = Annotated[
    int,
    typer.Option(
        help="vLLM engines, each sampling a share of the prompts (--backend vllm).", min=1
    ),
]
