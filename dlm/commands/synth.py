"""`dlm synth instructions|list|apply|revert|discard|preferences`: synthesized pairs.

`instructions` asks a teacher for question/answer pairs from the prose sections, filters
them and stages them (or writes them with --apply) as marked `::instruction::` sections;
`preferences` is `dlm preference mine` under another name (docs/synth.md).
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from dlm.commands import preference
from dlm.commands.preference import AsJson, DryRun
from dlm.documents import LoadedDocument, load_valid_document
from dlm.errors import EXIT_USAGE, CliError
from dlm.jsonout import to_json
from dlm.judging import JUDGE_HELP, JudgeTimeoutOption, JudgeUrlOption, RubricOption
from dlm.placement import DeviceOption
from dlm.render import printable
from dlm.verbosity import is_quiet, note
from dlm.writer import Change, write_edits

app = typer.Typer(
    help="Synthesized instruction pairs from the prose: generate, list, apply, revert.\n\n"
    "Example: dlm synth instructions notes.dlm --per-section 3",
    no_args_is_help=True,
)

Document = Annotated[Path, typer.Argument(help="The .dlm document.")]


class ProgressFormat(StrEnum):
    """How `dlm synth instructions` reports progress besides its bar."""

    JSONL = "jsonl"


REJECT_WORDS = {
    "duplicate": "duplicate question(s)",
    "unsupported": "answer(s) not supported by the prose",
    "disfavoured": 'answer(s) the judge did not prefer to "I don\'t know."',
}


@app.command()
def instructions(
    path: Document,
    teacher: Annotated[
        str,
        typer.Option(
            help="`self` (the document's adapter, or its base model before training), "
            "`hf:<model>` (a local transformers model) or `api:<model>` (with --teacher-url)."
        ),
    ] = "self",
    teacher_url: Annotated[
        str | None,
        typer.Option(
            help="api: teachers: the OpenAI-compatible API base, e.g. http://host:8080/v1."
        ),
    ] = None,
    section: Annotated[
        list[str] | None, typer.Option(help="Only this prose section (repeatable).")
    ] = None,
    per_section: Annotated[
        int, typer.Option(help="Questions asked of each prose section.", min=1, max=20)
    ] = 3,
    min_support: Annotated[
        float,
        typer.Option(
            help="Smallest share of an answer's content words found in its prose section.",
            min=0.0,
            max=1.0,
        ),
    ] = 0.5,
    duplicate_f1: Annotated[
        float,
        typer.Option(
            help="Word-overlap F1 from which a question counts as a duplicate of one asked.",
            min=0.0,
            max=1.0,
        ),
    ] = 0.8,
    judge: Annotated[
        str | None,
        typer.Option(
            help='Also keep only answers this judge prefers to "I don\'t know." by '
            f"--threshold (off by default): {JUDGE_HELP}"
        ),
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="With --judge, the margin needed (default: the judge's).")
    ] = None,
    judge_timeout: JudgeTimeoutOption = 30.0,
    judge_url: JudgeUrlOption = None,
    rubric: RubricOption = None,
    temp: Annotated[float, typer.Option(help="Sampling temperature; 0 is greedy.", min=0)] = 0.0,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass.", min=0, max=1)] = 0.95,
    max_new_tokens: Annotated[int, typer.Option(help="Longest teacher reply.", min=1)] = 128,
    seed: Annotated[int, typer.Option(help="Sampling seed (with --temp above 0).")] = 0,
    apply_now: Annotated[
        bool, typer.Option("--apply", help="Write the pairs into the document now.")
    ] = False,
    replace: Annotated[bool, typer.Option(help="Start the staged plan afresh.")] = False,
    progress: Annotated[
        ProgressFormat | None,
        typer.Option(help="`jsonl`: one JSON progress object per line on stderr."),
    ] = None,
    device: DeviceOption = None,
    as_json: AsJson = False,
) -> None:
    """Ask a teacher for question/answer pairs from the prose sections, filter, stage them.

    Duplicates (of each other, of the document's questions, of staged ones) and answers
    the source prose does not support are dropped. Exit 0 when pairs were staged or
    written, 2 when none were (the reasons are printed).

    Example: dlm synth instructions notes.dlm --teacher self --apply

    Example: dlm synth instructions notes.dlm --teacher api:qwen --teacher-url http://127.0.0.1:8080/v1
    """
    from trainer.store import Store, dlm_home
    from trainer.synthesis.plan import prose_sections
    from trainer.synthesis.teachers import parse_teacher

    spec = parse_teacher(teacher, teacher_url)  # a bad --teacher fails before any loading
    judging = _judging(judge, threshold, judge_timeout, judge_url, rubric)
    loaded = load_valid_document(path)
    sections = tuple(section or ())
    # A bad --section, or nothing to draw from, fails before the store opens.
    if not prose_sections(loaded.document, sections):
        raise CliError(
            f"{path} has no prose section with words in it: synthesis writes questions "
            "about prose, so write some first.",
            code=EXIT_USAGE,
        )
    store = Store.open(loaded.frontmatter.dlm_id, dlm_home())
    options = {
        "per_section": per_section,
        "min_support": min_support,
        "duplicate_f1": duplicate_f1,
        "temp": temp,
        "top_p": top_p,
        "max_new_tokens": max_new_tokens,
        "seed": seed,
        "device": device,
        "judge": judging,
        "threshold": threshold,
    }
    with _locked(store):
        store.documents.record(loaded.path)
        plan = None if replace else _plan(store)
        emit = _progress(progress is ProgressFormat.JSONL)
        try:
            result = _synthesize(loaded, store, spec, sections, plan, options, emit)
        finally:
            emit.close()
        mode = _stage(loaded, store, plan, result, apply_now)
    summary = _summary(result, mode)
    if as_json:
        typer.echo(to_json(summary))
    else:
        typer.echo(
            f"{len(result.pairs)} pair(s) from {result.sections_seen} prose section(s) by "
            f"{printable(result.teacher)}, {mode}; dropped: {_dropped(summary)}"
        )
        for pair in result.pairs:
            typer.echo(f"  Q: {_one_line(pair.question)}")
            typer.echo(f"  A: {_one_line(pair.answer)}  [support {pair.support:.2f}]")
        if mode == "staged":
            typer.echo(f"`dlm synth apply {path}` writes them; `dlm synth list {path}` shows them.")
    if not result.pairs and mode != "applied":
        raise typer.Exit(EXIT_USAGE)


def _synthesize(
    loaded: LoadedDocument,
    store: Any,
    spec: Any,
    sections: tuple[str, ...],
    plan: Any,
    options: dict[str, Any],
    emit: Any,
) -> Any:
    from trainer.runtime.environment import set_offline

    set_offline()
    from dlm.placement import place
    from trainer.generation.generate import Sampling
    from trainer.models import resolve_base_model
    from trainer.runtime.distributed import SINGLE
    from trainer.store import dlm_home
    from trainer.synthesis.document import (
        DocumentSynthesis,
        SynthesisRequest,
        synthesize_document,
    )

    judging = options["judge"]
    needs_model = spec.kind != "api" or (judging is not None and judging.needs_sampling_model)
    placement = None
    if needs_model:  # an api: teacher needs no device, unless a sway judge scores
        placement = place(options["device"], loaded.frontmatter.training.precision, SINGLE)
    known = tuple(pair.question for pair in plan.pairs) if plan is not None else ()
    request = SynthesisRequest(
        document=loaded.document,
        sections=sections,
        per_section=options["per_section"],
        sampling=Sampling(
            max_new_tokens=options["max_new_tokens"],
            temperature=options["temp"],
            top_p=options["top_p"],
            seed=options["seed"],
        ),
        min_support=options["min_support"],
        duplicate_f1=options["duplicate_f1"],
        known_questions=known,
        judge=judging,
        judge_threshold=options["threshold"],
    )
    home = dlm_home()
    base_dir = None
    if spec.kind == "self" or (judging is not None and judging.needs_sampling_model):
        base_dir = resolve_base_model(loaded.frontmatter.base_model, home).path
    synthesis = DocumentSynthesis(request, spec, base_dir, placement, home)
    return synthesize_document(synthesis, store, emit)


def _judging(
    selector: str | None,
    threshold: float | None,
    timeout: float,
    url: str | None,
    rubric: Path | None,
) -> Any:
    """The --judge filter's settings (None without --judge), checked before any loading."""
    if selector is None:
        for flag, given in (("--threshold", threshold), ("--judge-url", url), ("--rubric", rubric)):
            if given is not None:
                raise CliError(f"{flag} applies with --judge SEL.", code=EXIT_USAGE)
        return None
    from trainer.rewards.settings import JudgeSettings

    return JudgeSettings(selector, timeout=timeout, url=url, rubric=rubric)


def _stage(loaded: LoadedDocument, store: Any, plan: Any, result: Any, apply_now: bool) -> str:
    """Stage the pairs (and with --apply write the staged ones); the write mode."""
    from trainer.synthesis.plan import apply_plan, merge, plan_path, save_plan, staged_pairs

    mode = "empty"
    new_plan = plan
    if result.pairs:
        new_plan = merge(plan, result.pairs, hashlib.sha256(loaded.data).hexdigest())
        save_plan(plan_path(store.root), new_plan)
        mode = "staged"
    if apply_now and new_plan is not None and staged_pairs(new_plan, loaded.document):

        def compute(version: LoadedDocument) -> Change[None]:
            return Change(apply_plan(version.document, new_plan).edits, None)

        kept = f"The pairs stay staged: `dlm synth apply {loaded.path}` writes them."
        write_edits(loaded, compute, kept=kept)
        mode = "applied"
    return mode


def _summary(result: Any, mode: str) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "teacher": result.teacher,
        "strategy": "extraction",
        "sections_seen": result.sections_seen,
        "candidates": result.candidates,
        "pairs_synthesized": len(result.pairs),
        "dropped": result.filtered.counts(),
        "unparsed": result.unparsed,
        "write_mode": mode,
        "seconds": round(result.seconds, 3),
        "pairs": [
            {
                "section_id": p.section_id,
                "source_section_id": p.source_section_id,
                "question": p.question,
                "answer": p.answer,
                "support": p.support,
            }
            for p in result.pairs
        ],
    }


def _dropped(summary: dict[str, Any]) -> str:
    parts = [f"{n} {REJECT_WORDS.get(k, k)}" for k, n in sorted(summary["dropped"].items())]
    if summary["unparsed"]:
        parts.append(f"{summary['unparsed']} teacher reply(ies) without a usable pair")
    return ", ".join(parts) or "none"


@app.command("list")
def list_pairs(path: Document, as_json: AsJson = False) -> None:
    """Synthesized sections in the document, and pairs staged but not yet applied.

    Example: dlm synth list notes.dlm --json
    """
    loaded, store = _open(path)
    from trainer.synthesis.plan import staged_pairs

    applied = [s for s in loaded.document.sections if s.synth is not None]
    staged = staged_pairs(_plan(store), loaded.document)
    if as_json:
        payload = {
            "schema_version": 1,
            "applied": [
                {
                    "section_id": s.section_id,
                    "source_section_id": s.synth.source_section_id,
                    "question": s.pairs[0].question if s.pairs else "",
                    "answer": s.pairs[0].answer if s.pairs else "",
                    "teacher": s.synth.synth_teacher,
                    "strategy": s.synth.synth_strategy,
                    "synth_at": s.synth.synth_at,
                }
                for s in applied
                if s.synth is not None
            ],
            "staged": [{k: getattr(p, k) for k in _STAGED_FIELDS} for p in staged],
        }
        typer.echo(to_json(payload))
        return
    typer.echo(f"{len(staged)} staged pair(s) and {len(applied)} synthesized section(s) in {path}.")
    for pair in staged:
        typer.echo(
            f"\nstaged {pair.section_id} (from {pair.source_section_id}, teacher "
            f"{printable(pair.teacher)}, support {pair.support:.2f})"
        )
        typer.echo(f"  Q: {_one_line(pair.question)}")
        typer.echo(f"  A: {_one_line(pair.answer)}")
    for section in applied:
        assert section.synth is not None
        typer.echo(
            f"\nin the document {section.section_id} (from {section.synth.source_section_id}, "
            f"teacher {printable(section.synth.synth_teacher)})"
        )
        for qa in section.pairs:
            typer.echo(f"  Q: {_one_line(qa.question)}")
            typer.echo(f"  A: {_one_line(qa.answer)}")


_STAGED_FIELDS = (
    "section_id",
    "source_section_id",
    "question",
    "answer",
    "teacher",
    "strategy",
    "synth_at",
    "support",
)


@app.command()
def apply(
    path: Document,
    force: Annotated[
        bool, typer.Option(help="Append pairs whose source section is gone at the end.")
    ] = False,
    dry_run: DryRun = False,
    as_json: AsJson = False,
) -> None:
    """Insert the staged pairs after the prose sections they were drawn from.

    Pairs already in the document are skipped; the plan is kept, so a revert can be
    applied again. If the file is saved while dlm works, the pairs are placed in the
    saved text.

    Example: dlm synth apply notes.dlm --dry-run --json
    """
    loaded, store = _open(path)
    from trainer.synthesis.plan import apply_plan

    def compute(version: LoadedDocument) -> Change[list[str]]:
        plan = _plan(store)
        if plan is None or not plan.pairs:
            raise CliError(
                f"Nothing staged for {path}; run `dlm synth instructions` first.", code=EXIT_USAGE
            )
        result = apply_plan(version.document, plan, force=force)
        return Change(result.edits, [pair.section_id for pair in result.inserted])

    if dry_run:
        preference._print_edits(loaded, compute(loaded), as_json)
        return
    with _locked(store):
        written = write_edits(loaded, compute, kept="The staged pairs are kept.")
    preference._print_written(loaded, written, f"{len(written.outcome)} pair(s) inserted", as_json)


@app.command()
def revert(
    path: Document,
    section: Annotated[
        list[str] | None,
        typer.Option(
            help="Only this synthesized section, or those drawn from this prose section "
            "(repeatable)."
        ),
    ] = None,
    dry_run: DryRun = False,
    as_json: AsJson = False,
) -> None:
    """Remove synthesized sections (all by default), byte for byte what apply inserted.

    Example: dlm synth revert notes.dlm
    """
    loaded, store = _open(path)
    from trainer.synthesis.plan import revert_edits

    def compute(version: LoadedDocument) -> Change[list[str]]:
        edits, removed = revert_edits(version.document, section or ())
        if not removed:
            raise CliError(f"No synthesized sections to revert in {path}.", code=EXIT_USAGE)
        return Change(edits, [s.section_id for s in removed])

    if dry_run:
        preference._print_edits(loaded, compute(loaded), as_json)
        return
    with _locked(store):
        written = write_edits(loaded, compute)
        store.replay.purge(written.outcome)
    preference._print_written(
        loaded, written, f"{len(written.outcome)} section(s) removed", as_json
    )


@app.command()
def discard(path: Document) -> None:
    """Delete the staged synthesis plan.

    Example: dlm synth discard notes.dlm
    """
    from trainer.synthesis.plan import plan_path

    _, store = _open(path)
    with _locked(store):
        plan = _plan(store)
        if plan is None:
            typer.echo(f"No staged synthesis plan for {path}.")
            return
        plan_path(store.root).unlink()
    typer.echo(f"Discarded {len(plan.pairs)} staged pair(s).")


# `dlm synth preferences` is `dlm preference mine`: the same function, options and output.
app.command(
    "preferences",
    help="The same as `dlm preference mine` (docs/self-improving-loop.md).\n\n"
    "Example: dlm synth preferences notes.dlm --samples 4",
)(preference.mine)


def _open(path: Path) -> tuple[LoadedDocument, Any]:
    from trainer.store import Store, dlm_home

    loaded = load_valid_document(path)
    return loaded, Store.open(loaded.frontmatter.dlm_id, dlm_home())


def _plan(store: Any) -> Any:
    from trainer.synthesis.plan import load_plan, plan_path

    return load_plan(plan_path(store.root))


def _locked(store: Any) -> Any:
    return store.lock(wait=True, on_wait=note)


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(printable(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class _Reporter:
    """Progress of a synthesis: a bar on stderr, or JSON lines (`--progress jsonl`)."""

    def __init__(self, jsonl: bool) -> None:
        self.jsonl = jsonl
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, event: str, stage: str, done: int, total: int, message: str) -> None:
        if self.jsonl:
            from dlm.progress import progress_line

            progress_line(event, stage, done, total, message)
            return
        if stage != "synthesize":
            if message:
                note(message)
            return
        if event == "start" and not is_quiet():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                TextColumn("[bold]synthesizing"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("sections"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            self.bar.start()
            self.task = self.bar.add_task("synthesize", total=total)
        elif self.bar is not None:
            self.bar.update(self.task, completed=done)
            if event == "done":
                self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _progress(jsonl: bool) -> _Reporter:
    return _Reporter(jsonl)
