"""What the teacher is asked: questions about a prose passage, then each one's answer.

Two short requests rather than one JSON list: small models (the embedded one included)
write a list of questions and a one-sentence answer reliably, and rarely valid JSON.
"""

from __future__ import annotations

STRATEGY = "extraction"
"""The only strategy: questions the passage answers, answered from the passage."""

QUESTION_SYSTEM = (
    "You write quiz questions about a passage. Each question must be answered by the "
    "passage itself."
)
ANSWER_SYSTEM = (
    "Answer the question using only the passage, in one short sentence. Do not add "
    "anything the passage does not say."
)

Messages = list[dict[str, str]]


def question_messages(prose: str, count: int) -> Messages:
    """The chat asking for `count` questions that `prose` answers, one per line."""
    plural = "one question" if count == 1 else f"{count} different questions"
    user = (
        f"Passage:\n{prose.strip()}\n\nWrite {plural} that the passage answers, one per "
        "line, each ending with a question mark."
    )
    return [{"role": "system", "content": QUESTION_SYSTEM}, {"role": "user", "content": user}]


def answer_messages(prose: str, question: str) -> Messages:
    """The chat asking for the answer to `question` from `prose` alone."""
    user = f"Passage:\n{prose.strip()}\n\nQuestion: {question.strip()}"
    return [{"role": "system", "content": ANSWER_SYSTEM}, {"role": "user", "content": user}]
