"""The block path: split a body at its fences and parse each block from its own
start symbol, reusing the result of any block whose text has not changed.

The fence and code-toggle patterns come from the grammar's own terminals, so
the split agrees with the whole-document parse (a property test checks it).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from dlmlang.diagnostics import Diagnostic
from dlmlang.document import (
    BOM,
    Document,
    Placed,
    Placer,
    Prepared,
    assemble,
    cyclic_gc_paused,
    parse,
    prepare,
    sort_diagnostics,
)
from dlmlang.frontmatter import read_frontmatter
from dlmlang.grammar import RawSection, parse_raw, parser
from dlmlang.pieces import LARGE, PIECE, cuts, parse_in_pieces, shifted
from dlmlang.section_rules import Checked, check_section
from dlmlang.sections import Section

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
    return _split(body, 0)


def _split(source: str, base: int) -> list[tuple[int, int, str]]:
    """split_blocks of the body that starts at `base` in `source` (offsets in `source`)."""
    return [(base, 0, "lead"), *_fences(source, base, 0, first_at_start=True)]


def _fences(
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


def _toggles(block: str, first_at_start: bool) -> list[int]:
    """Offsets of the code toggle lines of one block: every line that starts with a
    backtick fence (the grammar's CODE_TOGGLE takes any such line)."""
    found = [0] if first_at_start and block.startswith("```") else []
    found += [match.end() for match in _TOGGLE_LINE.finditer(block)]
    return found


_TOGGLE_LINE = re.compile(r"\n(?=```)")


Span = tuple[int, int, str]
"""(offset in the source text, body line, start symbol) of one block."""
_SKIP = Placed.__new__(Placed)
"""In the per-block results: a block that yields nothing (an empty lead)."""


@dataclass(slots=True)
class _Blocks:
    """One parse's blocks: where each starts, and its placed result.

    `placed[i]` sits at body line `placed_at[i]`; when an edit moved the block,
    `spans[i]` has its new line and the result is moved only when someone asks
    for the Document (diagnostics, being few, are moved at once).
    """

    source: str
    """The text the offsets index: the document without its BOM, plus an LF when it
    lacked a last one. The body starts at `body_offset`."""
    body_line: int
    body_offset: int
    body_lines: int
    unterminated: bool
    spans: list[Span]
    placed: list[Placed]
    placed_at: list[int]
    with_problems: list[int]
    """Indices of the blocks that have diagnostics, in order."""
    offsets: list[int] = field(default_factory=list)
    """The spans' offsets (sorted), for bisection."""

    def __post_init__(self) -> None:
        if not self.offsets:
            self.offsets = [span[0] for span in self.spans]

    def diagnostics(self) -> list[Diagnostic]:
        """Every block's diagnostics, at the blocks' current lines."""
        found: list[Diagnostic] = []
        spans, placed, placed_at = self.spans, self.placed, self.placed_at
        for index in self.with_problems:
            shift = spans[index][1] - placed_at[index]
            problems = placed[index].diagnostics
            found.extend(d.shifted(shift) for d in problems) if shift else found.extend(problems)
        return found

    def sections(self) -> list[Section]:
        """Every block's section at its current line (moving, once, those an edit moved)."""
        spans, placed, placed_at = self.spans, self.placed, self.placed_at
        sections: list[Section] = []
        for index, result in enumerate(placed):
            if result is _SKIP:
                continue
            line = spans[index][1]
            if placed_at[index] != line:
                result = placed[index] = _moved(result, line - placed_at[index])
                placed_at[index] = line
            sections.append(result.section)
        return sections


class Parsed:
    """One parse by the incremental parser: diagnostics at once, the Document on demand.

    A language server publishes diagnostics after every edit but needs the sections
    only when asked for an outline or a code action; building them can wait.
    """

    __slots__ = ("_build", "_document", "diagnostics")

    def __init__(
        self,
        diagnostics: tuple[Diagnostic, ...],
        build: Callable[[], Document] | None = None,
        document: Document | None = None,
    ) -> None:
        self.diagnostics = diagnostics
        self._build = build
        self._document = document

    @property
    def document(self) -> Document:
        """The Document (built on first use, then kept)."""
        if self._document is None:
            assert self._build is not None
            self._document = self._build()
            self._build = None
        return self._document


class IncrementalParser:
    """Re-parses only the blocks an edit touched; keeps the results of the rest.

    One instance per open document (the language server keeps one per URI). Blocks
    before the edit are reused as they were; blocks after it are reused moved by the
    edit's line delta, found by comparing the new body with the previous one (or
    from the edit's extent, when the caller knows it).
    """

    def __init__(self) -> None:
        self._checked: dict[tuple[str, str], Checked] = {}
        self._placed: dict[tuple[str, str, int, bool], tuple[Placed, int]] = {}
        self._frontmatter: tuple[str, Any] | None = None
        self._last: _Blocks | None = None
        self._pieces: dict[tuple[str, str, int], RawSection] = {}
        self._piece_parses: dict[tuple[str, str], RawSection] = {}
        self._cut_memory: dict[str, list[int]] = {}
        """The cuts each large block was parsed with, for the next edit in it."""
        self.large_block = LARGE
        """Blocks longer than this many characters are parsed in pieces."""
        self.piece_size = PIECE
        self.block_parses = 0
        """How many blocks (or pieces) went through the grammar so far (tests count them)."""
        self.piece_failures = 0
        """Large blocks whose pieces failed to parse and went whole (tests expect none)."""
        self.in_place_edits = 0
        """Edits that kept every block boundary (no fence made or unmade, no code state
        turned): only the edited block was looked at, the rest moved (tests count them)."""

    def parse(self, text: str) -> Document:
        """Parse `text`, reusing unchanged blocks from the previous call."""
        return self.update(text).document

    def update(self, text: str, unchanged: tuple[int, int] | None = None) -> Parsed:
        """Parse `text`, reusing unchanged blocks from the previous call.

        `unchanged` may give (prefix, suffix): how many characters at the start and at
        the end of `text` are known to be as they were in the previous call's text
        (an editor's change ranges say so); without it they are found by comparison.
        """
        last, self._last = self._last, None
        if unchanged is not None and (last is None or text.startswith(BOM)):
            unchanged = None
        # The previous text had no CR (else there is no `last`): look only at what changed.
        changed = text if unchanged is None else text[unchanged[0] : len(text) - unchanged[1]]
        if "\r" in changed:  # CR line endings: parse afresh (editors rarely keep them)
            document = parse(text, body_parser=self._fresh_blocks, read_yaml=self._read_yaml)
            return Parsed(document.diagnostics, document=document)
        prepared = prepare(text, self._read_yaml, cut_body=False, line_feeds_only=True)
        source = prepared.text + "\n" if prepared.unterminated else prepared.text
        with cyclic_gc_paused():
            blocks = self._blocks(prepared, source, last, unchanged)
        self._last = blocks
        problems = [*prepared.problems, *blocks.diagnostics()]
        return Parsed(
            sort_diagnostics(problems),
            lambda: assemble(prepared, blocks.sections(), problems, blocks.body_lines),
        )

    def _blocks(
        self,
        prepared: Prepared,
        source: str,
        last: _Blocks | None,
        unchanged: tuple[int, int] | None,
    ) -> _Blocks:
        """This text's blocks: reused from `last` around the edit, the rest parsed."""
        place, base = prepared.placer, prepared.body_offset
        plan = None
        if (
            last is not None
            and last.body_line == place.body_line
            and last.body_offset == base
            and last.unterminated == prepared.unterminated
        ):
            plan = _reuse_plan(last, source, _known_edit(source, last, unchanged))
        if plan is None:
            spans = _split(source, base)
            plan = _Plan(spans, [_SKIP] * len(spans), [0] * len(spans), range(len(spans)), [])
            body_lines = source.count("\n", base)
        else:
            assert last is not None
            body_lines = last.body_lines + plan.line_delta
        spans, placed, placed_at = plan.spans, plan.placed, plan.placed_at
        if len(self._checked) > 4 * len(spans) + 64:  # keep the caches bounded
            self._checked, self._placed = {}, {}
        if len(self._pieces) > 4096:
            self._pieces, self._piece_parses = {}, {}
        with_problems = plan.with_problems
        edited = plan.edited
        if edited is not None:
            self.in_place_edits += 1
        for index in plan.todo:
            offset, line, start = spans[index]
            end = spans[index + 1][0] if index + 1 < len(spans) else len(source)
            placed_at[index] = line
            if start == "lead" and end == base:
                placed[index] = _SKIP
                continue
            block = source[offset:end]
            # Placing is cached too, with the line it was placed at: a block seen before
            # (an edit the comparison could not pin down, a fence added then removed)
            # is found with one lookup and moved, like the blocks after an edit, when
            # the sections are built.
            where = (start, block, place.body_line, prepared.unterminated and end == len(source))
            hit = self._placed.get(where)
            if hit is not None:
                result, placed_at[index] = hit
            else:
                known = self._checked_block(block, start, edited)
                result = place(known, line, offset - base, end - base)
                self._placed[where] = (result, line)
            placed[index] = result
            edited = None  # it was about the first block only
            if result.diagnostics:
                with_problems.append(index)
        with_problems.sort()
        return _Blocks(
            source,
            place.body_line,
            base,
            body_lines,
            prepared.unterminated,
            spans,
            placed,
            placed_at,
            with_problems,
        )

    def _checked_block(self, block: str, start: str, edited: _Edit | None = None) -> Checked:
        key = (start, block)
        known = self._checked.get(key)
        if known is None:
            if len(block) > self.large_block:
                offsets = self._cuts_after(edited, block) if edited is not None else None
                if offsets is None:
                    offsets = cuts(block, _toggles(block, start == "lead"), self.piece_size)
                if len(self._cut_memory) > 64:
                    self._cut_memory = {}
                self._cut_memory[block] = offsets
                try:
                    raw = parse_in_pieces(block, start, offsets, self._piece)
                except Exception:  # a cut the grammar disagrees with: a bug, not the input's
                    raw = parse_raw(block, start)
                    self.block_parses += 1
                    self.piece_failures += 1
            else:
                raw = parse_raw(block, start)
                self.block_parses += 1
            known = check_section(raw, block.count("\n"))
            self._checked[key] = known
        return known

    def _cuts_after(self, edit: _Edit, block: str) -> list[int] | None:
        """The cuts of a large block after an edit that left its structure alone: the old
        cuts, moved past the edit; the piece holding the edit is cut again if it grew."""
        old_cuts = self._cut_memory.get(edit.old_block)
        if old_cuts is None:
            return None
        # A cut at the edited line's own start stays valid (still a line start, outside
        # code); so does every cut before it and, moved, every cut after the edit's line.
        line_start = edit.old_block.rfind("\n", 0, edit.start) + 1
        line_end = edit.old_block.find("\n", edit.old_end)
        before = [cut for cut in old_cuts if cut <= line_start]
        after = [cut + edit.delta for cut in old_cuts if cut > line_end >= 0]
        low = before[-1] if before else 0
        high = after[0] if after else len(block)
        if high - low > 2 * self.piece_size:
            middle = block[low:high]
            toggles = _toggles(middle, False) if low else _toggles(middle, True)
            before += [low + cut for cut in cuts(middle, toggles, self.piece_size)]
        return before + after

    def _piece(self, piece: str, start: str, line: int) -> RawSection:
        """One piece of a large block, parsed (or found) and moved to its line."""
        where = (start, piece, line)
        found = self._pieces.get(where)
        if found is None:
            relative = self._piece_parses.get((start, piece))
            if relative is None:
                relative = self._piece_parses[(start, piece)] = parse_raw(piece, start)
                self.block_parses += 1
            found = self._pieces[where] = shifted(relative, line)
        return found

    def _fresh_blocks(self, body: str, body_lines: int, place: Placer) -> Iterator[Placed]:
        """The block path without reuse across calls (for text with CR line endings)."""
        spans = split_blocks(body)
        for index, (offset, line, start) in enumerate(spans):
            end = spans[index + 1][0] if index + 1 < len(spans) else len(body)
            if start == "lead" and end == 0:
                continue
            yield place(self._checked_block(body[offset:end], start), line, offset, end)

    def _read_yaml(self, yaml_text: str) -> Any:
        if self._frontmatter is None or self._frontmatter[0] != yaml_text:
            self._frontmatter = (yaml_text, read_frontmatter(yaml_text))
        return self._frontmatter[1]


@dataclass(slots=True)
class _Plan:
    """The new text's blocks before parsing: the reused ones filled in, `todo` to parse."""

    spans: list[Span]
    placed: list[Placed]
    placed_at: list[int]
    todo: Sequence[int]
    with_problems: list[int]
    edited: _Edit | None = None
    """When only the first block in `todo` changed, and how (see _reuse_plan)."""
    line_delta: int = 0
    """How many lines the body gained."""


def _known_edit(
    source: str, last: _Blocks, unchanged: tuple[int, int] | None
) -> tuple[int, int] | None:
    """The caller's (prefix, suffix), made safe for both sources."""
    if unchanged is None:
        return None
    prefix, suffix = unchanged
    # Both sources end as their texts do (each got the same LF if it lacked one).
    suffix = min(suffix, len(source) - prefix, len(last.source) - prefix)
    return (prefix, suffix) if prefix >= 0 and suffix >= 0 else None


def _reuse_plan(last: _Blocks, body: str, known: tuple[int, int] | None) -> _Plan | None:
    """The new text's blocks, those the edit did not touch reused; None when the edit
    is in the first block (then the whole body is split again). `body` is the new
    source text; offsets are in it."""
    old = last.source
    if known is None:
        prefix = _common_prefix(old, body)
        suffix = _common_suffix(old, body, min(len(old), len(body)) - prefix)
    else:
        prefix, suffix = known
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
    new_spans: list[Span] = spans[: first + 1]
    placed = [*last.placed[:first], _SKIP]
    placed_at = [*last.placed_at[:first], 0]
    todo = [first]
    kept_problems = [i for i in last.with_problems if i < first]

    def moved_tail(from_index: int, edited: _Edit | None = None) -> _Plan:
        """The plan with the old blocks from `from_index` on, moved by the edit."""
        if delta or line_delta:
            new_spans.extend(
                (offsets[j] + delta, spans[j][1] + line_delta, spans[j][2])
                for j in range(from_index, len(spans))
            )
        else:
            new_spans.extend(spans[from_index:])
        shift = len(placed) - from_index
        placed.extend(last.placed[from_index:])
        placed_at.extend(last.placed_at[from_index:])
        kept_problems.extend(i + shift for i in last.with_problems if i >= from_index)
        return _Plan(new_spans, placed, placed_at, todo, kept_problems, edited, line_delta)

    fences, toggles = _structure_lines(old, prefix, old_edit_end)
    if not fences and _structure_lines(body, prefix, new_edit_end) == (0, toggles):
        # No fence line was edited, made or unmade, and the edited lines hold as many code
        # toggles as before (typing in a "```python" line, say): the code state after them
        # is as before, so are the blocks; the one holding the edit changed, those after
        # it moved.
        start = offsets[first]
        old_end = offsets[first + 1] if first + 1 < len(offsets) else len(old)
        edit = _Edit(old[start:old_end], prefix - start, old_edit_end - start, delta)
        return moved_tail(first + 1, edit)
    # Old spans that start inside the unchanged tail, after its first character.
    next_movable = bisect_right(offsets, old_edit_end, lo=first + 1)
    for offset, line, symbol in _fences(body, spans[first][0], spans[first][1]):
        while next_movable < len(spans) and offsets[next_movable] + delta < offset:
            next_movable += 1
        if next_movable < len(spans) and offsets[next_movable] + delta == offset:
            # From here on the text is the old text moved by `delta`: so are its blocks
            # (their results are moved when the Document is built; see _Blocks).
            return moved_tail(next_movable)
        new_spans.append((offset, line, symbol))
        placed.append(_SKIP)
        placed_at.append(0)
        todo.append(len(new_spans) - 1)
    return _Plan(new_spans, placed, placed_at, todo, kept_problems, None, line_delta)


def _structure_lines(text: str, start: int, end: int) -> tuple[int, int]:
    """(fence candidates, code toggle lines) among the whole lines holding text[start:end]:
    lines starting with `::`, and lines starting with a backtick fence (always toggles)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    if line_end < 0:
        line_end = len(text)
    fences = text.count("\n::", line_start, line_end) + text.startswith("::", line_start)
    toggles = text.count("\n```", line_start, line_end) + text.startswith("```", line_start)
    return fences, toggles


@dataclass(frozen=True, slots=True)
class _Edit:
    """An edit inside one block that left its structure alone, in the old block's terms."""

    old_block: str
    start: int
    old_end: int
    delta: int
    """How much longer the block got."""


def _moved(placed: Placed, lines: int) -> Placed:
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
