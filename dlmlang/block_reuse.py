"""Which blocks of the last parse an edit left alone: the per-block results kept between
parses, and the plan of what to parse again (the rest is reused, moved by the edit)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from dlmlang.blocks import Span, fences_after
from dlmlang.diagnostics import Diagnostic
from dlmlang.document import Placed
from dlmlang.sections import Section

SKIP = Placed.__new__(Placed)
"""In the per-block results: a block that yields nothing (an empty lead)."""


@dataclass(slots=True)
class Blocks:
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
            if result is SKIP:
                continue
            line = spans[index][1]
            if placed_at[index] != line:
                result = placed[index] = moved(result, line - placed_at[index])
                placed_at[index] = line
            sections.append(result.section)
        return sections


@dataclass(slots=True)
class ReusePlan:
    """The new text's blocks before parsing: the reused ones filled in, `todo` to parse."""

    spans: list[Span]
    placed: list[Placed]
    placed_at: list[int]
    todo: Sequence[int]
    with_problems: list[int]
    edited: BlockEdit | None = None
    """When only the first block in `todo` changed, and how (see reuse_plan)."""
    line_delta: int = 0
    """How many lines the body gained."""


def known_edit(
    source: str, last: Blocks, unchanged: tuple[int, int] | None
) -> tuple[int, int] | None:
    """The caller's (prefix, suffix), made safe for both sources."""
    if unchanged is None:
        return None
    prefix, suffix = unchanged
    # Both sources end as their texts do (each got the same LF if it lacked one).
    suffix = min(suffix, len(source) - prefix, len(last.source) - prefix)
    return (prefix, suffix) if prefix >= 0 and suffix >= 0 else None


def reuse_plan(last: Blocks, body: str, known: tuple[int, int] | None) -> ReusePlan | None:
    """The new text's blocks, those the edit did not touch reused; None when the edit
    is in the first block (then the whole body is split again). `body` is the new
    source text; offsets are in it."""
    old = last.source
    if known is None:
        prefix = common_prefix(old, body)
        suffix = common_suffix(old, body, min(len(old), len(body)) - prefix)
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
    placed = [*last.placed[:first], SKIP]
    placed_at = [*last.placed_at[:first], 0]
    todo = [first]
    kept_problems = [i for i in last.with_problems if i < first]

    def moved_tail(from_index: int, edited: BlockEdit | None = None) -> ReusePlan:
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
        return ReusePlan(new_spans, placed, placed_at, todo, kept_problems, edited, line_delta)

    fences, toggles = structure_lines(old, prefix, old_edit_end)
    if not fences and structure_lines(body, prefix, new_edit_end) == (0, toggles):
        # No fence line was edited, made or unmade, and the edited lines hold as many code
        # toggles as before (typing in a "```python" line, say): the code state after them
        # is as before, so are the blocks; the one holding the edit changed, those after
        # it moved.
        start = offsets[first]
        old_end = offsets[first + 1] if first + 1 < len(offsets) else len(old)
        edit = BlockEdit(old[start:old_end], prefix - start, old_edit_end - start, delta)
        return moved_tail(first + 1, edit)
    # Old spans that start inside the unchanged tail, after its first character.
    next_movable = bisect_right(offsets, old_edit_end, lo=first + 1)
    for offset, line, symbol in fences_after(body, spans[first][0], spans[first][1]):
        while next_movable < len(spans) and offsets[next_movable] + delta < offset:
            next_movable += 1
        if next_movable < len(spans) and offsets[next_movable] + delta == offset:
            # From here on the text is the old text moved by `delta`: so are its blocks
            # (their results are moved when the Document is built; see Blocks).
            return moved_tail(next_movable)
        new_spans.append((offset, line, symbol))
        placed.append(SKIP)
        placed_at.append(0)
        todo.append(len(new_spans) - 1)
    return ReusePlan(new_spans, placed, placed_at, todo, kept_problems, None, line_delta)


def structure_lines(text: str, start: int, end: int) -> tuple[int, int]:
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
class BlockEdit:
    """An edit inside one block that left its structure alone, in the old block's terms."""

    old_block: str
    start: int
    old_end: int
    delta: int
    """How much longer the block got."""


def moved(placed: Placed, lines: int) -> Placed:
    section = replace(placed.section, range=placed.section.range.shifted(lines))
    return Placed(section, tuple(d.shifted(lines) for d in placed.diagnostics))


def common_prefix(old: str, new: str) -> int:
    """Length of the longest common prefix (C-speed comparisons, binary search)."""
    low, high = 0, min(len(old), len(new))
    while low < high:
        middle = (low + high + 1) // 2
        if old[low:middle] == new[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def common_suffix(old: str, new: str, limit: int) -> int:
    """Length of the longest common suffix, at most `limit`."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if old[len(old) - middle : len(old) - low] == new[len(new) - middle : len(new) - low]:
            low = middle
        else:
            high = middle - 1
    return low
