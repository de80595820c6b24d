"""The pieces of an eval that need no model: prompts files, word overlap, the comparison."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from dlmlang.errors import UsageError
from trainer.evaluation.compare import compare
from trainer.evaluation.overlap import token_f1, words
from trainer.evaluation.prompts import EvalPrompt, read_prompts_file


def test_word_overlap_ignores_case_punctuation_and_order() -> None:
    assert words("At 7:40, from Gullmouth PIER!") == ["at", "7", "40", "from", "gullmouth", "pier"]
    assert token_f1("The Tern leaves at 7:40.", "at 7:40 the tern leaves") == 1.0
    assert token_f1("banana", "At 7:40.") == 0.0
    assert token_f1("At 7:40 every morning", "At 7:40.") == pytest.approx(2 * 0.6 * 1 / 1.6)
    assert token_f1("", "") == 1.0 and token_f1("", "x") == 0.0


def test_prompt_lines_and_json_lines(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("When?\n\n  Who keeps the light?  \n", encoding="utf-8")
    assert read_prompts_file(plain) == [
        EvalPrompt("When?", None, "file:1"),
        EvalPrompt("Who keeps the light?", None, "file:3"),
    ]
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"prompt": "When?", "reference": "At 7:40."}\n{"prompt": "Who?"}\n')
    assert read_prompts_file(rows) == [
        EvalPrompt("When?", "At 7:40.", "file:1"),
        EvalPrompt("Who?", None, "file:2"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "has no prompts"),
        ('{"prompt": "a"}\n{"prompt": 3}\n', r"rows.jsonl:2: each line needs \"prompt\""),
        ('{"prompt": "a"}\nnot json\n', r"rows.jsonl:2: not JSON"),
        ('{"prompt": "a", "reference": 1}\n', r"rows.jsonl:1: \"reference\" must be a string"),
    ],
)
def test_a_broken_prompts_file_names_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        read_prompts_file(path)


def test_the_comparison_counts_ties_half_and_is_reproducible() -> None:
    result = compare([1.0, 2.0, 3.0, 0.5], [0.0, 2.0, 4.0, 0.0])
    assert (result.wins, result.ties, result.losses) == (2, 1, 1)
    assert result.win_rate == pytest.approx(2.5 / 4)
    assert result.mean_delta == pytest.approx((1 + 0 - 1 + 0.5) / 4)
    assert 0.0 <= result.low <= result.win_rate <= result.high <= 1.0
    assert compare([1.0, 2.0, 3.0, 0.5], [0.0, 2.0, 4.0, 0.0]) == result


def test_the_interval_narrows_with_more_prompts_and_covers_a_clear_win() -> None:
    rng = random.Random(1)
    few = compare([1.0] * 4 + [0.0], [0.0] * 4 + [1.0])
    first = [rng.random() + 0.3 for _ in range(200)]
    second = [rng.random() for _ in range(200)]
    many = compare(first, second)
    assert many.high - many.low < few.high - few.low
    assert many.low > 0.5


def test_unequal_lists_are_refused() -> None:
    with pytest.raises(ValueError, match="equally long"):
        compare([1.0], [1.0, 2.0])
