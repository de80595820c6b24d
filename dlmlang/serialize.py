"""Writing documents and building sections in code (docs/format.md, "Escaping").

`serialize(parse(text)) == text` for any text, and `parse(serialize(doc)) == doc`
for any document built with the functions here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from dlmlang.document import BOM, Document
from dlmlang.escape import escape_body
from dlmlang.frontmatter import Frontmatter, PreferenceConfig, PreferenceHyperparams, TrainingConfig
from dlmlang.marker import Marker, render_marker
from dlmlang.provenance import HarvestMarker, SynthMarker, render_harvest, render_synth
from dlmlang.sections import PreferenceTriple, QAPair, Section, SectionKind


def serialize(document: Document) -> str:
    """The document's text: parsed parts byte for byte, built parts rendered."""
    newline = document.newline
    parts: list[str] = [BOM] if document.bom else []
    if document.frontmatter_source is not None:
        parts.append(document.frontmatter_source)
    elif document.frontmatter is not None:
        parts.append(_convert(render_frontmatter(document.frontmatter) + "\n", newline))
    for index, section in enumerate(document.sections):
        written = "".join(parts)
        if written and written != BOM and not written.endswith(("\n", "\r")):
            parts.append(newline)
        if section.source is not None and (section.fenced or index == 0):
            parts.append(section.source)
        else:
            parts.append(_convert(render_section(section, lead=index == 0), newline))
    return "".join(parts)


def render_section(section: Section, *, lead: bool = False) -> str:
    """A section's canonical text (LF endings), fence included unless a bare lead."""
    if section.kind in (SectionKind.MEDIA, SectionKind.INVALID):
        if section.source is None:
            raise ValueError(f"cannot render a {section.kind.value} section built in code")
        return section.source.replace("\r\n", "\n").replace("\r", "\n")
    suffix = f"#{section.adapter}" if section.adapter else ""
    head = (
        ""
        if lead and section.kind is SectionKind.PROSE and not suffix
        else (f"::{section.kind.value}{suffix}::\n")
    )
    if section.harvest is not None:
        head += render_harvest(section.harvest) + "\n"
    if section.synth is not None:
        head += render_synth(section.synth) + "\n"
    if section.marker is not None:
        head += render_marker(section.marker) + "\n"
    # Content ends with one blank line (see the builders), hence two LFs.
    return head + _body(section, escaped=True) + "\n\n"


def render_frontmatter(frontmatter: Frontmatter) -> str:
    """The `---` delimited YAML for `frontmatter`, writing only non-default values."""
    values: dict[str, Any] = {"dlm_id": frontmatter.dlm_id, "dlm_version": frontmatter.dlm_version}
    values["base_model"] = frontmatter.base_model
    if frontmatter.system_prompt is not None:
        values["system_prompt"] = frontmatter.system_prompt
    training = _non_default(frontmatter.training, TrainingConfig())
    if training:
        values["training"] = training
    # YAML reads NEL and the Unicode line/paragraph separators as line breaks.
    strings = f"{frontmatter.system_prompt}{frontmatter.base_model}{frontmatter.dlm_id}"
    plain = not any(ch in strings for ch in "\x85\u2028\u2029")
    text = yaml.safe_dump(values, sort_keys=False, allow_unicode=plain, width=1000)
    return f"---\n{text}---\n"


def prose_section(text: str, adapter: str | None = None) -> Section:
    """A prose section; the text is kept as given, with one trailing blank line."""
    body = _lf(text).rstrip("\n")
    if not body.strip():
        raise ValueError("a prose section needs text")
    return Section(SectionKind.PROSE, body + "\n", adapter=adapter)


def instruction_section(
    pairs: Iterable[QAPair],
    adapter: str | None = None,
    synth: SynthMarker | None = None,
    harvest: HarvestMarker | None = None,
) -> Section:
    """An instruction section holding `pairs` (each body trimmed of blank lines), with the
    synthesis and harvest markers if given."""
    clean = tuple(QAPair(_field(p.question), _field(p.answer), p.probe) for p in pairs)
    if not clean:
        raise ValueError("an instruction section needs at least one pair")
    section = Section(
        SectionKind.INSTRUCTION, "", adapter=adapter, pairs=clean, synth=synth, harvest=harvest
    )
    return _with_content(section)


def _question(pair: QAPair) -> str:
    return "### Q !probe" if pair.probe else "### Q"


def preference_section(
    triples: Iterable[PreferenceTriple], marker: Marker | None = None, adapter: str | None = None
) -> Section:
    """A preference section holding `triples`, with the auto-mined marker if given."""
    clean = tuple(
        PreferenceTriple(_field(t.prompt), _field(t.chosen), _field(t.rejected)) for t in triples
    )
    if not clean:
        raise ValueError("a preference section needs at least one triple")
    section = Section(SectionKind.PREFERENCE, "", adapter=adapter, marker=marker, triples=clean)
    return _with_content(section)


def build_document(
    frontmatter: Frontmatter, sections: Sequence[Section], newline: str = "\n"
) -> Document:
    """A document made in code, ready for `serialize`."""
    return Document(frontmatter=frontmatter, sections=tuple(sections), newline=newline)


def _with_content(section: Section) -> Section:
    return Section(
        section.kind,
        _body(section, escaped=False) + "\n",
        section.adapter,
        section.marker,
        section.pairs,
        section.triples,
        section.kind.value,
        section.synth,
        section.harvest,
    )


def _body(section: Section, *, escaped: bool) -> str:
    context = section.kind.value

    def text(value: str) -> str:
        return escape_body(value, context) if escaped else value

    if section.kind is SectionKind.INSTRUCTION and section.pairs:
        return "\n\n".join(
            f"{_question(p)}\n{text(p.question)}\n### A\n{text(p.answer)}" for p in section.pairs
        )
    if section.kind is SectionKind.PREFERENCE and section.triples:
        return "\n\n".join(
            f"### Prompt\n{text(t.prompt)}\n### Chosen\n{text(t.chosen)}\n"
            f"### Rejected\n{text(t.rejected)}"
            for t in section.triples
        )
    body = section.content[:-1] if section.content.endswith("\n") else section.content
    return text(body)


def _field(value: str) -> str:
    lines = _lf(value).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ValueError("questions, answers, prompts and responses need text")
    return "\n".join(lines)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _convert(text: str, newline: str) -> str:
    return text if newline == "\n" else text.replace("\n", newline)


def _non_default(value: object, default: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in value.__dataclass_fields__:  # type: ignore[attr-defined]
        current, base = getattr(value, name), getattr(default, name)
        if isinstance(current, PreferenceConfig | PreferenceHyperparams):
            nested = _non_default(current, base)
            if nested:
                out[name] = nested
        elif current != base:
            out[name] = list(current) if isinstance(current, tuple) else current
    return out
