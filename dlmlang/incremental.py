"""The block path: split a body at its fences and parse each block from its own
start symbol, reusing the result of any block whose text has not changed.

The fence and code-toggle patterns come from the grammar's own terminals, so
the split agrees with the whole-document parse (a property test checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from dlmlang.block_reuse import SKIP, BlockEdit, Blocks, ReusePlan, known_edit, reuse_plan
from dlmlang.blocks import code_toggles, split_at, split_blocks
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
from dlmlang.grammar import RawSection, parse_raw
from dlmlang.pieces import LARGE, PIECE, cuts, parse_in_pieces, shifted
from dlmlang.section_rules import Checked, check_section


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
        self._last: Blocks | None = None
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
        last: Blocks | None,
        unchanged: tuple[int, int] | None,
    ) -> Blocks:
        """This text's blocks: reused from `last` around the edit, the rest parsed."""
        place, base = prepared.placer, prepared.body_offset
        plan = None
        if (
            last is not None
            and last.body_line == place.body_line
            and last.body_offset == base
            and last.unterminated == prepared.unterminated
        ):
            plan = reuse_plan(last, source, known_edit(source, last, unchanged))
        if plan is None:
            spans = split_at(source, base)
            plan = ReusePlan(spans, [SKIP] * len(spans), [0] * len(spans), range(len(spans)), [])
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
                placed[index] = SKIP
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
        return Blocks(
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

    def _checked_block(self, block: str, start: str, edited: BlockEdit | None = None) -> Checked:
        key = (start, block)
        known = self._checked.get(key)
        if known is None:
            if len(block) > self.large_block:
                offsets = self._cuts_after(edited, block) if edited is not None else None
                if offsets is None:
                    offsets = cuts(block, code_toggles(block, start == "lead"), self.piece_size)
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

    def _cuts_after(self, edit: BlockEdit, block: str) -> list[int] | None:
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
            toggles = code_toggles(middle, False) if low else code_toggles(middle, True)
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


def parse_blocks(text: str) -> Document:
    """Parse through the block path without keeping a cache."""
    return IncrementalParser().parse(text)
