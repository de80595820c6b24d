"""A real VS Code for the tests: code-server with the freshly built .vsix, a fresh profile,
and the language server from this checkout (`python -m dlm lsp`)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTENSION_DIR = ROOT / "vscode-ext"
DEFAULT_CACHE = Path.home() / ".cache" / "dlm-editor-e2e"
SETUP = "scripts/editor-e2e-setup"
START_TIMEOUT = 60.0

QUIET_SETTINGS = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "workbench.enableExperiments": False,
    "telemetry.telemetryLevel": "off",
    "extensions.autoUpdate": False,
    "extensions.autoCheckUpdates": False,
    "extensions.ignoreRecommendations": True,
    "chat.disableAIFeatures": True,
    "update.mode": "none",
    "editor.minimap.enabled": False,
    "editor.quickSuggestionsDelay": 0,
    "files.autoSave": "off",
}
"""User settings that keep the workbench free of tips, tours and chat."""


@dataclass(frozen=True, slots=True)
class Tools:
    """Where scripts/editor-e2e-setup put node, code-server and chromium."""

    node: Path
    code_server: Path
    chromium: Path


@dataclass(frozen=True, slots=True)
class CodeServer:
    """A running code-server: its address and the folders it uses."""

    url: str
    workspace: Path
    log: Path


def find_tools() -> tuple[Tools | None, str]:
    """The installed tools, or None and what to run to install them."""
    cache = Path(os.environ.get("DLM_EDITOR_E2E_CACHE") or DEFAULT_CACHE)
    manifest = cache / "editor-e2e.json"
    if not manifest.is_file():
        return None, f"no {manifest}: run {SETUP} first"
    paths = json.loads(manifest.read_text(encoding="utf-8"))
    tools = Tools(
        *(Path(paths[key] or "/nonexistent") for key in ("node", "code_server", "chromium"))
    )
    for path in (tools.node, tools.code_server, tools.chromium):
        if not path.is_file():
            return None, f"{path} is missing: run {SETUP} again"
    return tools, ""


def find_vsix() -> tuple[Path | None, str]:
    """The .vsix `npm run package` built, or None and why it cannot be used."""
    built = sorted(EXTENSION_DIR.glob("*.vsix"), key=lambda p: p.stat().st_mtime)
    if not built:
        return None, "no .vsix in vscode-ext/: run `cd vscode-ext && npm ci && npm run package`"
    vsix = built[-1]
    sources = [EXTENSION_DIR / "package.json", *(EXTENSION_DIR / "src").glob("*.ts")]
    sources += [EXTENSION_DIR / "syntaxes" / "dlm.tmLanguage.json"]
    stale = [p.name for p in sources if p.stat().st_mtime > vsix.stat().st_mtime]
    if stale:
        return None, f"{vsix.name} is older than {', '.join(stale)}: run `npm run package` again"
    return vsix, ""


def server_command() -> list[str]:
    """The language server of this checkout, run by this interpreter."""
    return [sys.executable, "-m", "dlm", "lsp"]


@contextmanager
def code_server(
    tools: Tools,
    vsix: Path,
    home: Path,
    workspace: Path,
    *,
    trust: bool = False,
    env: dict[str, str] | None = None,
) -> Iterator[CodeServer]:
    """Start code-server on a free port with the extension installed in a fresh profile.

    `trust` turns workspace trust on (new folders open in restricted mode); otherwise it is
    off and every folder is trusted. `home` receives the profile and the server's log.
    """
    profile, extensions = home / "user-data", home / "extensions"
    _write_settings(profile, trust)
    environment = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"), **(env or {})}
    base = [str(tools.node), str(tools.code_server)]
    folders = ["--user-data-dir", str(profile), "--extensions-dir", str(extensions)]
    subprocess.run(
        [*base, *folders, "--install-extension", str(vsix)],
        env=environment,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = _free_port()
    log = home / "code-server.log"
    with log.open("wb") as output:
        flags = ["--disable-telemetry", "--disable-update-check", "--auth", "none"]
        process = subprocess.Popen(
            [*base, *folders, *flags, "--bind-addr", f"127.0.0.1:{port}", str(workspace)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, process, log)
        yield CodeServer(url, workspace, log)
    finally:
        _stop(process)


def _write_settings(profile: Path, trust: bool) -> None:
    user = {**QUIET_SETTINGS, "security.workspace.trust.enabled": trust}
    if trust:
        user["security.workspace.trust.startupPrompt"] = "never"
        user["security.workspace.trust.banner"] = "always"
    # A machine-scoped setting (`dlm.server.command`) is read from the remote's Machine
    # settings only: code-server is the remote of the browser's VS Code.
    machine = {"dlm.server.command": server_command(), "dlm.diagnosticsDelay": 0.05}
    for folder, settings in (("User", user), ("Machine", machine)):
        (profile / folder).mkdir(parents=True, exist_ok=True)
        (profile / folder / "settings.json").write_text(json.dumps(settings, indent=2))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"code-server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"code-server did not answer in {START_TIMEOUT:g} s (log: {log})")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop code-server and everything it started (the extension host, `dlm lsp`)."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
