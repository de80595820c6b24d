"""dlmlang: the .dlm language — parse, validate, serialize, identify and edit documents.

Pure: no file I/O beyond reading its own grammar, no torch, never raises on input.
"""

from dlmlang.diagnostics import RULES, Diagnostic, Fix, Rule, Severity
from dlmlang.document import Document, parse, parse_bytes, parse_section_text
from dlmlang.frontmatter import Frontmatter, PreferenceConfig, TrainingConfig
from dlmlang.marker import Marker
from dlmlang.positions import Position, Range
from dlmlang.provenance import HarvestMarker, SynthMarker
from dlmlang.sections import PreferenceTriple, QAPair, Section, SectionKind

__all__ = [
    "RULES",
    "Diagnostic",
    "Document",
    "Fix",
    "Frontmatter",
    "HarvestMarker",
    "Marker",
    "Position",
    "PreferenceConfig",
    "PreferenceTriple",
    "QAPair",
    "Range",
    "Rule",
    "Section",
    "SectionKind",
    "Severity",
    "SynthMarker",
    "TrainingConfig",
    "parse",
    "parse_bytes",
    "parse_section_text",
]
