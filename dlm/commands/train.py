"""`dlm train`: train the document's adapter."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from dlm.documents import load_valid_document
from dlm.errors import CliError


def train(
    path: Annotated[Path, typer.Argument(help="The .dlm document to train on.")],
    max_steps: Annotated[
        int | None, typer.Option(help="Stop after this many optimizer steps.", min=1)
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: training.seed).")] = None,
    fresh: Annotated[
        bool,
        typer.Option(help="Start from the base model instead of the current adapter; no replay."),
    ] = False,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Fail at once if another run holds the store.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Train a LoRA adapter on the document's prose and questions (SFT).

    Each run writes a new adapter version to the store ($DLM_HOME, default ~/.dlm)
    and records its steps in metrics.sqlite. A document with errors trains nothing.

    Example: dlm train notes.dlm --max-steps 40
    """
    loaded = load_valid_document(path)
    from trainer.runtime import set_offline

    set_offline()
    from dlm.progress import RichEvents
    from trainer.models import resolve_base_model
    from trainer.runtime import choose_precision, configure_threads
    from trainer.sft import SFTRequest, run_sft
    from trainer.sft_config import SFTSettings
    from trainer.store import Store, dlm_home

    home = dlm_home()
    frontmatter = loaded.frontmatter
    store = Store.open(frontmatter.dlm_id, home)
    configure_threads(None)
    try:
        with store.lock(wait=not no_wait, on_wait=lambda text: typer.echo(text, err=True)):
            events = RichEvents()
            resolved = resolve_base_model(frontmatter.base_model, home, progress=events.message)
            settings = SFTSettings.from_training(
                frontmatter.training,
                precision=choose_precision(frontmatter.training.precision),
                max_steps=max_steps,
                seed=seed,
            )
            request = SFTRequest(
                document=loaded.document,
                document_bytes=loaded.data,
                settings=settings,
                model_dir=resolved.path,
                base_model=frontmatter.base_model,
                fresh=fresh,
            )
            with events:
                result = run_sft(request, store, events)
    except KeyboardInterrupt:
        raise CliError("Interrupted: no adapter version was written.", code=130) from None
    if as_json:
        typer.echo(json.dumps({"schema_version": 1, "phase": "sft", **asdict(result)}, indent=2))
        return
    loss = f"{result.train_loss:.3f}" if result.train_loss is not None else "-"
    typer.echo(
        f"Run {result.run_id}: {result.steps} steps on {result.rows} rows "
        f"({result.replayed_rows} replayed), loss {loss}"
        + (f", held-out loss {result.eval_loss:.3f}" if result.eval_loss is not None else "")
        + f" -> adapter {result.adapter_version} ({result.seconds:.0f} s)."
    )
