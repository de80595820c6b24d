"""Answer scores that need no model: word overlap with the reference, and length."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The words of `text`, case- and accent-folded, punctuation dropped."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _WORD.findall(folded)


def token_f1(answer: str, reference: str) -> float:
    """F1 of the answer's words against the reference's (1.0 when both are empty)."""
    got, want = Counter(words(answer)), Counter(words(reference))
    if not got or not want:
        return float(got == want)
    common = sum((got & want).values())
    if common == 0:
        return 0.0
    precision = common / sum(got.values())
    recall = common / sum(want.values())
    return 2 * precision * recall / (precision + recall)
