"""Shared fixtures: the tiny model (built once per session), the fake vLLM; GPU tests skipped
where torch sees no GPU."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.trainer.conftest import tiny_model_dir

__all__ = ["tiny_model_dir"]

FAKE_VLLM = Path(__file__).resolve().parent / "fake_vllm"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `gpu` tests on machines without a CUDA GPU (torch is imported only if any)."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_items:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; torch sees none")
    for item in gpu_items:
        item.add_marker(skip)


class FakeVllmLog:
    """The calls the fake `vllm` package recorded (tests/fake_vllm/vllm/__init__.py)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def calls(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every recorded call, or those of one name ("LLM", "generate", ...), in order."""
        if not self.path.exists():
            return []
        rows = [json.loads(line) for line in self.path.read_text("utf-8").splitlines()]
        return [row for row in rows if name is None or row["call"] == name]


@pytest.fixture
def fake_vllm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVllmLog]:
    """The fake `vllm` importable here and in spawned replicas, with an empty call log."""
    log = tmp_path / "vllm-calls.jsonl"
    monkeypatch.syspath_prepend(str(FAKE_VLLM))
    monkeypatch.setenv("FAKE_VLLM_LOG", str(log))
    _forget_vllm()
    yield FakeVllmLog(log)
    _forget_vllm()


def _forget_vllm() -> None:
    for name in [n for n in sys.modules if n == "vllm" or n.startswith("vllm.")]:
        del sys.modules[name]
