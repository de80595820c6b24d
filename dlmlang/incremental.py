"""The block path: split a body at its fences and parse each block from its own
start symbol, reusing the result of any block whose text has not changed.

The fence and code-toggle patterns come from the grammar's own terminals, so
the split agrees with the whole-document parse (a property test checks it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
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
    candidates, line_forms = _scanner()
    blocks: list[tuple[int, int, str]] = [(0, 0, "lead")]
    in_code = False
    line, counted = 0, 0
    offsets = [m.end() for m in candidates.finditer(body)]
    if body.startswith(("::", "```")):
        offsets.insert(0, 0)
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
        blocks.append((offset, line, _FENCES[kind]))
    return blocks


class IncrementalParser:
    """Re-parses only the blocks an edit touched; keeps the results of the rest.

    One instance per open document (the language server keeps one per URI).
    """

    def __init__(self) -> None:
        self._checked: dict[tuple[str, str], Checked] = {}
        self._placed: dict[tuple[str, str, int, bool], tuple[Checked, Placed]] = {}
        self._frontmatter: tuple[str, Any] | None = None
        self.block_parses = 0
        """How many blocks went through the grammar so far (tests count them)."""

    def parse(self, text: str) -> Document:
        """Parse `text`, reusing unchanged blocks from the previous call."""
        checked: dict[tuple[str, str], Checked] = {}
        placed_now: dict[tuple[str, str, int, bool], tuple[Checked, Placed]] = {}
        cacheable = "\r" not in text
        unterminated = not text.endswith("\n")

        def body_parser(body: str, body_lines: int, place: Placer) -> Iterator[Placed]:
            spans = split_blocks(body)
            for index, (offset, line, start) in enumerate(spans):
                end = spans[index + 1][0] if index + 1 < len(spans) else len(body)
                if start == "lead" and end == 0:
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
                    known = checked.get(key) or self._checked.get(key)
                    if known is None:
                        known = _parse_block(block, start)
                        self.block_parses += 1
                    result = known
                    placed = place(result, line, offset, end)
                checked[(start, block)] = result
                if cacheable:
                    placed_now[where] = (result, placed)
                yield placed

        document = parse(text, body_parser=body_parser, read_yaml=self._read_yaml)
        self._checked = checked
        self._placed = placed_now
        return document

    def _read_yaml(self, yaml_text: str) -> Any:
        if self._frontmatter is None or self._frontmatter[0] != yaml_text:
            self._frontmatter = (yaml_text, read_frontmatter(yaml_text))
        return self._frontmatter[1]


def parse_blocks(text: str) -> Document:
    """Parse through the block path without keeping a cache."""
    return IncrementalParser().parse(text)


def _parse_block(block: str, start: str) -> Checked:
    raw: RawSection = parse_raw(block, start)
    return check_section(raw, block.count("\n"))
