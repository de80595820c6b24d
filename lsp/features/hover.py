"""Hover: what a marker, a fence or a frontmatter key means, in words."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from lsprotocol import types

from dlmlang import Document, Position, Range, Section, SectionKind
from dlmlang.context import pair_starts, spec_at
from dlmlang.heldout import is_held_out
from dlmlang.marker import MARKER_PREFIX
from dlmlang.provenance import HARVEST_PREFIX, SYNTH_PREFIX, marker_kind
from lsp.adapters import Answer
from lsp.positions import from_client, to_client_range
from lsp.state import Snapshot

if TYPE_CHECKING:
    from lsp.server import DlmServer


def hover_text(
    snapshot: Snapshot,
    position: Position,
    answer_to: Callable[[str], Answer | None] | None = None,
) -> tuple[str, int] | None:
    """Markdown for what is under `position`, and the line it describes; None for nothing.
    `answer_to` gives the current adapter's cached answer to a question, if any."""
    document = snapshot.document
    if document.frontmatter is not None and position.line < document.body_line:
        return _key_hover(snapshot, position)
    section = next(
        (s for s in document.sections if s.range.start.line <= position.line < _end(s)), None
    )
    if section is None or not section.fenced:
        return None
    if position.line == section.range.start.line:
        return _fence_hover(section), position.line
    provenance = _provenance_hover(section, snapshot.lines[position.line])
    if provenance is not None and _in_marker_lines(section, snapshot.lines, position.line):
        return provenance, position.line
    starts = pair_starts(section, snapshot.lines)
    if position.line in starts:
        index = starts.index(position.line)
        text = _pair_hover(section, index, len(starts), answer_to)
        return text + _held_out_note(document, section, index), position.line
    return None


def _pair_hover(
    section: Section, index: int, count: int, answer_to: Callable[[str], Answer | None] | None
) -> str:
    """Which pair a `### Q` or `### Prompt` header opens, and what it holds."""
    what = "question/answer pair" if section.kind is SectionKind.INSTRUCTION else "triple"
    lines = [f"{what} {index + 1} of {count} in section `{section.section_id}`"]
    if section.kind is SectionKind.INSTRUCTION and index < len(section.pairs):
        pair = section.pairs[index]
        lines.append(f"**A:** {_short(pair.answer)}")
        answered = answer_to(pair.question) if answer_to is not None else None
        if answered is not None:
            text = _escaped(_short(answered.text)) or "(an empty answer)"
            lines.append(f"**adapter {answered.version}:** {text}")
    elif section.kind is SectionKind.PREFERENCE and index < len(section.triples):
        triple = section.triples[index]
        lines.append(
            f"**chosen:** {_short(triple.chosen)}\n\n**rejected:** {_short(triple.rejected)}"
        )
    return "\n\n".join(lines)


def _held_out_note(document: Document, section: Section, index: int) -> str:
    """A line saying the pair is in the held-out split, when it is."""
    frontmatter = document.frontmatter
    if section.kind is not SectionKind.INSTRUCTION or index >= len(section.pairs):
        return ""
    if frontmatter is None or not is_held_out(
        frontmatter.dlm_id, section.pairs[index].question, frontmatter.training.heldout
    ):
        return ""
    return (
        "\n\n**held out** (`training.heldout`): never trained on or mined; "
        "`dlm eval` asks it and compares the answer with this one"
    )


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _escaped(text: str) -> str:
    """Model output as literal Markdown text (no links, images or HTML of its own)."""
    return "".join(f"\\{c}" if c in "\\`*_{}[]<>()#+-.!|~" else c for c in text)


def _end(section: Section) -> int:
    end = section.range.end
    return end.line if end.character == 0 else end.line + 1


def _fence_hover(section: Section) -> str:
    routed = f" for adapter `{section.adapter}`" if section.adapter else ""
    lines = [f"**{section.kind.value}** section{routed}, id `{section.section_id}`"]
    if section.kind is SectionKind.INSTRUCTION:
        lines.append(f"{len(section.pairs)} question/answer pair(s): SFT rows.")
    elif section.kind is SectionKind.PREFERENCE:
        mined = " mined automatically" if section.auto_mined else ""
        lines.append(
            f"{len(section.triples)} prompt/chosen/rejected triple(s){mined}: "
            "the preference phase (DPO/ORPO)."
        )
    elif section.kind is SectionKind.PROSE:
        lines.append("Plain text: continued pretraining in SFT.")
    return "\n\n".join(lines)


def _in_marker_lines(section: Section, lines: Sequence[str], line: int) -> bool:
    """Whether `line` is among the marker lines right under the fence."""
    first = section.range.start.line + 1
    return all(lines[n].startswith("<!-- dlm-auto-") for n in range(first, line + 1))


def _provenance_hover(section: Section, line: str) -> str | None:
    """What the marker on `line` says, when it is one of the section's valid markers."""
    if marker_kind(line) == "mined" and line.startswith(MARKER_PREFIX) and section.marker:
        return _marker_hover(section)
    if line.startswith(SYNTH_PREFIX) and section.synth is not None:
        synth = section.synth
        return "\n\n".join(
            [
                f"**Synthesized** by teacher `{synth.synth_teacher}` "
                f"(strategy `{synth.synth_strategy}`) on {synth.synth_at}",
                f"drawn from section `{synth.source_section_id}`; the marker is provenance, "
                "not part of the section id, and the pairs train like hand-written ones",
            ]
        )
    if line.startswith(HARVEST_PREFIX) and section.harvest is not None:
        return (
            f"**Harvested** from `{section.harvest.source}`: written back from a probe "
            "report; the marker is provenance, not part of the section id"
        )
    return None


def _marker_hover(section: Section) -> str:
    marker = section.marker
    assert marker is not None
    stamp = marker.mined_at.strftime("%Y-%m-%d %H:%M UTC")
    return "\n\n".join(
        [
            f"**Mined** by judge `{marker.judge_name}` on {stamp}",
            f"chosen {marker.judge_score_chosen:.4g}, rejected "
            f"{marker.judge_score_rejected:.4g}: margin **{marker.margin:.4g}**",
            f"sampled from the adapter of training run {marker.mined_run_id}; "
            "`dlm preference revert --section "
            f"{section.section_id}` removes it",
        ]
    )


def _key_hover(snapshot: Snapshot, position: Position) -> tuple[str, int] | None:
    frontmatter = snapshot.document.frontmatter
    assert frontmatter is not None
    for path, span in frontmatter.key_ranges.items():
        if span.start.line == position.line and span.start <= position <= span.end:
            spec = spec_at(path.split("."))
            if spec is None:
                return None
            default = "" if spec.default is None else f" (default `{spec.default}`)"
            choices = f"\n\nOne of: {', '.join(spec.choices)}." if spec.choices else ""
            return f"`{path}`: {spec.kind.value}{default}\n\n{spec.doc}{choices}", position.line
    return None


def register(server: DlmServer) -> None:
    """Wire the hover request."""

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: DlmServer, params: types.HoverParams) -> types.Hover | None:
        snapshot = ls.snapshot(params.text_document.uri)
        if snapshot is None:
            return None
        position = from_client(snapshot.lines, params.position, snapshot.encoding)
        answer_to = partial(ls.adapters.answer, params.text_document.uri)
        found = ls.guarded("hover", hover_text, snapshot, position, answer_to)
        if found is None:
            return None
        text, line = found
        span = to_client_range(snapshot.lines, _line_range(snapshot, line), snapshot.encoding)
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text), range=span
        )


def _line_range(snapshot: Snapshot, line: int) -> Range:
    return Range.of(line, 0, line, len(snapshot.lines[line]))
