"""Position conversion between dlmlang code points and the protocol's encodings."""

from __future__ import annotations

import pytest
from lsprotocol import types

from dlmlang import Position
from lsp.positions import from_client, split_lines, to_client, units

LINE = "a😀b中c"  # the emoji is 2 UTF-16 units and 4 UTF-8 bytes; 中 is 1 and 3


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-16", [0, 1, 3, 4, 5, 6]),
        ("utf-32", [0, 1, 2, 3, 4, 5]),
        ("utf-8", [0, 1, 5, 6, 9, 10]),
    ],
)
def test_every_code_point_maps_both_ways(encoding: str, expected: list[int]) -> None:
    lines = [LINE]
    for character, unit in enumerate(expected):
        client = to_client(lines, Position(0, character), encoding)
        assert client == types.Position(0, unit)
        assert from_client(lines, client, encoding) == Position(0, character)
    assert units(LINE, encoding) == expected[-1]


def test_a_unit_inside_a_character_rounds_down_and_past_the_end_clamps() -> None:
    assert from_client([LINE], types.Position(0, 2)) == Position(0, 1)
    assert from_client([LINE], types.Position(0, 99)) == Position(0, len(LINE))
    assert from_client([LINE], types.Position(5, 0)) == Position(5, 0)


def test_lines_split_like_dlmlang() -> None:
    assert split_lines("a\r\nb\rc\nd") == ["a", "b", "c", "d"]
