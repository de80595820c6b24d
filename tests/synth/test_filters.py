"""The filters: duplicates by word overlap, support by content words of the source prose."""

from __future__ import annotations

import pytest

from trainer.synthesis.filters import (
    Candidate,
    content_words,
    filter_candidates,
    is_duplicate,
    support,
)

PROSE = "The Tern leaves Gullmouth pier at 7:40 every morning. Tickets cost four pounds."


def test_content_words_fold_case_drop_stop_words_and_plural_s() -> None:
    assert content_words("The Tickets are at the Pier!") == {"ticket", "pier"}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("It leaves at 7:40 every morning.", 1.0),  # leave, 7, 40, morning all in the prose
        ("It leaves at noon from Harwick.", 1 / 3),  # leave yes; noon, harwick no
        ("It does.", 0.0),  # no content word
    ],
)
def test_support_is_the_share_of_answer_content_words_in_the_prose(
    answer: str, expected: float
) -> None:
    assert support(answer, "When does the Tern go?", PROSE) == pytest.approx(expected)


def test_words_of_the_question_do_not_count_unless_they_are_all_there_is() -> None:
    question = "Does the Tern leave from Gullmouth?"
    # "volcano" is the answer's only new word, and the prose lacks it.
    assert support("The Tern leaves from the volcano.", question, PROSE) == 0.0
    assert support("The Tern leaves Gullmouth.", question, PROSE) == 1.0


def test_duplicates_by_token_f1() -> None:
    assert is_duplicate("When does the Tern leave?", ["when does the tern leave"], 0.8)
    assert not is_duplicate("How much is a ticket?", ["When does the Tern leave?"], 0.8)


def test_filter_keeps_in_order_and_says_why_others_went() -> None:
    candidates = [
        Candidate("When does the Tern leave?", "At 7:40 every morning.", "s1"),
        Candidate("When does the Tern leave?", "At 7:40.", "s1"),  # duplicate of the first
        Candidate("What does a ticket cost?", "Four pounds.", "s1"),  # asked already
        Candidate("Who built the pier?", "Giants from the volcano.", "s1"),  # unsupported
        Candidate("Where does the Tern leave from?", "Gullmouth pier.", "s1"),
    ]
    result = filter_candidates(
        candidates, {"s1": PROSE}, ["How much does a ticket cost?", "What does a ticket cost?"]
    )
    assert [k.candidate.question for k in result.kept] == [
        "When does the Tern leave?",
        "Where does the Tern leave from?",
    ]
    assert result.counts() == {"duplicate": 2, "unsupported": 1}
    unsupported = next(r for r in result.rejected if r.reason == "unsupported")
    assert unsupported.support == 0.0


def test_the_thresholds_are_options() -> None:
    candidates = [Candidate("Who built it?", "Giants built the big pier.", "s1")]
    assert not filter_candidates(candidates, {"s1": PROSE}).kept
    assert filter_candidates(candidates, {"s1": PROSE}, min_support=0.3).kept
    same = [Candidate("When does the Tern leave?", "At 7:40.", "s1")]
    assert filter_candidates(same, {"s1": PROSE}, ["When does Tern leave"], duplicate_f1=1.0).kept
