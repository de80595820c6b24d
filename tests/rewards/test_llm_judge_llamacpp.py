"""The `api:` judge against a real OpenAI-compatible server: llama-cpp-python serving the
embedded SmolLM2 GGUF.

llama-cpp-python is kept out of the project environment (a long native build), so this
test serves from the venv dlm builds for GGUF export (trainer/export/toolenv.py,
`ensure_server`), built once under `~/.cache/dlm-tests/` (about 7 minutes on 2 cores)
and reused afterwards; tests/slow/test_export_gguf.py uses the same one.

The build is portable. llama.cpp's default `GGML_NATIVE=ON` compiles for the build
machine's CPU (`-march=native`): such a library dies on a CPU without those instructions,
and one with AMX tiles crashed even on the Xeon that built it. toolenv's `CMAKE_DEFINES`
turns that off and sets a fixed ceiling, SSE4.2, AVX, AVX2, FMA, F16C and BMI2 on and
every AVX-512, AVX-VNNI and AMX option off, so the library runs on any x86-64 CPU with
AVX2 (Intel Haswell, AMD Zen and later); on one without, the test skips and names what
is missing. Runtime dispatch (`GGML_CPU_ALL_VARIANTS`) is not used: it needs
`GGML_BACKEND_DL`, and llama-cpp-python 0.3.36 neither installs the per-CPU backend
libraries nor loads them.

Every package is pinned with hashes (trainer/export/pins/), the venv's in
`llamacpp-server.txt` and the build's (scikit-build-core; cmake and ninja where the
system has none) in `llamacpp-build.txt`; each file's header is the uv command that
generates it (with `-o` naming the file in trainer/export/pins/, as toolenv notes). The
venv's directory name hashes both files, the CMake defines and the Python version, so a
changed pin or flag builds a new venv and one built natively before is never reused. It
is built under a `.partial` name with uv's cache off (uv's wheel cache ignores
`CMAKE_ARGS`), checked to import and to report no AVX-512/AMX, and renamed into place
only then.
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from trainer.errors import ToolMissingError
from trainer.export.toolenv import CPU_FLAGS, ensure_server, missing_cpu_flags
from trainer.rewards.base import conversation
from trainer.rewards.llm_judge import LLMJudge

READY_TIMEOUT_S = 120
ITEMS = [
    conversation("What is the capital of France?", "The capital of France is Paris."),
    conversation("What is the capital of France?", "Bananas are yellow."),
    conversation("What is 2 + 3?", "2 + 3 = 5."),
]
MISSING = missing_cpu_flags()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"llama.cpp is built for x86-64 with {', '.join(CPU_FLAGS)}; "
        f"this CPU lacks {', '.join(MISSING)}",
    ),
]
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlm-tests"


def server_python() -> Path:
    """The cached venv's python with llama-cpp-python[server], built on first use."""
    try:
        return ensure_server(CACHE, print)
    except ToolMissingError as error:
        pytest.fail(str(error))


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
    rm.load()
    # llama-cpp-python's server knows only {"type": "json_object", "schema": ...}
    assert rm.settled_format == "json_object"
    details = rm.score_batch_details(ITEMS)
    assert len(details) == len(ITEMS)
    for detail in details:
        assert math.isfinite(detail.score) and 0 <= detail.score <= 10
        assert detail.score == int(detail.score)
        assert isinstance(detail.reasoning, str)
