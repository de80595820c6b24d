"""`dlm synth` on the real embedded model: the document's own model (untrained: the base
model) writes questions from the prose, and they go in and come out byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()

PROSE = (
    "The Tern is the ferry between Gullmouth and Harwick Island. It leaves Gullmouth pier at "
    "7:40 every morning and returns at 17:15. Tickets are sold on board for four pounds."
)
DOCUMENT = f"""---
dlm_id: 01JQ7Z0000000000000000000T
base_model: smollm2-135m
---

{PROSE}

::instruction::
### Q
When does the Tern leave Gullmouth?
### A
At 7:40 every morning.
"""


def test_synth_instructions_apply_check_revert_on_the_embedded_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    path = tmp_path / "notes.dlm"
    path.write_text(DOCUMENT, encoding="utf-8")
    before = path.read_bytes()

    made = runner.invoke(app, ["synth", "instructions", str(path), "--json"])
    assert made.exit_code == 0, made.output
    summary = json.loads(made.stdout)
    assert summary["teacher"] == "self" and summary["pairs_synthesized"] >= 1, summary
    for pair in summary["pairs"]:
        assert pair["question"].endswith("?") and pair["support"] >= 0.5

    applied = runner.invoke(app, ["synth", "apply", str(path)])
    assert applied.exit_code == 0, applied.output
    text = path.read_text(encoding="utf-8")
    assert (
        text.count('<!-- dlm-auto-synth: synth_teacher="self" synth_strategy="extraction"')
        == (summary["pairs_synthesized"])
    )
    checked = runner.invoke(app, ["check", str(path)])
    assert checked.exit_code == 0, checked.output
    shown = json.loads(runner.invoke(app, ["show", str(path), "--json"]).stdout)
    assert shown["document"]["sections"]["instruction"] == 1 + summary["pairs_synthesized"]

    reverted = runner.invoke(app, ["synth", "revert", str(path)])
    assert reverted.exit_code == 0, reverted.output
    assert path.read_bytes() == before
