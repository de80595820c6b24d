"""Scores do not depend on how candidates are batched or how the checkpoint pads, and
each candidate costs exactly one forward row."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from trainer.rewards.auto import AutoRM
from trainer.rewards.base import conversation

CANDIDATES = [
    conversation("Who keeps the light?", "Morwenna Teague keeps Black Rock Light."),
    conversation("When does the Tern leave?", "At 7:40 " * 12),
    conversation("Capital of France?", "Paris."),
    conversation("How do I reach Black Rock?", "First the ferry.\n\nThen the pier."),
    conversation("Who?", "no idea"),
    conversation("When?", "every morning from Gullmouth pier, " * 3),
    conversation("Why?", "Because.\n\nThat is all."),
]
KINDS = ["outcome", "process"]


def padding_left_copy(source: Path, target: Path) -> Path:
    """`source` with a tokenizer that asks for left padding, as many chat models ship."""
    shutil.copytree(source, target)
    config_path = target / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["padding_side"] = "left"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    return target


def load(kind: str, orm_dir: Path, token_prm_dir: Path, directory: Path | None = None) -> Any:
    source = orm_dir if kind == "outcome" else token_prm_dir
    return AutoRM.load(str(directory or source), kind=kind, max_length=256)


@contextmanager
def counting_rows(rm: Any) -> Iterator[list[int]]:
    """The rows of every forward pass of the reward model's network."""
    rows: list[int] = []
    handle = rm.checkpoint.model.register_forward_hook(
        lambda _module, args, kwargs, _output: rows.append(
            int(kwargs["input_ids"].shape[0] if "input_ids" in kwargs else args[0].shape[0])
        ),
        with_kwargs=True,
    )
    try:
        yield rows
    finally:
        handle.remove()


@pytest.mark.parametrize("kind", KINDS)
def test_scores_equal_across_batch_sizes_and_padding_sides(
    kind: str, orm_dir: Path, token_prm_dir: Path, tmp_path: Path
) -> None:
    reference = load(kind, orm_dir, token_prm_dir)
    alone = [reference.score(messages) for messages in CANDIDATES]
    source = orm_dir if kind == "outcome" else token_prm_dir
    left = load(kind, orm_dir, token_prm_dir, padding_left_copy(source, tmp_path / "left"))
    for rm in (reference, left):
        for batch_size in (1, 2, 3, len(CANDIDATES)):
            scores = rm.score_batch(CANDIDATES, batch_size=batch_size)
            assert scores == pytest.approx(alone, abs=1e-4), (rm is left, batch_size)
    shuffled = CANDIDATES[3:] + CANDIDATES[:3]
    assert left.score_batch(shuffled, batch_size=4) == pytest.approx(
        alone[3:] + alone[:3], abs=1e-4
    )


@pytest.mark.parametrize("kind", KINDS)
def test_each_candidate_is_one_forward_row(kind: str, orm_dir: Path, token_prm_dir: Path) -> None:
    rm = load(kind, orm_dir, token_prm_dir)
    for batch_size in (1, 3, 8):
        with counting_rows(rm) as rows:
            rm.score_batch(CANDIDATES, batch_size=batch_size)
        assert sum(rows) == len(CANDIDATES)
        assert len(rows) == -(-len(CANDIDATES) // batch_size)


def test_the_judge_scores_each_item_once_in_one_pass(orm_dir: Path, token_prm_dir: Path) -> None:
    rm = load("outcome", orm_dir, token_prm_dir)
    with counting_rows(rm) as rows:
        details = rm.score_batch_details(CANDIDATES, batch_size=4)
    assert rows == [4, 3]
    assert [d.score for d in details] == pytest.approx([rm.score(m) for m in CANDIDATES], abs=1e-4)
