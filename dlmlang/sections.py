"""Sections: the model and their identity (the rules they are checked by: section_rules.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from dlmlang.marker import Marker
from dlmlang.positions import Range
from dlmlang.provenance import HarvestMarker, SynthMarker

SECTION_TYPES = ("prose", "instruction", "preference")


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
    probe: bool = False
    """Opened by `### Q !probe`: an evaluation prompt that also trains like any pair."""


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
    synth: SynthMarker | None = None
    """The synthesis marker of an instruction section written by a teacher."""
    harvest: HarvestMarker | None = None
    """The harvest marker of an instruction or preference section."""
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
    def auto_synth(self) -> bool:
        """True for an instruction section with a synthesis marker."""
        return self.synth is not None

    @property
    def section_id(self) -> str:
        """16 hex chars of sha256(type + "\\n" + content) (docs/format.md, "Section identity")."""
        import hashlib  # here: `dlm check` never needs it, and it is slow to import

        name = self.kind.value if self.kind is not SectionKind.INVALID else self.type_name
        digest = hashlib.sha256(f"{name}\n{self.content}".encode("utf-8", "surrogatepass"))
        return digest.hexdigest()[:16]

    @property
    def is_blank(self) -> bool:
        """A prose section with nothing but whitespace (not a section to DLM)."""
        return self.kind is SectionKind.PROSE and not self.content.strip()


def _builder() -> Callable[..., Section]:
    """`Section(*values)` with every field given in order, built by setting its slots
    directly: a frozen dataclass's `__init__` costs an `object.__setattr__` call per
    field, and a parse builds thousands (Section has no `__post_init__` to skip)."""
    names = [f.name for f in fields(Section)]
    scope: dict[str, Any] = {"new": object.__new__, "Section": Section}
    scope.update({f"set_{name}": getattr(Section, name).__set__ for name in names})
    lines = [f"    set_{name}(section, {name})" for name in names]
    code = f"def build({', '.join(names)}):\n    section = new(Section)\n"
    exec(code + "\n".join(lines) + "\n    return section\n", scope)
    built: Callable[..., Section] = scope["build"]
    return built


build_section = _builder()
"""`Section(*values)`, every field given in order, faster (what the parser builds)."""
