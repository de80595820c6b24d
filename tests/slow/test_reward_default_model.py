"""`dlm reward train` on the real embedded model: a few steps learn the document's taste."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()

# Clear preferences: a direct answer from the notes beats a hedge that answers nothing.
PAIRS = [
    ("What is the ferry to Harwick Island called?", "The ferry is called the Tern."),
    ("When does the Tern leave Gullmouth?", "At 7:40 every morning."),
    ("When does the Tern come back?", "It returns to Gullmouth at 18:15."),
    ("What is the only harbour on Harwick Island?", "Gullmouth."),
    ("Who keeps the lighthouse?", "Morwenna Teague."),
    ("What is the lighthouse called?", "Black Rock Light."),
    ("How often does Black Rock Light flash?", "Green, every six seconds."),
    ("Where does Harwick Island lie?", "Off the north coast."),
    ("Where does the Tern sail to?", "To the mainland."),
    ("Where does the Tern leave from?", "Gullmouth pier."),
    ("What colour is the light of Black Rock Light?", "Green."),
    ("Who is Morwenna Teague?", "The keeper of Black Rock Light."),
]
HEDGE = "I am not sure; I do not know anything about that, sorry."


def _document(path: Path) -> Path:
    triples = "".join(
        f"\n::preference::\n### Prompt\n{prompt}\n### Chosen\n{chosen}\n### Rejected\n{HEDGE}\n"
        for prompt, chosen in PAIRS
    )
    path.write_text(
        "---\ndlm_id: 01JQ7Z8M3K4Q2V6X9B1C5D7E8F\nbase_model: smollm2-135m\n"
        "system_prompt: You are the harbour assistant of Harwick Island. Answer briefly.\n---\n"
        + triples,
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DLM_HOME with the embedded model converted (once, about half a minute)."""
    from trainer.models import resolve_base_model
    from trainer.runtime.environment import set_offline

    set_offline()
    root = tmp_path_factory.mktemp("reward-home")
    resolve_base_model("smollm2-135m", root)
    return root


def test_ten_steps_rank_the_chosen_answers_first(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLM_HOME", str(home))
    path = _document(tmp_path / "notes.dlm")
    result = runner.invoke(app, ["reward", "train", str(path), "--steps", "10", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["steps"] == 10 and summary["heldout_pairs"] >= 1
    assert summary["train_after"]["accuracy"] >= 0.8
    assert summary["heldout_after"]["accuracy"] >= 0.8
    assert summary["heldout_after"]["margin"] > summary["heldout_before"]["margin"]

    from trainer.rewards.base import conversation
    from trainer.rewards.selector import JudgeContext, make_judge

    context = JudgeContext(
        home=home,
        system_prompt="You are the harbour assistant of Harwick Island. Answer briefly.",
        reward_dir=Path(summary["path"]),
    )
    judge = make_judge("reward", context)
    judge.load()
    question = "What is the ferry called?"
    good, bad = judge.score_batch(
        [conversation(question, "The Tern."), conversation(question, HEDGE)]
    )
    assert good > bad
