"""The `api:` judge against a real OpenAI-compatible server: llama-cpp-python serving the
embedded SmolLM2 GGUF.

llama-cpp-python is kept out of the project environment (a long native build), so this
test builds `llama-cpp-python[server]` once into its own venv under
`~/.cache/dlm-tests/` (a few minutes on 2 cores) and reuses it afterwards.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from trainer.judges.base import JudgeItem
from trainer.rewards.base import RewardJudge
from trainer.rewards.llm_judge import LLMJudge

pytestmark = pytest.mark.slow

LLAMA_CPP_PYTHON = "0.3.36"  # the version this test was verified with
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlm-tests"
VENV = CACHE / f"llamacpp-{LLAMA_CPP_PYTHON}"
BUILD_TIMEOUT_S = 30 * 60
READY_TIMEOUT_S = 120
ITEMS = [
    JudgeItem("What is the capital of France?", "The capital of France is Paris."),
    JudgeItem("What is the capital of France?", "Bananas are yellow."),
    JudgeItem("What is 2 + 3?", "2 + 3 = 5."),
]


def server_python() -> Path:
    """The cached venv's python with llama-cpp-python[server], built on first use."""
    python = VENV / "bin" / "python"
    done = VENV / ".dlm-complete"
    if done.exists():
        return python
    CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(CACHE / f".{VENV.name}.lock")):
        if done.exists():
            return python
        staging = VENV.with_name(VENV.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(VENV, ignore_errors=True)
        _build(staging)
        staging.rename(VENV)
        done.write_text(f"llama-cpp-python[server]=={LLAMA_CPP_PYTHON}\n", encoding="utf-8")
    return python


def _build(staging: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH; the llama-cpp-python venv is built with uv.")
    # No multimodal library: the judge never loads it, and it is a third of the build.
    env = {**os.environ, "CMAKE_ARGS": "-DLLAVA_BUILD=OFF"}
    env["CMAKE_BUILD_PARALLEL_LEVEL"] = str(os.cpu_count() or 2)
    env.pop("VIRTUAL_ENV", None)
    log = CACHE / f"{VENV.name}.build.log"
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    python = str(staging / "bin" / "python")
    # --no-config and a cwd outside the project: dlm's own uv settings override
    # llama-cpp-python away, and must not apply here.
    steps = [
        [uv, "venv", "--no-config", "--relocatable", "--python", version, str(staging)],
        [
            uv,
            "pip",
            "install",
            "--no-config",
            "--python",
            python,
            f"llama-cpp-python[server]=={LLAMA_CPP_PYTHON}",
        ],
        [python, "-c", "import llama_cpp.server"],
    ]
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        for step in steps:
            left = BUILD_TIMEOUT_S - (time.monotonic() - started)
            try:
                done = subprocess.run(
                    step, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=CACHE, timeout=left
                )
            except subprocess.TimeoutExpired:
                pytest.fail(f"building llama-cpp-python took over {BUILD_TIMEOUT_S} s; see {log}")
            if done.returncode != 0:
                tail = log.read_text(encoding="utf-8")[-2000:]
                pytest.fail(f"`{' '.join(step)}` failed (log: {log}):\n{tail}")


def _gguf() -> Path:
    from trainer.models.materialize import gguf_path
    from trainer.models.registry import DEFAULT_MODEL, REGISTRY

    return gguf_path(REGISTRY[DEFAULT_MODEL])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free port with SmolLM2; yields the API base."""
    python = server_python()
    port = _free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    argv = [str(python), "-m", "llama_cpp.server", "--model", str(_gguf())]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_ready(base, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(encoding="utf-8")[-2000:]
            pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(f"{base}/models", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"llama_cpp.server was not ready within {READY_TIMEOUT_S} s; see {log}")


def test_smollm2_grades_answers_through_llama_cpp_server(llama_server: str) -> None:
    rm = LLMJudge("smollm2", llama_server, timeout=120, concurrency=2)
    judge = RewardJudge(rm)
    judge.load()
    # llama-cpp-python's server knows only {"type": "json_object", "schema": ...}
    assert rm.settled_format == "json_object"
    judgements = judge.score(ITEMS)
    assert len(judgements) == len(ITEMS)
    for judgement in judgements:
        assert math.isfinite(judgement.score) and 0 <= judgement.score <= 10
        assert judgement.score == int(judgement.score)
        assert isinstance(judgement.reasoning, str)
