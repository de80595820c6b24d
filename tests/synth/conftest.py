"""Fixtures of the synthesis tests: a store of their own, a document with prose, and an
OpenAI-compatible test server playing the teacher."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rewards.fake_openai import FakeOpenAI
from tests.synth.teacher import server_reply

DOCUMENT = """---
dlm_id: 01JQ7Z0000000000000000000S
base_model: smollm2-135m
---

The Tern is the ferry between Gullmouth and Harwick Island. It leaves Gullmouth pier at
7:40 every morning. Tickets cost four pounds and are sold on board.

::instruction::
### Q
When does the Tern leave?
### A
At 7:40.

::prose::
Morwenna Teague keeps Black Rock Light. The light flashes green every six seconds.
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`DLM_HOME` in the test's own directory."""
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def document(tmp_path: Path, home: Path) -> Path:
    """A valid document with two prose sections and one instruction section."""
    path = tmp_path / "notes.dlm"
    path.write_text(DOCUMENT, encoding="utf-8")
    return path


@pytest.fixture
def teacher_server() -> Iterator[FakeOpenAI]:
    """An OpenAI-compatible server on 127.0.0.1 answering the synthesis prompts."""
    fake = FakeOpenAI(server_reply)
    fake.formats = {None}  # the teacher asks for plain text, no response_format
    with fake.running():
        yield fake
