"""Held-out pairs (`training.heldout`) never reach training: not as rows, replays or mined pairs."""

from __future__ import annotations

import dlmlang
from dlmlang.heldout import heldout_pairs
from trainer.mining.miner import document_prompts
from trainer.training.rows import ChatRow, document_rows, replay_rows, without_heldout

QUESTIONS = [f"Where is place number {i}?" for i in range(40)]
BODY = "Some prose about the island.\n\n" + "".join(
    f"::instruction::\n### Q\n{q}\n### A\nIt is here.\n\n" for q in QUESTIONS
)


def document(share: float) -> dlmlang.Document:
    """A document with 40 pairs and the given held-out share."""
    return dlmlang.parse(
        f"---\ndlm_id: 01JQ7Z8M3K4Q2V6X9B1C5D7E8F\nbase_model: m\ntraining:\n"
        f"  heldout: {share}\n---\n\n{BODY}"
    )


def test_training_rows_leave_the_held_out_pairs_out() -> None:
    doc = document(0.3)
    held = {h.pair.question for h in heldout_pairs(doc)}
    assert 4 <= len(held) <= 24
    rows = without_heldout(document_rows(doc), doc)
    questions = {r.question for r in rows if isinstance(r, ChatRow)}
    assert questions == set(QUESTIONS) - held
    assert any(not isinstance(r, ChatRow) for r in rows)  # prose still trains


def test_a_replayed_copy_of_a_held_out_pair_stays_out() -> None:
    doc = document(0.3)
    held = heldout_pairs(doc)[0]
    old_text = f"::instruction::\n### Q\n{held.pair.question}\n### A\nAn older answer.\n"
    assert without_heldout(replay_rows("0123456789abcdef", old_text), doc) == []


def test_mining_never_asks_a_held_out_question() -> None:
    doc = document(0.3)
    held = {h.pair.question for h in heldout_pairs(doc)}
    assert set(document_prompts(doc)) == set(QUESTIONS) - held


def test_without_a_share_everything_trains() -> None:
    doc = document(0.0)
    assert without_heldout(document_rows(doc), doc) == document_rows(doc)
    assert set(document_prompts(doc)) == set(QUESTIONS)
