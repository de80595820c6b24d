"""`dlm serve`'s use case without a real engine: commands, export reuse, the lifecycle.

The server here is a few lines of Python answering `GET /v1/models`; the real round trip
(llama.cpp serving one document's adapter as another's judge) is tests/slow/test_serve.py.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from trainer.errors import ServeError
from trainer.export import serve as serving
from trainer.export.serve import (
    Served,
    ServeRequest,
    check_request,
    gguf_for,
    llama_argv,
    recorded_gguf,
    server_command,
    vllm_argv,
)
from trainer.export.types import ExportResult

runner = CliRunner()
FAKE_SERVER = """
import http.server, json, sys
name, port = sys.argv[1], int(sys.argv[2])
class Models(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"data": [{"id": name}]}).encode()
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("127.0.0.1", port), Models).serve_forever()
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(tmp_path: Path, **changes: object) -> ServeRequest:
    adapter = tmp_path / "store" / "adapter" / "versions" / "v0002"
    adapter.mkdir(parents=True, exist_ok=True)
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 24}), encoding="utf-8")
    fields: dict[str, object] = {
        "model_dir": tmp_path / "models" / "smollm2-135m",
        "adapter_dir": adapter,
        "version": "v0002",
        "store_root": tmp_path / "store",
        "model_name": "notes",
        "port": 9123,
    }
    return ServeRequest(**{**fields, **changes})  # type: ignore[arg-type]


def _export(store: Path, version: str, quant: str, *, exists: bool = True) -> Path:
    out = store / "exports" / f"{version}-gguf-{quant}"
    if exists:
        out.mkdir(parents=True)
        (out / f"{out.name}.gguf").write_bytes(b"GGUF")
    result = ExportResult(version, "gguf", quant, out, [f"{out.name}.gguf"], 4, 1.0)
    serving.record_export(store, result)
    return out / f"{out.name}.gguf"


def test_llama_cpp_serves_the_gguf_under_the_model_name(tmp_path: Path) -> None:
    request = _request(tmp_path, host="0.0.0.0")
    argv = llama_argv(Path("/tools/bin/python"), Path("/x/v0002-gguf-q8_0.gguf"), request)
    assert argv[:5] == ["/tools/bin/python", "-m", "llama_cpp.server", "--model", argv[4]]
    assert argv[4] == "/x/v0002-gguf-q8_0.gguf"
    assert argv[5:] == [
        *("--model_alias", "notes", "--host", "0.0.0.0", "--port", "9123"),
        *("--n_ctx", str(serving.N_CTX)),
    ]
    assert "--chat_format" not in argv  # the GGUF carries the chat template
    assert request.url == "http://0.0.0.0:9123/v1"
    assert request.log == tmp_path / "store" / "serve" / "v0002-gguf-q8_0.log"


def test_vllm_serves_the_adapter_as_a_lora_module(tmp_path: Path) -> None:
    request = _request(tmp_path, engine="vllm")
    argv = vllm_argv("/venv/bin/vllm", request, 32)
    assert argv == [
        *("/venv/bin/vllm", "serve", str(tmp_path / "models" / "smollm2-135m")),
        *("--host", "127.0.0.1", "--port", "9123", "--enable-lora", "--max-loras", "1"),
        *("--max-lora-rank", "32", "--lora-modules", f"notes={request.adapter_dir}"),
    ]
    base = vllm_argv("vllm", _request(tmp_path, adapter_dir=None, version="base"), 1)
    assert base[-2:] == ["--served-model-name", "notes"] and "--enable-lora" not in base


def test_vllm_command_takes_the_rank_from_the_adapter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serving, "find_vllm", lambda: "vllm")
    argv, model = server_command(_request(tmp_path, engine="vllm"), tmp_path, print)
    assert argv[argv.index("--max-lora-rank") + 1] == "32"  # r=24 rounds up to vLLM's 32
    assert model == tmp_path / "models" / "smollm2-135m"


def test_vllm_missing_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serving.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ServeError, match=r"not installed.*--engine llama\.cpp"):
        server_command(_request(tmp_path, engine="vllm"), tmp_path, print)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model_name": "my notes"}, "without spaces"),
        ({"model_name": ""}, "without spaces"),
        ({"quant": "q5"}, "--quant 'q5'"),
        ({"engine": "ollama"}, "--engine 'ollama'"),
        ({"port": 0}, "--port 0"),
    ],
)
def test_bad_requests_are_refused(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    with pytest.raises(ServeError, match=message):
        check_request(_request(tmp_path, **changes))


def test_the_newest_recorded_export_of_the_version_and_quant_is_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    assert recorded_gguf(store, "v0002", "q8_0") is None
    _export(store, "v0001", "q8_0")
    _export(store, "v0002", "q4_k_m")
    wanted = _export(store, "v0002", "q8_0")
    _export(store, "v0002", "q8_0", exists=False)  # recorded later, then deleted
    assert recorded_gguf(store, "v0002", "q8_0") == wanted

    def no_export(*args: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(serving, "export_adapter", no_export)
    assert gguf_for(_request(tmp_path), tmp_path, print) == wanted


def test_without_an_export_one_is_made_and_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = []

    def export(request: serving.ExportRequest, tools: Path, progress: object) -> ExportResult:
        asked.append(request)
        request.out.mkdir(parents=True)
        (request.out / f"{request.out.name}.gguf").write_bytes(b"GGUF")
        return ExportResult(request.version, "gguf", request.quant, request.out, [], 4, 1.0)

    monkeypatch.setattr(serving, "export_adapter", export)
    request = _request(tmp_path, quant="f16", system_prompt="Be brief.")
    made = gguf_for(request, tmp_path / "tools", print)
    assert made == tmp_path / "store" / "exports" / "v0002-gguf-f16" / "v0002-gguf-f16.gguf"
    (sent,) = asked
    assert (sent.format, sent.quant, sent.adapter_dir) == ("gguf", "f16", request.adapter_dir)
    assert sent.system_prompt == "Be brief."
    assert recorded_gguf(tmp_path / "store", "v0002", "f16") == made


def _fake(monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    def command(request: ServeRequest, tools: Path, progress: object) -> tuple[list[str], Path]:
        argv = [sys.executable, "-c", script, request.model_name, str(request.port)]
        return argv, Path("model.gguf")

    monkeypatch.setattr(serving, "server_command", command)


def test_the_server_is_announced_once_ready_and_stopped_by_ctrl_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake(monkeypatch, FAKE_SERVER)
    request = _request(tmp_path, port=_free_port())
    announced: list[Served] = []

    def announce(served: Served) -> None:
        announced.append(served)
        raise KeyboardInterrupt  # Ctrl-C while serving

    serving.serve(request, tmp_path, print, announce)
    (served,) = announced
    assert (served.url, served.model_name) == (request.url, "notes")
    assert not serving.serves(request.url, "notes")  # the server is gone
    serving.check_port_free("127.0.0.1", request.port)  # and its port free


def test_a_server_that_dies_names_its_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake(monkeypatch, "import sys; print('no such model'); sys.exit(3)")
    with pytest.raises(ServeError, match="exited with code 3") as raised:
        serving.serve(_request(tmp_path), tmp_path, print, lambda served: None)
    assert str(tmp_path / "store" / "serve" / "v0002-gguf-q8_0.log") in str(raised.value)
    assert "no such model" in str(raised.value)


def test_a_server_that_never_answers_times_out_naming_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake(monkeypatch, "import time; time.sleep(60)")
    monkeypatch.setattr(serving, "READY_TIMEOUT_S", 1.0)
    with pytest.raises(ServeError, match=r"did not answer GET .*/v1/models within 1 s") as raised:
        serving.serve(_request(tmp_path), tmp_path, print, lambda served: None)
    assert "serve/v0002-gguf-q8_0.log" in str(raised.value)


def test_a_port_in_use_is_refused_before_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake(monkeypatch, "raise SystemExit('never started')")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        with pytest.raises(ServeError, match=rf"127\.0\.0\.1:{port}.*another --port"):
            serving.serve(_request(tmp_path, port=port), tmp_path, print, lambda s: None)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--device", "cuda"], "--engine llama.cpp runs on the CPU"),
        (["--engine", "vllm", "--device", "cpu"], "--engine vllm runs on CUDA GPUs"),
        (["--engine", "vllm", "--device", "cuda:x"], "cuda or cuda:N, not cuda:x"),
    ],
)
def test_devices_the_engine_lacks_are_usage_errors(
    tmp_path: Path, options: list[str], message: str
) -> None:
    result = runner.invoke(app, ["serve", str(tmp_path / "notes.dlm"), *options])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
