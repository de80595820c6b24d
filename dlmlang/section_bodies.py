"""The rules of instruction and preference bodies: Q/A pairs and Prompt/Chosen/Rejected
triples in order, none empty (docs/format.md); the pairs and triples they hold."""

from __future__ import annotations

from dlmlang.diagnostics import Diagnostic, diagnostic
from dlmlang.grammar import Field, Item, RawSection
from dlmlang.positions import Range
from dlmlang.sections import PreferenceTriple, QAPair


def fence_range(raw: RawSection) -> Range:
    """The range of a section's fence line."""
    return Range.on_line(raw.line, 0, len(raw.fence or ""))


def field_body(items: list[Item]) -> str:
    """A field's body: its text without surrounding blank lines or the last LF."""
    text = items[0].text if len(items) == 1 else "".join([item.text for item in items])
    stripped = text.rstrip()
    if not stripped:
        return ""
    if text[0].isspace():
        first = len(text) - len(text.lstrip())
        begin = text.rfind("\n", 0, first) + 1
    else:
        begin = 0  # the common case: text right under the header
    end = text.find("\n", len(stripped))
    return text[begin : end if end >= 0 else len(text)]


def _first_text_line(items: list[Item]) -> Item | None:
    for item in items:
        # A misplaced marker has a diagnostic of its own.
        if item.kind != "marker" and item.text.strip():
            return item
    return None


def check_instruction(
    raw: RawSection, items: list[Item], problems: list[Diagnostic]
) -> tuple[QAPair, ...]:
    stray = _first_text_line(items) if items else None
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
    asked = ""
    for f in raw.fields:
        if f.header == "Q":
            if question is not None:
                problems.append(_unanswered(question))
            question = f
            asked = _body(f, problems, "DLM044")
        elif question is None:
            problems.append(
                diagnostic(
                    "DLM043",
                    "`### A` without a `### Q` before it: add the question above it.",
                    _header_range(f),
                )
            )
        else:
            answer = _body(f, problems, "DLM044")
            probe = question.raw.strip() == "### Q !probe"
            pairs.append(QAPair(asked, answer, probe))
            question = None
    if question is not None:
        problems.append(_unanswered(question))
    if not raw.fields and stray is None:
        problems.append(
            diagnostic(
                "DLM040",
                "This instruction section has no `### Q` / `### A` pair: add one (a `### Q` "
                "line, the question, a `### A` line, the answer) or remove the fence.",
                fence_range(raw),
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


def check_preference(
    raw: RawSection, items: list[Item], problems: list[Diagnostic]
) -> tuple[PreferenceTriple, ...]:
    stray = _first_text_line(items) if items else None
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
    bodies: list[str] = []
    expected = "Prompt"
    for f in raw.fields:
        if f.header == expected:
            current.append(f)
            bodies.append(_body(f, problems, "DLM054"))
            if f.header == "Rejected":
                triples.append(PreferenceTriple(*bodies))
                current, bodies = [], []
            expected = _NEXT[f.header]
            continue
        if f.header == "Prompt":
            problems.append(_incomplete(current[0]))
            current = [f]
            bodies = [_body(f, problems, "DLM054")]
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
        current, bodies = [], []
        expected = "Prompt"
    if current:
        problems.append(_incomplete(current[0]))
    if not raw.fields and stray is None:
        problems.append(
            diagnostic(
                "DLM050",
                "This preference section has no triple: add `### Prompt`, `### Chosen` and "
                "`### Rejected` lines, each followed by its text, or remove the fence.",
                fence_range(raw),
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


def _body(f: Field, problems: list[Diagnostic], code: str) -> str:
    """The field's body (`field_body`); a `code` problem when it has no text."""
    body = field_body(f.items) if f.items else ""
    if not body:
        problems.append(
            diagnostic(
                code,
                f"`### {f.header}` has no text: write it on the lines below the header.",
                _header_range(f),
            )
        )
    return body


def _header_range(f: Field) -> Range:
    return Range.on_line(f.line, 0, len(f.raw) - 1)
