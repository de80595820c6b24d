"""Data parallelism for the vLLM backend: one engine process per GPU group, prompts dealt out.

Each replica is an independent vLLM engine in a spawned process (vLLM needs `spawn`
once CUDA is in use), its CUDA_VISIBLE_DEVICES set before vLLM is imported. Prompts
go round-robin, so replicas get equal shares; every prompt carries its own seed, so
the split changes no candidate. Replicas report progress and results on one queue.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable, Sequence
from typing import Any

from trainer.generation.backends.base import BackendError
from trainer.generation.backends.vllm_engine import Engine, Request, VllmSettings
from trainer.generation.generate import Sampling

Drawn = list[list[tuple[str, bool]]]
"""(text, truncated) of each sample of each request."""

POLL_S = 1.0
JOIN_S = 30.0


def run_replicas(
    settings: VllmSettings,
    devices: list[str],
    requests: Sequence[Request],
    config: Sampling,
    stop_ids: list[int],
    advance: Callable[[int], None],
) -> Drawn:
    """Samples of every request, in request order, from `data_parallel_size` engines."""
    size = settings.tensor_parallel_size
    shards = {
        rank: list(range(rank, len(requests), settings.data_parallel_size))
        for rank in range(settings.data_parallel_size)
    }
    shards = {rank: shard for rank, shard in shards.items() if shard}
    context = multiprocessing.get_context("spawn")
    channel: Any = context.Queue()
    processes = {
        rank: context.Process(
            target=replica_main,
            args=(
                rank,
                ",".join(devices[rank * size : (rank + 1) * size]),
                settings,
                [requests[i] for i in shard],
                config,
                stop_ids,
                channel,
            ),
            daemon=False,  # vLLM starts processes of its own, which a daemon may not
        )
        for rank, shard in shards.items()
    }
    for process in processes.values():
        process.start()
    try:
        results = _collect(processes, channel, advance)
    except BaseException:
        for process in processes.values():
            process.terminate()  # the run is over: no need to wait for the others
        raise
    finally:
        _stop(processes.values())
    drawn: Drawn = [[] for _ in requests]
    for rank, shard in shards.items():
        for index, samples in zip(shard, results[rank], strict=True):
            drawn[index] = samples
    return drawn


def replica_main(
    rank: int,
    devices: str,
    settings: VllmSettings,
    requests: list[Request],
    config: Sampling,
    stop_ids: list[int],
    channel: Any,
) -> None:
    """One replica: pin the GPUs, start an engine, sample, send the results back."""
    os.environ["CUDA_VISIBLE_DEVICES"] = devices  # before vLLM (and CUDA) start
    try:
        engine = Engine(settings)
        drawn = engine.generate(
            requests, config, stop_ids, lambda count: channel.put(("progress", rank, count))
        )
        channel.put(("done", rank, drawn))
    except Exception as error:  # reported to the parent, which stops the run
        channel.put(("error", rank, f"{type(error).__name__}: {error}"))


def _collect(
    processes: dict[int, Any], channel: Any, advance: Callable[[int], None]
) -> dict[int, Drawn]:
    results: dict[int, Drawn] = {}
    exited: set[int] = set()
    while len(results) < len(processes):
        try:
            kind, rank, payload = channel.get(timeout=POLL_S)
        except queue.Empty:
            _check_alive(processes, results, exited)
            continue
        if kind == "progress":
            advance(payload)
        elif kind == "error":
            raise BackendError(f"vLLM replica {rank} failed: {payload}")
        else:
            results[rank] = payload
    return results


def _check_alive(processes: dict[int, Any], results: dict[int, Drawn], exited: set[int]) -> None:
    """Fail on a replica that died without sending its samples; one that exited cleanly
    gets one more poll, since its last message may still be in the pipe."""
    for rank, process in processes.items():
        if rank in results or process.exitcode is None:
            continue
        if process.exitcode == 0 and rank not in exited:
            exited.add(rank)
        else:
            raise BackendError(
                f"vLLM replica {rank} exited with code {process.exitcode} before sending its "
                "samples (out of GPU memory, or killed); see its output above."
            )


def _stop(processes: Any) -> None:
    for process in processes:
        process.join(timeout=JOIN_S)
        if process.is_alive():
            process.terminate()
            process.join()
