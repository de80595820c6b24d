"""SFT step time: `dlm train`'s trainer vs a bare trl SFTTrainer script, side by side.

Run: `uv run python bench/train.py [--steps 12] [--rounds 3] [--device auto|cpu|cuda]`.
Same model (the embedded SmolLM2-135M checkpoint), same rows (the bundled
example), same LoRA and optimizer settings, device, dtype and threads; each side runs
in its own process, the sides alternate, and the first two steps (warm-up) are
left out. Prints median step time with min-max, tokens/s, peak RSS (and peak GPU
memory on a GPU), and the ratio.
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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trainer.devices import Placement

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
        work = _work(options.worker, options.steps, Path(options.home), options)
        print(json.dumps(work))
        return
    with tempfile.TemporaryDirectory() as home:
        model_dir = Path(options.model) if options.model else _prepare(Path(home))
        results: dict[str, list[dict[str, Any]]] = {"ours": [], "baseline": []}
        for _ in range(options.rounds):
            for side in ("ours", "baseline"):
                run = _run_worker(side, options.steps, home, model_dir, options.device)
                results[side].append(run)
    placed = results["ours"][0]["placement"]
    print(
        f"SFT on the questions of {EXAMPLE.name}, {options.steps} steps x "
        f"{options.rounds} rounds, alternating, on {placed}"
    )
    medians = {}
    for side, runs in results.items():
        steps = [t for run in runs for t in run["step_times"]]
        medians[side] = statistics.median(steps)
        speed = statistics.median(run["tokens_per_second"] for run in runs)
        rss = max(run["peak_rss_mb"] for run in runs)
        gpu = max(run["peak_gpu_mb"] for run in runs)
        print(
            f"{side:9} step {medians[side]:.3f} s (min {min(steps):.3f}, max {max(steps):.3f}, "
            f"n={len(steps)}), {speed:,.0f} tokens/s, peak RSS {rss:,.0f} MB"
            + (f", peak GPU memory {gpu:,.0f} MB" if gpu else "")
        )
    print(
        f"ratio ours/baseline (median step time): {medians['ours'] / medians['baseline']:.3f}"
        "  (target <= 1.05)"
    )


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default=None, help="auto (default), cpu, cuda or cuda:N")
    parser.add_argument(
        "--model", default=None, help="a checkpoint directory (default: the embedded model)"
    )
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    return parser.parse_args()


def _prepare(home: Path) -> Path:
    from trainer.models import resolve_base_model
    from trainer.runtime import set_offline

    set_offline()
    return resolve_base_model("smollm2-135m", home, progress=print).path


def _run_worker(
    side: str, steps: int, home: str, model_dir: Path, device: str | None
) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", side, "--steps", str(steps), "--home", home]
    command += ["--model-dir", str(model_dir)] + (["--device", device] if device else [])
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def _work(side: str, steps: int, home: Path, options: argparse.Namespace) -> dict[str, Any]:
    import torch

    import dlmlang
    from trainer.devices import choose_placement
    from trainer.runtime import configure_threads, set_offline

    set_offline()
    configure_threads(None)
    document = dlmlang.parse_bytes(bench_document())
    assert document.frontmatter is not None
    placement = choose_placement(options.device, document.frontmatter.training.precision)
    stamps: list[float] = []
    started = time.perf_counter()
    work = _ours if side == "ours" else _baseline
    tokens = work(steps, home, Path(options.model_dir), stamps, placement)
    elapsed = time.perf_counter() - started
    times = [b - a for a, b in itertools.pairwise(stamps)][1:]  # drop warm-up
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gpu = torch.cuda.max_memory_allocated() / 2**20 if placement.on_gpu else 0.0
    return {
        "step_times": times,
        "tokens_per_second": tokens / elapsed,
        "peak_rss_mb": peak,
        "peak_gpu_mb": gpu,
        "placement": f"{placement.device} in {placement.precision}",
    }


def _ours(
    steps: int, home: Path, model_dir: Path, stamps: list[float], placement: Placement
) -> int:
    import dlmlang
    from trainer.events import SilentEvents, StepEvent
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
        training, precision=placement.precision, device=placement.kind, max_steps=steps
    )
    store = Store.open(f"bench{time.time_ns()}", home)
    request = SFTRequest(document, data, settings, model_dir, str(model_dir))
    result = run_sft(request, store, Stamps())
    return int((result.tokens_per_second or 0) * result.seconds)


def _baseline(
    steps: int, home: Path, model_dir: Path, stamps: list[float], placement: Placement
) -> int:
    """What a user would write by hand: trl's SFTTrainer on prompt/completion rows."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    import dlmlang
    from trainer.sft_config import SFTSettings

    document = dlmlang.parse_bytes(bench_document())
    assert document.frontmatter is not None
    training = document.frontmatter.training
    settings = SFTSettings.from_training(training, precision=placement.precision)
    system = document.frontmatter.system_prompt
    prompts, completions = [], []
    for section in document.content_sections():
        for pair in section.pairs:
            user = {"role": "user", "content": pair.question}
            prompts.append([{"role": "system", "content": system}, user])
            completions.append([{"role": "assistant", "content": pair.answer}])
    dataset = Dataset.from_dict({"prompt": prompts, "completion": completions})
    directory = model_dir
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
                fp16=settings.precision == "fp16",
                use_cpu=not placement.on_gpu,
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
