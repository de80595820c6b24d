"""Reward-model scoring: `score_batch` vs a per-candidate loop, and the SQLite cache.

Run: `uv run python bench/judges.py [--candidates 48] [--max-sentences 12]
[--batch-size 16] [--rounds 3]`.

The reward model is the embedded SmolLM2-135M with a one-logit sequence-classification
head (what `dlm reward train` starts from; the head's values do not change timing),
loaded once through `AutoRM` at the precision dlm picks. The candidates are answers of
1 to `--max-sentences` sentences to the harbour questions, the same on every side:
- per-candidate loop: `rm.score(messages)` for each candidate, one forward each;
- score_batch: `rm.score_batch(candidates, batch_size=N)`, length-sorted micro-batches;
- cache miss / hit: `CachedRM(rm, DIR).score_batch(...)` on a fresh cache, then again.
Sides alternate; prints medians with the min-max spread, candidates per second, the
ratios, and the largest score difference between the loop and the batches.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.mine import QUESTIONS  # noqa: E402  (the harbour questions of the mining bench)

SENTENCES = [
    "The Tern leaves Gullmouth pier at 7:40 every morning.",
    "Morwenna Teague has kept Black Rock Light for twenty years.",
    "The light flashes green every six seconds.",
    "In a south-westerly gale the crossing is cancelled.",
    "Tickets are sold on board, cash only.",
    "The harbour is called Port Annick.",
    "I am not sure, but the harbour master will know.",
    "Fog is common in the spring months.",
]


def main() -> None:
    """Load the model once, alternate the sides, print the comparison."""
    options = _options()
    rm, precision = _load_reward_model(options)
    from trainer.rewards.base import conversation
    from trainer.rewards.cache import CachedRM

    pick = random.Random(0)
    batch = [
        conversation(QUESTIONS[i % len(QUESTIONS)], " ".join(pick.choices(SENTENCES, k=n)))
        for i, n in enumerate(
            pick.randint(1, options.max_sentences) for _ in range(options.candidates)
        )
    ]
    rm.score_batch(batch[:4], batch_size=4)  # warm-up, not timed
    times: dict[str, list[float]] = {"loop": [], "batch": [], "miss": [], "hit": []}
    loop_scores: list[float] = []
    batch_scores: list[float] = []
    cached_scores: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(options.rounds):
            loop_scores = _timed(times["loop"], lambda: [rm.score(m) for m in batch])
            batch_scores = _timed(
                times["batch"], lambda: rm.score_batch(batch, batch_size=options.batch_size)
            )
            cached = CachedRM(rm, Path(scratch) / f"cache-{round_}")
            score_cached = partial(cached.score_batch, batch, options.batch_size)
            _timed(times["miss"], score_cached)
            cached_scores = _timed(times["hit"], score_cached)
            assert cached.hits == len(batch) and cached.misses == len(batch)
            cached.cache.close()
    _report(options, precision, times)
    drift = max(abs(a - b) for a, b in zip(loop_scores, batch_scores, strict=True))
    cached_drift = max(abs(a - b) for a, b in zip(cached_scores, batch_scores, strict=True))
    print(f"  largest |loop - batch| score difference: {drift:.2e}")
    print(f"  largest |cached - batch| score difference: {cached_drift:.2e}")


def _timed(into: list[float], work: Callable[[], list[float]]) -> list[float]:
    started = time.perf_counter()
    result = work()
    into.append(time.perf_counter() - started)
    return result


def _load_reward_model(options: argparse.Namespace) -> tuple[Any, str]:
    """SmolLM2-135M with a fresh one-logit head, saved to a temporary directory, via AutoRM."""
    import torch
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from trainer.models import resolve_base_model
    from trainer.rewards.auto import AutoRM
    from trainer.runtime.devices import choose_placement
    from trainer.runtime.environment import configure_threads, set_offline
    from trainer.store import dlm_home

    set_offline()
    configure_threads(None)
    transformers.logging.set_verbosity_error()  # the new head's "newly initialized" notice
    resolved = resolve_base_model("smollm2-135m", dlm_home(), progress=print)
    precision = choose_placement(None, "auto").precision
    directory = Path(tempfile.mkdtemp(prefix="dlm-bench-rm-"))
    tokenizer = AutoTokenizer.from_pretrained(str(resolved.path))
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(str(resolved.path), num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id or tokenizer.eos_token_id
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    dtype = "bfloat16" if precision == "bf16" else "float32"
    rm = AutoRM.load(str(directory), torch_dtype=dtype, max_length=options.max_length)
    return rm, precision


def _report(options: argparse.Namespace, precision: str, times: dict[str, list[float]]) -> None:
    print(
        f"Scoring {options.candidates} candidates (1-{options.max_sentences} sentences) with "
        f"SmolLM2-135M + a reward head, {precision}, batch size {options.batch_size}, "
        f"{options.rounds} rounds alternating"
    )
    labels = {
        "loop": "per-candidate loop",
        "batch": "score_batch",
        "miss": "cached, miss",
        "hit": "cached, hit",
    }
    for side, values in times.items():
        median = statistics.median(values)
        print(
            f"  {labels[side]:19} median {median * 1000:9.1f} ms  "
            f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})  "
            f"{options.candidates / median:9.0f} candidates/s"
        )
    median = {side: statistics.median(values) for side, values in times.items()}
    print(f"  score_batch speed-up (loop / batch): {median['loop'] / median['batch']:.2f}x")
    print(f"  cache hit speed-up (batch / hit):    {median['batch'] / median['hit']:.0f}x")
    print(f"  cache miss overhead (miss / batch):  {median['miss'] / median['batch']:.2f}x")


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-sentences", type=int, default=12, help="answers of 1 to N")
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


if __name__ == "__main__":
    main()
