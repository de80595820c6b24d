"""The held-out split: by question and document id alone, at the frontmatter's share."""

from __future__ import annotations

import dlmlang
from dlmlang.heldout import heldout_pairs, is_held_out

DLM_ID = "01JQ7Z8M3K4Q2V6X9B1C5D7E8F"


def document(share: str | None, questions: list[str], dlm_id: str = DLM_ID) -> dlmlang.Document:
    """A document with one instruction section per question."""
    training = f"training:\n  heldout: {share}\n" if share is not None else ""
    body = "".join(f"::instruction::\n### Q\n{q}\n### A\nAnswer to {q}\n\n" for q in questions)
    return dlmlang.parse(f"---\ndlm_id: {dlm_id}\nbase_model: m\n{training}---\n\n{body}")


QUESTIONS = [f"Question number {i}?" for i in range(200)]


def test_the_share_is_about_what_the_frontmatter_says() -> None:
    held = heldout_pairs(document("0.25", QUESTIONS))
    assert 30 <= len(held) <= 70
    assert [h.pair.question for h in held] == [q for q in QUESTIONS if is_held_out(DLM_ID, q, 0.25)]


def test_nothing_is_held_out_by_default_or_at_zero() -> None:
    assert heldout_pairs(document(None, QUESTIONS)) == []
    assert heldout_pairs(document("0", QUESTIONS)) == []


def test_other_pairs_never_move_a_pair_in_or_out() -> None:
    alone = {h.pair.question for h in heldout_pairs(document("0.3", QUESTIONS[:50]))}
    more = {h.pair.question for h in heldout_pairs(document("0.3", QUESTIONS))}
    assert alone == {q for q in more if q in QUESTIONS[:50]}


def test_a_larger_share_keeps_every_pair_a_smaller_one_held() -> None:
    small = {h.pair.question for h in heldout_pairs(document("0.1", QUESTIONS))}
    large = {h.pair.question for h in heldout_pairs(document("0.4", QUESTIONS))}
    assert small < large


def test_a_copy_with_its_own_id_has_its_own_split() -> None:
    other = "01JQ7Z8M3K4Q2V6X9B1C5D7E8G"
    mine = {h.pair.question for h in heldout_pairs(document("0.3", QUESTIONS))}
    theirs = {h.pair.question for h in heldout_pairs(document("0.3", QUESTIONS, other))}
    assert mine != theirs


def test_the_share_is_checked_like_every_key() -> None:
    codes = {d.code for d in document("0.9", QUESTIONS[:2]).diagnostics}
    assert codes and all(c.startswith("DLM0") for c in codes)
    assert not document("0.5", QUESTIONS[:2]).diagnostics
