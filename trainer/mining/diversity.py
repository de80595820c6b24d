"""Raising diversity: prompts whose candidates were (near) identical are sampled again,
hotter and with fresh seeds, before mining gives up on them (docs/self-improving-loop.md,
"2. Mine").

Each extra pass is one batched `sample` call over the prompts still short of variety,
seeded from the run's seed and the pass number, so `--seed` reproduces it; a prompt's
well-formed extra answers are pooled with its first ones before anything is judged.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from trainer.generation.generate import Sampling
from trainer.generation.seeded_sampling import Candidate
from trainer.mining.candidates import lacking_variety, malformed_candidate

SamplePass = Callable[[Sequence[str], Sampling], dict[str, list[Candidate]]]
"""One batched sampling pass: candidates for each of the prompts, with this sampling."""


@dataclass(frozen=True, slots=True)
class Diversity:
    """How mining raises diversity for prompts short of it; no extra passes turns it off."""

    extra_passes: int = 2
    """Passes after the first, each over the prompts still short of variety."""
    temperature_cap: float = 1.5
    """The extra passes warm up in even steps from the first pass's temperature to this
    (the last pass samples at the cap); never colder than the first pass."""

    @property
    def enabled(self) -> bool:
        """Whether any extra pass may run."""
        return self.extra_passes > 0


OFF = Diversity(extra_passes=0)
"""Mining as before: prompts short of variety are skipped after the first pass."""


@dataclass(frozen=True, slots=True)
class DiversityReport:
    """What raising diversity did: prompts sampled again, the temperature of each extra
    pass, and how many of those prompts then had two distinct answers to judge."""

    enabled: bool
    resampled: int = 0
    temperatures: list[float] = field(default_factory=list)
    rescued: int = 0

    def to_json(self) -> dict[str, Any]:
        """The `diversity` object of `dlm preference mine --json` (docs/json.md)."""
        return {
            "enabled": self.enabled,
            "resampled": self.resampled,
            "temperatures": list(self.temperatures),
            "rescued": self.rescued,
        }

    def note(self) -> str | None:
        """One line saying what was done, when any prompt was sampled again."""
        if not self.resampled:
            return None
        heat = ", ".join(f"{t:g}" for t in self.temperatures)
        return (
            f"raised diversity: {self.resampled} prompt(s) with (near) identical answers "
            f"sampled again at temperature {heat}; {self.rescued} then had distinct answers "
            "to judge."
        )


def pass_seed(seed: int, step: int) -> int:
    """The seed of extra pass `step` (1, 2, ...), derived from the run's seed."""
    digest = hashlib.sha256(f"{seed}\nraise diversity, pass {step}".encode()).hexdigest()
    return int(digest[:8], 16)


def raised_sampling(sampling: Sampling, settings: Diversity, step: int) -> Sampling:
    """The sampling of extra pass `step`: warmer by an even step toward the cap, as many
    samples per prompt as the first pass, its own seed."""
    if sampling.temperature >= settings.temperature_cap:
        temperature = sampling.temperature
    else:
        rise = (settings.temperature_cap - sampling.temperature) * step / settings.extra_passes
        temperature = round(sampling.temperature + rise, 4)
    return dataclasses.replace(
        sampling, temperature=temperature, seed=pass_seed(sampling.seed, step)
    )


def raise_diversity(
    sample: SamplePass,
    sampled: dict[str, list[Candidate]],
    sampling: Sampling,
    settings: Diversity,
) -> tuple[dict[str, list[Candidate]], DiversityReport]:
    """`sampled` with the prompts short of variety sampled again, up to
    `settings.extra_passes` times, and their well-formed extra answers pooled in."""
    if not settings.enabled:
        return sampled, DiversityReport(enabled=False)
    short = lacking_variety(sampled)
    if not short:
        return sampled, DiversityReport(enabled=True)
    pooled = {prompt: list(candidates) for prompt, candidates in sampled.items()}
    still = short
    temperatures: list[float] = []
    for step in range(1, settings.extra_passes + 1):
        config = raised_sampling(sampling, settings, step)
        _pool(pooled, sample(still, config))
        temperatures.append(config.temperature)
        still = lacking_variety({prompt: pooled[prompt] for prompt in still})
        if not still:
            break
    return pooled, DiversityReport(True, len(short), temperatures, len(short) - len(still))


def _pool(pooled: dict[str, list[Candidate]], extra: dict[str, list[Candidate]]) -> None:
    """Add each prompt's well-formed extra candidates to its pool (a malformed extra
    answer never turns `insufficient_variety` into `malformed`)."""
    for prompt, candidates in extra.items():
        pooled[prompt].extend(c for c in candidates if not malformed_candidate(c))
