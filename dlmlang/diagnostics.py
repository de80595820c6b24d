"""Diagnostics: coded, located findings about a document (docs/diagnostics.md).

Diagnostics are data, never raised. Every code has a fixed severity and a short
title; `docs/diagnostics.md` lists them and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from dlmlang.positions import Range


class Severity(StrEnum):
    """How bad a finding is; only errors make `dlm check` fail."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Rule:
    """A diagnostic code, its severity and what it is about."""

    code: str
    severity: Severity
    title: str


# The table of every code. Numbers are stable: retire a code, never reuse it.
_RULES: tuple[Rule, ...] = (
    Rule("DLM001", Severity.ERROR, "file is not valid UTF-8"),
    Rule("DLM010", Severity.ERROR, "frontmatter missing: line 1 must be `---`"),
    Rule("DLM011", Severity.ERROR, "frontmatter not closed by a `---` line"),
    Rule("DLM012", Severity.ERROR, "frontmatter is not valid YAML"),
    Rule("DLM013", Severity.ERROR, "frontmatter is not a YAML mapping"),
    Rule("DLM014", Severity.ERROR, "required frontmatter key missing"),
    Rule("DLM015", Severity.ERROR, "unknown frontmatter key"),
    Rule("DLM016", Severity.WARNING, "DocumentLanguageModel key not supported, ignored"),
    Rule("DLM017", Severity.ERROR, "frontmatter value has the wrong type or is out of range"),
    Rule("DLM018", Severity.ERROR, "dlm_id is not a 26-character ULID"),
    Rule("DLM019", Severity.ERROR, "dlm_version is newer than this dlm supports"),
    Rule("DLM020", Severity.ERROR, "frontmatter key repeated"),
    Rule("DLM030", Severity.ERROR, "unknown section type"),
    Rule("DLM031", Severity.ERROR, "invalid adapter name in fence"),
    Rule("DLM032", Severity.WARNING, "media section not supported, skipped"),
    Rule("DLM033", Severity.WARNING, "line looks like a fence but is not one"),
    Rule("DLM034", Severity.ERROR, "code block never closed"),
    Rule("DLM040", Severity.ERROR, "instruction section has no `### Q` / `### A` pair"),
    Rule("DLM041", Severity.ERROR, "text before the first `### Q`"),
    Rule("DLM042", Severity.ERROR, "`### Q` without a following `### A`"),
    Rule("DLM043", Severity.ERROR, "`### A` without a `### Q` before it"),
    Rule("DLM044", Severity.ERROR, "empty question or answer"),
    Rule("DLM045", Severity.WARNING, "header with text on the same line"),
    Rule("DLM050", Severity.ERROR, "preference section has no Prompt/Chosen/Rejected triple"),
    Rule("DLM051", Severity.ERROR, "text before the first `### Prompt`"),
    Rule("DLM052", Severity.ERROR, "preference header out of order"),
    Rule("DLM053", Severity.ERROR, "incomplete preference triple"),
    Rule("DLM054", Severity.ERROR, "empty prompt, chosen or rejected"),
    Rule("DLM060", Severity.ERROR, "malformed auto-mined marker"),
    Rule("DLM061", Severity.ERROR, "marker attribute repeated"),
    Rule("DLM062", Severity.ERROR, "unknown marker attribute"),
    Rule("DLM063", Severity.ERROR, "marker attributes missing"),
    Rule("DLM064", Severity.ERROR, "marker score is not a finite number"),
    Rule("DLM065", Severity.ERROR, "marker mined_at is not an ISO-8601 date-time with offset"),
    Rule("DLM066", Severity.ERROR, "marker mined_run_id is not an integer >= 1"),
    Rule("DLM067", Severity.ERROR, "auto-mined marker outside a preference section"),
    Rule("DLM068", Severity.ERROR, "auto-mined marker not on the first line after the fence"),
    Rule("DLM069", Severity.WARNING, "chosen score lower than rejected score"),
    Rule("DLM070", Severity.ERROR, "malformed synthesis or harvest marker"),
    Rule("DLM071", Severity.ERROR, "synthesis marker synth_at is not an ISO-8601 date-time"),
    Rule("DLM072", Severity.ERROR, "synthesis marker source_section_id is not a section id"),
    Rule("DLM073", Severity.ERROR, "synthesis marker teacher or strategy empty"),
    Rule("DLM074", Severity.ERROR, "synthesis marker outside an instruction section"),
    Rule("DLM075", Severity.ERROR, "synthesis or harvest marker not right after the fence"),
)

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


@dataclass(frozen=True, slots=True)
class Fix:
    """A suggested replacement of the diagnostic's range (a quick fix)."""

    title: str
    range: Range
    new_text: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: code, severity, a message that names the fix, and where."""

    code: str
    severity: Severity
    message: str
    range: Range
    fixes: tuple[Fix, ...] = field(default=())

    def shifted(self, lines: int) -> Diagnostic:
        """The same diagnostic moved down by `lines` lines."""
        if lines == 0:
            return self
        return Diagnostic(
            self.code,
            self.severity,
            self.message,
            self.range.shifted(lines),
            tuple(Fix(f.title, f.range.shifted(lines), f.new_text) for f in self.fixes),
        )


def diagnostic(code: str, message: str, where: Range, *fixes: Fix) -> Diagnostic:
    """Build a diagnostic for `code`, taking its severity from the table."""
    return Diagnostic(code, RULES[code].severity, message, where, fixes)
