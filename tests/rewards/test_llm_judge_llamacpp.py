"""The `api:` judge against a real OpenAI-compatible server: llama-cpp-python serving the
embedded SmolLM2 GGUF.

llama-cpp-python is kept out of the project environment (a long native build), so this
test builds `llama-cpp-python[server]` once into its own venv under
`~/.cache/dlm-tests/` (about 7 minutes on 2 cores) and reuses it afterwards.

The build is portable. llama.cpp's default `GGML_NATIVE=ON` compiles for the build
machine's CPU (`-march=native`): such a library dies on a CPU without those instructions,
and one with AMX tiles crashed even on the Xeon that built it. `CMAKE_DEFINES` turns
that off and sets a fixed ceiling, SSE4.2, AVX, AVX2, FMA, F16C and BMI2 on and every
AVX-512, AVX-VNNI and AMX option off, so the library runs on any x86-64 CPU with AVX2
(Intel Haswell, AMD Zen and later); on one without, the test skips and names what is
missing. Runtime dispatch (`GGML_CPU_ALL_VARIANTS`) is not used: it needs
`GGML_BACKEND_DL`, and llama-cpp-python 0.3.36 neither installs the per-CPU backend
libraries nor loads them.

Every package is pinned with hashes, the venv's in `llamacpp-server.txt` and the build's
(scikit-build-core; cmake and ninja where the system has none) in `llamacpp-build.txt`;
each file's header is the command that regenerates it. The venv's directory name hashes
both files, the CMake defines and the Python version, so a changed pin or flag builds a
new venv and one built natively before is never reused. It is built under a `.partial`
name with uv's cache off (uv's wheel cache ignores `CMAKE_ARGS`), checked to import and
to report no AVX-512/AMX, and renamed into place only then.
"""

from __future__ import annotations

import hashlib
import math
import os
import platform
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

from trainer.rewards.base import conversation
from trainer.rewards.llm_judge import LLMJudge

HERE = Path(__file__).parent
SERVER_PINS = HERE / "llamacpp-server.txt"
BUILD_PINS = HERE / "llamacpp-build.txt"
# Option names from the ggml CMakeLists that llama-cpp-python 0.3.36 vendors.
CMAKE_DEFINES = {
    "LLAVA_BUILD": "OFF",  # the judge never loads the multimodal library: a third of the build
    "GGML_NATIVE": "OFF",
    "GGML_BACKEND_DL": "OFF",
    "GGML_CPU_ALL_VARIANTS": "OFF",
    "GGML_SSE42": "ON",
    "GGML_AVX": "ON",
    "GGML_AVX2": "ON",
    "GGML_FMA": "ON",
    "GGML_F16C": "ON",
    "GGML_BMI2": "ON",
    "GGML_AVX_VNNI": "OFF",
    "GGML_AVX512": "OFF",
    "GGML_AVX512_VBMI": "OFF",
    "GGML_AVX512_VNNI": "OFF",
    "GGML_AVX512_BF16": "OFF",
    "GGML_AMX_TILE": "OFF",
    "GGML_AMX_INT8": "OFF",
    "GGML_AMX_BF16": "OFF",
}
CMAKE_ARGS = " ".join(f"-D{name}={value}" for name, value in CMAKE_DEFINES.items())
# /proc/cpuinfo names of what the ON options above compile in.
CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "bmi2")
PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
BUILD_TIMEOUT_S = 30 * 60
READY_TIMEOUT_S = 120
COMPLETE = ".dlm-complete"
ITEMS = [
    conversation("What is the capital of France?", "The capital of France is Paris."),
    conversation("What is the capital of France?", "Bananas are yellow."),
    conversation("What is 2 + 3?", "2 + 3 = 5."),
]


def build_key() -> str:
    """A hash of everything the venv is built from; it names the venv's directory."""
    digest = hashlib.sha256()
    for part in (SERVER_PINS.read_bytes(), BUILD_PINS.read_bytes(), CMAKE_ARGS, PYTHON):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def missing_cpu_flags() -> list[str]:
    """The CPU features the portable build needs that this x86-64 CPU lacks (Linux only)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return []
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return []
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            have = set(line.partition(":")[2].split())
            return [flag for flag in CPU_FLAGS if flag not in have]
    return []


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
VENV = CACHE / f"llamacpp-{build_key()}"


def server_python() -> Path:
    """The cached venv's python with llama-cpp-python[server], built on first use."""
    python = VENV / "bin" / "python"
    if (VENV / COMPLETE).exists():
        return python
    CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(CACHE / f".{VENV.name}.lock")):
        if (VENV / COMPLETE).exists():
            return python
        staging = VENV.with_name(VENV.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(VENV, ignore_errors=True)
        _build(staging)
        (staging / COMPLETE).write_text(f"CMAKE_ARGS={CMAKE_ARGS}\n", encoding="utf-8")
        staging.rename(VENV)
    return python


def _build(staging: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH; the llama-cpp-python venv is built with uv.")
    env = {**os.environ, "CMAKE_ARGS": CMAKE_ARGS}
    env["CMAKE_BUILD_PARALLEL_LEVEL"] = str(os.cpu_count() or 2)
    env.pop("VIRTUAL_ENV", None)
    log = CACHE / f"{VENV.name}.build.log"
    python = str(staging / "bin" / "python")
    # --no-config and a cwd outside the project: dlm's own uv settings override
    # llama-cpp-python away, and must not apply here. --no-cache: uv's cache of built
    # wheels is not keyed on CMAKE_ARGS and may hold a native build. uv checks the hashes
    # in the build constraints as given (`--require-build-hashes` is still experimental).
    sync = [uv, "pip", "sync", "--no-config", "--no-cache", "--python", python]
    sync += ["--require-hashes", "--build-constraints", str(BUILD_PINS)]
    steps = [
        [uv, "venv", "--no-config", "--relocatable", "--python", PYTHON, str(staging)],
        [*sync, str(SERVER_PINS)],
        [python, "-c", "import llama_cpp.server"],
        [python, "-c", _NO_WIDE_VECTORS],
    ]
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        out.write(f"CMAKE_ARGS={CMAKE_ARGS}\n")
        out.flush()
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


# The CPU backend lists the instruction sets it was compiled with.
_NO_WIDE_VECTORS = """
import llama_cpp, sys
info = llama_cpp.llama_print_system_info().decode()
print(info)
if "AVX512" in info or "AMX" in info:
    sys.exit("llama.cpp was built with AVX-512 or AMX; the build is not portable")
"""


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
