"""The prompts an eval asks: the document's held-out pairs and a prompts file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dlmlang import Document
from dlmlang.errors import UsageError
from dlmlang.heldout import heldout_pairs


@dataclass(frozen=True, slots=True)
class EvalPrompt:
    """One question; `reference` is the answer it should get, when known."""

    text: str
    reference: str | None
    source: str
    """`heldout` (the document's held-out split) or `file:<line>`."""


def heldout_prompts(document: Document) -> list[EvalPrompt]:
    """The document's held-out pairs as prompts, their answers the references."""
    return [EvalPrompt(h.pair.question, h.pair.answer, "heldout") for h in heldout_pairs(document)]


def read_prompts_file(path: Path) -> list[EvalPrompt]:
    """Prompts from a file: one per line, or JSON Lines with `prompt` and optional `reference`.

    A file whose first non-blank line starts with `{` is JSON Lines; blank lines are skipped.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: cannot read the prompts file ({error}).") from None
    numbered = [(number, line) for number, line in enumerate(lines, 1) if line.strip()]
    if not numbered:
        raise UsageError(f"{path}: the prompts file has no prompts; write one question per line.")
    if numbered[0][1].lstrip().startswith("{"):
        return [_json_prompt(path, number, line) for number, line in numbered]
    return [EvalPrompt(line.strip(), None, f"file:{number}") for number, line in numbered]


def _json_prompt(path: Path, number: int, line: str) -> EvalPrompt:
    where = f"{path}:{number}"
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise UsageError(f"{where}: not JSON ({error.msg}); one object per line.") from None
    if not isinstance(row, dict) or not isinstance(row.get("prompt"), str):
        raise UsageError(f'{where}: each line needs "prompt": a string, e.g. {{"prompt": "Q?"}}.')
    reference = row.get("reference")
    if reference is not None and not isinstance(reference, str):
        raise UsageError(f'{where}: "reference" must be a string when given.')
    if not row["prompt"].strip():
        raise UsageError(f'{where}: "prompt" is empty.')
    return EvalPrompt(row["prompt"].strip(), reference, f"file:{number}")
