"""The document: parse text or bytes into frontmatter, sections and diagnostics."""

from __future__ import annotations

import codecs
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dlmlang.diagnostics import Diagnostic, Fix, diagnostic
from dlmlang.frontmatter import Frontmatter, read_frontmatter, split_frontmatter
from dlmlang.grammar import RawSection, parse_raw
from dlmlang.positions import LINE_END, Position, Range, line_starts
from dlmlang.section_rules import Checked, check_section, section_values
from dlmlang.sections import Section, build_section

BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed (or built) .dlm document. Equality ignores positions and layout."""

    frontmatter: Frontmatter | None
    sections: tuple[Section, ...]
    diagnostics: tuple[Diagnostic, ...] = field(default=(), compare=False)
    newline: str = field(default="\n", compare=False)
    """The file's line-ending style; writers keep it."""
    bom: bool = field(default=False, compare=False)
    frontmatter_source: str | None = field(default=None, compare=False, repr=False)
    """The exact original text up to the body (delimiters and YAML)."""
    body_line: int = field(default=0, compare=False)
    line_count: int = field(default=0, compare=False)

    @property
    def ok(self) -> bool:
        """True when no diagnostic is an error."""
        return not any(d.severity.value == "error" for d in self.diagnostics)

    def content_sections(self) -> tuple[Section, ...]:
        """Sections as DocumentLanguageModel counts them: blank prose dropped."""
        return tuple(s for s in self.sections if not s.is_blank)

    def section(self, section_id: str) -> Section | None:
        """The first section with this id, if any."""
        return next((s for s in self.sections if s.section_id == section_id), None)


@dataclass(frozen=True, slots=True)
class Placed:
    """A checked section at its place in the file: absolute ranges, exact source."""

    section: Section
    diagnostics: tuple[Diagnostic, ...]


BodyParser = Callable[[str, int, "Placer"], Iterator[Placed]]
"""Turns a body (LF, ending in LF) into placed sections, in order."""


def parse(
    text: str,
    *,
    body_parser: BodyParser | None = None,
    read_yaml: Callable[[str], tuple[Frontmatter, list[Diagnostic]]] = read_frontmatter,
) -> Document:
    """Parse decoded text. Never raises; problems come back as diagnostics.

    `body_parser` chooses the body path: None parses the body with the grammar's
    whole-document start symbol; the block path passes its own.
    """
    prepared = prepare(text, read_yaml)
    sections: list[Section] = []
    problems = list(prepared.problems)
    with cyclic_gc_paused():
        if body_parser is None:
            _whole_body_into(prepared, sections, problems)
        else:
            for placed in body_parser(prepared.body, prepared.body_lines, prepared.placer):
                sections.append(placed.section)
                problems.extend(placed.diagnostics)
    return assemble(prepared, sections, problems)


def _whole_body_into(
    prepared: Prepared, sections: list[Section], problems: list[Diagnostic]
) -> None:
    """`whole_body`, each section checked and placed in one step: no intermediate
    `Checked` or `Placed` (the reference path's sections, as `whole_body` places them)."""
    body, place = prepared.body, prepared.placer
    if not body:
        return
    raws: list[RawSection] = parse_raw(body, "body")
    text, starts, shift, base = place.text, place.starts, place.body_line, place.body_offset
    count, new = len(raws), tuple.__new__
    # Range and Position are named tuples: built without their __new__. A section
    # starts where the one before it ends: the two share that Position.
    start: Position = new(Position, (raws[0].line + shift, 0))
    for index, raw in enumerate(raws):
        last = index + 1 == count
        start_line = raw.line + shift
        end_line = (prepared.body_lines if last else raws[index + 1].line) + shift
        end_offset = len(body) if last else raws[index + 1].offset
        if starts is None:
            source = text[base + raw.offset : base + end_offset]
        else:
            begin = starts[start_line] if start_line < len(starts) else len(text)
            source = text[begin : starts[end_line] if end_line < len(starts) else len(text)]
        values, found = section_values(raw, body, end_offset)
        end = new(Position, (end_line, 0))
        where = new(Range, (start, end))
        start = end
        sections.append(build_section(*values, where, source, raw.fence is not None))
        if found:
            problems.extend([d.shifted(shift) for d in found])


@dataclass(frozen=True, slots=True)
class Prepared:
    """A text read up to its body: the frontmatter done, the body ready for a body path."""

    text: str
    """The text without its BOM."""
    bom: bool
    frontmatter: Frontmatter | None
    problems: tuple[Diagnostic, ...]
    """The frontmatter's diagnostics."""
    body: str
    """The body with LF endings, ending in LF (unless empty)."""
    body_lines: int
    body_offset: int
    """Where the body starts in `text` (meaningful when `text` has LF endings)."""
    unterminated: bool
    """The text does not end with a line ending (the body got one added)."""
    placer: Placer


def prepare(
    text: str,
    read_yaml: Callable[[str], tuple[Frontmatter, list[Diagnostic]]] = read_frontmatter,
    *,
    cut_body: bool = True,
    line_feeds_only: bool = False,
) -> Prepared:
    """Strip the BOM, normalise line endings, read the frontmatter, cut out the body.

    With `cut_body` False the body is left in the text (`body` is empty and
    `body_lines` -1): a caller working on the text at `body_offset` saves the copy.
    `line_feeds_only` says the caller knows the text has no CR, saving the scan.
    """
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    has_cr = not line_feeds_only and "\r" in text
    normal = text.replace("\r\n", "\n").replace("\r", "\n") if has_cr else text
    split = split_frontmatter(normal)
    problems: list[Diagnostic] = list(split.diagnostics)
    frontmatter: Frontmatter | None = None
    if split.yaml_text is not None:
        frontmatter, found = read_yaml(split.yaml_text)
        problems.extend(found)
    unterminated = len(normal) > split.body_offset and not normal.endswith("\n")
    body, body_lines = "", -1
    if cut_body:
        body = normal[split.body_offset :] + ("\n" if unterminated else "")
        body_lines = body.count("\n")
    starts = line_starts(text) if normal is not text else None
    return Prepared(
        text,
        bom,
        frontmatter,
        tuple(problems),
        body,
        body_lines,
        split.body_offset,
        unterminated,
        Placer(text, split.body_line, split.body_offset, starts),
    )


def assemble(
    prepared: Prepared,
    sections: list[Section],
    problems: list[Diagnostic],
    body_lines: int | None = None,
) -> Document:
    """The Document of a prepared text, its body's sections and every diagnostic
    (`body_lines` when the body was left uncut)."""
    text, placer = prepared.text, prepared.placer
    if placer.starts is not None:
        starts = placer.starts
        fm_end = starts[placer.body_line] if placer.body_line < len(starts) else len(text)
    else:
        fm_end = placer.body_offset
    newline = _newline_style(text)
    if newline != "\n":
        problems = [_with_newline(p, newline) if p.fixes else p for p in problems]
    return Document(
        frontmatter=prepared.frontmatter,
        sections=tuple(sections),
        diagnostics=sort_diagnostics(problems),
        newline=newline,
        bom=prepared.bom,
        frontmatter_source=text[:fm_end],
        body_line=placer.body_line,
        line_count=placer.body_line + (prepared.body_lines if body_lines is None else body_lines),
    )


def sort_diagnostics(problems: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    """Diagnostics in document order (line, character, code); stable otherwise."""
    return tuple(sorted(problems, key=_diagnostic_order))


def parse_bytes(data: bytes) -> Document:
    """Parse raw file bytes; invalid UTF-8 is a DLM001 error at its byte offset."""
    try:
        return parse(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        text = data.decode("utf-8", errors="replace")
        document = parse(text)
        before = codecs.decode(data[: error.start], "utf-8", errors="replace")
        before = before.removeprefix(BOM)
        starts = line_starts(before)
        line, column = len(starts) - 1, len(before) - starts[-1]
        problem = diagnostic(
            "DLM001",
            f"The file is not valid UTF-8 at byte {error.start} ({error.reason}); "
            "re-save it as UTF-8.",
            Range.on_line(line, column, column + 1),
        )
        return Document(
            document.frontmatter,
            document.sections,
            (problem, *document.diagnostics),
            document.newline,
            document.bom,
            document.frontmatter_source,
            document.body_line,
            document.line_count,
        )


def parse_section_text(text: str) -> Section | None:
    """One section from its text as dlm writes it (fence first, see `render_section`).

    Used to rebuild sections kept outside a document (replay, staged plans).
    Returns None unless the text is exactly one valid prose, instruction or
    preference section.
    """
    normal = text.replace("\r\n", "\n").replace("\r", "\n")
    if not normal.endswith("\n"):
        normal += "\n"
    try:
        raws: list[RawSection] = parse_raw(normal, "body")
    except Exception:  # text that is not a body at all
        return None
    if len(raws) != 1 or raws[0].fence is None:
        return None
    result = check_section(raws[0], normal.count("\n"))
    if any(d.severity.value == "error" for d in result.diagnostics):
        return None
    end = Position(result.end_line, 0)
    return Section(*result.parts, Range(Position(0, 0), end), text, result.fenced)


def whole_body(body: str, body_lines: int, place: Placer) -> Iterator[Placed]:
    """The reference path: one parse of the whole body from the `body` start symbol."""
    raws: list[RawSection] = parse_raw(body, "body") if body else []
    for index, raw in enumerate(raws):
        last = index + 1 == len(raws)
        end_line = body_lines if last else raws[index + 1].line
        end_offset = len(body) if last else raws[index + 1].offset
        yield place(check_section(raw, end_line), 0, raw.offset, end_offset)


@dataclass(frozen=True, slots=True)
class Placer:
    """Puts a checked section (relative lines) at its place in one file's text."""

    text: str
    body_line: int
    body_offset: int
    starts: list[int] | None
    """Line starts of the original text when it has CR line endings, else None."""

    def __call__(self, result: Checked, line: int, start: int, end: int) -> Placed:
        """Place `result`, found at body-relative `line` and body offsets start:end."""
        shift = self.body_line + line
        start_line = result.start_line + shift
        end_line = result.end_line + shift
        text, starts = self.text, self.starts
        if starts is None:
            source = text[self.body_offset + start : self.body_offset + end]
        else:
            begin = starts[start_line] if start_line < len(starts) else len(text)
            source = text[begin : starts[end_line] if end_line < len(starts) else len(text)]
        new = tuple.__new__  # Range and Position are named tuples: built without their __new__
        where = new(Range, (new(Position, (start_line, 0)), new(Position, (end_line, 0))))
        placed = build_section(*result.parts, where, source, result.fenced)
        problems = result.diagnostics
        return Placed(placed, tuple(d.shifted(shift) for d in problems) if problems else ())


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cycle collector: parsing allocates many objects and no cycles, and
    the collections it would trigger cost about a tenth of a cold parse."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _with_newline(problem: Diagnostic, newline: str) -> Diagnostic:
    fixes = tuple(Fix(f.title, f.range, f.new_text.replace("\n", newline)) for f in problem.fixes)
    return Diagnostic(problem.code, problem.severity, problem.message, problem.range, fixes)


def _diagnostic_order(problem: Diagnostic) -> tuple[int, int, str]:
    return (problem.range.start.line, problem.range.start.character, problem.code)


def _newline_style(text: str) -> str:
    match = LINE_END.search(text)
    return match.group(0) if match else "\n"
