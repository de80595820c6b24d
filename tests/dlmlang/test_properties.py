"""Property tests of the language core: never raises, lossless, round trips, paths agree."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput

import dlmlang
import dlmlang.document
from dlmlang.blocks import code_toggles, split_blocks
from dlmlang.edits import EditError, apply_edits, insert_after, remove_sections
from dlmlang.grammar import START_SYMBOLS, parse_raw, parser
from dlmlang.incremental import IncrementalParser, parse_blocks
from dlmlang.pieces import cuts, parse_in_pieces, shifted
from dlmlang.serialize import build_document, render_section, serialize

from .strategies import body_text, document_text, frontmatter, newline, section

SETTINGS = settings(
    max_examples=int(os.environ.get("DLM_HYPOTHESIS_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _shape(document: dlmlang.Document) -> list[tuple[object, ...]]:
    return [(s, s.range, s.source, s.type_name, s.fenced) for s in document.sections]


@SETTINGS
@given(st.binary(max_size=300))
def test_parse_bytes_never_raises(data: bytes) -> None:
    document = dlmlang.parse_bytes(data)
    assert isinstance(document.diagnostics, tuple)


@SETTINGS
@given(document_text())
def test_unmodified_document_serializes_to_its_bytes(text: str) -> None:
    assert serialize(dlmlang.parse(text)) == text


@SETTINGS
@given(document_text())
def test_block_path_agrees_with_whole_document_parse(text: str) -> None:
    whole = dlmlang.parse(text)
    blocks = parse_blocks(text)
    assert blocks == whole
    assert blocks.diagnostics == whole.diagnostics
    assert _shape(blocks) == _shape(whole)


@SETTINGS
@given(frontmatter, st.lists(section, max_size=5), newline)
def test_built_documents_round_trip(
    fm: dlmlang.Frontmatter, sections: list[dlmlang.Section], eol: str
) -> None:
    document = build_document(fm, sections, newline=eol)
    text = serialize(document)
    again = dlmlang.parse(text)
    assert again == document
    assert again.ok, again.diagnostics
    assert [s.section_id for s in again.sections] == [s.section_id for s in sections]


@SETTINGS
@given(document_text(), st.lists(section, min_size=1, max_size=3), st.data())
def test_insert_then_remove_restores_bytes(
    text: str, new: list[dlmlang.Section], data: st.DataObject
) -> None:
    document = dlmlang.parse(text)
    if any(d.code in {"DLM011", "DLM034"} for d in document.diagnostics):
        with pytest.raises(EditError):
            insert_after(document, None, new)
        return
    index = data.draw(st.integers(-1, len(document.sections) - 1))
    anchor = document.sections[index] if index >= 0 else None
    edited = apply_edits(text, [insert_after(document, anchor, new)])
    after = dlmlang.parse(edited)
    position = index + 1 if anchor is not None else len(document.sections)
    inserted = after.sections[position : position + len(new)]
    assert [s.kind for s in inserted] == [s.kind for s in new]
    assert [s.pairs for s in inserted] == [s.pairs for s in new]
    assert [s.triples for s in inserted] == [s.triples for s in new]
    assert after.sections[:position] == document.sections[:position]
    assert after.sections[position + len(new) :] == document.sections[position:]
    ids = {s.section_id for s in inserted}
    if ids & {s.section_id for s in document.sections}:
        return  # a copy of an existing section cannot be told apart by id
    restored = apply_edits(edited, remove_sections(after, ids))
    assert restored == text


@SETTINGS
@given(document_text(), st.lists(st.tuples(st.integers(0, 40), body_text(max_lines=3)), max_size=6))
def test_incremental_parse_equals_fresh_parse_after_edits(
    text: str, edits: list[tuple[int, str]]
) -> None:
    parser = IncrementalParser()
    parser.parse(text)
    for line_number, replacement in edits:
        lines = text.split("\n")
        lines[min(line_number, len(lines) - 1)] = replacement
        text = "\n".join(lines)
        incremental = parser.parse(text)
        fresh = dlmlang.parse(text)
        assert incremental == fresh
        assert incremental.diagnostics == fresh.diagnostics
        assert _shape(incremental) == _shape(fresh)
        assert parser.piece_failures == 0


def test_one_line_edit_reparses_at_most_two_blocks() -> None:
    sections = []
    for i in range(1000):
        sections.append(f"::instruction::\n### Q\nQuestion {i}?\n### A\nAnswer {i}.\n")
    text = "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: x\n---\n\n" + "\n".join(sections)
    parser = IncrementalParser()
    parser.parse(text)
    assert parser.block_parses == 1000
    edited = text.replace("Answer 500.", "Answer five hundred, edited.")
    document = parser.parse(edited)
    assert parser.block_parses - 1000 <= 2
    assert document.sections[500].pairs[0].answer == "Answer five hundred, edited."
    split = edited.replace("Answer 700.", "Answer 700.\n::prose::\nnew prose")
    parser.parse(split)
    assert parser.block_parses - 1000 <= 1 + 2


@SETTINGS
@given(document_text(), st.sampled_from(START_SYMBOLS))
def test_table_driver_equals_lark_parse(text: str, start: str) -> None:
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    if not body.endswith("\n"):
        body += "\n"
    try:
        expected = parser().parse(body, start=start)
    except UnexpectedInput:
        with pytest.raises(UnexpectedInput):
            parse_raw(body, start)
        return
    assert parse_raw(body, start) == expected


@SETTINGS
@given(section)
def test_a_rendered_section_reads_back_alone(built: dlmlang.Section) -> None:
    again = dlmlang.parse_section_text(render_section(built))
    assert again == built


_EDIT_LINES = st.sampled_from(
    [
        "::instruction::",
        "::preference::",
        "::prose::",
        "```",
        "```python",
        "### Q",
        "### A",
        "### Prompt",
        "plain words",
        "",
        "::instruction#tone::",
        "<!-- dlm-auto-mined: x -->",
    ]
)


@SETTINGS
@given(
    document_text(),
    st.lists(
        st.tuples(st.integers(0, 60), st.sampled_from(["insert", "delete", "type"]), _EDIT_LINES),
        max_size=8,
    ),
)
def test_incremental_parse_survives_line_inserts_deletes_and_typing(
    text: str, edits: list[tuple[int, str, str]]
) -> None:
    """The reuse around an edit (blocks before kept, blocks after moved) equals a fresh parse."""
    parser = IncrementalParser()
    parser.parse(text)
    for line_number, kind, line_text in edits:
        lines = text.split("\n")
        at = min(line_number, len(lines) - 1)
        if kind == "insert":
            lines.insert(at, line_text)
        elif kind == "delete" and len(lines) > 1:
            del lines[at]
        else:
            lines[at] += line_text
        text = "\n".join(lines)
        incremental = parser.parse(text)
        fresh = dlmlang.parse(text)
        assert incremental == fresh
        assert incremental.diagnostics == fresh.diagnostics
        assert _shape(incremental) == _shape(fresh)
        assert parser.piece_failures == 0


def _edit_long_document(answer: str, old: str, new: str) -> IncrementalParser:
    """Parse 300 instruction sections whose answers are `answer` (with `{i}`), replace
    `old` by `new` once, and check the incremental parse against a fresh one."""
    sections = [
        f"::instruction::\n### Q\nQuestion {i}?\n### A\n{answer.format(i=i)}" for i in range(300)
    ]
    text = "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: x\n---\n\n" + "\n".join(sections)
    parser = IncrementalParser()
    parser.parse(text)
    parser.block_parses = parser.in_place_edits = 0
    edited = text.replace(old, new)
    document = parser.parse(edited)
    assert document == dlmlang.parse(edited)
    assert _shape(document) == _shape(dlmlang.parse(edited))
    return parser


def test_an_edit_late_in_a_long_document_parses_one_block() -> None:
    parser = _edit_long_document("Answer {i}.\n", "Answer 200.", "Answer 200.\nA new line.")
    assert parser.block_parses == 1 and parser.in_place_edits == 1


def test_typing_in_a_code_toggle_line_parses_one_block() -> None:
    answer = "```python\nprint({i})\n```\n"
    parser = _edit_long_document(
        answer, "```python\nprint(200)", "```python3 \U0001f600\nprint(200)"
    )
    assert parser.block_parses == 1
    assert parser.in_place_edits == 1  # still a toggle: no block after it was looked at


def test_adding_a_code_toggle_line_splits_the_rest_again() -> None:
    answer = "```python\nprint({i})\n```\n"
    parser = _edit_long_document(answer, "print(200)\n", "print(200)\n```\n")
    assert parser.in_place_edits == 0


def _unchanged(old: str, new: str, slack: int) -> tuple[int, int]:
    """A (prefix, suffix) the editor could report: the true one, less `slack` each side."""
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    return max(0, prefix - slack), max(0, suffix - slack)


@SETTINGS
@given(
    document_text(),
    st.lists(
        st.tuples(
            st.integers(0, 60),
            st.sampled_from(["insert", "delete", "type"]),
            _EDIT_LINES,
            st.integers(0, 3),
            st.booleans(),
        ),
        max_size=8,
    ),
)
def test_update_with_the_editors_extent_equals_a_fresh_parse(
    text: str, edits: list[tuple[int, str, str, int, bool]]
) -> None:
    """Told what the edit left alone (as the language server is), the parser agrees with a
    fresh parse; diagnostics are right even when the sections are never built."""
    parser = IncrementalParser()
    parser.update(text)
    unbuilt = []
    for line_number, kind, line_text, slack, build in edits:
        lines = text.split("\n")
        at = min(line_number, len(lines) - 1)
        if kind == "insert":
            lines.insert(at, line_text)
        elif kind == "delete" and len(lines) > 1:
            del lines[at]
        else:
            lines[at] += line_text
        edited = "\n".join(lines)
        parsed = parser.update(edited, _unchanged(text, edited, slack))
        text = edited
        fresh = dlmlang.parse(text)
        assert parsed.diagnostics == fresh.diagnostics
        if build:
            assert parsed.document == fresh
            assert parsed.document.diagnostics == fresh.diagnostics
            assert _shape(parsed.document) == _shape(fresh)
        else:
            unbuilt.append((parsed, fresh))
    for parsed, fresh in unbuilt:  # built late, after later edits: still their own version
        assert _shape(parsed.document) == _shape(fresh)


@SETTINGS
@given(document_text(), st.integers(1, 96))
def test_a_block_parsed_in_pieces_equals_the_block_parsed_whole(text: str, size: int) -> None:
    """Cut every block at (nearly) every line outside code: the joined raw parse is the
    block's own, item for item."""
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    body = body[dlmlang.document.prepare(text).placer.body_offset :] if "\r" not in text else ""
    if not body or not body.endswith("\n"):
        return
    spans = split_blocks(body)
    for index, (offset, _line, start) in enumerate(spans):
        end = spans[index + 1][0] if index + 1 < len(spans) else len(body)
        block = body[offset:end]
        if not block:
            continue
        offsets = cuts(block, code_toggles(block, start == "lead"), size)
        joined = parse_in_pieces(
            block,
            start,
            offsets,
            lambda piece, symbol, line: shifted(parse_raw(piece, symbol), line),
        )
        assert joined == parse_raw(block, start)


@SETTINGS
@given(
    document_text(),
    st.integers(1, 64),
    st.lists(
        st.tuples(
            st.integers(0, 60),
            st.integers(0, 3),
            st.lists(_EDIT_LINES, max_size=3),
            st.booleans(),
        ),
        max_size=5,
    ),
)
def test_parsing_large_blocks_in_pieces_equals_a_fresh_parse(
    text: str, size: int, edits: list[tuple[int, int, list[str], bool]]
) -> None:
    """Every block goes in pieces; edits replace whole lines, or type within one."""
    parser = IncrementalParser()
    parser.large_block, parser.piece_size = 0, size
    assert parser.parse(text) == dlmlang.parse(text)
    for line_number, removed, inserted, within in edits:
        lines = text.split("\n")
        at = min(line_number, len(lines) - 1)
        if within:
            lines[at] = (
                lines[at][: len(lines[at]) // 2]
                + "".join(inserted)
                + lines[at][len(lines[at]) // 2 :]
            )
        else:
            lines[at : at + removed] = inserted
        text = "\n".join(lines)
        incremental = parser.parse(text)
        fresh = dlmlang.parse(text)
        assert incremental == fresh
        assert incremental.diagnostics == fresh.diagnostics
        assert _shape(incremental) == _shape(fresh)
        assert parser.piece_failures == 0


def test_an_edit_over_a_cut_in_a_large_block_reparses_only_near_it() -> None:
    paragraphs = "\n\n".join(f"para {i} line one\npara {i} line two" for i in range(400))
    text = (
        "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: x\n---\n\n::prose::\n"
        + paragraphs
        + "\n::instruction::\n### Q\nq\n### A\na\n"
    )
    parser = IncrementalParser()
    parser.large_block, parser.piece_size = 1000, 200
    assert parser.parse(text) == dlmlang.parse(text)
    before = parser.block_parses
    # Replace lines on both sides of a paragraph start (a cut), and change the line count.
    edited = text.replace("para 100 line two\n\npara 101 line one", "X\nYY\nZ")
    document = parser.parse(edited)
    assert parser.block_parses - before <= 3
    assert parser.piece_failures == 0
    assert document == dlmlang.parse(edited)
    assert _shape(document) == _shape(dlmlang.parse(edited))
