"""Prompt-sharded sampling over torchrun ranks: rank R samples prompts R, R + N, R + 2N, ...
and rank 0 gathers every prompt's candidates.

Each prompt's candidates come from its own seeded streams (`trainer.generation.seeded_sampling`),
so which rank draws a prompt, and with which others, does not change them: a sharded
run stages the same pairs as one process with the same seed.
"""

from __future__ import annotations

from collections.abc import Sequence

from trainer.generation.backends.base import SampleProgress, SamplingBackend
from trainer.generation.generate import Sampling
from trainer.generation.seeded_sampling import Candidate
from trainer.mining.miner import MiningRequest, document_prompts
from trainer.runtime.distributed import World, gather_to_main


def shard(prompts: Sequence[str], world: World) -> list[str]:
    """This rank's prompts: every `world.size`-th one, starting at `world.rank`."""
    return list(prompts[world.rank :: world.size])


def sample_shard(
    backend: SamplingBackend,
    prompts: Sequence[str],
    config: Sampling,
    *,
    system_prompt: str | None,
    world: World,
    progress: SampleProgress | None = None,
) -> dict[str, list[Candidate]]:
    """Sample this rank's share of `prompts`; on rank 0, return every prompt's candidates
    in the order of `prompts`, elsewhere an empty dict (the candidates went to rank 0)."""
    total = len(prompts)
    own = None
    if progress is not None:
        # Rank 0's share stands for the others': the shards differ by at most one prompt.
        own = lambda done, _: progress(min(done * world.size, total), total)  # noqa: E731
    mine = backend.sample(shard(prompts, world), config, system_prompt=system_prompt, progress=own)
    gathered = gather_to_main(world, mine)
    if gathered is None:
        return {}
    merged: dict[str, list[Candidate]] = {}
    for part in gathered:
        merged.update(part)
    if progress is not None:
        progress(total, total)
    return {prompt: merged[prompt] for prompt in prompts}


def serve_shard(backend: SamplingBackend, request: MiningRequest, world: World) -> None:
    """A rank other than 0: sample its share of the request's prompts and send them to rank 0."""
    frontmatter = request.document.frontmatter
    sample_shard(
        backend,
        list(document_prompts(request.document, request.sections)),
        request.sampling,
        system_prompt=frontmatter.system_prompt if frontmatter else None,
        world=world,
    )


class ShardedBackend:
    """Rank 0's view of a sharded run: `sample` draws rank 0's share and gathers the rest."""

    def __init__(self, inner: SamplingBackend, world: World) -> None:
        self._inner = inner
        self._world = world

    @property
    def name(self) -> str:
        """The backend that samples on every rank."""
        return self._inner.name

    def load(self) -> None:
        """Load the backend on this rank."""
        self._inner.load()

    def sample(
        self,
        prompts: Sequence[str],
        config: Sampling,
        *,
        system_prompt: str | None,
        progress: SampleProgress | None = None,
    ) -> dict[str, list[Candidate]]:
        """Every prompt's candidates, drawn by all ranks together (call on rank 0)."""
        return sample_shard(
            self._inner,
            prompts,
            config,
            system_prompt=system_prompt,
            world=self._world,
            progress=progress,
        )

    def answer(self, question: str, config: Sampling, *, system_prompt: str | None) -> str:
        """One answer, from this rank alone."""
        return self._inner.answer(question, config, system_prompt=system_prompt)

    def close(self) -> None:
        """Release the backend on this rank."""
        self._inner.close()
