"""Splitting a document body into blocks at its fences, outside code blocks.

The fence and code-toggle patterns come from the grammar's own terminals, so the split
agrees with the whole-document parse (a property test checks it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from dlmlang.grammar import terminals

# Terminal name -> the start symbol of the block that such a fence opens.
_FENCES = {
    "PROSE_FENCE": "prose_section",
    "INSTRUCTION_FENCE": "instruction_section",
    "PREFERENCE_FENCE": "preference_section",
    "MEDIA_FENCE": "media_section",
    "UNKNOWN_FENCE": "unknown_section",
}


@cache
def _scanner() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Candidate finder (a literal prefix, fast) and the grammar's fence/toggle patterns."""
    found = terminals()
    ordered = sorted(_FENCES, key=lambda name: -found[name][1])
    alternatives = [f"(?P<{name}>{found[name][0]})" for name in ordered]
    alternatives.append(f"(?P<CODE_TOGGLE>{found['CODE_TOGGLE'][0]})")
    return re.compile(r"\n(?=::|```)"), re.compile("|".join(alternatives))


def split_blocks(body: str) -> list[tuple[int, int, str]]:
    """(offset, line, start symbol) of every block: the lead and one per fence."""
    return split_at(body, 0)


def split_at(source: str, base: int) -> list[tuple[int, int, str]]:
    """split_blocks of the body that starts at `base` in `source` (offsets in `source`)."""
    return [(base, 0, "lead"), *fences_after(source, base, 0, first_at_start=True)]


def fences_after(
    body: str, start: int, line: int, *, first_at_start: bool = False
) -> Iterator[tuple[int, int, str]]:
    """(offset, line, start symbol) of each fence after `start` (a point outside any code
    block, at body line `line`); with `first_at_start`, a fence at `start` counts too."""
    candidates, line_forms = _scanner()
    in_code = False
    counted = start
    offset = start if first_at_start and body.startswith(("::", "```"), start) else -1
    position = start
    while True:
        if offset < 0:
            if in_code:
                # Inside code only the closing toggle matters: every line that starts
                # with a backtick fence is one, so skip to it without looking at fences.
                found = body.find("\n```", position)
                if found < 0:
                    return
                in_code, position, offset = False, found + 1, -1
                continue
            candidate = candidates.search(body, position)
            if candidate is None:
                return
            offset = candidate.end()
        match = line_forms.match(body, offset)
        position, offset = offset, -1
        if match is None:
            continue
        kind = match.lastgroup or ""
        if kind == "CODE_TOGGLE":
            in_code = True
            continue
        line += body.count("\n", counted, position)
        counted = position
        yield position, line, _FENCES[kind]


def code_toggles(block: str, first_at_start: bool) -> list[int]:
    """Offsets of the code toggle lines of one block: every line that starts with a
    backtick fence (the grammar's CODE_TOGGLE takes any such line)."""
    found = [0] if first_at_start and block.startswith("```") else []
    found += [match.end() for match in _TOGGLE_LINE.finditer(block)]
    return found


_TOGGLE_LINE = re.compile(r"\n(?=```)")


Span = tuple[int, int, str]
"""(offset in the source text, body line, start symbol) of one block."""
