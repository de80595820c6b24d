"""Backslash escaping of body text (docs/format.md, "Escaping"): what the serializer writes so that
model-generated text reads back exactly as given."""

from __future__ import annotations

import re

_TOGGLE = re.compile(r"```")
_ESCAPED_TOGGLE = re.compile(r"\\+```")
# Structure in every context, possibly already preceded by backslashes.
_ANYWHERE = (
    r"\\*(?:::[A-Za-z0-9_#-]+::$|::(?:image|audio)(?:[ \t].*)?::$|```"
    r"|<!-- dlm-auto-(?:mined|synth|harvest))"
)
_STRUCTURE = {
    "prose": re.compile(_ANYWHERE),
    "instruction": re.compile(_ANYWHERE + r"|\\*[ \t]*### (?:Q(?: !probe)?|A)[ \t]*$"),
    "preference": re.compile(_ANYWHERE + r"|\\*[ \t]*### (?:Prompt|Chosen|Rejected)[ \t]*$"),
}


def escape_body(text: str, context: str) -> str:
    """Escape `text` (LF lines) for a body of `context` (prose/instruction/preference).

    Code blocks in the text stay code blocks; an unbalanced last toggle is
    escaped so it cannot swallow the rest of the document.
    """
    lines = text.split("\n")
    toggles = [i for i, line in enumerate(lines) if _TOGGLE.match(line)]
    literal_toggle = toggles[-1] if len(toggles) % 2 else -1
    structure = _STRUCTURE[context]
    in_code = False
    out: list[str] = []
    for index, line in enumerate(lines):
        if _TOGGLE.match(line) and index != literal_toggle:
            in_code = not in_code
            out.append(line)
        elif in_code:
            out.append("\\" + line if _ESCAPED_TOGGLE.match(line) else line)
        elif structure.match(line):
            out.append("\\" + line)
        else:
            out.append(line)
    return "\n".join(out)
