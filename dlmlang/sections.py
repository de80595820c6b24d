"""Sections: the model, their identity, and the rules checked on what the grammar found."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from dlmlang.diagnostics import Diagnostic, Fix, diagnostic
from dlmlang.grammar import Field, Item, RawSection, malformed_marker_span
from dlmlang.marker import Marker, check_marker
from dlmlang.positions import Range
from dlmlang.suggest import closest

SECTION_TYPES = ("prose", "instruction", "preference")
_ADAPTER = re.compile(r"[a-z][a-z0-9_]{0,31}")


class SectionKind(StrEnum):
    """What a section is. MEDIA and INVALID sections are kept but never trained."""

    PROSE = "prose"
    INSTRUCTION = "instruction"
    PREFERENCE = "preference"
    MEDIA = "media"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class QAPair:
    """One `### Q` / `### A` pair; bodies without surrounding blank lines."""

    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class PreferenceTriple:
    """One `### Prompt` / `### Chosen` / `### Rejected` triple."""

    prompt: str
    chosen: str
    rejected: str


@dataclass(frozen=True, slots=True)
class Section:
    """One section. Equality compares what it says, never where it stands."""

    kind: SectionKind
    content: str
    """The body as DocumentLanguageModel reads it: lines after the fence (and
    marker) up to the next fence, LF endings, escapes removed, last LF dropped."""
    adapter: str | None = None
    marker: Marker | None = None
    pairs: tuple[QAPair, ...] = ()
    triples: tuple[PreferenceTriple, ...] = ()
    type_name: str = field(default="", compare=False)
    """The type as written in the fence (differs from `kind` for invalid ones)."""
    range: Range = field(default=Range.on_line(0, 0, 0), compare=False)
    """Whole lines, from the fence (or first prose line) to the next section."""
    source: str | None = field(default=None, compare=False, repr=False)
    """The exact original text of the section, when it was parsed."""
    fenced: bool = field(default=True, compare=False)

    @property
    def auto_mined(self) -> bool:
        """True for a section written by `dlm preference mine`."""
        return self.marker is not None

    @property
    def section_id(self) -> str:
        """16 hex chars of sha256(type + "\\n" + content) (docs/format.md, "Section identity")."""
        name = self.kind.value if self.kind is not SectionKind.INVALID else self.type_name
        digest = hashlib.sha256(f"{name}\n{self.content}".encode("utf-8", "surrogatepass"))
        return digest.hexdigest()[:16]

    @property
    def is_blank(self) -> bool:
        """A prose section with nothing but whitespace (not a section to DLM)."""
        return self.kind is SectionKind.PROSE and not self.content.strip()


class SectionParts(NamedTuple):
    """A section's fields up to `type_name`; the place in the file comes later."""

    kind: SectionKind
    content: str
    adapter: str | None
    marker: Marker | None
    pairs: tuple[QAPair, ...]
    triples: tuple[PreferenceTriple, ...]
    type_name: str


@dataclass(slots=True)
class Checked:
    """A raw section checked: its parts and what was wrong with it (relative lines)."""

    parts: SectionParts
    fenced: bool
    diagnostics: list[Diagnostic]
    start_line: int
    """Relative line of its fence (or first prose line)."""
    end_line: int
    """Relative line after the section's last line."""


def check_section(raw: RawSection, end_line: int) -> Checked:
    """Check one raw section (relative lines) against docs/format.md: fences, bodies,
    escaping and the marker."""
    problems: list[Diagnostic] = []
    kind, type_name, adapter = _check_fence(raw, problems)
    marker: Marker | None = None
    items = raw.items
    marker_item: Item | None = None
    if kind is SectionKind.PREFERENCE and items and items[0].kind == "marker":
        marker_item = items[0]
        items = items[1:]
    if marker_item is not None:
        marker = _check_marker_item(marker_item, problems)
    for item in _all_items(items, raw.fields):
        if item.kind != "text":  # plain text runs have nothing to check
            _check_item(item, kind, problems)
    pairs: tuple[QAPair, ...] = ()
    triples: tuple[PreferenceTriple, ...] = ()
    if kind is SectionKind.INSTRUCTION:
        pairs = _check_instruction(raw, items, problems)
    elif kind is SectionKind.PREFERENCE:
        triples = _check_preference(raw, items, problems)
    else:
        # Headers only exist in instruction and preference grammars.
        assert not raw.fields
    content = _content(items, raw.fields)
    parts = SectionParts(kind, content, adapter, marker, pairs, triples, type_name)
    return Checked(parts, raw.fence is not None, problems, raw.line, end_line)


def _all_items(items: list[Item], fields: list[Field]) -> list[Item]:
    every = list(items)
    for f in fields:
        every.extend(f.items)
    return every


def _content(items: list[Item], fields: list[Field]) -> str:
    parts = [item.text for item in items]
    for f in fields:
        parts.append(f.raw)
        parts.extend(item.text for item in f.items)
    text = "".join(parts)
    return text[:-1] if text.endswith("\n") else text


def _check_fence(
    raw: RawSection, problems: list[Diagnostic]
) -> tuple[SectionKind, str, str | None]:
    if raw.fence is None:
        return SectionKind.PROSE, "prose", None
    name = raw.fence[2:-2]
    if raw.kind == "media":
        problems.append(
            diagnostic(
                "DLM032",
                "Image and audio sections are DocumentLanguageModel features that dlm does "
                "not train on; this section is skipped.",
                _fence_range(raw),
            )
        )
        return SectionKind.MEDIA, name.split()[0], None
    base, _, suffix = name.partition("#")
    if raw.kind == "unknown" and not base:
        problems.append(
            diagnostic(
                "DLM030",
                f"A fence needs a section type before `#`: write `::instruction{name}::` "
                f"(or prose, preference).",
                _fence_range(raw),
            )
        )
        return SectionKind.INVALID, name, None
    if raw.kind == "unknown":
        match = closest(base, SECTION_TYPES)
        fixes: tuple[Fix, ...] = ()
        hint = ""
        if match is not None:
            fixed = f"::{match}{name[len(base) :]}::"
            fixes = (Fix(f"Change to `{fixed}`", _fence_range(raw), fixed),)
            hint = f" Did you mean `{fixed}`?"
        problems.append(
            diagnostic(
                "DLM030",
                f"Unknown section type `{base}` (types are case-sensitive: "
                f"{', '.join(SECTION_TYPES)}).{hint}",
                _fence_range(raw),
                *fixes,
            )
        )
        return SectionKind.INVALID, name, None
    adapter: str | None = None
    if "#" in name:
        suffix_range = Range.on_line(raw.line, 2 + len(base), 2 + len(name))
        if _ADAPTER.fullmatch(suffix):
            adapter = suffix
        else:
            what = "is empty" if not suffix else f"`{suffix}` is not valid"
            problems.append(
                diagnostic(
                    "DLM031",
                    f"The adapter name after `#` {what}: use 1-32 characters of lowercase "
                    "letters, digits and `_`, starting with a letter (e.g. `::"
                    f"{base}#tone::`), or drop the suffix.",
                    suffix_range,
                )
            )
    return SectionKind(base), base, adapter


def _fence_range(raw: RawSection) -> Range:
    return Range.on_line(raw.line, 0, len(raw.fence or ""))


def _check_marker_item(item: Item, problems: list[Diagnostic]) -> Marker | None:
    line_range = Range.on_line(item.line, 0, len(item.text) - 1)
    if item.attributes is None:
        start, end = malformed_marker_span(item.text[:-1])
        problems.append(
            diagnostic(
                "DLM060",
                "The auto-mined marker is malformed here: write it as `<!-- dlm-auto-mined: "
                'judge_name="..." judge_score_chosen="..." judge_score_rejected="..." '
                'mined_at="..." mined_run_id="..." -->`, lowercase names, values in double '
                "quotes.",
                Range.on_line(item.line, start, end),
            )
        )
        return None
    marker, found = check_marker(item.attributes, line_range)
    problems.extend(found)
    return marker


def _check_item(item: Item, kind: SectionKind, problems: list[Diagnostic]) -> None:
    if item.kind == "code" and item.unclosed:
        problems.append(
            diagnostic(
                "DLM034",
                "This code block is never closed, so everything after it is code: add a "
                "closing ``` line (or escape this one as \\```).",
                Range.on_line(item.line, 0, len(item.text.split("\n", 1)[0])),
            )
        )
    elif item.kind == "marker":
        where = Range.on_line(item.line, 0, len(item.text) - 1)
        if kind is SectionKind.PREFERENCE:
            problems.append(
                diagnostic(
                    "DLM068",
                    "An auto-mined marker must be the first line after the `::preference::` "
                    "fence; move it there, or escape it with a leading `\\` to keep it as text.",
                    where,
                )
            )
        else:
            problems.append(
                diagnostic(
                    "DLM067",
                    "The auto-mined marker belongs only on `::preference::` sections; "
                    "remove it, or escape it with a leading `\\` to keep it as text.",
                    where,
                )
            )
    elif item.kind == "fence_like":
        _fence_like(item, problems)
    elif item.kind == "inline_header":
        line = item.text[:-1]
        stripped = line.strip()
        header, _, rest = stripped.partition(" ")
        name, _, rest = rest.partition(" ")
        fixed = f"{header} {name}\n{rest.strip()}"
        problems.append(
            diagnostic(
                "DLM045",
                f"`{header} {name}` must stand alone on its line; this line is read as text. "
                "Put the text on the next line.",
                Range.on_line(item.line, 0, len(line)),
                Fix(
                    f"Move the text under `{header} {name}`",
                    Range.on_line(item.line, 0, len(line)),
                    fixed,
                ),
            )
        )


def _fence_like(item: Item, problems: list[Diagnostic]) -> None:
    line = item.text[:-1]
    name = "".join(line.strip()[2:-2].split())
    where = Range.on_line(item.line, 0, len(line))
    base, hash_sign, suffix = name.partition("#")
    known = base if base in SECTION_TYPES else closest(base, SECTION_TYPES)
    fixes: tuple[Fix, ...] = ()
    if known is not None:
        fence = f"::{known}{hash_sign}{suffix}::"
        fixes = (Fix(f"Make it the fence `{fence}`", where, fence),)
    problems.append(
        diagnostic(
            "DLM033",
            f"This line looks like a fence but is read as text: a fence is exactly "
            f"`::{name}::` alone on its line, with no spaces.",
            where,
            *fixes,
        )
    )


def field_body(items: list[Item]) -> str:
    """A field's body: its text without surrounding blank lines or the last LF."""
    text = items[0].text if len(items) == 1 else "".join(item.text for item in items)
    stripped = text.rstrip()
    if not stripped:
        return ""
    first = len(text) - len(text.lstrip())
    begin = text.rfind("\n", 0, first) + 1
    end = text.find("\n", len(stripped))
    return text[begin : end if end >= 0 else len(text)]


def _first_text_line(items: list[Item]) -> Item | None:
    for item in items:
        # A misplaced marker has a diagnostic of its own.
        if item.kind != "marker" and item.text.strip():
            return item
    return None


def _check_instruction(
    raw: RawSection, items: list[Item], problems: list[Diagnostic]
) -> tuple[QAPair, ...]:
    stray = _first_text_line(items)
    if stray is not None:
        offset = next(i for i, ln in enumerate(stray.text.split("\n")) if ln.strip())
        line = stray.line + offset
        problems.append(
            diagnostic(
                "DLM041",
                "Text before the first `### Q` of an instruction section: start it with a "
                "`### Q` line, or move this text into a `::prose::` section.",
                Range.on_line(line, 0, len(stray.text.split("\n")[offset])),
            )
        )
    pairs: list[QAPair] = []
    question: Field | None = None
    for f in raw.fields:
        if f.header == "Q":
            if question is not None:
                problems.append(_unanswered(question))
            question = f
            _check_nonempty(f, problems, "DLM044")
        elif question is None:
            problems.append(
                diagnostic(
                    "DLM043",
                    "`### A` without a `### Q` before it: add the question above it.",
                    _header_range(f),
                )
            )
        else:
            _check_nonempty(f, problems, "DLM044")
            pairs.append(QAPair(field_body(question.items), field_body(f.items)))
            question = None
    if question is not None:
        problems.append(_unanswered(question))
    if not raw.fields and stray is None:
        problems.append(
            diagnostic(
                "DLM040",
                "This instruction section has no `### Q` / `### A` pair: add one (a `### Q` "
                "line, the question, a `### A` line, the answer) or remove the fence.",
                _fence_range(raw),
            )
        )
    return tuple(pairs)


def _unanswered(question: Field) -> Diagnostic:
    return diagnostic(
        "DLM042",
        "`### Q` without a `### A` after it: add a `### A` line and the answer below the question.",
        _header_range(question),
    )


_NEXT = {"Prompt": "Chosen", "Chosen": "Rejected", "Rejected": "Prompt"}


def _check_preference(
    raw: RawSection, items: list[Item], problems: list[Diagnostic]
) -> tuple[PreferenceTriple, ...]:
    stray = _first_text_line(items)
    if stray is not None:
        offset = next(i for i, ln in enumerate(stray.text.split("\n")) if ln.strip())
        problems.append(
            diagnostic(
                "DLM051",
                "Text before the first `### Prompt` of a preference section: start it with "
                "`### Prompt`, or move this text into a `::prose::` section.",
                Range.on_line(stray.line + offset, 0, len(stray.text.split("\n")[offset])),
            )
        )
    triples: list[PreferenceTriple] = []
    current: list[Field] = []
    expected = "Prompt"
    for f in raw.fields:
        if f.header == expected:
            current.append(f)
            _check_nonempty(f, problems, "DLM054")
            if f.header == "Rejected":
                p, c, r = (field_body(x.items) for x in current)
                triples.append(PreferenceTriple(p, c, r))
                current = []
            expected = _NEXT[f.header]
            continue
        if f.header == "Prompt":
            problems.append(_incomplete(current[0]))
            current = [f]
            _check_nonempty(f, problems, "DLM054")
            expected = "Chosen"
            continue
        problems.append(
            diagnostic(
                "DLM052",
                f"`### {f.header}` is out of order: expected `### {expected}` here (each "
                "triple is `### Prompt`, `### Chosen`, `### Rejected`).",
                _header_range(f),
            )
        )
        current = []
        expected = "Prompt"
    if current:
        problems.append(_incomplete(current[0]))
    if not raw.fields and stray is None:
        problems.append(
            diagnostic(
                "DLM050",
                "This preference section has no triple: add `### Prompt`, `### Chosen` and "
                "`### Rejected` lines, each followed by its text, or remove the fence.",
                _fence_range(raw),
            )
        )
    return tuple(triples)


def _incomplete(prompt: Field) -> Diagnostic:
    return diagnostic(
        "DLM053",
        "This triple is incomplete: a `### Prompt` needs a `### Chosen` and then a "
        "`### Rejected` after it.",
        _header_range(prompt),
    )


def _check_nonempty(f: Field, problems: list[Diagnostic], code: str) -> None:
    if not any(item.text.strip() for item in f.items):
        problems.append(
            diagnostic(
                code,
                f"`### {f.header}` has no text: write it on the lines below the header.",
                _header_range(f),
            )
        )


def _header_range(f: Field) -> Range:
    return Range.on_line(f.line, 0, len(f.raw) - 1)
