"""The extension runs the server's commands by id: the ids in vscode-ext/src/codeActions.ts
are exactly the ones lsp/features/loop.py, training.py, asking.py and synthesis.py define and the
server advertises."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from lsp.features import asking, loop, synthesis, training

ROOT = Path(__file__).resolve().parents[2]
SERVER_IDS = {loop.MINE, loop.APPLY, loop.REVERT, loop.REFRESH}
SERVER_IDS |= {training.TRAIN, training.METRICS, asking.ASK, synthesis.SYNTHESIZE}


def extension_ids() -> set[str]:
    """The values of `SERVER_COMMANDS` in the extension's source."""
    source = (ROOT / "vscode-ext" / "src" / "codeActions.ts").read_text(encoding="utf-8")
    block = re.search(r"export const SERVER_COMMANDS = \{(.*?)\} as const;", source, re.S)
    assert block is not None, "SERVER_COMMANDS is no longer an object literal in codeActions.ts"
    return set(re.findall(r"'(dlm\.[A-Za-z]+)'", block.group(1)))


def test_the_extension_names_exactly_the_servers_commands() -> None:
    assert extension_ids() == SERVER_IDS


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp"]))
async def client(lsp_client: LanguageClient) -> Any:
    result = await lsp_client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities())
    )
    lsp_client.initialized = result  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def test_the_server_advertises_those_commands(client: LanguageClient) -> None:
    provider = client.initialized.capabilities.execute_command_provider  # type: ignore[attr-defined]
    assert provider is not None
    assert set(provider.commands) >= SERVER_IDS
