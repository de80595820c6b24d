"""The synthesis and harvest markers: their fields, checks and text form.

Documented in docs/format.md, "The synthesis marker" and "The harvest marker". Both are
written exactly as DocumentLanguageModel reads them: one space after the colon and before
`-->`, nothing after it; the checks point at any other spacing with a fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from dlmlang.diagnostics import Diagnostic, Fix, diagnostic
from dlmlang.marker import MarkerAttribute, read_attributes
from dlmlang.positions import Range

SYNTH_ATTRIBUTES = ("synth_teacher", "synth_strategy", "synth_at", "source_section_id")
HARVEST_ATTRIBUTES = ("source",)
SYNTH_PREFIX = "<!-- dlm-auto-synth:"
HARVEST_PREFIX = "<!-- dlm-auto-harvest:"

_SECTION_ID = re.compile(r"[0-9a-f]{16}")
# The one spacing each marker is read with (the reference's own patterns).
_SYNTH_FORM = re.compile(r'<!-- dlm-auto-synth:(?:\s+[a-z][a-z0-9_]*="[^"\n]*")+ -->')
_HARVEST_FORM = re.compile(r'<!-- dlm-auto-harvest: source="[^"]*" -->')


@dataclass(frozen=True, slots=True)
class SynthMarker:
    """Provenance of a synthesized instruction section, as written."""

    synth_teacher: str
    synth_strategy: str
    synth_at: str
    """ISO-8601 as written (DocumentLanguageModel keeps the text)."""
    source_section_id: str


@dataclass(frozen=True, slots=True)
class HarvestMarker:
    """Provenance of a harvested section: the run it came from."""

    source: str


def marker_kind(line: str) -> str:
    """`mined`, `synth` or `harvest`: which marker a marker line is."""
    for kind in ("synth", "harvest"):
        if line.startswith(f"<!-- dlm-auto-{kind}"):
            return kind
    return "mined"


def render_synth(marker: SynthMarker) -> str:
    """The synthesis marker line (without line ending) that reads back as `marker`."""
    return (
        f'{SYNTH_PREFIX} synth_teacher="{marker.synth_teacher}" '
        f'synth_strategy="{marker.synth_strategy}" synth_at="{marker.synth_at}" '
        f'source_section_id="{marker.source_section_id}" -->'
    )


def render_harvest(marker: HarvestMarker) -> str:
    """The harvest marker line (without line ending) that reads back as `marker`."""
    return f'{HARVEST_PREFIX} source="{marker.source}" -->'


def check_synth(
    attributes: list[MarkerAttribute], line: str, line_range: Range
) -> tuple[SynthMarker | None, list[Diagnostic]]:
    """Validate a well-formed synthesis marker line (no line ending)."""
    values, _, problems = read_attributes(attributes, SYNTH_ATTRIBUTES, "synthesis", line_range)
    if "synth_at" in values and not _iso(values["synth_at"]):
        problems.append(
            diagnostic(
                "DLM071",
                f'synth_at="{values["synth_at"]}" is not an ISO-8601 date-time; write it like '
                '"2026-04-23T18:42:11Z".',
                _where(attributes, "synth_at"),
            )
        )
    source = values.get("source_section_id")
    if source is not None and not _SECTION_ID.fullmatch(source):
        problems.append(
            diagnostic(
                "DLM072",
                f'source_section_id="{source}" is not a section id: 16 lowercase hex digits, '
                "the id of the prose section the pairs were drawn from.",
                _where(attributes, "source_section_id"),
            )
        )
    for name in ("synth_teacher", "synth_strategy"):
        if values.get(name) == "":
            problems.append(
                diagnostic(
                    "DLM073",
                    f"{name} is empty: name the teacher (`self`, `hf:<model>`, ...) and the "
                    "strategy (`extraction`, ...) that wrote the pairs.",
                    _where(attributes, name),
                )
            )
    if not problems:
        problems.extend(_spacing(line, line_range, _SYNTH_FORM, _canonical(attributes, "synth")))
    if problems:
        return None, problems
    return SynthMarker(*(values[name] for name in SYNTH_ATTRIBUTES)), []


def check_harvest(
    attributes: list[MarkerAttribute], line: str, line_range: Range
) -> tuple[HarvestMarker | None, list[Diagnostic]]:
    """Validate a well-formed harvest marker line (no line ending)."""
    values, _, problems = read_attributes(attributes, HARVEST_ATTRIBUTES, "harvest", line_range)
    if not problems:
        canonical = _canonical(attributes, "harvest")
        problems.extend(_spacing(line, line_range, _HARVEST_FORM, canonical))
    if problems:
        return None, problems
    return HarvestMarker(values["source"]), []


def _spacing(line: str, line_range: Range, form: re.Pattern[str], fixed: str) -> list[Diagnostic]:
    if form.fullmatch(line):
        return []
    return [
        diagnostic(
            "DLM070",
            f"Write this marker exactly as `{fixed}`: one space after the colon and before "
            "`-->`, nothing after it (DocumentLanguageModel reads no other spacing).",
            line_range,
            Fix("Rewrite the marker", line_range, fixed),
        )
    ]


def _canonical(attributes: list[MarkerAttribute], kind: str) -> str:
    pairs = " ".join(f'{a.name}="{a.value}"' for a in attributes)
    return f"<!-- dlm-auto-{kind}: {pairs} -->"


def _where(attributes: list[MarkerAttribute], name: str) -> Range:
    return next(a.range for a in attributes if a.name == name)


def _iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
