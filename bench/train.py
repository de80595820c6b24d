"""Step time: `dlm train`'s trainers vs bare trl scripts (SFT and DPO), side by side.

Run: `uv run python bench/train.py [--phase sft|dpo] [--steps 12] [--rounds 3]
[--copies 1] [--device auto|cpu|cuda] [--model DIR]`.

Same model (the embedded SmolLM2-135M checkpoint, or `--model`), same rows (the
bundled example's questions for SFT, its preference pairs for DPO, less dlm's held-out
ones; `--copies N` repeats them N times with numbered prompts, a larger document),
same LoRA, optimizer,
device, dtype and threads. Ours leaves `micro_batch_size` at `auto` (4 rows on a CPU;
on a GPU sized by the document and free memory, SFT packed: docs/hardware.md) and
the baseline is given the batch ours chose, so a step does the same work on both
sides. DPO starts both sides from the same one-step SFT adapter, with the adapter
as the frozen reference. Each side runs in its own process, the sides alternate, and
the first step (warm-up) is left out. Prints median step time with min-max, tokens/s
(SFT), peak RSS, on a GPU peak memory and utilization (nvidia-smi), and the ratio.
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
    from trainer.runtime.devices import Placement

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXAMPLE = ROOT / "examples" / "notes.dlm"
BENCH_ID = "01JQ7Z8M3K4Q2V6X9B1C5D7E8F"


def bench_document(phase: str = "sft", copies: int = 1) -> bytes:
    """The example's frontmatter with its questions (SFT) or preference pairs (DPO),
    `copies` times; prose is left out, since a bare trl dataset cannot mix plain-text
    and prompt/completion rows and both sides must see the same rows."""
    import dlmlang

    document = dlmlang.parse(EXAMPLE.read_text(encoding="utf-8"))
    assert document.frontmatter_source is not None
    body = []
    for copy in range(copies):
        suffix = f" (#{copy + 1})" if copies > 1 else ""
        for section in document.content_sections():
            if phase == "sft" and section.kind.value == "instruction":
                body += [
                    f"::instruction::\n### Q\n{p.question}{suffix}\n### A\n{p.answer}\n\n"
                    for p in section.pairs
                ]
            if phase == "dpo" and section.kind.value == "preference":
                body += [
                    f"::preference::\n### Prompt\n{t.prompt}{suffix}\n### Chosen\n{t.chosen}\n"
                    f"### Rejected\n{t.rejected}\n\n"
                    for t in section.triples
                ]
    return (document.frontmatter_source + "\n" + "".join(body)).encode()


def main() -> None:
    """Alternate the two sides and print the comparison."""
    options = _options()
    if options.worker:
        print(json.dumps(_work(options)))
        return
    with tempfile.TemporaryDirectory() as home:
        model_dir = Path(options.model) if options.model else _prepare(Path(home))
        results: dict[str, list[dict[str, Any]]] = {"ours": [], "baseline": []}
        batch: dict[str, Any] = {}
        for _ in range(options.rounds):
            for side in ("ours", "baseline"):
                run = _run_worker(side, options, home, model_dir, batch)
                batch = batch or {"micro_batch": run["micro_batch"], "packing": run["packing"]}
                results[side].append(run)
    _report(options, results, batch)


def _report(
    options: argparse.Namespace, results: dict[str, list[dict[str, Any]]], batch: dict[str, Any]
) -> None:
    placed = results["ours"][0]["placement"]
    rows = results["ours"][0]["rows"]
    print(
        f"{options.phase.upper()} on {rows} rows ({EXAMPLE.name} x {options.copies}), "
        f"{options.steps} steps x {options.rounds} rounds, alternating, on {placed}; "
        f"{batch['micro_batch']} rows per step{', packed' if batch['packing'] else ''}"
    )
    medians = {}
    for side, runs in results.items():
        steps = [t for run in runs for t in run["step_times"]]
        medians[side] = statistics.median(steps)
        line = (
            f"{side:9} step {medians[side]:.3f} s (min {min(steps):.3f}, max {max(steps):.3f}, "
            f"n={len(steps)})"
        )
        speeds = [run["tokens_per_second"] for run in runs if run["tokens_per_second"]]
        if speeds:
            line += f", {statistics.median(speeds):,.0f} tokens/s"
        line += f", peak RSS {max(run['peak_rss_mb'] for run in runs):,.0f} MB"
        gpu = max(run["peak_gpu_mb"] for run in runs)
        if gpu:
            line += f", peak GPU memory {gpu:,.0f} MB"
        busy = [run["gpu_busy"] for run in runs if run["gpu_busy"] is not None]
        if busy:
            line += f", GPU busy {statistics.fmean(busy):.0f}%"
        print(line)
    print(
        f"ratio ours/baseline (median step time): {medians['ours'] / medians['baseline']:.3f}"
        "  (target <= 1.05)"
    )


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phase", choices=["sft", "dpo"], default="sft")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--copies", type=int, default=1, help="repeat the example's rows (a larger document)"
    )
    parser.add_argument("--device", default=None, help="auto (default), cpu, cuda or cuda:N")
    parser.add_argument(
        "--model", default=None, help="a checkpoint directory (default: the embedded model)"
    )
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--micro-batch", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--packing", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def _prepare(home: Path) -> Path:
    from trainer.models import resolve_base_model
    from trainer.runtime.environment import set_offline

    set_offline()
    return resolve_base_model("smollm2-135m", home, progress=print).path


def _run_worker(
    side: str, options: argparse.Namespace, home: str, model_dir: Path, batch: dict[str, Any]
) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", side, "--phase", options.phase]
    command += ["--steps", str(options.steps), "--copies", str(options.copies)]
    command += ["--home", home, "--model-dir", str(model_dir)]
    command += ["--device", options.device] if options.device else []
    if side == "baseline":
        command += ["--micro-batch", str(batch["micro_batch"])]
        command += ["--packing"] if batch["packing"] else []
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def _work(options: argparse.Namespace) -> dict[str, Any]:
    import torch

    import dlmlang
    from bench.gpu_busy import GpuBusy
    from trainer.runtime.devices import choose_placement
    from trainer.runtime.environment import configure_threads, set_offline

    set_offline()
    configure_threads(None)
    data = bench_document(options.phase, options.copies)
    document = dlmlang.parse_bytes(data)
    assert document.frontmatter is not None
    placement = choose_placement(options.device, document.frontmatter.training.precision)
    side = _Side(options, data, Path(options.model_dir), Path(options.home), placement)
    with GpuBusy(placement.device) as busy:
        started = time.perf_counter()
        tokens = side.ours() if options.worker == "ours" else side.baseline()
        elapsed = time.perf_counter() - started
    stamps = side.stamps
    times = [b - a for a, b in itertools.pairwise(stamps)][1:]  # drop warm-up
    return {
        "step_times": times,
        "tokens_per_second": tokens / elapsed if tokens else None,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20 if placement.on_gpu else 0.0,
        "gpu_busy": busy.mean(stamps[1], stamps[-1]) if len(stamps) > 2 else None,
        "placement": f"{placement.device} in {placement.precision}",
        "rows": side.rows,
        "micro_batch": side.micro_batch,
        "packing": side.packing,
    }


class _Side:
    """One side's run: ours through dlm's trainers, or a bare trl script."""

    def __init__(
        self,
        options: argparse.Namespace,
        data: bytes,
        model_dir: Path,
        home: Path,
        placement: Placement,
    ) -> None:
        import dlmlang

        self.options = options
        self.data = data
        self.document = dlmlang.parse_bytes(data)
        self.model_dir = model_dir
        self.home = home
        self.placement = placement
        self.stamps: list[float] = []
        self.rows = 0
        self.micro_batch = options.micro_batch or 0
        self.packing = bool(options.packing)

    def ours(self) -> int:
        """dlm's SFT or preference phase (after a one-step SFT adapter); tokens seen."""
        from trainer.store import Store
        from trainer.training.preference import PreferenceRequest, run_preference
        from trainer.training.preference_settings import PreferenceSettings
        from trainer.training.sft import SFTRequest, run_sft

        store = Store.open(BENCH_ID, self.home / f"ours{time.time_ns()}")
        training = self._training()
        if self.options.phase == "sft":
            settings = self._sft_settings(max_steps=self.options.steps)
            request = SFTRequest(self.document, self.data, settings, self.model_dir, "bench")
            result = run_sft(request, store, self._stamping())
            assert result is not None
            self._record_batch(store, result.run_id, result.rows)
            return int((result.tokens_per_second or 0) * result.seconds)
        self._sft_adapter(store)
        preference = PreferenceSettings.from_training(
            training,
            precision=self.placement.precision,
            device=self.placement.kind,
            max_steps=self.options.steps,
        )
        request_p = PreferenceRequest(self.document, self.data, preference, self.model_dir, "bench")
        outcome = run_preference(request_p, store, self._stamping())
        assert outcome is not None
        self._record_batch(store, outcome.run_id, outcome.pairs)
        return 0

    def baseline(self) -> int:
        """What a user would write by hand with trl; tokens seen (SFT)."""
        if self.options.phase == "sft":
            return self._baseline_sft()
        return self._baseline_dpo()

    def _training(self) -> Any:
        assert self.document.frontmatter is not None
        return self.document.frontmatter.training

    def _sft_settings(self, *, max_steps: int) -> Any:
        from trainer.training.sft_settings import SFTSettings

        return SFTSettings.from_training(
            self._training(),
            precision=self.placement.precision,
            device=self.placement.kind,
            max_steps=max_steps,
        )

    def _sft_adapter(self, store: Any) -> Path:
        """A one-step SFT adapter (untimed): where both DPO sides start."""
        import dlmlang
        from trainer.events import SilentEvents
        from trainer.training.sft import SFTRequest, run_sft

        questions = dlmlang.parse_bytes(bench_document("sft"))
        settings = self._sft_settings(max_steps=1)
        request = SFTRequest(questions, self.data, settings, self.model_dir, "bench")
        result = run_sft(request, store, SilentEvents())
        assert result is not None
        return Path(store.version_path(result.adapter_version))

    def _record_batch(self, store: Any, run_id: int, rows: int) -> None:
        run = store.metrics.run(run_id)
        self.rows = rows
        self.micro_batch = int(run.config["micro_batch_size"])
        self.packing = bool(run.config.get("packing", False))

    def _stamping(self) -> Any:
        from trainer.events import SilentEvents, StepEvent

        stamps = self.stamps

        class Stamps(SilentEvents):
            def step(self, event: StepEvent) -> None:
                stamps.append(time.perf_counter())

        return Stamps()

    def _common(self, output: str) -> dict[str, Any]:
        settings = self._sft_settings(max_steps=self.options.steps)
        return {
            "output_dir": output,
            "per_device_train_batch_size": self.micro_batch,
            "max_steps": self.options.steps,
            "bf16": self.placement.precision == "bf16",
            "fp16": self.placement.precision == "fp16",
            "use_cpu": not self.placement.on_gpu,
            "gradient_checkpointing": False,
            "max_length": settings.sequence_len,
            "save_strategy": "no",
            "report_to": "none",
            "logging_steps": 1,
            "disable_tqdm": True,
            "seed": settings.seed,
        }

    def _callback(self) -> Any:
        from transformers import TrainerCallback

        stamps = self.stamps

        class Stamp(TrainerCallback):  # type: ignore[misc]
            def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                stamps.append(time.perf_counter())

        return Stamp()

    def _messages(self, prompt: str) -> list[dict[str, str]]:
        assert self.document.frontmatter is not None
        system = self.document.frontmatter.system_prompt
        return [{"role": "system", "content": system or ""}, {"role": "user", "content": prompt}]

    def _model(self) -> tuple[Any, Any]:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model = AutoModelForCausalLM.from_pretrained(str(self.model_dir), dtype=torch.float32)
        return model, AutoTokenizer.from_pretrained(str(self.model_dir))

    def _baseline_sft(self) -> int:
        from datasets import Dataset
        from peft import LoraConfig
        from trl import SFTConfig, SFTTrainer

        settings = self._sft_settings(max_steps=self.options.steps)
        from trainer.training.rows import ChatRow, document_rows, split_heldout

        prompts, completions = [], []
        for row in split_heldout(document_rows(self.document))[0]:
            assert isinstance(row, ChatRow)
            prompts.append(self._messages(row.question))
            completions.append([{"role": "assistant", "content": row.answer}])
        self.rows = len(prompts)
        dataset = Dataset.from_dict({"prompt": prompts, "completion": completions})
        model, tokenizer = self._model()
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
                    learning_rate=settings.learning_rate,
                    packing=self.packing,
                    include_num_input_tokens_seen=True,
                    **self._common(output),
                ),
                callbacks=[self._callback()],
            )
            trainer.train()
        return int(trainer.state.num_input_tokens_seen)

    def _baseline_dpo(self) -> int:
        from datasets import Dataset
        from peft import PeftModel
        from trl import DPOConfig, DPOTrainer

        from trainer.store import Store

        adapter = self._sft_adapter(Store.open(BENCH_ID, self.home / f"base{time.time_ns()}"))
        from trainer.training.preference_rows import (
            document_preference_rows,
            split_preference_heldout,
        )

        rows = [
            {
                "prompt": self._messages(row.prompt),
                "chosen": [{"role": "assistant", "content": row.chosen}],
                "rejected": [{"role": "assistant", "content": row.rejected}],
            }
            for row in split_preference_heldout(
                document_preference_rows(self.document, include_mined=True)
            )[0]
        ]
        self.rows = len(rows)
        model, tokenizer = self._model()
        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=True)
        hyper = self._training().preference.hyperparams
        with tempfile.TemporaryDirectory() as output:
            trainer = DPOTrainer(
                model=model,
                processing_class=tokenizer,
                train_dataset=Dataset.from_list(rows),
                args=DPOConfig(
                    beta=hyper.beta,
                    learning_rate=hyper.learning_rate or 1e-4,
                    **self._common(output),
                ),
                callbacks=[self._callback()],
            )
            trainer.train()
        return 0


if __name__ == "__main__":
    main()
