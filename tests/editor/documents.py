"""The documents of the test workspace, each made for one scenario."""

from __future__ import annotations

from pathlib import Path

from tests.lsp.processes import MINED_SECTION

FRONTMATTER = "---\ndlm_id: {id}\nbase_model: smollm2-135m\n---\n"

BROKEN = """---
dlm_id: 01JQ7Z0000000000000000000B
base_model: smollm2-135m
training:
  lora_rr: 8
---

The Tern leaves Harwick at 7:40.

::instrucion::
### Q
When does the Tern leave?
### A
At 7:40.

::instruction::
### Q
No answer?
"""
"""Three errors: DLM015 (a misspelt key, with a quick fix), DLM030 (an unknown fence, with
a quick fix), DLM042 (a question without an answer)."""

TYPO = """---
dlm_id: 01JQ7Z0000000000000000000C
base_model: smollm2-135m
training:
  lora_rr: 8
---

Morwenna Teague keeps Black Rock Light.
"""
"""One error with one quick fix: `lora_rr` -> `lora_r` (DLM015)."""

NOTES = (
    FRONTMATTER.format(id="01JQ7Z0000000000000000000D")
    + """
Morwenna Teague keeps Black Rock Light.

::instruction::
### Q
When does the Tern leave?
### A
At 7:40.
### Q
Who keeps the light?
### A
Morwenna Teague.
"""
    + MINED_SECTION
)
"""A valid document with a prose, an instruction and an auto-mined preference section."""

SCRATCH = FRONTMATTER.format(id="01JQ7Z0000000000000000000E") + "\nA line of prose.\n\n"
"""Valid, and ends with an empty line to type on."""

DOCUMENTS = {
    "broken.dlm": BROKEN,
    "typo.dlm": TYPO,
    "notes.dlm": NOTES,
    "scratch.dlm": SCRATCH,
}


def write_workspace(folder: Path) -> Path:
    """Write every document into `folder` and return it."""
    for name, text in DOCUMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
