"""The block path: split a body at its fences and parse each block from its own
start symbol, reusing the result of any block whose text has not changed.

The fence and code-toggle patterns come from the grammar's own terminals, so
the split agrees with the whole-document parse (a property test checks it).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import chain
from typing import Any

from dlmlang.document import Document, Placed, Placer, parse
from dlmlang.frontmatter import read_frontmatter
from dlmlang.grammar import RawSection, parse_raw, parser
from dlmlang.sections import Checked, check_section

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
    terminals = {t.name: t for t in parser().terminals}
    ordered = sorted(_FENCES, key=lambda name: -terminals[name].priority)
    alternatives = [f"(?P<{name}>{terminals[name].pattern.to_regexp()})" for name in ordered]
    alternatives.append(f"(?P<CODE_TOGGLE>{terminals['CODE_TOGGLE'].pattern.to_regexp()})")
    return re.compile(r"\n(?=::|```)"), re.compile("|".join(alternatives))


def split_blocks(body: str) -> list[tuple[int, int, str]]:
    """(offset, line, start symbol) of every block: the lead and one per fence."""
    return [(0, 0, "lead"), *_fences(body, 0, 0, first_at_start=True)]


def _fences(
    body: str, start: int, line: int, *, first_at_start: bool = False
) -> Iterator[tuple[int, int, str]]:
    """(offset, line, start symbol) of each fence after `start` (a point outside any code
    block, at body line `line`); with `first_at_start`, a fence at `start` counts too."""
    candidates, line_forms = _scanner()
    in_code = False
    counted = start
    offsets: Iterable[int] = (m.end() for m in candidates.finditer(body, start))
    if first_at_start and body.startswith(("::", "```"), start):
        offsets = chain((start,), offsets)
    for offset in offsets:
        match = line_forms.match(body, offset)
        if match is None:
            continue
        kind = match.lastgroup or ""
        if kind == "CODE_TOGGLE":
            in_code = not in_code
            continue
        if in_code:
            continue
        line += body.count("\n", counted, offset)
        counted = offset
        yield offset, line, _FENCES[kind]


Span = tuple[int, int, str]
"""(body offset, body line, start symbol) of one block."""
_SKIP = object()
"""In a reuse plan: a block that yields nothing (an empty lead)."""


@dataclass(slots=True)
class _LastParse:
    """What the previous call saw and produced, for reuse around the next edit."""

    body: str
    body_line: int
    unterminated: bool
    spans: list[Span]
    placed: list[Any]
    """Per span: its Placed, or _SKIP."""
    offsets: list[int] = field(default_factory=list)
    """The spans' body offsets (sorted), for bisection."""

    def __post_init__(self) -> None:
        if not self.offsets:
            self.offsets = [span[0] for span in self.spans]


class IncrementalParser:
    """Re-parses only the blocks an edit touched; keeps the results of the rest.

    One instance per open document (the language server keeps one per URI). Blocks
    before the edit are reused as they were; blocks after it are reused moved by the
    edit's line delta, found by comparing the new body with the previous one.
    """

    def __init__(self) -> None:
        self._checked: dict[tuple[str, str], Checked] = {}
        self._placed: dict[tuple[str, str, int, bool], tuple[Checked, Placed]] = {}
        self._frontmatter: tuple[str, Any] | None = None
        self._last: _LastParse | None = None
        self.block_parses = 0
        """How many blocks went through the grammar so far (tests count them)."""

    def parse(self, text: str) -> Document:
        """Parse `text`, reusing unchanged blocks from the previous call."""
        cacheable = "\r" not in text
        unterminated = not text.endswith("\n")
        last = self._last if cacheable else None
        self._last = None

        def body_parser(body: str, body_lines: int, place: Placer) -> Iterator[Placed]:
            plan = None
            if (
                last is not None
                and last.body_line == place.body_line
                and last.unterminated == unterminated
            ):
                plan = _reuse_plan(last, body)
            if plan is None:
                spans = split_blocks(body)
                reuse: list[Any] = [None] * len(spans)
            else:
                spans, reuse = plan
            if len(self._checked) > 4 * len(spans) + 64:  # keep the caches bounded
                self._checked, self._placed = {}, {}
            produced: list[Any] = []
            for index, (offset, line, start) in enumerate(spans):
                known_placed = reuse[index]
                if known_placed is not None:
                    produced.append(known_placed)
                    if known_placed is not _SKIP:
                        yield known_placed
                    continue
                end = spans[index + 1][0] if index + 1 < len(spans) else len(body)
                if start == "lead" and end == 0:
                    produced.append(_SKIP)
                    continue
                block = body[offset:end]
                # Placing is cached too: after an edit that keeps the line count,
                # every other block is reused as it was, found with one lookup.
                where = (start, block, place.body_line + line, unterminated and end == len(body))
                hit = self._placed.get(where) if cacheable else None
                if hit is not None:
                    result, placed = hit
                else:
                    key = (start, block)
                    known = self._checked.get(key)
                    if known is None:
                        known = _parse_block(block, start)
                        self.block_parses += 1
                        self._checked[key] = known
                    result = known
                    placed = place(result, line, offset, end)
                    if cacheable:
                        self._placed[where] = (result, placed)
                produced.append(placed)
                yield placed
            if cacheable:
                self._last = _LastParse(body, place.body_line, unterminated, spans, produced)

        return parse(text, body_parser=body_parser, read_yaml=self._read_yaml)

    def _read_yaml(self, yaml_text: str) -> Any:
        if self._frontmatter is None or self._frontmatter[0] != yaml_text:
            self._frontmatter = (yaml_text, read_frontmatter(yaml_text))
        return self._frontmatter[1]


def _reuse_plan(last: _LastParse, body: str) -> tuple[list[Span], list[Any]] | None:
    """New spans, each with a reusable Placed (or None to process it), or None when the
    edit is in the first block (then the whole body is split again)."""
    old = last.body
    prefix = _common_prefix(old, body)
    suffix = _common_suffix(old, body, min(len(old), len(body)) - prefix)
    old_edit_end, new_edit_end = len(old) - suffix, len(body) - suffix
    spans = last.spans
    offsets = last.offsets
    # The block holding the edit: the last span whose whole fence line lies before the
    # edit start (that line, and everything before it, reads exactly as before).
    first = bisect_left(offsets, prefix) - 1
    while first > 0:
        newline = old.find("\n", offsets[first])
        if 0 <= newline < prefix:
            break
        first -= 1
    if first <= 0:
        return None
    delta = len(body) - len(old)
    line_delta = body.count("\n", prefix, new_edit_end) - old.count("\n", prefix, old_edit_end)
    # Old spans that start inside the unchanged tail, after its first character.
    next_movable = bisect_right(offsets, old_edit_end, lo=first + 1)
    new_spans: list[Span] = spans[: first + 1]
    reuse: list[Any] = [*last.placed[:first], None]
    for offset, line, start in _fences(body, spans[first][0], spans[first][1]):
        while next_movable < len(spans) and offsets[next_movable] + delta < offset:
            next_movable += 1
        if next_movable < len(spans) and offsets[next_movable] + delta == offset:
            # From here on the text is the old text moved by `delta`: so are its blocks.
            tail = range(next_movable, len(spans))
            new_spans += [(offsets[j] + delta, spans[j][1] + line_delta, spans[j][2]) for j in tail]
            if line_delta:
                reuse += [_moved(last.placed[j], line_delta) for j in tail]
            else:
                reuse += last.placed[next_movable:]
            return new_spans, reuse
        new_spans.append((offset, line, start))
        reuse.append(None)
    return new_spans, reuse


def _moved(placed: Any, lines: int) -> Any:
    if placed is _SKIP or lines == 0:
        return placed
    section = replace(placed.section, range=placed.section.range.shifted(lines))
    return Placed(section, tuple(d.shifted(lines) for d in placed.diagnostics))


def _common_prefix(old: str, new: str) -> int:
    """Length of the longest common prefix (C-speed comparisons, binary search)."""
    low, high = 0, min(len(old), len(new))
    while low < high:
        middle = (low + high + 1) // 2
        if old[low:middle] == new[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(old: str, new: str, limit: int) -> int:
    """Length of the longest common suffix, at most `limit`."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if old[len(old) - middle : len(old) - low] == new[len(new) - middle : len(new) - low]:
            low = middle
        else:
            high = middle - 1
    return low


def parse_blocks(text: str) -> Document:
    """Parse through the block path without keeping a cache."""
    return IncrementalParser().parse(text)


def _parse_block(block: str, start: str) -> Checked:
    raw: RawSection = parse_raw(block, start)
    return check_section(raw, block.count("\n"))
