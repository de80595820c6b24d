"""Mining wall time: dlm's miner vs a sequential baseline, side by side in one process.

Run: `uv run python bench/mine.py [--prompts 4] [--samples 4] [--max-new-tokens 64]
[--rounds 3] [--device auto|cpu|cuda]`.

Both sides share one model object (the embedded SmolLM2-135M with a LoRA adapter,
the precision `dlm preference mine` picks), the same threads, prompts, sampling
settings and the sway judge, and generate a fixed number of tokens (EOS disabled),
so only batching and judging differ:
- ours: the real `trainer.mining.miner.mine` -- the samples of several prompts in
  one `generate` call (up to 16 rows), every candidate judged once, in batches;
- baseline: one `generate` call per sample, and the judge called on every pair of
  candidates, scoring both sides each time (N(N-1)/2 pairs, 2 items per pair).
The sides alternate; prints medians with the min-max spread, generated tokens per
second, on a GPU peak memory and utilization (nvidia-smi, `bench/gpu_busy.py`), and
the ratio.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "When does the Tern leave Gullmouth?",
    "Who keeps the lighthouse on Harwick Island?",
    "What colour does Black Rock Light flash?",
    "When does the Tern return to Gullmouth?",
    "What is the island's only harbour called?",
    "Where does Harwick Island lie?",
    "How often does Black Rock Light flash?",
    "What is the ferry to the mainland called?",
]
SYSTEM_PROMPT = "You are the harbour assistant of Harwick Island. Answer briefly."


def main() -> None:
    """Load once, alternate the two sides, print the comparison."""
    options = _options()
    prompts = QUESTIONS[: options.prompts]
    model, tokenizer, placement = _load(options.device, options.model)
    from bench.gpu_busy import GpuBusy
    from trainer.generation.generate import Sampling
    from trainer.rewards.sway import SwayRM
    from trainer.rewards.wrappers import WithSystemPrompt

    sampling = Sampling(
        max_new_tokens=options.max_new_tokens,
        temperature=0.8,
        top_p=0.95,
        seed=0,
        samples=options.samples,
    )
    judge = WithSystemPrompt(SwayRM(model, tokenizer), SYSTEM_PROMPT)
    judge.load()
    _ours(model, tokenizer, judge, prompts[:1], sampling)  # warm-up, not timed
    times: dict[str, list[float]] = {"ours": [], "baseline": []}
    busy: dict[str, list[float]] = {"ours": [], "baseline": []}
    with GpuBusy(placement.device) as sampler:
        for _ in range(options.rounds):
            for side, run in (("ours", _ours), ("baseline", _baseline)):
                start = time.perf_counter()
                times[side].append(run(model, tokenizer, judge, prompts, sampling))
                mean = sampler.mean(start, time.perf_counter())
                busy[side] += [mean] if mean is not None else []
    print(
        f"Mining {len(prompts)} prompts x {options.samples} samples x "
        f"{options.max_new_tokens} tokens (EOS off), sway judge, {placement.device} in "
        f"{placement.precision}, {options.rounds} rounds alternating"
    )
    tokens = len(prompts) * options.samples * options.max_new_tokens
    for side, values in times.items():
        median = statistics.median(values)
        print(
            f"  {side:8} median {median:7.2f} s  (min {min(values):.2f}, max {max(values):.2f}),"
            f"  {tokens / median:,.0f} generated tokens/s"
            + (f", GPU busy {statistics.fmean(busy[side]):.0f}%" if busy[side] else "")
        )
    if placement.on_gpu:
        import torch

        print(f"  peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:,.0f} MB")
    ratio = statistics.median(times["baseline"]) / statistics.median(times["ours"])
    print(f"  speed-up (baseline / ours): {ratio:.2f}x  (target >= 4x)")


def _load(device: str | None, model: str | None) -> tuple[Any, Any, Any]:
    from peft import LoraConfig, get_peft_model

    from trainer.generation.generate import load_for_generation
    from trainer.models import resolve_base_model
    from trainer.runtime.devices import choose_placement
    from trainer.runtime.environment import configure_threads, set_offline
    from trainer.store import dlm_home

    set_offline()
    configure_threads(None)
    if model:
        model_dir = Path(model)
    else:
        model_dir = resolve_base_model("smollm2-135m", dlm_home(), progress=print).path
    placement = choose_placement(device, "auto")
    lm, tokenizer = load_for_generation(model_dir, None, placement)
    # A LoRA adapter so the sway judge can switch it off; its values do not change timing.
    lm = get_peft_model(lm, LoraConfig(r=8, target_modules="all-linear"))
    lm.eval()
    lm.generation_config.eos_token_id = None  # fixed generation length on both sides
    return lm, tokenizer, placement


def _ours(model: Any, tokenizer: Any, judge: Any, prompts: list[str], sampling: Any) -> float:
    import dlmlang
    from trainer.mining.miner import MiningRequest, mine

    questions = "".join(f"### Q\n{q}\n### A\nSee the notes.\n\n" for q in prompts)
    text = (
        "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: smollm2-135m\n"
        f"system_prompt: {SYSTEM_PROMPT}\n---\n\n::instruction::\n{questions}"
    )
    document = dlmlang.parse(text)
    assert document.ok, document.diagnostics
    request = MiningRequest(document=document, run_id=1, sampling=sampling, threshold=0.0)
    started = time.perf_counter()
    mine(request, model, tokenizer, judge, lambda *args: None)
    return time.perf_counter() - started


def _baseline(model: Any, tokenizer: Any, judge: Any, prompts: list[str], sampling: Any) -> float:
    import torch

    from trainer.generation.seeded_sampling import prompt_seed
    from trainer.rewards.base import conversation
    from trainer.training.rows import chat_messages

    started = time.perf_counter()
    for prompt in prompts:
        text = tokenizer.apply_chat_template(
            chat_messages(prompt, SYSTEM_PROMPT), tokenize=False, add_generation_prompt=True
        )
        encoded = tokenizer(text, return_tensors="pt", add_special_tokens=False).to(model.device)
        candidates = []
        for sample in range(sampling.samples):
            torch.manual_seed(prompt_seed(sampling.seed, prompt) + sample)
            with torch.no_grad():
                output = model.generate(
                    **encoded,
                    do_sample=True,
                    temperature=sampling.temperature,
                    top_p=sampling.top_p,
                    max_new_tokens=sampling.max_new_tokens,
                    pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                )
            new = output[0, encoded["input_ids"].shape[1] :]
            candidates.append(tokenizer.decode(new, skip_special_tokens=True).strip())
        best = None
        for first, second in itertools.combinations(candidates, 2):
            left = judge.score(conversation(prompt, first))
            right = judge.score(conversation(prompt, second))
            margin = abs(left - right)
            best = margin if best is None else max(best, margin)
    return time.perf_counter() - started


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default=None, help="auto (default), cpu, cuda or cuda:N")
    parser.add_argument(
        "--model", default=None, help="a checkpoint directory (default: the embedded model)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    main()
