"""The rules checked on each section the grammar found: fences, bodies, escapes, the marker
(docs/format.md); the result is a section's parts with its diagnostics."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from dlmlang.diagnostics import Diagnostic, Fix, diagnostic
from dlmlang.grammar import Field, Item, RawSection, malformed_marker_span, marker_values
from dlmlang.marker import Marker, check_marker, valid_marker
from dlmlang.positions import Range
from dlmlang.provenance import HarvestMarker, SynthMarker, check_harvest, check_synth, marker_kind
from dlmlang.section_bodies import check_instruction, check_preference, fence_range
from dlmlang.sections import SECTION_TYPES, PreferenceTriple, QAPair, SectionKind
from dlmlang.suggest import closest

_ADAPTER = re.compile(r"[a-z][a-z0-9_]{0,31}")


class SectionParts(NamedTuple):
    """A section's fields up to `type_name`; the place in the file comes later."""

    kind: SectionKind
    content: str
    adapter: str | None
    marker: Marker | None
    pairs: tuple[QAPair, ...]
    triples: tuple[PreferenceTriple, ...]
    type_name: str
    synth: SynthMarker | None
    harvest: HarvestMarker | None


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
    values, problems = section_values(raw)
    parts = _new_tuple(SectionParts, values)  # SectionParts(*values), without its __new__
    return Checked(parts, raw.fence is not None, problems, raw.line, end_line)


def section_values(
    raw: RawSection, body: str | None = None, end: int = 0
) -> tuple[tuple[object, ...], list[Diagnostic]]:
    """`check_section`'s work: the `SectionParts` values of one raw section, in order,
    and its diagnostics (relative lines), with no object in between. Given the parsed
    `body` and the offset where the section `end`s in it, the content is cut from it
    when nothing in it is escaped, rather than joined from its items."""
    problems: list[Diagnostic] = []
    known = _PLAIN_FENCES.get(raw.fence)
    if known is None:
        kind, type_name, adapter = _check_fence(raw, problems)
        if not problems and raw.kind != "unknown" and len(_PLAIN_FENCES) < 4096:
            _PLAIN_FENCES[raw.fence] = (kind, type_name, adapter)
    else:
        kind, type_name, adapter = known
    items = raw.items
    lead = 0
    if items and items[0].kind == "marker" and kind in _TAKES:
        lead = _marker_block(items, kind)
    markers = _NO_MARKERS
    if lead:
        markers = _Markers()
        for item in items[:lead]:
            _check_leading_marker(item, markers, problems)
        items = items[lead:]
    for item in items:
        if item.kind != "text":  # plain text runs have nothing to check
            _check_item(item, kind, problems)
    for f in raw.fields:
        for item in f.items:
            if item.kind != "text":
                _check_item(item, kind, problems)
    pairs: tuple[QAPair, ...] = ()
    triples: tuple[PreferenceTriple, ...] = ()
    if kind is _INSTRUCTION:
        pairs = check_instruction(raw, items, problems)
    elif kind is _PREFERENCE:
        triples = check_preference(raw, items, problems)
    else:
        # Headers only exist in instruction and preference grammars.
        assert not raw.fields
    content = None
    if body is not None:
        # Without a backslash nothing is escaped: the items and fields, in order, are
        # exactly the text after the fence and the leading markers.
        start = raw.offset if raw.fence is None else raw.offset + len(raw.fence) + 1
        for index in range(lead):
            start += len(raw.items[index].text)
        if body.find("\\", start, end) < 0:
            content = body[start : end - 1 if body[end - 1 : end] == "\n" else end]
    if content is None:
        content = _content(items, raw.fields)
    values = (
        kind,
        content,
        adapter,
        markers.mined,
        pairs,
        triples,
        type_name,
        markers.synth,
        markers.harvest,
    )
    return values, problems


_new_tuple = tuple.__new__
_INSTRUCTION, _PREFERENCE = SectionKind.INSTRUCTION, SectionKind.PREFERENCE

_PLAIN_FENCES: dict[str | None, tuple[SectionKind, str, str | None]] = {}
"""What `_check_fence` found for a fence line without a problem (fences repeat)."""


@dataclass(slots=True)
class _Markers:
    """The markers read from the lines right after a fence (the last of a kind wins)."""

    mined: Marker | None = None
    synth: SynthMarker | None = None
    harvest: HarvestMarker | None = None


_NO_MARKERS = _Markers()  # shared, never written: sections without leading markers


_TAKES = {
    SectionKind.INSTRUCTION: ("synth", "harvest"),
    SectionKind.PREFERENCE: ("mined", "harvest"),
}


def _marker_block(items: list[Item], kind: SectionKind) -> int:
    """How many items right after the fence are markers this kind of section takes (left
    out of the content, in any order); the first other line ends them."""
    takes = _TAKES[kind]
    count = 0
    while (
        count < len(items)
        and items[count].kind == "marker"
        and marker_kind(items[count].text) in takes
    ):
        count += 1
    return count


def _check_leading_marker(item: Item, markers: _Markers, problems: list[Diagnostic]) -> None:
    if marker_kind(item.text) == "mined":
        markers.mined = _check_marker_item(item, problems)
        return
    found = _check_provenance(item, problems)
    if isinstance(found, SynthMarker):
        markers.synth = found
    elif isinstance(found, HarvestMarker):
        markers.harvest = found


def _check_provenance(item: Item, problems: list[Diagnostic]) -> SynthMarker | HarvestMarker | None:
    """Check a synthesis or harvest marker line; the marker when it is valid."""
    line = item.text[:-1]
    line_range = Range.on_line(item.line, 0, len(line))
    which = marker_kind(line)
    if item.attributes is None:
        start, end = malformed_marker_span(line)
        fields = 'synth_teacher="..." synth_strategy="..." synth_at="..." source_section_id="..."'
        form = fields if which == "synth" else 'source="..."'
        problems.append(
            diagnostic(
                "DLM070",
                f"The {_NAMES[which]} marker is malformed here: write it as "
                f"`<!-- dlm-auto-{which}: {form} -->`, lowercase names, values in double quotes.",
                Range.on_line(item.line, start, end),
            )
        )
        return None
    check = check_synth if which == "synth" else check_harvest
    marker, found = check(item.attributes, line, line_range)
    problems.extend(found)
    return marker


_NAMES = {"mined": "auto-mined", "synth": "synthesis", "harvest": "harvest"}


def _content(items: list[Item], fields: list[Field]) -> str:
    parts = [item.text for item in items]
    for f in fields:
        parts.append(f.raw)
        parts.extend([item.text for item in f.items])
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
                fence_range(raw),
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
                fence_range(raw),
            )
        )
        return SectionKind.INVALID, name, None
    if raw.kind == "unknown":
        match = closest(base, SECTION_TYPES)
        fixes: tuple[Fix, ...] = ()
        hint = ""
        if match is not None:
            fixed = f"::{match}{name[len(base) :]}::"
            fixes = (Fix(f"Change to `{fixed}`", fence_range(raw), fixed),)
            hint = f" Did you mean `{fixed}`?"
        problems.append(
            diagnostic(
                "DLM030",
                f"Unknown section type `{base}` (types are case-sensitive: "
                f"{', '.join(SECTION_TYPES)}).{hint}",
                fence_range(raw),
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
    return _KINDS[base], base, adapter


_KINDS = {kind.value: kind for kind in SectionKind}


def _check_marker_item(item: Item, problems: list[Diagnostic]) -> Marker | None:
    if item.given is not None:
        quick = valid_marker(marker_values(item.text))
        if quick is not None:
            return quick  # what check_marker would say, with no diagnostic
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
        _misplaced_marker(item, kind, problems)
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


def _misplaced_marker(item: Item, kind: SectionKind, problems: list[Diagnostic]) -> None:
    where = Range.on_line(item.line, 0, len(item.text) - 1)
    which = marker_kind(item.text)
    escape = "or escape it with a leading `\\` to keep it as text."
    if which == "harvest" and kind in (SectionKind.PROSE, SectionKind.MEDIA, SectionKind.INVALID):
        # Prose keeps a harvest marker as text, as DocumentLanguageModel does.
        _check_provenance(item, problems)
    elif which == "mined" and kind is SectionKind.PREFERENCE:
        problems.append(
            diagnostic(
                "DLM068",
                "An auto-mined marker must be the first line after the `::preference::` "
                f"fence; move it there, {escape}",
                where,
            )
        )
    elif which == "mined":
        problems.append(
            diagnostic(
                "DLM067",
                f"The auto-mined marker belongs only on `::preference::` sections; remove it, "
                f"{escape}",
                where,
            )
        )
    elif which == "synth" and kind is not SectionKind.INSTRUCTION:
        problems.append(
            diagnostic(
                "DLM074",
                f"The synthesis marker belongs only on `::instruction::` sections; remove it, "
                f"{escape}",
                where,
            )
        )
    else:
        problems.append(
            diagnostic(
                "DLM075",
                f"A {_NAMES[which]} marker must stand in the lines right after the fence, "
                f"before any blank line or text; move it there, {escape}",
                where,
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
