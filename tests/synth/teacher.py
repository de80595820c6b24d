"""A scripted teacher for the tests: an in-process one, and the replies an OpenAI-compatible
test server gives (tests/rewards/fake_openai.py) to the synthesis prompts."""

from __future__ import annotations

from typing import Any

from tests.rewards.fake_openai import Reply
from trainer.generation.generate import Sampling

QUESTIONS = {
    "Tern": ["When does the Tern leave Gullmouth pier?", "How much is a ticket on the Tern?"],
    "Morwenna": ["Who keeps Black Rock Light?", "What colour does the light flash?"],
}
ANSWERS = {
    "When does the Tern leave Gullmouth pier?": "It leaves Gullmouth pier at 7:40 every morning.",
    "How much is a ticket on the Tern?": "Answer: A ticket costs four pounds, sold on board.",
    "Who keeps Black Rock Light?": "Morwenna Teague keeps it.",
    "What colour does the light flash?": "It flashes purple over the volcano.",  # unsupported
}


def reply_to(messages: list[dict[str, str]]) -> str:
    """What the scripted teacher says to a question-listing or answering chat."""
    user = messages[-1]["content"]
    if "Question:" in user:
        question = user.rsplit("Question:", 1)[1].strip()
        return ANSWERS.get(question, "I do not know.")
    for key, questions in QUESTIONS.items():
        if key in user:
            return "\n".join(f"{n}. {q}" for n, q in enumerate(questions, 1)) + "\nThat is all."
    return "Nothing to ask."


class ScriptedTeacher:
    """An in-process teacher answering from the script; records every chat."""

    name = "api:scripted"

    def __init__(self) -> None:
        self.chats: list[list[dict[str, str]]] = []
        self.closed = False

    def reply(self, messages: list[dict[str, str]], sampling: Sampling) -> str:
        self.chats.append(messages)
        return reply_to(messages)

    def close(self) -> None:
        self.closed = True


def server_reply(body: dict[str, Any]) -> Reply:
    """The fake OpenAI server's answer to a synthesis request."""
    return Reply(reply_to(body["messages"]))
