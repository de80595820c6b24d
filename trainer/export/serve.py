"""Serving an adapter version over an OpenAI-compatible API (`dlm serve`, docs/export.md).

Two engines: llama.cpp's server (llama-cpp-python[server] from the managed tool env,
trainer/export/toolenv.py) on the version's GGUF export, reused from the store's export
log or exported first; or, on CUDA GPUs, `vllm serve` with the adapter as a LoRA module.
The server runs in its own process group, its output in a log kept under the store; it
is ready once `GET /v1/models` lists its model name, and runs until Ctrl-C (or SIGTERM)
stops the whole group.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from trainer.errors import ServeError
from trainer.export.record import read_exports, record_export
from trainer.export.run import default_out, export_adapter
from trainer.export.toolenv import ensure_server
from trainer.export.types import QUANTS, ExportRequest

ENGINES = ("llama.cpp", "vllm")
DEFAULT_QUANT = "q8_0"
READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 15.0
N_CTX = 4096
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ServeRequest:
    """One adapter version to serve, and where and how."""

    model_dir: Path
    """The base model's checkpoint directory."""
    adapter_dir: Path | None
    """The adapter version's directory; None serves the base model alone."""
    version: str
    """The adapter version's name ("v0003", or "base")."""
    store_root: Path
    """The document's store: export log, exports, the server's log."""
    model_name: str
    """The name clients ask for (`"model"` in a request; `api:NAME` as a judge)."""
    engine: str = "llama.cpp"
    quant: str = DEFAULT_QUANT
    """The GGUF's quantization (llama.cpp only)."""
    host: str = "127.0.0.1"
    port: int = 8080
    gpu: str | None = None
    """vLLM only: the CUDA device index to use (CUDA_VISIBLE_DEVICES); None: vLLM's choice."""
    system_prompt: str | None = None
    """The document's system prompt, for an export made on the way."""

    @property
    def url(self) -> str:
        """The API base clients use (`--judge-url`)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    @property
    def log(self) -> Path:
        """The server's log, kept under the store."""
        what = self.engine if self.engine == "vllm" else f"gguf-{self.quant}"
        return self.store_root / "serve" / f"{self.version}-{what}.log"


@dataclass(frozen=True, slots=True)
class Served:
    """A server that answers: what clients need to reach it."""

    url: str
    model_name: str
    version: str
    engine: str
    log: Path
    model: Path
    """The GGUF file (llama.cpp), or the base model's directory (vLLM)."""


def check_request(request: ServeRequest) -> None:
    """The request's options go together."""
    if request.engine not in ENGINES:
        raise ServeError(f"--engine {request.engine!r}: use one of {', '.join(ENGINES)}.")
    if request.quant not in QUANTS:
        raise ServeError(f"--quant {request.quant!r}: use one of {', '.join(QUANTS)}.")
    name = request.model_name
    if not name or name != name.strip() or any(c.isspace() for c in name):
        raise ServeError(f"--model-name {name!r}: give a name without spaces, e.g. `notes`.")
    if not 1 <= request.port <= 65535:
        raise ServeError(f"--port {request.port}: use a port from 1 to 65535.")


def recorded_gguf(store_root: Path, version: str, quant: str) -> Path | None:
    """The newest GGUF of `version` in `quant` the store's export log lists and that still
    exists, else None."""
    for entry in reversed(read_exports(store_root)):
        if (entry.get("adapter_version"), entry.get("format")) != (version, "gguf"):
            continue
        if entry.get("quant") != quant or not isinstance(entry.get("path"), str):
            continue
        found = _gguf_in(Path(entry["path"]))
        if found is not None:
            return found
    return None


def _gguf_in(directory: Path) -> Path | None:
    """The export's GGUF file (`<dir name>.gguf`) if it is there."""
    candidate = directory / f"{directory.name}.gguf"
    return candidate if candidate.is_file() else None


def gguf_for(request: ServeRequest, tools_root: Path, progress: Progress) -> Path:
    """The version's GGUF in the asked quant: a recorded export, else a new one (recorded)."""
    found = recorded_gguf(request.store_root, request.version, request.quant)
    if found is not None:
        return found
    out = default_out(request.store_root, request.version, "gguf", request.quant)
    if (existing := _gguf_in(out)) is not None:  # exported but never recorded
        return existing
    progress(f"No {request.quant} GGUF of {request.version} yet: exporting it first.")
    export = ExportRequest(
        model_dir=request.model_dir,
        adapter_dir=request.adapter_dir,
        version=request.version,
        out=out,
        format="gguf",
        quant=request.quant,
        system_prompt=request.system_prompt,
    )
    result = export_adapter(export, tools_root, progress)
    record_export(request.store_root, result)
    return out / f"{out.name}.gguf"


def llama_argv(python: Path, gguf: Path, request: ServeRequest) -> list[str]:
    """`python -m llama_cpp.server` on the GGUF; its chat template comes from the GGUF."""
    return [
        str(python),
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        request.model_name,
        "--host",
        request.host,
        "--port",
        str(request.port),
        "--n_ctx",
        str(N_CTX),
    ]


def vllm_argv(vllm: str, request: ServeRequest, max_lora_rank: int) -> list[str]:
    """`vllm serve BASE` with the adapter as the LoRA module NAME (or the base as NAME)."""
    argv = [vllm, "serve", str(request.model_dir), "--host", request.host]
    argv += ["--port", str(request.port)]
    if request.adapter_dir is None:
        return [*argv, "--served-model-name", request.model_name]
    argv += ["--enable-lora", "--max-loras", "1", "--max-lora-rank", str(max_lora_rank)]
    return [*argv, "--lora-modules", f"{request.model_name}={request.adapter_dir}"]


def find_vllm() -> str:
    """The `vllm` command of this Python's environment; ServeError when vLLM is missing."""
    if importlib.util.find_spec("vllm") is None:
        raise ServeError(
            "`--engine vllm` needs vLLM, which is not installed in dlm's environment "
            "(`uv pip install vllm` on a machine with a CUDA GPU), or serve with "
            "`--engine llama.cpp` (the default) on the CPU."
        )
    beside = Path(sys.executable).parent / "vllm"
    found = str(beside) if beside.is_file() else shutil.which("vllm")
    if found is None:
        raise ServeError("vLLM imports but its `vllm` command is not on PATH; reinstall vLLM.")
    return found


def server_command(
    request: ServeRequest, tools_root: Path, progress: Progress
) -> tuple[list[str], Path]:
    """The server's argv and the model it serves, building or exporting what is missing."""
    check_request(request)
    if request.engine == "vllm":
        from trainer.generation.backends.vllm_engine import lora_rank_limit

        rank = lora_rank_limit(request.adapter_dir)
        return vllm_argv(find_vllm(), request, rank), request.model_dir
    gguf = gguf_for(request, tools_root, progress)
    python = ensure_server(tools_root, progress)
    return llama_argv(python, gguf, request), gguf


def server_env(request: ServeRequest) -> dict[str, str]:
    """The server's environment: dlm's, with the GPU chosen for vLLM."""
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    if request.gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = request.gpu
    return env


def serve(
    request: ServeRequest,
    tools_root: Path,
    progress: Progress,
    announce: Callable[[Served], None],
) -> None:
    """Start the server, wait until it answers, `announce` it, and run until Ctrl-C (which
    returns normally); ServeError if it fails to start or exits on its own."""
    argv, model = server_command(request, tools_root, progress)
    check_port_free(request.host, request.port)
    request.log.parent.mkdir(parents=True, exist_ok=True)
    progress(f"Starting {request.engine}'s server (log: {request.log})...")
    with request.log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=server_env(request),
            start_new_session=True,  # its own group: Ctrl-C reaches dlm, which stops it all
        )
    try:
        with _sigterm_interrupts():
            _run(request, process, model, announce)
    except KeyboardInterrupt:
        progress("Stopping the server...")
    finally:
        stop(process)


def _run(
    request: ServeRequest,
    process: subprocess.Popen[bytes],
    model: Path,
    announce: Callable[[Served], None],
) -> None:
    """Wait until the server answers, announce it, and wait for it (ServeError if it exits)."""
    wait_ready(request.url, request.model_name, process, request.log, READY_TIMEOUT_S)
    served = Served(
        request.url, request.model_name, request.version, request.engine, request.log, model
    )
    announce(served)
    code = process.wait()
    raise ServeError(
        f"The server exited on its own with code {code}; see its log {request.log}."
        f"\n{_tail(request.log)}"
    )


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While serving, SIGTERM (a service manager, `kill`) stops the server as Ctrl-C does."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def wait_ready(
    url: str, model_name: str, process: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    """Poll `GET URL/models` until it lists `model_name`; ServeError if the server exits
    first or does not answer within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServeError(
                f"The server exited with code {process.returncode} before answering; see its "
                f"log {log}. A port in use (choose another --port) is a common cause."
                f"\n{_tail(log)}"
            )
        if serves(url, model_name):
            return
        time.sleep(0.5)
    raise ServeError(
        f"The server did not answer GET {url}/models within {timeout:.0f} s; see its log {log}."
    )


def check_port_free(host: str, port: int) -> None:
    """ServeError naming the fix when something already listens on HOST:PORT."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ServeError(
                f"Cannot listen on {host}:{port} ({error.strerror or error}): choose another "
                "--port, or stop what uses it."
            ) from None


def serves(url: str, model_name: str) -> bool:
    """True when GET `URL/models` answers 200 and lists `model_name` (so another server
    on the same port is never taken for this one)."""
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
            listed = json.loads(response.read())
    except (OSError, ValueError):
        return False
    models = listed.get("data") if isinstance(listed, dict) else None
    ids = (
        {m.get("id") for m in models if isinstance(m, dict)} if isinstance(models, list) else set()
    )
    return model_name in ids


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server's process group, killing it if it lingers."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT_S)
    _signal_group(process, signal.SIGKILL)  # anything the server itself started
    process.wait()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(process.pid, sig)


def _tail(log: Path) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")[-1500:]
    except OSError:
        return ""
