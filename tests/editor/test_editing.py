"""Editing a .dlm document in a real VS Code: highlighting and diagnostics with their codes,
completion of the fences, the outline, and a quick fix from the lightbulb."""

from __future__ import annotations

import pytest

from tests.editor.workbench import Workbench

pytestmark = pytest.mark.editor


def test_errors_are_highlighted_and_listed_with_their_codes(workbench: Workbench) -> None:
    workbench.open_file("broken.dlm")
    workbench.wait_for(lambda: len(workbench.problems()) >= 4, "3 problems under broken.dlm")
    rows = workbench.problems()
    assert rows[0].startswith("broken.dlm"), rows
    for code, where in (("DLM015", "[Ln 5, Col 3]"), ("DLM030", "[Ln 10, Col 1]")):
        assert any(f"dlm {code} {where}" in row for row in rows), (code, rows)
    assert any("dlm DLM042 [Ln 17, Col 1]" in row for row in rows), rows
    # The TextMate grammar colours the document: frontmatter keys, fences, headers.
    assert len(workbench.token_classes()) >= 4, workbench.token_classes()
    squiggles = workbench.page.locator(".monaco-editor .squiggly-error")
    workbench.wait_for(lambda: squiggles.count() >= 3, "three error squiggles")
    workbench.illustrate("diagnostics")


def test_typing_two_colons_offers_the_section_fences(workbench: Workbench) -> None:
    workbench.open_file("scratch.dlm")
    workbench.page.keyboard.press("Control+End")
    workbench.page.keyboard.type("::", delay=150)
    labels = workbench.suggestions()
    assert {"::prose::", "::instruction::", "::preference::"} <= set(labels), labels
    workbench.illustrate("completion")
    workbench.page.keyboard.press("Escape")


def test_the_outline_lists_the_sections(workbench: Workbench) -> None:
    workbench.open_file("notes.dlm")
    workbench.wait_for(lambda: len(workbench.outline()) >= 4, "the sections in the outline")
    rows = workbench.outline()
    text = "\n".join(rows)
    for expected in ("frontmatter", "prose", "instruction", "preference"):
        assert expected in text, rows
    workbench.illustrate("outline")


def test_a_quick_fix_from_the_lightbulb_clears_the_diagnostic(workbench: Workbench) -> None:
    workbench.open_file("typo.dlm")
    workbench.wait_for(
        lambda: any("DLM015" in row for row in workbench.problems()), "DLM015 in Problems"
    )
    workbench.go_to(5, 4)
    lightbulb = workbench.page.locator("[class*='codicon-gutter-lightbulb']")
    workbench.wait_for(lightbulb.is_visible, "the lightbulb on line 5")
    lightbulb.click()
    menu = workbench.page.locator(".action-widget .monaco-list-row")
    workbench.wait_for(lambda: "Rename to `lora_r`" in " ".join(menu.all_inner_texts()), "the fix")
    workbench.illustrate("quick-fix")
    menu.filter(has_text="Rename to `lora_r`").click()
    workbench.wait_for(lambda: "lora_r: 8" in workbench.editor_text(), "the key renamed")
    workbench.wait_for(
        lambda: not any("DLM015" in row for row in workbench.problems()), "DLM015 cleared"
    )
