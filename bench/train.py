"""SFT step time: `dlm train`'s trainer vs a bare trl SFTTrainer script, side by side.

Run: `uv run python bench/train.py [--steps 12] [--rounds 3]`.
Same model (the embedded SmolLM2-135M checkpoint), same rows (the bundled
example), same LoRA and optimizer settings, dtype and threads; each side runs
in its own process, the sides alternate, and the first two steps (warm-up) are
left out. Prints median step time with min-max, tokens/s, peak RSS, and the ratio.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXAMPLE = ROOT / "examples" / "notes.dlm"


def bench_document() -> bytes:
    """The example's frontmatter and questions; prose left out, since a bare trl dataset
    cannot mix plain-text and prompt/completion rows and both sides must see the same rows."""
    import dlmlang

    text = EXAMPLE.read_text(encoding="utf-8")
    document = dlmlang.parse(text)
    assert document.frontmatter_source is not None
    questions = [s.source or "" for s in document.sections if s.kind.value == "instruction"]
    return (document.frontmatter_source + "".join(questions)).encode()


def main() -> None:
    """Alternate the two sides and print the comparison."""
    options = _options()
    if options.worker:
        print(json.dumps(_work(options.worker, options.steps, Path(options.home))))
        return
    with tempfile.TemporaryDirectory() as home:
        _prepare(Path(home))
        results: dict[str, list[dict[str, Any]]] = {"ours": [], "baseline": []}
        for _ in range(options.rounds):
            for side in ("ours", "baseline"):
                results[side].append(_run_worker(side, options.steps, home))
    print(
        f"SFT on the questions of {EXAMPLE.name}, {options.steps} steps x "
        f"{options.rounds} rounds, alternating"
    )
    medians = {}
    for side, runs in results.items():
        steps = [t for run in runs for t in run["step_times"]]
        medians[side] = statistics.median(steps)
        speed = statistics.median(run["tokens_per_second"] for run in runs)
        rss = max(run["peak_rss_mb"] for run in runs)
        print(
            f"{side:9} step {medians[side]:.3f} s (min {min(steps):.3f}, max {max(steps):.3f}, "
            f"n={len(steps)}), {speed:,.0f} tokens/s, peak RSS {rss:,.0f} MB"
        )
    print(
        f"ratio ours/baseline (median step time): {medians['ours'] / medians['baseline']:.3f}"
        "  (target <= 1.05)"
    )


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    return parser.parse_args()


def _prepare(home: Path) -> None:
    from trainer.models import resolve_base_model
    from trainer.runtime import set_offline

    set_offline()
    resolve_base_model("smollm2-135m", home, progress=print)


def _run_worker(side: str, steps: int, home: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", side, "--steps", str(steps), "--home", home]
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def _work(side: str, steps: int, home: Path) -> dict[str, Any]:
    from trainer.runtime import configure_threads, set_offline

    set_offline()
    configure_threads(None)
    stamps: list[float] = []
    started = time.perf_counter()
    tokens = _ours(steps, home, stamps) if side == "ours" else _baseline(steps, home, stamps)
    elapsed = time.perf_counter() - started
    times = [b - a for a, b in itertools.pairwise(stamps)][1:]  # drop warm-up
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"step_times": times, "tokens_per_second": tokens / elapsed, "peak_rss_mb": peak}


def _ours(steps: int, home: Path, stamps: list[float]) -> int:
    import dlmlang
    from trainer.events import SilentEvents, StepEvent
    from trainer.runtime import choose_precision
    from trainer.sft import SFTRequest, run_sft
    from trainer.sft_config import SFTSettings
    from trainer.store import Store

    class Stamps(SilentEvents):
        def step(self, event: StepEvent) -> None:
            stamps.append(time.perf_counter())

    data = bench_document()
    document = dlmlang.parse_bytes(data)
    assert document.frontmatter is not None
    training = document.frontmatter.training
    settings = SFTSettings.from_training(
        training, precision=choose_precision(training.precision), max_steps=steps
    )
    store = Store.open(f"bench{time.time_ns()}", home)
    request = SFTRequest(document, data, settings, home / "models" / "smollm2-135m", "smollm2-135m")
    result = run_sft(request, store, Stamps())
    return int((result.tokens_per_second or 0) * result.seconds)


def _baseline(steps: int, home: Path, stamps: list[float]) -> int:
    """What a user would write by hand: trl's SFTTrainer on prompt/completion rows."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    import dlmlang
    from trainer.runtime import choose_precision
    from trainer.sft_config import SFTSettings

    document = dlmlang.parse_bytes(bench_document())
    assert document.frontmatter is not None
    training = document.frontmatter.training
    settings = SFTSettings.from_training(training, precision=choose_precision(training.precision))
    system = document.frontmatter.system_prompt
    prompts, completions = [], []
    for section in document.content_sections():
        for pair in section.pairs:
            user = {"role": "user", "content": pair.question}
            prompts.append([{"role": "system", "content": system}, user])
            completions.append([{"role": "assistant", "content": pair.answer}])
    dataset = Dataset.from_dict({"prompt": prompts, "completion": completions})
    directory = home / "models" / "smollm2-135m"
    model = AutoModelForCausalLM.from_pretrained(str(directory), dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(str(directory))

    class Stamp(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            stamps.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as output:
        trainer = SFTTrainer(
            model=model,
            processing_class=tokenizer,
            train_dataset=dataset,
            peft_config=LoraConfig(
                r=settings.lora_r,
                lora_alpha=settings.lora_alpha,
                lora_dropout=settings.lora_dropout,
                target_modules="all-linear",
                task_type="CAUSAL_LM",
            ),
            args=SFTConfig(
                output_dir=output,
                per_device_train_batch_size=settings.micro_batch_size,
                learning_rate=settings.learning_rate,
                max_steps=steps,
                bf16=settings.precision == "bf16",
                use_cpu=True,
                gradient_checkpointing=False,
                max_length=settings.sequence_len,
                save_strategy="no",
                report_to="none",
                logging_steps=1,
                disable_tqdm=True,
                include_num_input_tokens_seen=True,
                seed=settings.seed,
            ),
            callbacks=[Stamp()],
        )
        trainer.train()
    return int(trainer.state.num_input_tokens_seen)


if __name__ == "__main__":
    main()
