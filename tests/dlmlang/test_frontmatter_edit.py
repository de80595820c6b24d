"""`replace_frontmatter_value`: a new dlm_id changes the id's characters and nothing else."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import dlmlang
from dlmlang.edits import EditError, apply_edits, replace_frontmatter_value

from .strategies import body_text, newline
from .test_properties import SETTINGS

OLD = "01JQ7Z0000000000000000000A"
NEW = "01JR2B6T9W0XKQ4M7N3P5S8V1Y"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ulid = st.builds(
    lambda first, rest: first + "".join(rest),
    st.sampled_from("01234567"),
    st.lists(st.sampled_from(CROCKFORD), min_size=25, max_size=25),
)


def _renewed(text: str, value: str = NEW, key: str = "dlm_id") -> str:
    return apply_edits(text, [replace_frontmatter_value(dlmlang.parse(text), key, value)])


@pytest.mark.parametrize(
    "line",
    [
        f"dlm_id: {OLD}",
        f"dlm_id: '{OLD}'",
        f'dlm_id: "{OLD}"',
        f'"dlm_id":   "{OLD}"   # minted by dlm init: keep it',
        f"dlm_id: {OLD} # the store's name",
        f"dlm_id:\n  {OLD}",
    ],
)
@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_only_the_ids_characters_change(line: str, eol: str, bom: str) -> None:
    text = bom + eol.join(["---", "# a comment", line, "base_model: m", "---", "", "Prose.", ""])
    text = text.replace("\n", eol)
    assert _renewed(text) == text.replace(OLD, NEW)
    assert dlmlang.parse(_renewed(text)).frontmatter.dlm_id == NEW  # type: ignore[union-attr]


def test_a_nested_key_can_be_changed_too() -> None:
    text = f"---\ndlm_id: {OLD}\nbase_model: m\ntraining:\n  lora_r: 8  # rank\n---\n"
    assert _renewed(text, "16", "training.lora_r") == text.replace("8  #", "16  #")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("---\nbase_model: m\n---\n", "no `dlm_id`"),
        (f"---\ndlm_id: |\n  {OLD}\nbase_model: m\n---\n", "not a one-line value"),
        (f"---\ndlm_id: !!str {OLD}\nbase_model: m\n---\n", "by changing only its value"),
        (f'---\ndlm_id: "{OLD[:-1]}\\x41"\nbase_model: m\n---\n', "by changing only its value"),
        ("no frontmatter at all\n", "no `dlm_id`"),
    ],
)
def test_values_it_cannot_change_in_place_are_refused(text: str, why: str) -> None:
    with pytest.raises(EditError, match=why):
        replace_frontmatter_value(dlmlang.parse(text), "dlm_id", NEW)


def test_a_value_yaml_would_read_differently_is_refused() -> None:
    text = f"---\ndlm_id: {OLD}\nbase_model: m\n---\n"
    with pytest.raises(EditError, match="by changing only its value"):
        replace_frontmatter_value(dlmlang.parse(text), "base_model", "a # b")
    digits = "0" * 26
    with pytest.raises(EditError, match="by changing only its value"):
        replace_frontmatter_value(dlmlang.parse(text), "dlm_id", digits)  # YAML: a number
    assert _renewed(text.replace(OLD, f"'{OLD}'"), digits) == text.replace(OLD, f"'{digits}'")
    quoted = text.replace("base_model: m", 'base_model: "m"')
    assert _renewed(quoted, 'a "b"', "base_model") == quoted.replace('"m"', '"a \\"b\\""')


@SETTINGS
@given(
    old=ulid,
    new=ulid,
    quote=st.sampled_from(["", "'", '"']),
    comment=st.sampled_from(["", "  # keep this", " #"]),
    eol=newline,
    body=body_text(max_lines=8),
    before=st.booleans(),
)
def test_property_new_id_changes_only_the_ids_characters(
    old: str, new: str, quote: str, comment: str, eol: str, body: str, before: bool
) -> None:
    assume(quote or not (old.isdigit() or new.isdigit()))  # plain digits read as a number
    keys = [f"dlm_id: {quote}{old}{quote}{comment}", "base_model: m"]
    if before:
        keys.reverse()
    head = eol.join(["---", *keys, "---", ""])
    text = head + body
    renewed = _renewed(text, new)
    assert renewed == head.replace(old, new) + body
    at = text.index(old)
    changed = [i for i, (a, b) in enumerate(zip(text, renewed, strict=True)) if a != b]
    assert changed == [at + i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
    assert dlmlang.parse(renewed).frontmatter.dlm_id == new  # type: ignore[union-attr]
