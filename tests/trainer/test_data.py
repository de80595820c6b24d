"""SFT rows: which sections become which rows, the held-out split, and the loss masks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import dlmlang
from dlmlang.serialize import render_section
from trainer.training.rows import (
    ChatRow,
    TextRow,
    chat_parts,
    document_rows,
    replay_rows,
    split_heldout,
    tokenize_rows,
)

DOC = """---
dlm_id: 01JQ7Z0000000000000000000A
base_model: x
system_prompt: Be brief.
---

Harwick has one harbour.

::instruction::
### Q
Who keeps the light?

### A
Morwenna Teague.

Every night.

::preference::
### Prompt
p
### Chosen
c
### Rejected
r
"""


def test_prose_and_pairs_become_rows_and_preference_never_does() -> None:
    rows = document_rows(dlmlang.parse(DOC))
    assert rows[0] == TextRow(rows[0].section_id, "Harwick has one harbour.")
    assert isinstance(rows[1], ChatRow)
    assert (rows[1].question, rows[1].answer) == (
        "Who keeps the light?",
        "Morwenna Teague.\n\nEvery night.",
    )
    assert len(rows) == 2


def test_replayed_section_gives_the_same_rows() -> None:
    document = dlmlang.parse(DOC)
    for section in document.content_sections()[:2]:
        rebuilt = replay_rows(section.section_id, render_section(section))
        assert rebuilt == [r for r in document_rows(document) if r.section_id == section.section_id]


def test_heldout_split_is_deterministic_and_leaves_training_rows() -> None:
    rows = [TextRow(f"id{i}", f"text {i}") for i in range(40)]
    train, held = split_heldout(rows)
    assert held and train
    assert split_heldout(list(reversed(rows)))[1] == list(reversed(held))
    assert split_heldout(rows[:5]) == (rows[:5], [])


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


def test_chat_rows_carry_loss_only_on_the_answer(tokenizer: Any) -> None:
    row = ChatRow("s", "Who keeps the light?", "Morwenna Teague.")
    prompt, completion = chat_parts(tokenizer, row.question, row.answer, "Be brief.")
    assert "Be brief." in prompt and "Who keeps the light?" in prompt
    assert completion.startswith("Morwenna Teague.")
    tokenized = tokenize_rows([row], tokenizer, system_prompt="Be brief.", max_length=512)
    (ids,), (mask,) = tokenized.input_ids, tokenized.completion_mask
    answer_ids = [i for i, m in zip(ids, mask, strict=True) if m]
    assert tokenizer.decode(answer_ids).startswith("Morwenna Teague.")
    assert mask[0] == 0 and mask[-1] == 1


def test_long_prose_is_split_into_windows_not_truncated(tokenizer: Any) -> None:
    text = " ".join(f"word{i}" for i in range(300))
    tokenized = tokenize_rows([TextRow("s", text)], tokenizer, system_prompt=None, max_length=64)
    assert len(tokenized.input_ids) > 1
    assert all(len(ids) <= 64 for ids in tokenized.input_ids)
    assert all(all(mask) for mask in tokenized.completion_mask)
    flat = [t for ids in tokenized.input_ids for t in ids]
    assert flat[-1] == tokenizer.eos_token_id
