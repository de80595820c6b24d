"""The grammar alone (one whole-body parse) and the block pipeline agree on every fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

import dlmlang
from dlmlang.incremental import IncrementalParser, parse_blocks

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures").rglob("*.dlm"))


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_whole_body_and_block_paths_agree(path: Path) -> None:
    data = path.read_bytes()
    whole = dlmlang.parse_bytes(data)
    text = data.decode("utf-8", errors="replace")
    blocks = parse_blocks(text)
    assert blocks.sections == whole.sections
    assert [s.range for s in blocks.sections] == [s.range for s in whole.sections]
    assert [s.source for s in blocks.sections] == [s.source for s in whole.sections]
    expected = [d for d in whole.diagnostics if d.code != "DLM001"]
    assert list(blocks.diagnostics) == expected


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_incremental_parser_reuses_every_block_of_an_unchanged_text(path: Path) -> None:
    text = path.read_bytes().decode("utf-8", errors="replace")
    parser = IncrementalParser()
    first = parser.parse(text)
    parses = parser.block_parses
    again = parser.parse(text)
    assert parser.block_parses == parses
    assert again == first and again.diagnostics == first.diagnostics


def test_there_are_fixtures() -> None:
    assert len(FIXTURES) > 20
