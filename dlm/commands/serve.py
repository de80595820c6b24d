"""`dlm serve`: the document's adapter behind an OpenAI-compatible API, until Ctrl-C."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dlm.commands.export import Quant
from dlm.documents import load_valid_document
from dlm.placement import DeviceOption
from dlm.verbosity import note
from dlmlang.errors import UsageError

if TYPE_CHECKING:
    from trainer.export.serve import Served


class Engine(StrEnum):
    """What `--engine` accepts (trainer.export.serve.ENGINES)."""

    LLAMA_CPP = "llama.cpp"
    VLLM = "vllm"


ENGINE_HELP = (
    "llama.cpp: its server on the version's GGUF, on the CPU (exported first if the store "
    "has none); vllm: `vllm serve` with the adapter as a LoRA, on a CUDA GPU."
)


def serve(
    path: Annotated[Path, typer.Argument(help="The .dlm document whose adapter is served.")],
    adapter_version: Annotated[
        str | None,
        typer.Option(help="vNNNN, or `base` for the base model alone (default: current)."),
    ] = None,
    engine: Annotated[Engine, typer.Option(help=ENGINE_HELP)] = Engine.LLAMA_CPP,
    quant: Annotated[
        Quant, typer.Option(help="The GGUF's quantization (--engine llama.cpp).")
    ] = Quant.Q8_0,
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.", min=1, max=65535)] = 8080,
    model_name: Annotated[
        str | None,
        typer.Option(
            help="The model name clients ask for (default: the document's file stem).",
            show_default=False,
        ),
    ] = None,
    device: DeviceOption = None,
) -> None:
    """Serve an adapter version over an OpenAI-compatible API until Ctrl-C (docs/export.md).

    Prints the API's URL and the model name once the server answers; any OpenAI client,
    or another document's `--judge api:NAME --judge-url URL`, can then use it. Ctrl-C
    stops the server and exits 0. The server's output goes to a log under the store.

    Example: dlm serve notes.dlm --port 8080
    """
    gpu = _gpu(engine, device)
    loaded = load_valid_document(path)
    from trainer.runtime.environment import set_offline

    set_offline()
    from dlm.models import base_model_dir
    from trainer.export.serve import ServeRequest
    from trainer.export.serve import serve as run_server
    from trainer.export.toolenv import tools_dir
    from trainer.store import Store, dlm_home

    store = Store.open(loaded.frontmatter.dlm_id, dlm_home())
    version = store.resolve_version(adapter_version, str(path), "the server serves it")
    request = ServeRequest(
        model_dir=base_model_dir(loaded.frontmatter.base_model),
        adapter_dir=None if version == "base" else store.version_path(version),
        version=version,
        store_root=store.root,
        model_name=model_name if model_name is not None else path.stem,
        engine=engine.value,
        quant=quant.value,
        host=host,
        port=port,
        gpu=gpu,
        system_prompt=loaded.frontmatter.system_prompt,
    )
    run_server(request, tools_dir(dlm_home()), note, _announce)


def _gpu(engine: Engine, device: str | None) -> str | None:
    """The CUDA index for vLLM from --device; a usage error for a device the engine lacks."""
    asked = (device or "auto").strip().lower()
    kind, _, index = asked.partition(":")
    if engine is Engine.LLAMA_CPP:
        if asked not in ("auto", "cpu"):
            raise UsageError(
                "--engine llama.cpp runs on the CPU (dlm builds llama.cpp without CUDA): "
                "use --device cpu or auto, or serve on a GPU with --engine vllm."
            )
        return None
    if asked == "auto" or (kind == "cuda" and (not index or index.isdigit())):
        return index or None
    raise UsageError(f"--engine vllm runs on CUDA GPUs: use --device cuda or cuda:N, not {device}.")


def _announce(served: Served) -> None:
    """The URL and model name on stdout, and how to use the server as a judge."""
    typer.echo(f"Serving {served.version} as {served.model_name} at {served.url}")
    typer.echo(f"  model name: {served.model_name}")
    typer.echo(f"  as a judge: --judge api:{served.model_name} --judge-url {served.url}")
    typer.echo(f"  log: {served.log}")
    typer.echo("Ctrl-C stops the server.")
