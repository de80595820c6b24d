"""`dlm reward train`'s library: pairs files, the dataset, the saved checkpoint, atomic replace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dlmlang
from tests.cli.test_train_cli import DLM_ID, MINED, PAIR, write_document
from trainer.events import SilentEvents
from trainer.store import Store
from trainer.store.swap import recover_directory, replacing_directory
from trainer.training.preference_rows import PreferenceRow
from trainer.training.reward_pairs import PairsFileError, document_pairs, read_pairs_file
from trainer.training.reward_settings import MIN_REWARD_STEPS, RewardSettings

GOOD = {"prompt": "Who keeps the light?", "chosen": "Morwenna Teague.", "rejected": "Nobody."}


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_pairs_file_rows_in_order_blank_lines_skipped_extra_fields_ignored(
    tmp_path: Path,
) -> None:
    second = {**GOOD, "prompt": "  Where?  ", "source": "forum"}
    path = _write(tmp_path, json.dumps(GOOD), "", "   ", json.dumps(second))
    rows = read_pairs_file(path)
    assert rows == [
        PreferenceRow("pairs.jsonl:1", GOOD["prompt"], GOOD["chosen"], GOOD["rejected"], False),
        PreferenceRow("pairs.jsonl:4", "Where?", GOOD["chosen"], GOOD["rejected"], False),
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"prompt": "a", ', "not valid JSON (Expecting property name"),
        ('["a", "b", "c"]', "a JSON list, not an object"),
        ('{"prompt": "a", "chosen": "b"}', 'missing "rejected"'),
        ('{"chosen": "b"}', 'missing "prompt", "rejected"'),
        ('{"prompt": "a", "chosen": 3, "rejected": "c"}', '"chosen" is a number, not a string'),
        ('{"prompt": null, "chosen": "b", "rejected": "c"}', '"prompt" is null, not a string'),
        ('{"prompt": "a", "chosen": "b", "rejected": " "}', '"rejected" is empty'),
        (
            '{"prompt": "a", "chosen": "b", "rejected": "b"}',
            '"chosen" and "rejected" are the same answer',
        ),
    ],
    ids=["json", "list", "missing", "two-missing", "number", "null", "empty", "same"],
)
def test_a_bad_line_names_file_line_problem_and_fix(
    tmp_path: Path, line: str, problem: str
) -> None:
    path = _write(tmp_path, json.dumps(GOOD), line)
    with pytest.raises(PairsFileError) as raised:
        read_pairs_file(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:2: {problem}")
    assert 'non-empty string fields "prompt", "chosen" and "rejected"' in message
    assert "Nothing was trained." in message


def test_an_unreadable_pairs_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(PairsFileError, match="Cannot read the pairs file"):
        read_pairs_file(path)


def test_document_pairs_are_the_hand_written_ones_only(tmp_path: Path) -> None:
    path = write_document(tmp_path, tmp_path, extra=PAIR + MINED)
    document = dlmlang.parse_bytes(path.read_bytes())
    rows = document_pairs(document)
    assert [(r.prompt, r.chosen, r.rejected, r.auto_mined) for r in rows] == [
        ("Who keeps the light?", "Morwenna Teague.", "Nobody knows.", False)
    ]


def test_default_steps_are_at_least_ten_and_at_least_one_pass() -> None:
    settings = RewardSettings(
        learning_rate=1e-3, steps=None, max_length=64, precision="fp32", seed=1
    )
    assert settings.total_steps(3) == MIN_REWARD_STEPS
    assert settings.total_steps(45) == 23
    with pytest.raises(ValueError, match="steps"):
        RewardSettings(learning_rate=1e-3, steps=0, max_length=64, precision="fp32", seed=1)


def test_replacing_directory_keeps_the_old_one_until_the_new_one_is_complete(
    tmp_path: Path,
) -> None:
    target = tmp_path / "reward"
    with replacing_directory(target) as directory:
        (directory / "config.json").write_text("old", encoding="utf-8")
    assert (target / "config.json").read_text(encoding="utf-8") == "old"
    assert oct(target.stat().st_mode & 0o777) == oct(0o755)

    with pytest.raises(RuntimeError), replacing_directory(target) as directory:
        (directory / "config.json").write_text("half", encoding="utf-8")
        raise RuntimeError("killed while saving")
    assert (target / "config.json").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reward"]

    with replacing_directory(target) as directory:
        (directory / "config.json").write_text("new", encoding="utf-8")
    assert (target / "config.json").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reward"]


def test_a_crash_between_the_renames_is_undone(tmp_path: Path) -> None:
    target = tmp_path / "reward"
    previous = tmp_path / ".reward.previous"
    previous.mkdir()
    (previous / "config.json").write_text("old", encoding="utf-8")
    recover_directory(target)
    assert (target / "config.json").read_text(encoding="utf-8") == "old"
    assert not previous.exists()


@pytest.mark.slow  # two reward runs on the tiny model (~15-35 s on 2 busy cores)
def test_train_saves_a_checkpoint_the_reward_judge_and_hf_load(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    from trainer.rewards.base import conversation
    from trainer.rewards.outcome import OutcomeRM
    from trainer.rewards.selector import JudgeContext, make_judge
    from trainer.training.reward import RewardRequest, reward_dir, run_reward_training

    extra = "".join(
        f"\n::preference::\n### Prompt\nQuestion {i}?\n### Chosen\nThe ferry.\n"
        f"### Rejected\nNo idea at all, sorry.\n"
        for i in range(6)
    )
    path = write_document(tmp_path, tiny_model_dir, extra=PAIR + MINED + extra)
    document = dlmlang.parse_bytes(path.read_bytes())
    file_pairs = (PreferenceRow("f:1", "Where?", "Gullmouth.", "Nowhere.", False),)
    settings = RewardSettings(learning_rate=1e-2, steps=4, max_length=64, precision="fp32", seed=3)
    store = Store.open(DLM_ID, tmp_path / "home")
    request = RewardRequest(
        document, path.read_bytes(), settings, tiny_model_dir, "tiny", file_pairs, "f.jsonl"
    )
    result = run_reward_training(request, store, SilentEvents())

    assert (result.run_id, result.steps, result.document_pairs, result.file_pairs) == (1, 4, 7, 1)
    assert result.heldout_pairs >= 1 and result.pairs + result.heldout_pairs == 8
    assert result.heldout_before is not None and result.heldout_after is not None
    assert result.train_after.margin > result.train_before.margin
    saved = reward_dir(store)
    assert result.path == str(saved)
    assert json.loads((saved / "config.json").read_text())["architectures"] == [
        "LlamaForSequenceClassification"
    ]
    assert json.loads((saved / "dlm_reward.json").read_text())["run_id"] == 1
    run = store.metrics.runs()[0]
    assert (run.phase, run.method, run.status, run.adapter_version) == (
        "reward",
        "lora",
        "completed",
        None,
    )
    assert run.config["steps"] == 4 and run.config["pairs_file"] == "f.jsonl"
    assert len(store.metrics.steps(1)) == 4
    names = {e.name for e in store.metrics.evals(1)}
    assert {"train_rank_accuracy_after", "heldout_rank_margin_before"} <= names

    # What `--judge reward` (with the system prompt) and `hf:<dir>` score, on a training pair.
    context = JudgeContext(home=tmp_path, system_prompt="Be brief.", reward_dir=saved)
    judge = make_judge("reward", context)
    judge.load()
    scores = judge.score_batch(
        [
            conversation("Question 0?", "The ferry."),
            conversation("Question 0?", "No idea at all, sorry."),
        ]
    )
    assert judge.name == "reward" and scores[0] > scores[1]
    hf = OutcomeRM(str(saved))
    hf.load()
    assert hf.checkpoint is not None and hf.checkpoint.model.config.num_labels == 1

    # A second run replaces the checkpoint; the first stays until the second is saved.
    again = run_reward_training(request, store, SilentEvents())
    assert again.run_id == 2
    assert json.loads((saved / "dlm_reward.json").read_text())["run_id"] == 2
    assert sorted(p.name for p in saved.parent.iterdir() if "reward" in p.name) == ["reward"]
