"""The loop where the cursor is, in a real VS Code: code lenses on the frontmatter and above
the questions of a trained document, and "Ask the adapter" answering a question beside
its reference answer (an inlay hint) with the adapter version."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.editor.test_loop import train_document
from tests.editor.workbench import Workbench

pytestmark = pytest.mark.editor
ANSWER = 90.0
"""Seconds the tiny model may take to load and answer through `dlm prompt`."""


def lens_titles(workbench: Workbench) -> list[str]:
    """The titles of the code lenses the editor shows now."""
    lenses = workbench.page.locator(".monaco-editor .codelens-decoration a")
    return [" ".join(text.split()) for text in lenses.all_inner_texts()]


def test_lenses_offer_the_loop_and_ask_answers_a_question(
    workbench: Workbench, tiny_model_dir: Path, dlm_home: Path
) -> None:
    train_document(workbench.folder, tiny_model_dir)
    workbench.open_file("trained.dlm")
    workbench.wait_for(
        lambda: any(title.startswith("Ask the adapter") for title in lens_titles(workbench)),
        "the Ask lens above a question",
    )
    titles = lens_titles(workbench)
    assert "Train" in titles and "Show metrics" in titles, titles
    assert any(title.startswith("Mine preferences (") for title in titles), titles
    workbench.illustrate("lenses")
    ask = workbench.page.locator(
        ".monaco-editor .codelens-decoration a", has_text="Ask the adapter"
    )
    ask.first.click()
    workbench.wait_for(
        lambda: any("v0001 answered" in title for title in lens_titles(workbench)),
        "the lens to say which version answered",
        timeout=ANSWER,
    )
    # The answer is an inlay hint at the end of the reference answer's line.
    workbench.wait_for(
        lambda: "v0001: " in workbench.editor_text(), "the answer beside the reference"
    )
    workbench.illustrate("ask")
