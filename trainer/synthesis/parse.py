"""Reading the teacher's replies: the questions it listed, and a clean answer."""

from __future__ import annotations

import json
import re

_LEAD = re.compile(
    r"^\s*(?:[-*\u2022]+|\(?\d{1,3}[.):]|\(?[a-zA-Z][.)]|q(?:uestion)?\s*\d*\s*[:.])\s*",
    re.IGNORECASE,
)
_ANSWER_LEAD = re.compile(r"^\s*(?:a(?:nswer)?\s*[:.]|\*\*answer:?\*\*:?)\s*", re.IGNORECASE)
MAX_QUESTION = 300
MAX_ANSWER = 1000


def parse_questions(reply: str, limit: int) -> list[str]:
    """Up to `limit` distinct questions of two words or more in `reply`: a JSON list (of
    strings or of objects with a "question"), else lines ending with "?", list markers
    and "Q:" stripped."""
    found = _from_json(reply)
    if found is None:
        found = []
        for line in reply.splitlines():
            text = _LEAD.sub("", line.strip()).strip().strip('"').strip()
            if text.endswith("?"):
                found.append(text)
    questions: list[str] = []
    seen: set[str] = set()
    for question in found:
        text = " ".join(question.split())
        key = text.casefold()
        if len(text.split()) >= 2 and len(text) <= MAX_QUESTION and key not in seen:
            seen.add(key)
            questions.append(text)
    return questions[:limit]


def clean_answer(reply: str) -> str | None:
    """The answer in `reply`, "Answer:" and surrounding blanks removed; None when empty or
    too long to be one answer."""
    text = _ANSWER_LEAD.sub("", reply.strip()).strip()
    if not text or len(text) > MAX_ANSWER:
        return None
    return text


def _from_json(reply: str) -> list[str] | None:
    """Questions from a JSON list in `reply` (inside a code fence or not), else None."""
    text = reply.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    start, end = text.find("["), text.rfind("]")
    if start < 0 or end <= start:
        return None
    try:
        items = json.loads(text[start : end + 1])
    except ValueError:
        return None
    if not isinstance(items, list):
        return None
    questions = []
    for item in items:
        if isinstance(item, str):
            questions.append(item)
        elif isinstance(item, dict) and isinstance(item.get("question"), str):
            questions.append(item["question"])
    return questions
