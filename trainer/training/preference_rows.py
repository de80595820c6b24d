"""Preference rows from a document and from replay, and the held-out split.

The held-out check is documented in docs/metrics.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dlmlang import Document, SectionKind, parse_section_text
from trainer.training.rows import chat_messages

HELDOUT_MIN_PAIRS = 6
"""Below this many pairs nothing is held out: every pair is needed for training."""


@dataclass(frozen=True, slots=True)
class PreferenceRow:
    """One prompt with a chosen and a rejected answer."""

    section_id: str
    prompt: str
    chosen: str
    rejected: str
    auto_mined: bool


def document_preference_rows(document: Document, *, include_mined: bool) -> list[PreferenceRow]:
    """Every triple of the document's preference sections, in order."""
    rows: list[PreferenceRow] = []
    for section in document.content_sections():
        if section.kind is not SectionKind.PREFERENCE:
            continue
        if section.auto_mined and not include_mined:
            continue
        rows.extend(
            PreferenceRow(section.section_id, t.prompt, t.chosen, t.rejected, section.auto_mined)
            for t in section.triples
        )
    return rows


def replay_preference_rows(section_id: str, section_text: str) -> list[PreferenceRow]:
    """Rows of a preference section that left the document, from its stored text."""
    section = parse_section_text(section_text)
    if section is None or section.kind is not SectionKind.PREFERENCE:
        return []
    return [
        PreferenceRow(section_id, t.prompt, t.chosen, t.rejected, section.auto_mined)
        for t in section.triples
    ]


def split_preference_heldout(
    rows: Sequence[PreferenceRow], *, every: int = HELDOUT_MIN_PAIRS
) -> tuple[list[PreferenceRow], list[PreferenceRow]]:
    """(train, held out): about 1 in `every` hand-written pair, chosen by content hash.

    Mined pairs always train: the check measures the model against what the
    author wrote. With fewer than `every` pairs in all, nothing is held out.
    """
    if len(rows) < every:
        return list(rows), []
    candidates = [i for i, row in enumerate(rows) if not row.auto_mined]
    held = {i for i in candidates if _bucket(rows[i]) % every == 0}
    if not held and candidates:
        held = {min(candidates, key=lambda i: _bucket(rows[i]))}
    train = [row for i, row in enumerate(rows) if i not in held]
    evals = [row for i, row in enumerate(rows) if i in held]
    return (train, evals) if train else (list(rows), [])


def conversational(row: PreferenceRow, system_prompt: str | None) -> dict[str, Any]:
    """A trl conversational preference example: the chat template is applied by trl."""
    return {
        "prompt": chat_messages(row.prompt, system_prompt),
        "chosen": [{"role": "assistant", "content": row.chosen}],
        "rejected": [{"role": "assistant", "content": row.rejected}],
    }


def pair_tokens(row: PreferenceRow, tokenizer: Any, system_prompt: str | None) -> int:
    """Tokens of the prompt's chat turn plus the longer answer: one pair's longest side."""
    prompt = tokenizer.apply_chat_template(
        chat_messages(row.prompt, system_prompt), tokenize=False, add_generation_prompt=True
    )
    longer = max(row.chosen, row.rejected, key=len)
    return len(tokenizer(str(prompt) + longer, add_special_tokens=False)["input_ids"])


def _bucket(row: PreferenceRow) -> int:
    key = f"{row.section_id}\n{row.prompt}\n{row.chosen}\n{row.rejected}"
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
