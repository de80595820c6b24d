"""`load_method="vllm"`: the dispatch, the install message, and the readout with a stub engine."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from trainer.rewards.auto import AutoRM
from trainer.rewards.base import JudgeError, conversation
from trainer.rewards.vllm import VllmRM


def test_without_vllm_the_message_says_how_to_get_it(
    orm_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    with pytest.raises(JudgeError, match=r"needs vLLM.*uv pip install vllm.*transformers"):
        AutoRM.load(str(orm_dir), load_method="vllm")


def test_dispatch_passes_engine_options_and_reads_pooled_scores(
    orm_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: dict[str, Any] = {}

    class Output:
        def __init__(self, ids: list[int]) -> None:
            self.outputs = types.SimpleNamespace(data=[float(len(ids))])

    class LLM:
        def __init__(self, model: str, **kwargs: Any) -> None:
            calls["init"] = {"model": model, **kwargs}

        def reward(self, prompts: list[dict[str, list[int]]], use_tqdm: bool) -> list[Output]:
            calls["prompts"] = prompts
            return [Output(p["prompt_token_ids"]) for p in prompts]

    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(LLM=LLM))
    rm = AutoRM.load(
        str(orm_dir), load_method="vllm", tensor_parallel_size=2, gpu_memory_utilization=0.5
    )
    assert isinstance(rm, VllmRM)
    init = calls["init"]
    assert init["runner"] == "pooling" and init["tensor_parallel_size"] == 2
    assert init["gpu_memory_utilization"] == 0.5
    scores = rm.score_batch([conversation("Q?", "A."), conversation("Q?", "A longer answer.")])
    lengths = [len(p["prompt_token_ids"]) for p in calls["prompts"]]
    assert scores == [float(n) for n in lengths]


@pytest.mark.gpu
def test_a_real_vllm_engine_scores_like_transformers(orm_dir: Path) -> None:
    pytest.importorskip("vllm")
    batch = [conversation("Q?", "A."), conversation("Q?", "Another answer.")]
    expected = AutoRM.load(str(orm_dir)).score_batch(batch)
    rm = AutoRM.load(str(orm_dir), load_method="vllm", gpu_memory_utilization=0.3)
    assert rm.score_batch(batch) == pytest.approx(expected, abs=1e-2)
