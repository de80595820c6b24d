"""The pairs a reward model learns from: the document's hand-written ones and a JSONL file.

Auto-mined pairs are left out: a reward model trained on what a judge already
preferred would only learn that judge back. A pairs file holds one JSON object per
line with non-empty string fields `prompt`, `chosen` and `rejected` (other fields
are ignored; blank lines are skipped); the first bad line stops everything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dlmlang import Document
from trainer.errors import TrainerError
from trainer.training.preference_rows import PreferenceRow, document_preference_rows

FIELDS = ("prompt", "chosen", "rejected")
EXAMPLE = '{"prompt": "Who keeps the light?", "chosen": "Morwenna Teague.", "rejected": "Nobody."}'


class PairsFileError(TrainerError):
    """A `--pairs` file cannot be read, or one of its lines is not a valid pair."""


def document_pairs(document: Document) -> list[PreferenceRow]:
    """Every triple of the document's hand-written preference sections, in order."""
    return document_preference_rows(document, include_mined=False)


def read_pairs_file(path: Path) -> list[PreferenceRow]:
    """The pairs of a JSONL file, in order; raises PairsFileError naming `file:line` and the fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PairsFileError(
            f"Cannot read the pairs file {path} ({error}). Pass a UTF-8 JSONL file with one "
            f"pair per line, e.g. {EXAMPLE}"
        ) from None
    rows: list[PreferenceRow] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        problem, values = _check_line(line)
        if problem is not None:
            raise PairsFileError(
                f"{path}:{number}: {problem}. Each line must be one JSON object with non-empty "
                f'string fields "prompt", "chosen" and "rejected", e.g. {EXAMPLE} '
                "Nothing was trained."
            )
        rows.append(PreferenceRow(f"{path.name}:{number}", *values, auto_mined=False))
    return rows


def _check_line(line: str) -> tuple[str | None, tuple[str, str, str]]:
    """(what is wrong, or None; the three fields when nothing is)."""
    try:
        value: Any = json.loads(line)
    except json.JSONDecodeError as error:
        return f"not valid JSON ({error.msg} at column {error.colno})", ("", "", "")
    if not isinstance(value, dict):
        return f"a JSON {type(value).__name__}, not an object", ("", "", "")
    missing = [name for name in FIELDS if name not in value]
    if missing:
        return "missing " + ", ".join(f'"{name}"' for name in missing), ("", "", "")
    for name in FIELDS:
        if not isinstance(value[name], str):
            return f'"{name}" is {_json_type(value[name])}, not a string', ("", "", "")
        if not value[name].strip():
            return f'"{name}" is empty', ("", "", "")
    prompt, chosen, rejected = (str(value[name]).strip() for name in FIELDS)
    if chosen == rejected:
        return '"chosen" and "rejected" are the same answer', ("", "", "")
    return None, (prompt, chosen, rejected)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a list" if isinstance(value, list) else "an object"
