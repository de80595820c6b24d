"""The parse tables kept on disk: computed by Lark from `dlm.lark`, never read stale."""

from __future__ import annotations

import marshal
import sys
from pathlib import Path

import pytest

import dlmlang
from dlmlang.grammar import (
    UNREAD,
    _all_terminals,
    grammar_text,
    load_tables,
    marker_attributes,
    marker_values,
    parse_raw,
    parser,
    tables,
)
from dlmlang.lalr import build_tables
from dlmlang.marker import check_marker, valid_marker
from dlmlang.positions import Range


def test_cached_tables_are_lark_tables_of_the_grammar() -> None:
    built = build_tables(parser())
    built["terminals"] = _all_terminals(grammar_text())
    built["grammar"] = grammar_text()
    assert tables() == built


def test_tables_are_saved_and_read_back(tmp_path: Path) -> None:
    first = load_tables(grammar_text(), [tmp_path])
    (saved,) = tmp_path.iterdir()
    assert marshal.loads(saved.read_bytes()) == first
    assert load_tables(grammar_text(), [tmp_path]) == first


def test_an_edited_grammar_never_reads_the_old_tables(tmp_path: Path) -> None:
    old = load_tables(grammar_text(), [tmp_path])
    edited = grammar_text().replace("/[ \\t]*### A[ \\t]*\\n/", "/[ \\t]*### Answer[ \\t]*\\n/")
    assert edited != grammar_text()
    new = load_tables(edited, [tmp_path])
    assert len(list(tmp_path.iterdir())) == 2
    assert new["terminals"]["A_HEADER"] != old["terminals"]["A_HEADER"]


def test_a_cache_file_of_another_grammar_under_the_same_name_is_rebuilt(tmp_path: Path) -> None:
    load_tables(grammar_text(), [tmp_path])
    (saved,) = tmp_path.iterdir()
    stale = marshal.loads(saved.read_bytes())
    stale["grammar"] = "something else"
    stale["states"] = {}
    saved.write_bytes(marshal.dumps(stale))
    again = load_tables(grammar_text(), [tmp_path])
    assert again["states"] and again["grammar"] == grammar_text()


def test_an_unwritable_cache_still_gives_tables(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    assert load_tables(grammar_text(), [blocked / "cache"]) == tables()


def test_marker_attributes_walk_the_grammar_terminals() -> None:
    line = '<!-- dlm-auto-mined:  a="1"\tb="x-->y" -->  \n'
    found = marker_attributes(line, 3)
    assert [(a.name, a.value) for a in found] == [("a", "1"), ("b", "x-->y")]
    assert [(a.range.start.character, a.range.end.character) for a in found] == [(22, 27), (28, 37)]
    assert all(a.range.start.line == 3 for a in found)
    document = dlmlang.parse(
        f"::preference::\n{line}### Prompt\np\n### Chosen\nc\n### Rejected\nr\n"
    )
    assert any(d.code == "DLM062" for d in document.diagnostics)


def test_the_cache_file_is_named_for_the_python_that_wrote_it(tmp_path: Path) -> None:
    # marshal's format is Python's own; a shared user cache serves several interpreters.
    load_tables(grammar_text(), [tmp_path])
    (saved,) = tmp_path.iterdir()
    assert saved.name.endswith(f"-py{sys.version_info[0]}{sys.version_info[1]}.tables")


GOOD_MARKER = {
    "judge_name": "sway &amp; co",
    "judge_score_chosen": "0.82",
    "judge_score_rejected": "0.31",
    "mined_at": "2026-04-23T18:42:11.5+02:00",
    "mined_run_id": "7",
}


@pytest.mark.parametrize(
    "changed",
    [
        {},
        {"judge_score_chosen": "0.31"},
        {"judge_score_chosen": "0.1"},
        {"judge_score_chosen": "1e999"},
        {"judge_score_rejected": "x"},
        {"mined_at": "2026-04-23"},
        {"mined_at": "2026-02-30T00:00:00Z"},
        {"mined_run_id": "0"},
        {"mined_run_id": "07"},
        {"judge_name": None},
        {"extra": "1"},
    ],
)
def test_valid_markers_skip_the_ranges_and_say_what_check_marker_says(
    changed: dict[str, str | None],
) -> None:
    values = {**GOOD_MARKER, **changed}
    pairs = " ".join(f'{name}="{value}"' for name, value in values.items() if value is not None)
    line = f"<!-- dlm-auto-mined: {pairs} -->\n"
    marker, problems = check_marker(marker_attributes(line, 0), Range.on_line(0, 0, len(line) - 1))
    quick = valid_marker(marker_values(line))
    assert quick == (marker if not problems else None)
    repeated = valid_marker([*marker_values(line), ("mined_run_id", "7")])
    assert repeated is None


def test_marker_attributes_are_read_when_asked_for() -> None:
    line = '<!-- dlm-auto-mined: judge_name="a" -->\n'
    (section,) = parse_raw(f"::preference::\n{line}", "body")
    (item,) = section.items
    assert item.given is UNREAD
    assert item.attributes == marker_attributes(line, 1)
    assert item.given == item.attributes
    (malformed,) = parse_raw("::preference::\n<!-- dlm-auto-mined: x -->\n", "body")[0].items
    assert malformed.attributes is None
