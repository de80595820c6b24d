"""`dlm demo`: the whole self-improving loop on the bundled example and the embedded model."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from dlm.errors import CliError
from dlm.files import create_document
from dlm.placement import DeviceOption

HELD_OUT = "notes-heldout.jsonl"
QUESTIONS = (
    "When does the Tern leave Gullmouth?",
    "Who keeps the lighthouse on Harwick Island?",
)


def demo(
    directory: Annotated[Path, typer.Argument(help="Where to write the demo document.")] = Path(
        "dlm-demo"
    ),
    max_steps: Annotated[int, typer.Option(help="SFT steps.", min=1)] = 30,
    preference_steps: Annotated[int, typer.Option(help="Preference (DPO) steps.", min=1)] = 10,
    samples: Annotated[int, typer.Option(help="Candidates per prompt when mining.", min=2)] = 6,
    device: DeviceOption = None,
) -> None:
    """Run the whole loop on a bundled example, on the embedded model, before and after.

    init -> train (SFT) -> prompt -> mine preferences (sway judge) -> list -> apply
    -> train the preference phase (DPO) -> prompt -> eval: the held-out check of the
    preference phase against SFT alone, on questions the document never asks. Uses the embedded
    SmolLM2-135M-Instruct; a few minutes on a laptop CPU, less on a GPU (`--device`,
    default: a CUDA GPU when there is one).

    Example: dlm demo ./dlm-demo
    """
    from dlm.commands.preference import apply, list_pairs, mine
    from dlm.commands.prompt import prompt
    from dlm.commands.train import Phase, train

    started = time.perf_counter()
    path = _write_example(directory)
    typer.echo(f"1. Wrote {path} (a fresh dlm_id, facts the base model cannot know).")
    typer.echo("2. The base model, before training:")
    _ask(prompt, path, "base", device)
    typer.echo(f"3. Training {max_steps} SFT steps on the prose and Q/A:")
    train(path, phase=Phase.SFT, max_steps=max_steps, device=device)
    typer.echo("4. The SFT adapter:")
    _ask(prompt, path, None, device)
    typer.echo(f"5. Mining: {samples} answers per question, judged by sway (adapter vs base):")
    mined = True
    try:
        mine(
            path,
            samples=samples,
            max_pairs=3,
            temp=1.2,
            max_new_tokens=48,
            seed=0,
            device=device,
        )
    except typer.Exit as stop:
        if stop.exit_code != 2:
            raise
        mined = False
    if mined:
        typer.echo("6. The staged pairs, then applied into the document:")
        list_pairs(path)
        apply(path)
    else:
        typer.echo("6. Nothing mined this time: the preference phase uses the hand-written pairs.")
    typer.echo(f"7. The preference phase: {preference_steps} DPO steps from the SFT adapter:")
    train(path, phase=Phase.PREFERENCE, max_steps=preference_steps, device=device)
    typer.echo("8. After the preference phase:")
    _ask(prompt, path, None, device)
    _held_out_check(path, device)
    typer.echo(
        f"Done in {time.perf_counter() - started:.0f} s. Next: `dlm show {path}`, "
        f"`dlm preference list {path}`, `dlm metrics {path} --plot loss.png`."
    )


def _held_out_check(path: Path, device: str | None) -> None:
    """Step 9: the preference phase's adapter against SFT alone, on held-out questions."""
    from dlm.commands.eval import evaluate

    questions = path.parent / HELD_OUT
    questions.write_text(_example_text(HELD_OUT), encoding="utf-8")
    count = len(questions.read_text(encoding="utf-8").splitlines())
    typer.echo(
        f"9. Held-out check: after the preference phase against SFT alone, on {count} "
        f"questions the document never asks ({questions}), scored by word overlap with "
        "their reference answers:"
    )
    evaluate(
        path,
        prompts=questions,
        heldout=False,
        against="v0001",
        max_new_tokens=48,
        device=device,
    )
    typer.echo(
        "   A win rate above 0.5 whose interval stays above 0.5 means the answers got better; "
        "an interval around 0.5 means this round changed little (docs/self-improving-loop.md)."
    )


def _ask(prompt: Any, path: Path, version: str | None, device: str | None) -> None:
    for question in QUESTIONS:
        typer.echo(f"   Q: {question}")
        typer.echo("   A: ", nl=False)
        prompt(
            path,
            question,
            max_new_tokens=48,
            temp=0.0,
            adapter_version=version,
            device=device,
        )


def _write_example(directory: Path) -> Path:
    from ulid import ULID

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "notes.dlm"
    if path.exists():
        raise CliError(f"{path} already exists; give `dlm demo` an empty directory.")
    text = _example_text().replace("01JQ7Z8M3K4Q2V6X9B1C5D7E8F", str(ULID()), 1)
    create_document(path, text.encode("utf-8"))
    return path


def _example_text(name: str = "notes.dlm") -> str:
    from importlib import resources  # here: slow to import, and only the demo reads it

    packaged = resources.files("dlm").joinpath("examples", name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "examples" / name).read_text(encoding="utf-8")
