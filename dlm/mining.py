"""Wiring for `dlm preference mine`: the lock, the adapter, the judge, the plan, metrics."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from typing import Any

import typer

from dlm.documents import LoadedDocument
from dlm.errors import CliError
from dlm.files import write_atomically
from dlm.sampling import BackendChoice, load_backend


@dataclass(frozen=True, slots=True)
class MineOptions:
    """The flags of `dlm preference mine`."""

    judge: str
    samples: int
    max_pairs: int | None
    threshold: float | None
    temp: float
    top_p: float
    max_new_tokens: int
    seed: int
    sections: tuple[str, ...]
    apply_now: bool
    replace: bool
    judge_timeout: float
    jsonl: bool
    backend: BackendChoice = field(default_factory=BackendChoice)


def run_mining(
    loaded: LoadedDocument, store: Any, plan: Any, options: MineOptions
) -> dict[str, Any]:
    """Mine under the store lock; returns the JSON summary (docs/json.md)."""
    from trainer.runtime import set_offline

    set_offline()
    from dlmlang.edits import apply_edits
    from trainer.generate import Sampling
    from trainer.judges.selector import make_judge, uses_sampling_model
    from trainer.mining.miner import MiningRequest, mine_with
    from trainer.mining.plan import apply_plan, merge, save_plan
    from trainer.models import resolve_base_model
    from trainer.runtime import choose_precision, configure_threads
    from trainer.store import dlm_home

    emit = _progress(options.jsonl)
    frontmatter = loaded.frontmatter
    with store.lock(on_wait=lambda text: typer.echo(text, err=True)):
        version = store.current_version()
        run = next((r for r in store.metrics.runs() if r.adapter_version == version), None)
        if version is None or run is None:
            raise CliError(
                f"No trained adapter for {loaded.path} yet, and mining samples from it. "
                f"Run `dlm train {loaded.path}` first."
            )
        configure_threads(None)
        emit("start", "load", 0, 1, f"loading adapter {version}")
        resolved = resolve_base_model(frontmatter.base_model, dlm_home())
        precision = choose_precision(frontmatter.training.precision)
        backend, model, tokenizer = load_backend(
            options.backend,
            resolved.path,
            store.version_path(version),
            precision,
            seed=options.seed,
            need_model=uses_sampling_model(options.judge),
        )
        judge = make_judge(
            options.judge,
            model=model,
            tokenizer=tokenizer,
            system_prompt=frontmatter.system_prompt,
            home=dlm_home(),
            timeout=options.judge_timeout,
        )
        judge.load()  # a broken judge fails here, before any sampling
        emit("done", "load", 1, 1, "")
        known = {s.section_id for s in loaded.document.sections}
        if plan is not None and not options.replace:
            known |= {p.section_id for p in plan.pairs}
        request = MiningRequest(
            document=loaded.document,
            run_id=run.run_id,
            sampling=Sampling(
                max_new_tokens=options.max_new_tokens,
                temperature=options.temp,
                top_p=options.top_p,
                seed=options.seed,
                samples=options.samples,
            ),
            threshold=options.threshold,
            max_pairs=options.max_pairs,
            sections=options.sections,
            known_ids=frozenset(known),
        )
        try:
            result = mine_with(backend, request, judge, emit)
        finally:
            backend.close()
        judge.close()
        sha = hashlib.sha256(loaded.data).hexdigest()
        base = None if options.replace else plan
        mode = "empty"
        if result.pairs:
            new_plan = merge(base, result.pairs, sha)
            save_plan(store.pending_plan_path(), new_plan)
            mode = "staged"
            if options.apply_now:
                text = apply_edits(
                    loaded.data.decode("utf-8"), apply_plan(loaded.document, new_plan).edits
                )
                write_atomically(loaded.path, text.encode("utf-8"))
                mode = "applied"
        emit("done", "write", len(result.pairs), len(result.pairs), mode)
        store.metrics.record_mining(
            run_id=run.run_id,
            judge=judge.name,
            samples=options.samples,
            prompts_seen=result.prompts_seen,
            skipped=result.skipped,
            threshold=result.threshold,
            write_mode=mode,
            duration_s=result.seconds,
            pairs=[
                (p.section_id, p.prompt, p.score_chosen, p.score_rejected) for p in result.pairs
            ],
        )
    return {
        "schema_version": 1,
        "run_id": run.run_id,
        "judge": judge.name,
        "prompts_seen": result.prompts_seen,
        "pairs_mined": len(result.pairs),
        "skipped": result.skipped,
        "threshold": result.threshold,
        "write_mode": mode,
        "advice": result.advice(),
        "pairs": [
            {"section_id": p.section_id, "prompt": p.prompt, "margin": p.margin}
            for p in result.pairs
        ],
    }


def _progress(jsonl: bool) -> Any:
    def emit(event: str, stage: str, done: int, total: int, message: str) -> None:
        if jsonl:
            line = {
                "event": event,
                "stage": stage,
                "done": done,
                "total": total,
                "message": message,
            }
            sys.stderr.write(json.dumps(line) + "\n")
            sys.stderr.flush()
        elif message:
            typer.echo(message, err=True)

    return emit
