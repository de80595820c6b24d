"""`dlm demo`: the loop so far on the bundled example and the embedded model."""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from dlm.errors import CliError
from dlm.files import write_atomically

QUESTIONS = (
    "When does the Tern leave Gullmouth?",
    "Who keeps the lighthouse on Harwick Island?",
)


def demo(
    directory: Annotated[Path, typer.Argument(help="Where to write the demo document.")] = Path(
        "dlm-demo"
    ),
    max_steps: Annotated[int, typer.Option(help="Training steps.", min=1)] = 30,
) -> None:
    """Run the loop on a bundled example: init -> train -> prompt, answers before and after.

    Uses the embedded SmolLM2-135M-Instruct; a few minutes on a laptop CPU.

    Example: dlm demo ./dlm-demo
    """
    from dlm.commands.prompt import prompt
    from dlm.commands.train import train

    started = time.perf_counter()
    path = _write_example(directory)
    typer.echo(f"1. Wrote {path} (a fresh dlm_id, facts the base model cannot know).")
    typer.echo("2. The base model, before training:")
    for question in QUESTIONS:
        typer.echo(f"   Q: {question}")
        typer.echo("   A: ", nl=False)
        prompt(path, question, max_new_tokens=48, temp=0.0, adapter_version="base")
    typer.echo(f"3. Training {max_steps} steps:")
    train(path, max_steps=max_steps)
    typer.echo("4. The trained adapter, after:")
    for question in QUESTIONS:
        typer.echo(f"   Q: {question}")
        typer.echo("   A: ", nl=False)
        prompt(path, question, max_new_tokens=48, temp=0.0)
    typer.echo(
        f"Done in {time.perf_counter() - started:.0f} s. Next: `dlm show {path}`, "
        f"`dlm metrics {path} --plot loss.png`."
    )


def _write_example(directory: Path) -> Path:
    from ulid import ULID

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "notes.dlm"
    if path.exists():
        raise CliError(f"{path} already exists; give `dlm demo` an empty directory.")
    text = _example_text().replace("01JQ7Z8M3K4Q2V6X9B1C5D7E8F", str(ULID()), 1)
    write_atomically(path, text.encode("utf-8"), exclusive=True)
    return path


def _example_text() -> str:
    packaged = resources.files("dlm").joinpath("examples", "notes.dlm")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "examples" / "notes.dlm").read_text(
        encoding="utf-8"
    )
