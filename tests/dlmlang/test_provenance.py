"""The synthesis and harvest markers and probe questions: read, fixed, written back."""

from __future__ import annotations

import dlmlang
from dlmlang import HarvestMarker, QAPair, SynthMarker
from dlmlang.serialize import instruction_section, render_section

HEAD = "---\ndlm_id: 01HZ4X7TGZM3J1A2B3C4D5E6F7\nbase_model: smollm2-135m\n---\n"
SYNTH = SynthMarker("self", "extraction", "2026-04-23T18:42:11Z", "0123456789abcdef")
PAIR = "### Q\nHow long is the Rhine?\n### A\nAbout 1,230 km.\n"


def _sections(body: str) -> list[dlmlang.Section]:
    document = dlmlang.parse(HEAD + body)
    assert document.ok, document.diagnostics
    return list(document.content_sections())


def test_markers_are_provenance_not_identity() -> None:
    marked = _sections(
        '::instruction::\n<!-- dlm-auto-harvest: source="run_3" -->\n'
        '<!-- dlm-auto-synth: synth_teacher="self" synth_strategy="extraction" '
        'synth_at="2026-04-23T18:42:11Z" source_section_id="0123456789abcdef" -->\n' + PAIR
    )
    (plain,) = _sections("::instruction::\n" + PAIR)
    (section,) = marked
    assert section.synth == SYNTH and section.harvest == HarvestMarker("run_3")
    assert section.section_id == plain.section_id


def test_the_spacing_fix_makes_the_marker_valid() -> None:
    text = HEAD + '::instruction::\n<!-- dlm-auto-harvest:  source="run_3"  -->\n' + PAIR
    (problem,) = dlmlang.parse(text).diagnostics
    assert problem.code == "DLM070"
    (fix,) = problem.fixes
    line = problem.range.start.line
    lines = text.split("\n")
    lines[line] = fix.new_text
    fixed = dlmlang.parse("\n".join(lines))
    assert fixed.ok and fixed.sections[-1].harvest == HarvestMarker("run_3")


def test_a_probe_pair_trains_like_a_pair_and_is_written_back() -> None:
    section = instruction_section([QAPair("Where?", "Basel.", probe=True)], synth=SYNTH)
    text = render_section(section)
    assert text.startswith("::instruction::\n<!-- dlm-auto-synth: ")
    assert "\n### Q !probe\nWhere?\n" in text
    (read,) = _sections(text)
    assert read == section
    assert read.pairs == (QAPair("Where?", "Basel.", probe=True),)
