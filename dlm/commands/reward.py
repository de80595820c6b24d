"""`dlm reward train`: the document's own reward model, for `--judge reward`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dlm.documents import LoadedDocument, load_valid_document
from dlm.errors import EXIT_INTERRUPTED, EXIT_USAGE, CliError
from dlm.jsonout import to_json
from dlm.placement import DeviceOption
from dlm.verbosity import note

if TYPE_CHECKING:
    from trainer.training.preference_rows import PreferenceRow
    from trainer.training.reward import RankingCheck, RewardResult

app = typer.Typer(
    help="The document's own reward model, trained from its preference pairs.\n\n"
    "Example: dlm reward train notes.dlm",
    no_args_is_help=True,
)


@app.command()
def train(
    path: Annotated[Path, typer.Argument(help="The .dlm document.")],
    pairs: Annotated[
        Path | None,
        typer.Option(
            help="Also train on this JSONL file: one object per line with non-empty string "
            'fields "prompt", "chosen" and "rejected".',
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(help="Optimizer steps (default: 10, or one pass over the pairs).", min=1),
    ] = None,
    learning_rate: Annotated[
        float | None, typer.Option(help="Learning rate, above 0 (default 1e-3).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: training.seed).")] = None,
    device: DeviceOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON of docs/json.md.")
    ] = False,
) -> None:
    """Train a reward model on the document's hand-written preference pairs.

    The document's base model gets a one-logit score head and learns, with trl's
    RewardTrainer (LoRA, then merged), to score each pair's chosen answer above its
    rejected one. Auto-mined pairs are left out. The checkpoint replaces
    <store>/reward/ only once complete; mine with it through `--judge reward`. With
    6 or more pairs about 1 in 6 is held out, and ranking accuracy is printed before
    and after on the held-out and the training pairs. A run (phase reward) and its
    steps are recorded in metrics.sqlite.

    Example: dlm reward train notes.dlm && dlm preference mine notes.dlm --judge reward

    Example: dlm reward train notes.dlm --pairs more-pairs.jsonl --steps 30

    Exit codes: 0 trained, 1 failure (a document with errors, a bad pairs file, a failed run),
    2 usage error or no hand-written pairs.
    """
    if learning_rate is not None and not learning_rate > 0:
        raise CliError(f"--learning-rate must be above 0, not {learning_rate}.", code=EXIT_USAGE)
    loaded = load_valid_document(path)
    from trainer.training.reward_pairs import document_pairs, read_pairs_file

    extra = read_pairs_file(pairs) if pairs is not None else []
    if not document_pairs(loaded.document) and not extra:
        raise CliError(
            f"{path} has no hand-written preference pairs to train a reward model on "
            "(auto-mined ones are left out). Add a ::preference:: section, or pass "
            "--pairs FILE.jsonl.",
            code=EXIT_USAGE,
        )
    result = _run(loaded, extra, pairs, device, steps=steps, learning_rate=learning_rate, seed=seed)
    if as_json:
        typer.echo(to_json({"schema_version": 1, **asdict(result)}))
    else:
        typer.echo(describe(result, path))


def describe(result: RewardResult, path: Path) -> str:
    """What the run did, and how well the model ranks the pairs before and after."""
    loss = f"{result.train_loss:.3f}" if result.train_loss is not None else "-"
    lines = [
        f"Run {result.run_id} (reward): {_count(result.steps, 'step')} on "
        f"{_count(result.pairs, 'pair')} ({result.document_pairs} from the document, "
        f"{result.file_pairs} from --pairs, {result.heldout_pairs} held out), "
        f"loss {loss} -> {result.path} ({result.seconds:.0f} s).",
        _ranking("training pairs", result.train_before, result.train_after),
    ]
    if result.heldout_before is not None and result.heldout_after is not None:
        lines.append(_ranking("held-out pairs", result.heldout_before, result.heldout_after))
    if result.too_long:
        lines.append(f"Left out {result.too_long} pair(s) longer than training.sequence_len.")
    lines.append(f"Mine with it: dlm preference mine {path} --judge reward")
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _ranking(label: str, before: RankingCheck, after: RankingCheck) -> str:
    return (
        f"{label} ({after.pairs}): chosen ranked first {before.accuracy:.0%} -> "
        f"{after.accuracy:.0%}, margin {before.margin:+.3f} -> {after.margin:+.3f}"
    )


def _run(
    loaded: LoadedDocument,
    extra: list[PreferenceRow],
    pairs: Path | None,
    device: str | None,
    **flags: Any,
) -> RewardResult:
    """Under the store lock: resolve the base model, train, save."""
    from trainer.runtime.environment import set_offline

    set_offline()
    from dlm.progress import RichEvents
    from trainer.models import resolve_base_model
    from trainer.runtime.devices import choose_placement
    from trainer.runtime.environment import configure_threads
    from trainer.store import Store, dlm_home
    from trainer.training.reward import RewardRequest, run_reward_training
    from trainer.training.reward_settings import RewardSettings

    home = dlm_home()
    frontmatter = loaded.frontmatter
    store = Store.open(frontmatter.dlm_id, home)
    configure_threads(None)
    placement = choose_placement(device, frontmatter.training.precision)
    settings = RewardSettings.from_training(
        frontmatter.training, precision=placement.precision, device=placement.kind, **flags
    )
    echo = note
    try:
        with store.lock(on_wait=echo):
            resolved = resolve_base_model(frontmatter.base_model, home, progress=echo)
            request = RewardRequest(
                document=loaded.document,
                document_bytes=loaded.data,
                settings=settings,
                model_dir=resolved.path,
                base_model=frontmatter.base_model,
                file_pairs=tuple(extra),
                pairs_file=str(pairs) if pairs is not None else None,
            )
            with RichEvents() as events:
                return run_reward_training(request, store, events)
    except KeyboardInterrupt:
        raise CliError(
            "Interrupted: the reward model was not changed.", code=EXIT_INTERRUPTED
        ) from None
