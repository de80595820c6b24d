"""Training rows from a document: prose as plain text, each Q/A as a chat row (docs/format.md).

Rows are plain values; tokenizing them (`tokenize_rows`) needs only a tokenizer,
so the whole path is tested without a model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from dlmlang import Document, SectionKind, parse_section_text
from dlmlang.heldout import is_held_out


class ChatTokenizer(Protocol):
    """The slice of a Hugging Face tokenizer the row builder uses."""

    eos_token_id: int | None

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any:
        """Render messages with the model's chat template."""

    def __call__(self, text: str, **kwargs: Any) -> Any:
        """Tokenize text."""


@dataclass(frozen=True, slots=True)
class TextRow:
    """Continued pretraining on prose: every token carries loss."""

    section_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ChatRow:
    """One question and its answer: only the answer's tokens carry loss."""

    section_id: str
    question: str
    answer: str


Row = TextRow | ChatRow


@dataclass(frozen=True, slots=True)
class TokenizedRows:
    """Columns for trl: token ids and a 0/1 mask of the tokens that carry loss."""

    input_ids: list[list[int]]
    completion_mask: list[list[int]]

    @property
    def tokens(self) -> int:
        """Total tokens over all rows."""
        return sum(len(ids) for ids in self.input_ids)


def document_rows(document: Document, *, include_mined: bool = True) -> list[Row]:
    """SFT rows of a document, in order. Preference sections never reach SFT."""
    rows: list[Row] = []
    for section in document.content_sections():
        if section.kind is SectionKind.PROSE:
            rows.append(TextRow(section.section_id, section.content.strip("\n")))
        elif section.kind is SectionKind.INSTRUCTION and (include_mined or not section.auto_mined):
            rows.extend(ChatRow(section.section_id, p.question, p.answer) for p in section.pairs)
    return rows


def without_heldout(rows: Sequence[Row], document: Document) -> list[Row]:
    """`rows` less the Q/A pairs of the document's held-out split (`training.heldout`):
    only `dlm eval` sees those, replayed copies included."""
    frontmatter = document.frontmatter
    if frontmatter is None or frontmatter.training.heldout <= 0.0:
        return list(rows)
    share, dlm_id = frontmatter.training.heldout, frontmatter.dlm_id
    return [
        row
        for row in rows
        if not (isinstance(row, ChatRow) and is_held_out(dlm_id, row.question, share))
    ]


def replay_rows(section_id: str, section_text: str) -> list[Row]:
    """Rows of a section that left the document, from its stored text (`render_section`).

    The rows keep the id the section had in the document it was trained from.
    """
    section = parse_section_text(section_text)
    if section is None:
        return []
    if section.kind is SectionKind.PROSE:
        return [TextRow(section_id, section.content.strip("\n"))]
    return [ChatRow(section_id, p.question, p.answer) for p in section.pairs]


def split_heldout(rows: Sequence[Row], *, every: int = 8) -> tuple[list[Row], list[Row]]:
    """(train, eval): about 1 row in `every` held out, chosen by a hash of its content.

    Deterministic: the same rows are held out run after run. Fewer than `every`
    rows, or a split that would leave training empty: nothing is held out.
    """
    if len(rows) < every:
        return list(rows), []
    held = [_bucket(row) % every == 0 for row in rows]
    if not any(held):
        held[min(range(len(rows)), key=lambda i: _bucket(rows[i]))] = True
    train = [row for row, out in zip(rows, held, strict=True) if not out]
    evals = [row for row, out in zip(rows, held, strict=True) if out]
    return (train, evals) if train else (list(rows), [])


def tokenize_rows(
    rows: Iterable[Row],
    tokenizer: ChatTokenizer,
    *,
    system_prompt: str | None,
    max_length: int,
) -> TokenizedRows:
    """Token ids and loss masks; prose longer than `max_length` becomes several windows."""
    input_ids: list[list[int]] = []
    masks: list[list[int]] = []
    for row in rows:
        if isinstance(row, TextRow):
            ids = list(tokenizer(row.text, add_special_tokens=False)["input_ids"])
            if tokenizer.eos_token_id is not None:
                ids.append(tokenizer.eos_token_id)
            for start in range(0, len(ids), max_length):
                window = ids[start : start + max_length]
                input_ids.append(window)
                masks.append([1] * len(window))
        else:
            prompt, completion = chat_parts(tokenizer, row.question, row.answer, system_prompt)
            prompt_ids = list(tokenizer(prompt, add_special_tokens=False)["input_ids"])
            answer_ids = list(tokenizer(completion, add_special_tokens=False)["input_ids"])
            ids = (prompt_ids + answer_ids)[:max_length]
            mask = ([0] * len(prompt_ids) + [1] * len(answer_ids))[:max_length]
            if any(mask):  # a prompt longer than max_length leaves nothing to learn
                input_ids.append(ids)
                masks.append(mask)
    return TokenizedRows(input_ids, masks)


def chat_messages(question: str, system_prompt: str | None) -> list[dict[str, str]]:
    """The messages of a user turn, with the document's system prompt when it has one."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return [*messages, {"role": "user", "content": question}]


def chat_parts(
    tokenizer: ChatTokenizer, question: str, answer: str, system_prompt: str | None
) -> tuple[str, str]:
    """(prompt, completion) as text: the chat template up to the assistant turn, then the
    answer with the template's end-of-turn, exactly as sampling will see it."""
    messages = chat_messages(question, system_prompt)
    prompt = str(
        tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    )
    full = str(
        tokenizer.apply_chat_template(
            [*messages, {"role": "assistant", "content": answer}], tokenize=False
        )
    )
    if not full.startswith(prompt):
        raise ValueError("the chat template renders the prompt differently inside a full chat")
    return prompt, full[len(prompt) :]


def _bucket(row: Row) -> int:
    key = row.text if isinstance(row, TextRow) else f"{row.question}\n{row.answer}"
    return int(hashlib.sha256(f"{row.section_id}\n{key}".encode()).hexdigest()[:8], 16)
