"""SFT step time with one process vs two torchrun processes, at the same global batch.

Run: `uv run python bench/scale.py [--model tiny|default|both] [--steps 8] [--rounds 2]`.
Both sides run dlm's SFT (`trainer.training.sft.run_sft`) on the questions of the bundled
example: one process with micro_batch_size 4 and every core, against two processes
under torchrun (gloo, `OMP_NUM_THREADS` = cores // 2, as `dlm train --nproc 2` sets
it) with micro_batch_size 2 each, so every optimizer step sees the same 4 rows. Sides
alternate; the first two steps (warm-up) are left out. Prints median step time with
min-max and peak RSS per process. `tiny` is the 2-layer test model, `default` the
embedded SmolLM2-135M.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DLM_ID = "01JQ7Z0000000000000000BENC"
GLOBAL_BATCH = 4


def main() -> None:
    """Alternate one process and two processes, per model, and print the comparison."""
    options = _options()
    if options.worker:
        _work(options)
        return
    models = ["tiny", "default"] if options.model == "both" else [options.model]
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        for model in models:
            model_dir = _prepare(model, home)
            results: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
            for _ in range(options.rounds):
                for nproc in (1, 2):
                    results[nproc].append(_run(nproc, model_dir, options.steps, home))
            _report(model, options, results)


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", choices=["tiny", "default", "both"], default="both")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--micro-batch", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def _prepare(model: str, home: Path) -> Path:
    from trainer.runtime.environment import set_offline

    set_offline()
    if model == "tiny":
        from trainer.models.tiny import build_tiny_model

        return build_tiny_model(Path(tempfile.mkdtemp(dir=home)))
    from trainer.models import resolve_base_model
    from trainer.store import dlm_home

    converted = dlm_home() / "models"
    if converted.is_dir() and not (home / "models").exists():
        (home / "models").symlink_to(converted)  # reuse the one-time conversion
    return resolve_base_model("smollm2-135m", home, progress=print).path


def _run(nproc: int, model_dir: Path, steps: int, home: Path) -> dict[str, Any]:
    from dlm.launch import LaunchOptions, available_cores, rank_environment
    from trainer.store import Store

    Store.open(DLM_ID, home).metrics.close()  # every rank finds the store
    worker = [__file__, "--worker", "--model-dir", str(model_dir), "--home", str(home)]
    worker += ["--steps", str(steps), "--micro-batch", str(GLOBAL_BATCH // nproc)]
    env = dict(os.environ)
    if nproc == 1:
        command = [sys.executable, *worker]
    else:
        launch = LaunchOptions(nproc=nproc)
        env = rank_environment(launch, os.environ, available_cores())
        runner = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        command = [*runner, "--nproc-per-node", str(nproc), *worker]
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    lines = [line for line in output.splitlines() if line.startswith("{")]
    return dict(json.loads(lines[-1]))


def _work(options: argparse.Namespace) -> None:
    from trainer.runtime.distributed import current_world, gather_to_main, join, leave
    from trainer.runtime.distributed import threads_per_process as threads
    from trainer.runtime.environment import configure_threads, set_offline

    set_offline()
    world = current_world()
    join(world)
    try:
        count = configure_threads(threads() if world.distributed else None)
        stamps = _train(options, world)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peaks = gather_to_main(world, peak)
    finally:
        leave(world)
    if world.is_main and peaks is not None:
        times = [b - a for a, b in itertools.pairwise(stamps)][2:]  # drop warm-up
        record = {"step_times": times, "peak_rss_mb": max(peaks), "threads": count}
        print(json.dumps(record))


def _train(options: argparse.Namespace, world: Any) -> list[float]:
    import dlmlang
    from bench.train import bench_document
    from trainer.events import SilentEvents, StepEvent
    from trainer.runtime.devices import choose_precision
    from trainer.store import Store
    from trainer.training.sft import SFTRequest, run_sft
    from trainer.training.sft_settings import SFTSettings

    stamps: list[float] = []

    class Stamps(SilentEvents):
        def step(self, event: StepEvent) -> None:
            stamps.append(time.perf_counter())

    data = bench_document()
    document = dlmlang.parse_bytes(data)
    assert document.frontmatter is not None
    training = document.frontmatter.training
    settings = SFTSettings.from_training(
        training, precision=choose_precision(training.precision, "cpu"), max_steps=options.steps
    )
    settings = replace(settings, micro_batch_size=options.micro_batch, grad_accum=1)
    home = Path(options.home)
    store = Store.open(DLM_ID, home, read_only=not world.is_main)
    model_dir = Path(options.model_dir)
    request = SFTRequest(document, data, settings, model_dir, str(model_dir), fresh=True)
    run_sft(request, store, Stamps(), world)
    return stamps


def _report(
    model: str, options: argparse.Namespace, results: dict[int, list[dict[str, Any]]]
) -> None:
    print(
        f"{model} model: SFT, global batch {GLOBAL_BATCH} rows, {options.steps} steps x "
        f"{options.rounds} rounds, alternating; cores {os.cpu_count()}"
    )
    medians = {}
    for nproc, runs in results.items():
        steps = [t for run in runs for t in run["step_times"]]
        medians[nproc] = statistics.median(steps)
        rss = max(run["peak_rss_mb"] for run in runs)
        layout = f"{nproc} x {GLOBAL_BATCH // nproc} rows, {runs[0]['threads']} thread(s) each"
        print(
            f"  {nproc} process(es) ({layout}): step {medians[nproc]:.3f} s "
            f"(min {min(steps):.3f}, max {max(steps):.3f}, n={len(steps)}), "
            f"peak RSS {rss:,.0f} MB per process"
        )
    print(f"  ratio 2 processes / 1 process (median step time): {medians[2] / medians[1]:.2f}")


if __name__ == "__main__":
    main()
