"""llama.cpp's tools, built once on first use into a managed directory (docs/export.md).

Two pieces, each pinned with hashes (trainer/export/pins/), built under a `.partial` name
and renamed into place only when complete, so an interrupted build is started again:

- `llamacpp-<key>/`: a venv with llama-cpp-python[server], compiled from source for any
  x86-64 CPU with AVX2 and checked to report no AVX-512/AMX (`ensure_server` builds only
  this piece; tests/rewards/test_llm_judge_llamacpp.py serves its judge model with it).
  It quantizes, and can serve the GGUF (`python -m llama_cpp.server`).
- `llamacpp-convert-<key>/`: llama.cpp's own `convert_hf_to_gguf.py` with its
  `conversion/` and `gguf-py/` packages, taken from the same llama-cpp-python source
  distribution, and `sentencepiece` (the converter imports it) installed for dlm's own
  Python, which runs the converter with the torch and transformers it already has.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from trainer.errors import ToolMissingError

# Each file's header is the uv command that generates it. The llamacpp-server and
# llamacpp-build headers still name `-o tests/rewards/...`, where they were first made:
# regenerate them with `-o trainer/export/pins/<file>` instead (any byte changed, comments
# too, gives the venv a new key, so it is built again once).
PINS = Path(__file__).parent / "pins"
SERVER_PINS = PINS / "llamacpp-server.txt"
BUILD_PINS = PINS / "llamacpp-build.txt"
SDIST_PINS = PINS / "llamacpp-sdist.txt"
PIP_PINS = PINS / "pip.txt"
SENTENCEPIECE_PINS = PINS / "sentencepiece.txt"
SDIST_ROOT = "llama_cpp_python-0.3.36/vendor/llama.cpp/"
CONVERTER_PARTS = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/")
# Option names from the ggml CMakeLists that llama-cpp-python 0.3.36 vendors: a portable
# build (no -march=native; AVX2 at most).
CMAKE_DEFINES = {
    "LLAVA_BUILD": "OFF",  # nothing here loads the multimodal library: a third of the build
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
# /proc/cpuinfo names of what the ON options above compile in.
CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "bmi2")
CMAKE_ARGS = " ".join(f"-D{name}={value}" for name, value in CMAKE_DEFINES.items())
PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
COMPLETE = ".dlm-complete"
BUILD_TIMEOUT_S = 30 * 60
TOOLS_ENV = "DLM_TOOLS"


@dataclass(frozen=True, slots=True)
class LlamaCppTools:
    """Where the built tools are."""

    python: Path
    """The venv's python, with `llama_cpp` importable."""
    converter: Path
    """`convert_hf_to_gguf.py`, run with dlm's own Python."""
    converter_site: Path
    """Extra packages for the converter (sentencepiece), put on its PYTHONPATH."""


def tools_dir(home: Path) -> Path:
    """Where tool environments live: $DLM_TOOLS, else <DLM_HOME>/tools."""
    configured = os.environ.get(TOOLS_ENV)
    return Path(configured).expanduser() if configured else home / "tools"


def _key(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def venv_dir(root: Path) -> Path:
    """The llama-cpp-python venv's directory, named by a hash of all it is built from."""
    key = _key(SERVER_PINS.read_bytes(), BUILD_PINS.read_bytes(), CMAKE_ARGS, PYTHON)
    return root / f"llamacpp-{key}"


def converter_dir(root: Path) -> Path:
    """The converter's directory, named by a hash of its pins and dlm's Python version."""
    key = _key(SDIST_PINS.read_bytes(), SENTENCEPIECE_PINS.read_bytes(), PIP_PINS.read_bytes())
    return root / f"llamacpp-convert-{key}-py{PYTHON}"


def find_tools(root: Path) -> LlamaCppTools | None:
    """The tools if both pieces are built, else None."""
    venv, convert = venv_dir(root), converter_dir(root)
    if not ((venv / COMPLETE).exists() and (convert / COMPLETE).exists()):
        return None
    return _tools(venv, convert)


def _tools(venv: Path, convert: Path) -> LlamaCppTools:
    return LlamaCppTools(
        python=venv / "bin" / "python",
        converter=convert / "src" / "convert_hf_to_gguf.py",
        converter_site=convert / "site",
    )


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


def ensure_tools(root: Path, progress: Callable[[str], None]) -> LlamaCppTools:
    """The tools, building what is missing first (minutes, once; needs uv and PyPI)."""
    ensure_server(root, progress)
    convert = _built(converter_dir(root), _build_converter, progress, "llama.cpp's converter")
    return _tools(venv_dir(root), convert)


def ensure_server(root: Path, progress: Callable[[str], None]) -> Path:
    """The venv's python (llama-cpp-python[server]), building the venv first if missing;
    the converter is left alone."""
    missing = missing_cpu_flags()
    if missing:
        raise ToolMissingError(
            f"dlm builds llama.cpp for x86-64 CPUs with {', '.join(CPU_FLAGS)}, and this CPU "
            f"lacks {', '.join(missing)}. Export `--format merged` and convert it with a "
            "llama.cpp built for this machine (convert_hf_to_gguf.py, llama-quantize)."
        )
    venv = _built(venv_dir(root), _build_venv, progress, "llama-cpp-python (about 7 minutes)")
    return venv / "bin" / "python"


def _built(
    target: Path,
    build: Callable[[Path, Path], None],
    progress: Callable[[str], None],
    what: str,
) -> Path:
    """`target` complete, built under a `.partial` name and renamed when done."""
    if (target / COMPLETE).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / f".{target.name}.lock")):
        if (target / COMPLETE).exists():
            return target
        progress(f"Building {what} into {target}, once...")
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
        log = target.with_name(target.name + ".build.log")
        build(staging, log)
        (staging / COMPLETE).write_text(f"CMAKE_ARGS={CMAKE_ARGS}\n", encoding="utf-8")
        staging.rename(target)
    return target


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        raise ToolMissingError(
            "GGUF export needs llama.cpp's tools, which dlm builds once with uv, and uv is not "
            "on PATH. Install it (`pip install uv`) and run the export again, or export "
            "`--format merged` and convert it yourself."
        )
    return uv


def _build_venv(staging: Path, log: Path) -> None:
    """The llama-cpp-python[server] venv, compiled portably from the pinned sources."""
    uv = _uv()
    python = str(staging / "bin" / "python")
    # --no-config and a cwd outside any project: dlm's own uv settings override
    # llama-cpp-python away. --no-cache: uv's wheel cache is not keyed on CMAKE_ARGS.
    sync = [uv, "pip", "sync", "--no-config", "--no-cache", "--python", python]
    sync += ["--require-hashes", "--build-constraints", str(BUILD_PINS)]
    _run_steps(
        [
            [uv, "venv", "--no-config", "--relocatable", "--python", PYTHON, str(staging)],
            [*sync, str(SERVER_PINS)],
            [python, "-c", "import llama_cpp.server"],
            [python, "-c", _NO_WIDE_VECTORS],
        ],
        log,
        {"CMAKE_ARGS": CMAKE_ARGS, "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2)},
    )


# The CPU backend lists the instruction sets it was compiled with.
_NO_WIDE_VECTORS = """
import llama_cpp, sys
info = llama_cpp.llama_print_system_info().decode()
print(info)
if "AVX512" in info or "AMX" in info:
    sys.exit("llama.cpp was built with AVX-512 or AMX; the build is not portable")
"""


def _build_converter(staging: Path, log: Path) -> None:
    """The converter's sources from the pinned sdist, and sentencepiece for dlm's Python."""
    uv = _uv()
    staging.mkdir(parents=True)
    download = staging / "download"
    install = [uv, "pip", "install", "--no-config", "--python", sys.executable, "--require-hashes"]
    fetch = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
    _run_steps(
        [
            [*install, "--target", str(staging / "pip"), "-r", str(PIP_PINS)],
            [*fetch, "--require-hashes", "-r", str(SDIST_PINS), "-d", str(download)],
            [*install, "--target", str(staging / "site"), "-r", str(SENTENCEPIECE_PINS)],
        ],
        log,
        {"PYTHONPATH": str(staging / "pip"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    (archive,) = download.glob("*.tar.gz")
    _extract_converter(archive, staging / "src")
    shutil.rmtree(download)
    shutil.rmtree(staging / "pip")


def _extract_converter(archive: Path, destination: Path) -> None:
    """The converter's files out of the llama-cpp-python sdist, into `destination`."""
    with tarfile.open(archive) as sdist:
        members = [m for m in sdist.getmembers() if _converter_part(m.name)]
        for member in members:
            member.name = member.name[len(SDIST_ROOT) :]
        sdist.extractall(destination, members=members, filter="data")
    if not (destination / "convert_hf_to_gguf.py").is_file():
        raise ToolMissingError(
            f"{archive.name} has no {SDIST_ROOT}convert_hf_to_gguf.py; the pinned "
            f"llama-cpp-python in {SDIST_PINS} no longer ships llama.cpp's converter."
        )


def _converter_part(name: str) -> bool:
    if not name.startswith(SDIST_ROOT):
        return False
    inside = name[len(SDIST_ROOT) :]
    return any(inside == part or inside.startswith(part) for part in CONVERTER_PARTS)


def _run_steps(steps: Sequence[list[str]], log: Path, extra_env: dict[str, str]) -> None:
    """Run each build step with its output in `log`; ToolMissingError on any failure."""
    env = {**os.environ, **extra_env}
    env.pop("VIRTUAL_ENV", None)
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        for step in steps:
            out.write(f"$ {' '.join(step)}\n")
            out.flush()
            left = BUILD_TIMEOUT_S - (time.monotonic() - started)
            try:
                done = subprocess.run(
                    step,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=tempfile.gettempdir(),
                    timeout=max(left, 1),
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise ToolMissingError(
                    f"Building llama.cpp's tools took over {BUILD_TIMEOUT_S} s; see {log}."
                ) from None
            if done.returncode != 0:
                raise ToolMissingError(_failed(step, log))


def _failed(step: list[str], log: Path) -> str:
    tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
    return (
        f"Building llama.cpp's tools failed at `{' '.join(step[:4])} ...` (full log: {log}). "
        "It needs uv, PyPI, a C++ compiler and about 7 minutes; fix what the log says and "
        f"run the export again, or export `--format merged` instead.\n{tail}"
    )
