"""`dlm prompt`: ask the trained adapter (or the base model) a question."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dlm.documents import load_valid_document
from dlm.errors import CliError
from dlm.sampling import (
    Backend,
    BackendChoice,
    BackendOption,
    TensorParallelOption,
    load_backend,
)


def prompt(
    path: Annotated[Path, typer.Argument(help="The .dlm document whose adapter answers.")],
    text: Annotated[str, typer.Argument(help="The question.")],
    max_new_tokens: Annotated[int, typer.Option(help="Longest answer, in tokens.", min=1)] = 128,
    temp: Annotated[float, typer.Option(help="Sampling temperature; 0 is greedy.", min=0)] = 0.0,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass.", min=0, max=1)] = 0.95,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    adapter_version: Annotated[
        str | None,
        typer.Option(help="vNNNN, or `base` for the base model alone (default: current)."),
    ] = None,
    backend: BackendOption = Backend.HF,
    tensor_parallel_size: TensorParallelOption = 1,
) -> None:
    """Answer a question with the document's current adapter, chat template applied.

    Example: dlm prompt notes.dlm "When does the Tern leave Gullmouth?"
    """
    choice = BackendChoice(backend, tensor_parallel_size)
    loaded = load_valid_document(path)
    from trainer.runtime import set_offline

    set_offline()
    from trainer.generate import Sampling
    from trainer.models import resolve_base_model
    from trainer.runtime import choose_precision, configure_threads
    from trainer.store import Store, dlm_home

    home = dlm_home()
    frontmatter = loaded.frontmatter
    configure_threads(None)
    store = Store.open(frontmatter.dlm_id, home)
    version = adapter_version or store.current_version()
    if version is None:
        raise CliError(f"No trained adapter for {path} yet. Run `dlm train {path}` first.")
    if version != "base" and version not in store.versions():
        known = ", ".join(store.versions()) or "none"
        raise CliError(f"No adapter version {version} (versions: {known}).")
    resolved = resolve_base_model(
        frontmatter.base_model, home, progress=lambda m: typer.echo(m, err=True)
    )
    adapter = None if version == "base" else store.version_path(version)
    precision = choose_precision(frontmatter.training.precision)
    sampler, _, _ = load_backend(
        choice, resolved.path, adapter, precision, seed=seed, need_model=False
    )
    sampling = Sampling(max_new_tokens, temp, top_p, seed)
    typer.echo(sampler.answer(text, sampling, system_prompt=frontmatter.system_prompt))
    sampler.close()
