"""`dlm serve` on the embedded model: one document's served adapter judges another's mining.

Document A is trained for two steps and served by llama.cpp (its q8_0 GGUF, exported on
the way); document B is mined with `--judge api:harwick --judge-url URL`, the URL that
`dlm serve` printed. Ctrl-C then stops the server: exit 0, the port free again.

llama.cpp runs from the tool venv under the tests' cache, as in test_export_gguf.py.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from tests.signals import interruptible
from tests.slow.conftest import CACHE, NEEDS_LLAMACPP
from trainer.export.toolenv import LlamaCppTools

pytestmark = [pytest.mark.slow, NEEDS_LLAMACPP]
runner = CliRunner()
READY_TIMEOUT_S = 240
JUDGE = """---
dlm_id: 01JQ7Z00000000000000000S1A
base_model: smollm2-135m
system_prompt: You grade answers about Harwick Island's ferries.
training:
  max_steps: 2
  sequence_len: 64
  precision: fp32
---

::instruction::
### Q
When does the Tern leave Gullmouth?
### A
The Tern leaves Gullmouth pier at 7:40 every morning.
"""
MINED = """---
dlm_id: 01JQ7Z00000000000000000S1B
base_model: smollm2-135m
training:
  max_steps: 2
  sequence_len: 64
  precision: fp32
---

::instruction::
### Q
What is the capital of France? Answer in one word.
### A
Paris.
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _train(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    trained = runner.invoke(app, ["train", str(path)])
    assert trained.exit_code == 0, trained.output


def _printed_url(server: subprocess.Popen[str], stderr: Path) -> str:
    """The URL `dlm serve` prints once the server answers."""
    assert server.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT_S
    lines: list[str] = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([server.stdout], [], [], 1.0)
        if ready:
            line = server.stdout.readline()
            lines.append(line)
            if line.startswith("Serving "):
                return line.rsplit(" at ", 1)[1].strip()
        if server.poll() is not None:
            break
    log = stderr.read_text(encoding="utf-8", errors="replace")[-3000:]
    pytest.fail(f"`dlm serve` printed no URL ({server.poll()}):\n{''.join(lines)}\n{log}")


def test_a_served_adapter_judges_another_documents_mining(
    tools: LlamaCppTools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("DLM_HOME", str(home))
    monkeypatch.setenv("DLM_TOOLS", str(CACHE))
    judge_doc, mined_doc = tmp_path / "harwick.dlm", tmp_path / "capitals.dlm"
    _train(judge_doc, JUDGE)
    _train(mined_doc, MINED)

    port = _free_port()
    stderr = tmp_path / "serve.stderr"
    argv = [sys.executable, "-m", "dlm", "serve", str(judge_doc), "--port", str(port)]
    with stderr.open("w", encoding="utf-8") as err:
        server = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, "DLM_HOME": str(home), "DLM_TOOLS": str(CACHE)},
            preexec_fn=interruptible,
        )
    try:
        url = _printed_url(server, stderr)
        assert url == f"http://127.0.0.1:{port}/v1"
        mined = runner.invoke(
            app,
            [
                *("preference", "mine", str(mined_doc), "--judge", "api:harwick"),
                *("--judge-url", url, "--judge-timeout", "120", "--samples", "4"),
                *("--max-new-tokens", "12", "--temp", "1.0", "--seed", "3", "--json"),
                # a 135M judge's scores are close together: keep a one-point margin
                *("--threshold", "0.5"),
            ],
        )
        assert mined.exit_code == 0, mined.output
        summary = json.loads(mined.stdout)
        assert summary["judge"] == "api:harwick" and summary["pairs_mined"] >= 1
        listed = runner.invoke(app, ["preference", "list", str(mined_doc), "--json"])
        assert listed.exit_code == 0, listed.output
        assert {pair["judge"] for pair in json.loads(listed.stdout)["staged"]} == {"api:harwick"}

        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0, stderr.read_text(encoding="utf-8")
    finally:
        if server.poll() is None:  # a failed assertion: stop the server through dlm
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    assert _port_is_free(port)
    assert len(list(home.rglob("serve/v0001-gguf-q8_0.log"))) == 1
