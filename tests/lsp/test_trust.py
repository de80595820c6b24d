"""Workspace trust: a judge that runs code, set by an untrusted workspace, is refused; the
same judge from the user's settings, or from a trusted workspace, runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from lsp.server import Settings
from lsp.trust import JudgeOrigin, refusal, runs_code
from tests.lsp.test_children import open_file, run_command, saved_document, server

PLANTED = "cli:sh -c 'touch pwned'"


@pytest.mark.parametrize(
    ("judge", "dangerous"),
    [
        ("sway", False),
        ("sway:logprob", False),
        ("reward", False),
        ("hf:org/reward-model", False),
        ("api:gpt-4o-mini", False),
        (PLANTED, True),
        ("py:judges:Mine", True),
        ("ensemble:judges.yaml", True),
        ("hf:org/model?trust_remote_code=1", True),
        ("prm:org/model?trust_remote_code=true&agg=min", True),
    ],
)
def test_judges_that_run_or_load_code(judge: str, dangerous: bool) -> None:
    assert (runs_code(judge) is not None) is dangerous


@pytest.mark.parametrize(
    ("from_workspace", "trusted", "refused"),
    [(True, False, True), (True, True, False), (False, False, False), (False, True, False)],
)
def test_only_an_untrusted_workspace_judge_is_refused(
    from_workspace: bool, trusted: bool, refused: bool
) -> None:
    origin = JudgeOrigin(from_workspace=from_workspace, workspace_trusted=trusted)
    assert (refusal(PLANTED, origin) is not None) is refused
    assert refusal("sway", origin) is None


def test_settings_read_the_origin_and_keep_it_across_partial_updates() -> None:
    assert Settings().judge_origin == JudgeOrigin()  # a client that says nothing
    first = Settings.from_options({"dlm": {"judgeFromWorkspace": True, "workspaceTrusted": False}})
    assert first.judge_origin == JudgeOrigin(from_workspace=True, workspace_trusted=False)
    granted = Settings.from_options({"workspaceTrusted": True}, first)
    assert granted.judge_origin == JudgeOrigin(from_workspace=True, workspace_trusted=True)
    garbled = Settings.from_options({"workspaceTrusted": "yes", "judgeFromWorkspace": 1}, first)
    assert garbled.judge_origin == first.judge_origin


async def test_server_refuses_a_planted_judge_until_the_workspace_is_trusted(
    tmp_path: Path,
) -> None:
    path = saved_document(tmp_path)
    planted = {"judge": PLANTED, "judgeFromWorkspace": True, "workspaceTrusted": False}
    async with server(tmp_path) as (client, started):
        uri = open_file(client, path)
        await started.wait_for(1)  # the staged-pairs recount
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"dlm": planted})
        )
        await run_command(client, "dlm.minePreferences", uri, "section-id")
        assert "preference mine" not in started.verbs()
        message = client.messages[-1]
        assert message.type == types.MessageType.Warning
        assert message.message.startswith(
            f"The judge `{PLANTED}` comes from this workspace's settings, and the workspace "
            "is not trusted: that judge runs a program"
        )

        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"dlm": {"workspaceTrusted": True}})
        )
        await run_command(client, "dlm.minePreferences", uri, "section-id")
        (mine,) = [r for r in started.records() if r["arguments"][:2] == ["preference", "mine"]]
        at = mine["arguments"].index("--judge")
        assert mine["arguments"][at + 1] == PLANTED
    assert not (tmp_path / "pwned").exists()  # the stand-in dlm never runs its judge
