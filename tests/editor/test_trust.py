"""An untrusted workspace in a real VS Code: the server still runs (limited support), a judge
planted in the workspace's settings is not used, mining shows progress and can be
cancelled, and once the user trusts the workspace its judge is used."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.editor.codeserver import CodeServer, Tools, code_server
from tests.editor.conftest import open_workbench
from tests.editor.documents import write_workspace
from tests.editor.test_loop import train_document
from tests.editor.workbench import Workbench

pytestmark = pytest.mark.editor
MINING = 90.0
"""Seconds a mining run on the tiny model may take to show progress or run its judge."""


@pytest.fixture(scope="module")
def restricted_vscode(
    tools: Tools, vsix: Path, dlm_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CodeServer]:
    """code-server with workspace trust on: a new folder opens in Restricted Mode."""
    workspace = tmp_path_factory.mktemp("untrusted")
    home = tmp_path_factory.mktemp("code-server-trust")
    env = {"DLM_HOME": str(dlm_home)}
    with code_server(tools, vsix, home, workspace, trust=True, env=env) as server:
        yield server


@pytest.fixture
def planted(tiny_model_dir: Path, dlm_home: Path, tmp_path: Path) -> Path:
    """A folder whose .vscode/settings.json plants a `cli:` judge, with a trained document."""
    write_workspace(tmp_path)
    train_document(tmp_path, tiny_model_dir)
    (tmp_path / ".vscode").mkdir()
    settings = {"dlm.judge": f"cli:touch {tmp_path / 'pwned'}", "dlm.samples": 2}
    (tmp_path / ".vscode" / "settings.json").write_text(json.dumps(settings))
    return tmp_path


@pytest.fixture
def restricted(
    request: pytest.FixtureRequest, browser: Any, restricted_vscode: CodeServer, planted: Path
) -> Iterator[Workbench]:
    """The workbench on the planted folder, in Restricted Mode."""
    yield from open_workbench(request, browser, restricted_vscode, planted)


def mine_at_the_question(workbench: Workbench) -> None:
    """Put the cursor in the instruction section and run Mine Preferences at Cursor."""
    workbench.open_file("trained.dlm")
    lines = workbench.editor_text().split("\n")
    workbench.go_to(lines.index("::instruction::") + 2)
    workbench.run_command("dlm: Mine Preferences at Cursor")


def test_a_planted_judge_waits_for_trust(restricted: Workbench, planted: Path) -> None:
    workbench = restricted
    pwned = planted / "pwned"
    mine_at_the_question(workbench)  # the server runs in Restricted Mode too
    workbench.wait_for(lambda: "Restricted Mode" in workbench.status_text(), "Restricted Mode")

    def shown() -> str:
        return workbench.status_text() + " " + " ".join(workbench.notifications())

    workbench.wait_for(lambda: "(sway)" in shown(), "mining with the default judge", MINING)
    workbench.illustrate("mining")
    workbench.run_command("dlm: Cancel Mining")
    workbench.wait_for(lambda: "Cancelled" in workbench.status_text(), "the cancel")
    assert not pwned.exists()

    workbench.run_command("Workspaces: Manage Workspace Trust")
    trust = workbench.page.locator(".workspace-trust-editor .monaco-button", has_text="Trust")
    workbench.wait_for(lambda: trust.count() > 0, "the Trust button")
    trust.first.click()
    workbench.wait_for(lambda: "Restricted Mode" not in workbench.status_text(), "trust")
    workbench.page.locator(".monaco-modal-editor-block .codicon-close").first.click()
    mine_at_the_question(workbench)
    # The workspace's judge is what mining now names; it also runs, unless the tiny model's
    # few samples this time leave nothing to judge (blank or identical answers are skipped).
    planted_judge = "(cli:touch "
    workbench.wait_for(
        lambda: pwned.exists() or planted_judge in shown(),
        "mining with the workspace's judge once trusted",
        MINING,
    )
