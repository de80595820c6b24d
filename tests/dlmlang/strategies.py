"""Hypothesis strategies for .dlm text and documents, heavy on structure-like lines."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

from dlmlang import Frontmatter, Marker, PreferenceTriple, QAPair, Section
from dlmlang.provenance import HarvestMarker, SynthMarker
from dlmlang.serialize import instruction_section, preference_section, prose_section

FRONTMATTER = "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: smollm2-135m\n---\n"

TRICKY_LINES = [
    "",
    " ",
    "::prose::",
    "::instruction::",
    "::preference::",
    "::instruction#tone::",
    "::preference#Bad::",
    "::Instruction::",
    '::image path="a.png"::',
    " ::instruction::",
    "::instruction ::",
    "### Q",
    "### A",
    "  ### A  ",
    "### Q what?",
    "### Prompt",
    "### Chosen",
    "### Rejected",
    "### Rejected now",
    "```",
    "```python",
    "\\```",
    "\\::instruction::",
    "\\\\::prose::",
    "\\### Q",
    "\\### Prompt",
    "\\<!-- dlm-auto-mined: x -->",
    '<!-- dlm-auto-mined: judge_name="sway" judge_score_chosen="0.8" '
    'judge_score_rejected="0.1" mined_at="2026-04-23T18:42:11Z" mined_run_id="7" -->',
    '<!-- dlm-auto-mined: judge_name="a" judge_name="b" -->',
    "<!-- dlm-auto-mined: broken",
    '<!-- dlm-auto-synth: synth_teacher="self" synth_strategy="extraction" '
    'synth_at="2026-04-23T18:42:11Z" source_section_id="0123456789abcdef" -->',
    '<!-- dlm-auto-synth: synth_teacher="self"  -->',
    "<!-- dlm-auto-synth: broken",
    '<!-- dlm-auto-harvest: source="run_3_sway" -->',
    '<!-- dlm-auto-harvest: source="x" extra="y" -->',
    '\\<!-- dlm-auto-harvest: source="x" -->',
    "### Q !probe",
    "  ### Q !probe ",
    "### Q !probes",
    "\\### Q !probe",
    "---",
    "plain text",
    "héllo 😀 世界",
    "\t tabbed",
]

line = st.one_of(
    st.sampled_from(TRICKY_LINES),
    st.text(st.characters(exclude_characters="\r\n", exclude_categories=("Cs",)), max_size=12),
)
newline = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def body_text(draw: st.DrawFn, max_lines: int = 30) -> str:
    """Lines joined with one line-ending style, maybe without a final newline."""
    lines = draw(st.lists(line, max_size=max_lines))
    eol = draw(newline)
    text = eol.join(lines)
    if lines and draw(st.booleans()):
        text += eol
    return text


@st.composite
def document_text(draw: st.DrawFn) -> str:
    """A body after a valid frontmatter, sometimes after arbitrary text instead."""
    body = draw(body_text())
    if draw(st.integers(0, 9)) == 0:
        return body
    eol = "\r\n" if "\r\n" in body else ("\r" if "\r" in body else "\n")
    head = FRONTMATTER.replace("\n", eol)
    if draw(st.booleans()):
        head += eol
    return ("\ufeff" if draw(st.integers(0, 9)) == 0 else "") + head + body


field_text = st.lists(line, min_size=1, max_size=6).map("\n".join).filter(lambda t: t.strip() != "")

marker = st.builds(
    Marker,
    judge_name=st.text(st.characters(exclude_categories=("Cs",)), max_size=10),
    judge_score_chosen=st.floats(allow_nan=False, allow_infinity=False, width=64),
    judge_score_rejected=st.floats(allow_nan=False, allow_infinity=False, width=64),
    mined_at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    mined_run_id=st.integers(1, 10**6),
)
synth = st.builds(
    SynthMarker,
    synth_teacher=st.from_regex(r"[a-z][a-z0-9:/_-]{0,10}", fullmatch=True),
    synth_strategy=st.sampled_from(["extraction", "qa"]),
    synth_at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
    source_section_id=st.from_regex(r"[0-9a-f]{16}", fullmatch=True),
)
harvest = st.builds(
    HarvestMarker,
    source=st.text(
        st.characters(exclude_characters='"', exclude_categories=("Cs", "Cc", "Zl", "Zp")),
        max_size=10,
    ),
)
adapter = st.one_of(st.none(), st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True))

section: st.SearchStrategy[Section] = st.one_of(
    st.builds(prose_section, field_text, adapter),
    st.builds(
        instruction_section,
        st.lists(st.builds(QAPair, field_text, field_text, st.booleans()), min_size=1, max_size=3),
        adapter,
        st.one_of(st.none(), synth),
        st.one_of(st.none(), harvest),
    ),
    st.builds(
        preference_section,
        st.lists(
            st.builds(PreferenceTriple, field_text, field_text, field_text), min_size=1, max_size=2
        ),
        st.one_of(st.none(), marker),
        adapter,
    ),
)

frontmatter = st.builds(
    Frontmatter,
    dlm_id=st.just("01JQ7Z0000000000000000000A"),
    base_model=st.sampled_from(["smollm2-135m", "hf:org/name", "./models/x"]),
    dlm_version=st.integers(1, 15),
    system_prompt=st.one_of(st.none(), st.text(min_size=1, max_size=20).filter(str.strip)),
)
