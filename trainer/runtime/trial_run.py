"""`dlm doctor --run`: a few SFT steps and one answer on a tiny document, timed, in a
throwaway store (docs/hardware.md#dlm-doctor)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trainer.events import SilentEvents, StepEvent

if TYPE_CHECKING:
    from trainer.runtime.devices import Placement
    from trainer.store import Store
    from trainer.training.sft import SFTResult

TRIAL_STEPS = 3
TRIAL_ID = "01JQ7Z00000000000000D0CT0R"
QUESTION = "Describe a lighthouse at night in a few sentences."
"""Open-ended, so the answer runs long enough to time the sampling."""
MAX_NEW_TOKENS = 64
# The base model here is only the document's text: the run uses the resolved checkpoint.
DOCUMENT = f"""---
dlm_id: {TRIAL_ID}
base_model: smollm2-135m
system_prompt: Be brief.
training:
  max_steps: {TRIAL_STEPS}
  sequence_len: 64
  micro_batch_size: 2
---

Morwenna Teague keeps Black Rock Light, which flashes green every six seconds.

::instruction::
### Q
When does the Tern leave Gullmouth?
### A
At 7:40 every morning, from the pier.
"""


@dataclass(frozen=True, slots=True)
class TrialRun:
    """What the trial run measured; seconds are wall time."""

    base_model: str
    model_path: str
    device: str
    precision: str
    steps: int
    import_seconds: float
    """Importing transformers, peft and trl (slow on a first run or without bytecode caches)."""
    load_seconds: float
    """From the start of the run to training's first step: model, data, LoRA."""
    step_seconds: tuple[float, ...]
    """Each optimizer step; the first includes the warm-up."""
    train_tokens_per_second: float | None
    sample_load_seconds: float
    """Loading the model with the new adapter for sampling."""
    sample_tokens: int
    """Tokens of the answer (the answer re-encoded: it may have stopped early)."""
    sample_seconds: float
    sample_tokens_per_second: float
    peak_gpu_mb: float | None
    """Peak memory torch allocated on the GPU; None on the CPU."""
    answer: str


def trial_run(
    base: str, device: str | None, *, progress: Callable[[str], None] | None = None
) -> TrialRun:
    """Train `TRIAL_STEPS` SFT steps on `base` on `device`, then answer once, timed.

    The store is a temporary directory, never one of the user's; a registry model is
    resolved under the real $DLM_HOME/models so it is converted at most once.
    """
    from trainer.models import resolve_base_model
    from trainer.runtime.devices import choose_placement
    from trainer.runtime.environment import configure_threads, set_offline
    from trainer.store import Store, dlm_home

    set_offline()
    placement = choose_placement(device, "auto")
    configure_threads(None)
    resolved = resolve_base_model(base, dlm_home(), progress=progress)
    import_seconds = _import_libraries()
    if progress is not None:
        progress(
            f"Trial run: {TRIAL_STEPS} SFT steps and one answer with {resolved.name} on "
            f"{placement.device} in {placement.precision}..."
        )
    _reset_gpu_peak(placement.device)
    with tempfile.TemporaryDirectory(prefix="dlm-doctor-") as scratch:
        store = Store.open(TRIAL_ID, Path(scratch))
        with store.lock():
            clock, result = _train(resolved.path, resolved.name, placement, store)
            adapter = store.version_path(result.adapter_version)
            sampled = _sample(resolved.path, adapter, placement)
    return TrialRun(
        base_model=resolved.name,
        model_path=str(resolved.path),
        device=placement.device,
        precision=placement.precision,
        steps=result.steps,
        import_seconds=import_seconds,
        load_seconds=clock.load_seconds,
        step_seconds=clock.step_seconds,
        train_tokens_per_second=result.tokens_per_second,
        sample_load_seconds=sampled.load_seconds,
        sample_tokens=sampled.tokens,
        sample_seconds=sampled.seconds,
        sample_tokens_per_second=sampled.tokens / sampled.seconds if sampled.seconds else 0.0,
        peak_gpu_mb=_gpu_peak_mb(placement.device),
        answer=sampled.text,
    )


@dataclass(slots=True)
class _Clock(SilentEvents):
    """Stamps the start of training and each step."""

    began: float = field(default_factory=time.perf_counter)
    stamps: list[float] = field(default_factory=list)

    def start(self, total_steps: int) -> None:
        """Training begins: loading is over."""
        self.stamps = [time.perf_counter()]

    def step(self, event: StepEvent) -> None:
        """A step ended."""
        self.stamps.append(time.perf_counter())

    @property
    def load_seconds(self) -> float:
        """From the call to the first step's start."""
        return self.stamps[0] - self.began if self.stamps else 0.0

    @property
    def step_seconds(self) -> tuple[float, ...]:
        """Time between consecutive stamps."""
        return tuple(b - a for a, b in zip(self.stamps, self.stamps[1:], strict=False))


@dataclass(frozen=True, slots=True)
class _Sampled:
    text: str
    tokens: int
    load_seconds: float
    seconds: float


def _train(
    model_dir: Path, name: str, placement: Placement, store: Store
) -> tuple[_Clock, SFTResult]:
    import dlmlang
    from trainer.training.sft import SFTRequest, run_sft
    from trainer.training.sft_settings import SFTSettings

    data = DOCUMENT.encode()
    document = dlmlang.parse_bytes(data)
    assert document.frontmatter is not None  # the constant above parses
    settings = SFTSettings.from_training(
        document.frontmatter.training,
        precision=placement.precision,
        device=placement.kind,
        max_steps=TRIAL_STEPS,
    )
    clock = _Clock()
    result = run_sft(SFTRequest(document, data, settings, model_dir, name), store, clock)
    assert result is not None  # one process: rank 0
    return clock, result


def _sample(model_dir: Path, adapter: Path, placement: Placement) -> _Sampled:
    from trainer.generation.generate import Sampling, answer, load_for_generation

    started = time.perf_counter()
    model, tokenizer = load_for_generation(model_dir, adapter, placement)
    loaded = time.perf_counter()
    sampling = Sampling(max_new_tokens=MAX_NEW_TOKENS, temperature=0.0)
    text = answer(model, tokenizer, QUESTION, "Be brief.", sampling)
    seconds = time.perf_counter() - loaded
    tokens = len(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else 0
    return _Sampled(text, tokens, loaded - started, seconds)


def _import_libraries() -> float:
    """Seconds to import what training and sampling use, so that loading is timed alone."""
    started = time.perf_counter()
    import peft  # noqa: F401
    import trl  # noqa: F401
    from transformers import AutoModelForCausalLM  # noqa: F401

    import trainer.training.sft  # noqa: F401

    return time.perf_counter() - started


def _reset_gpu_peak(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.reset_peak_memory_stats(device)


def _gpu_peak_mb(device: str) -> float | None:
    if not device.startswith("cuda"):
        return None
    import torch

    return float(torch.cuda.max_memory_allocated(device)) / 2**20
