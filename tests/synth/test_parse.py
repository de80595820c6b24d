"""Reading the teacher's replies: listed questions in their usual shapes, clean answers."""

from __future__ import annotations

from trainer.synthesis.parse import clean_answer, parse_questions
from trainer.synthesis.prompts import answer_messages, question_messages


def test_numbered_bulleted_and_prefixed_lines_are_read_and_chatter_dropped() -> None:
    reply = (
        "Here are some questions:\n1. When does the Tern leave?\n2) Who keeps the light?\n"
        '- What is the fare?\nQ: Where is Harwick?\n* "Why green?"\nThe passage is short.'
    )
    assert parse_questions(reply, 10) == [
        "When does the Tern leave?",
        "Who keeps the light?",
        "What is the fare?",
        "Where is Harwick?",
        "Why green?",
    ]


def test_a_json_list_of_strings_or_objects_is_read_fenced_or_not() -> None:
    assert parse_questions('["A b c?", "D e f?"]', 5) == ["A b c?", "D e f?"]
    fenced = '```json\n[{"question": "Who keeps it?", "answer": "Morwenna."}]\n```'
    assert parse_questions(fenced, 5) == ["Who keeps it?"]


def test_duplicates_are_dropped_case_blind_and_the_limit_holds() -> None:
    reply = "1. Who?\n2. Who keeps it?\n3. WHO KEEPS IT?\n4. When   does it  flash?\n5. Why?"
    assert parse_questions(reply, 2) == ["Who keeps it?", "When does it flash?"]
    assert parse_questions("no questions at all.", 3) == []


def test_answers_lose_their_label_and_empty_or_huge_ones_are_none() -> None:
    assert clean_answer("  Answer: At 7:40.\n") == "At 7:40."
    assert clean_answer("A: Four pounds.") == "Four pounds."
    assert clean_answer("   ") is None
    assert clean_answer("x" * 5000) is None


def test_the_prompts_carry_the_passage_the_count_and_the_question() -> None:
    listing = question_messages("The Tern leaves at 7:40.", 3)
    assert listing[0]["role"] == "system" and "3 different questions" in listing[1]["content"]
    assert "The Tern leaves at 7:40." in listing[1]["content"]
    assert "Write question that" not in question_messages("x", 1)[1]["content"]
    asking = answer_messages("The Tern leaves at 7:40.", "When?")
    assert asking[1]["content"].endswith("Question: When?")
