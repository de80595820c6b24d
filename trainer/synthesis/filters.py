"""Which synthesized pairs are kept: not a duplicate, and supported by their source prose.

Duplicates: a question whose words match (token F1, case and punctuation ignored) one
already asked in the document, one staged, or one kept earlier in the run, at or above
`duplicate_f1`. Support: the share of the answer's content words (stop words and the
question's own words left out) that occur in the source prose section; a pair is kept
when it reaches `min_support`. An answer with no content word is unsupported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from trainer.evaluation.overlap import token_f1, words

DEFAULT_MIN_SUPPORT = 0.5
DEFAULT_DUPLICATE_F1 = 0.8

_STOP_TEXT = """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves also yes one every s t"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


@dataclass(frozen=True, slots=True)
class Candidate:
    """One question and answer the teacher wrote from a prose section."""

    question: str
    answer: str
    source_section_id: str


@dataclass(frozen=True, slots=True)
class Kept:
    """A candidate that passed the filters, with its support score."""

    candidate: Candidate
    support: float


@dataclass(frozen=True, slots=True)
class Rejected:
    """A candidate that did not, and why: `duplicate` or `unsupported`."""

    candidate: Candidate
    reason: str
    support: float | None = None


@dataclass(frozen=True, slots=True)
class Filtered:
    """The filters' verdict on a run's candidates."""

    kept: list[Kept] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Rejections by reason, e.g. {"duplicate": 2}."""
        counts: dict[str, int] = {}
        for item in self.rejected:
            counts[item.reason] = counts.get(item.reason, 0) + 1
        return counts


def content_words(text: str) -> set[str]:
    """The words of `text` that carry meaning: folded, stop words dropped, plural -s off."""
    return {_stem(w) for w in words(text) if w not in STOP_WORDS}


def support(answer: str, question: str, prose: str) -> float:
    """Share of the answer's new content words (not already in the question) found in
    `prose`; all its content words when the question holds every one; 0.0 for none."""
    answer_words = content_words(answer)
    new = answer_words - content_words(question) or answer_words
    if not new:
        return 0.0
    return len(new & content_words(prose)) / len(new)


def is_duplicate(question: str, asked: Iterable[str], threshold: float) -> bool:
    """Whether `question` matches one of `asked` with token F1 at or above `threshold`."""
    return any(token_f1(question, other) >= threshold for other in asked)


def filter_candidates(
    candidates: Iterable[Candidate],
    prose_of: dict[str, str],
    asked: Iterable[str] = (),
    *,
    min_support: float = DEFAULT_MIN_SUPPORT,
    duplicate_f1: float = DEFAULT_DUPLICATE_F1,
) -> Filtered:
    """Keep, in order, the candidates that are no duplicate and are supported by the prose
    of their source section (`prose_of[source_section_id]`)."""
    seen = list(asked)
    result = Filtered()
    for candidate in candidates:
        if is_duplicate(candidate.question, seen, duplicate_f1):
            result.rejected.append(Rejected(candidate, "duplicate"))
            continue
        score = support(candidate.answer, candidate.question, prose_of[candidate.source_section_id])
        if score < min_support:
            result.rejected.append(Rejected(candidate, "unsupported", score))
            continue
        seen.append(candidate.question)
        result.kept.append(Kept(candidate, score))
    return result


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
