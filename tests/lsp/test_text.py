"""The server's text buffer: protocol edits applied by splicing lines equal the same
edits applied to the whole string, in every position encoding."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from dlmlang.positions import line_starts
from lsp.positions import from_client, split_lines
from lsp.text import TextBuffer, split_keeping_ends

SETTINGS = settings(
    max_examples=int(os.environ.get("DLM_HYPOTHESIS_EXAMPLES", "300")), deadline=None
)
PIECES = st.sampled_from(["a", "b", " ", "\n", "\r", "\r\n", "😀", "中", "::prose::\n", "### Q\n"])
text_strategy = st.lists(PIECES, max_size=30).map("".join)
position = st.builds(types.Position, line=st.integers(0, 8), character=st.integers(0, 6))
edit = st.tuples(position, position, text_strategy)


def _offset(text: str, point: types.Position, encoding: str) -> int:
    """Where the protocol says `point` is in `text` (the reference, on the whole string)."""
    lines = split_lines(text)
    if point.line >= len(lines):
        return len(text)
    column = from_client(lines, point, encoding).character
    return line_starts(text)[point.line] + min(column, len(lines[point.line]))


@SETTINGS
@given(
    text_strategy,
    st.lists(edit, max_size=6),
    st.sampled_from(["utf-16", "utf-8", "utf-32"]),
    st.sampled_from([1, 2, 3, 256]),
)
def test_spliced_edits_equal_string_edits(
    text: str, edits: list[tuple[types.Position, types.Position, str]], encoding: str, chunk: int
) -> None:
    """Chunks of 1-3 lines put every edit across chunk boundaries."""
    buffer = TextBuffer(text, chunk)
    original = text
    for start, end, new_text in edits:
        begin, finish = sorted((_offset(text, start, encoding), _offset(text, end, encoding)))
        text = text[:begin] + new_text + text[finish:]
        buffer.apply(
            types.TextDocumentContentChangePartial(range=types.Range(start, end), text=new_text),
            encoding,
        )
        assert buffer.text == text
        assert list(buffer.lines()) == split_lines(text)
        assert [buffer.lines()[i] for i in range(len(split_lines(text)))] == split_lines(text)
    unchanged = buffer.take_unchanged()
    assert unchanged is not None
    prefix, suffix = unchanged
    assert prefix + suffix <= min(len(text), len(original))
    assert text[:prefix] == original[:prefix]
    assert text[len(text) - suffix :] == original[len(original) - suffix :]


def test_a_whole_text_change_replaces_everything_and_says_nothing_is_known() -> None:
    buffer = TextBuffer("one\ntwo\n")
    buffer.apply(types.TextDocumentContentChangeWholeDocument(text="three\r\nfour"), "utf-16")
    assert buffer.text == "three\r\nfour"
    assert list(buffer.lines()) == ["three", "four"]
    assert buffer.take_unchanged() is None
    assert buffer.take_unchanged() == (len("three\r\nfour"), 0)


def test_an_lf_typed_after_a_cr_joins_it_into_one_line_ending() -> None:
    buffer = TextBuffer("a\rb", chunk=1)  # the CR and the LF in different chunks
    buffer.edit(types.Range(types.Position(1, 0), types.Position(1, 0)), "\n", "utf-16")
    assert buffer.text == "a\r\nb"
    assert list(buffer.lines()) == ["a", "b"]


def test_lines_are_a_copy_of_their_version() -> None:
    buffer = TextBuffer("x\ny\n", chunk=1)
    before = buffer.lines()
    buffer.edit(types.Range(types.Position(0, 0), types.Position(1, 0)), "", "utf-16")
    assert list(before) == ["x", "y", ""] and list(buffer.lines()) == ["y", ""]
    assert before[0:2] == ["x", "y"]


def test_split_keeping_ends_round_trips() -> None:
    for text in ["", "a", "a\n", "a\r\nb\rc\n\n", "\r"]:
        assert "".join(split_keeping_ends(text)) == text
