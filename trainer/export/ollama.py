"""An Ollama Modelfile for an exported GGUF: its template, system prompt and stops."""

from __future__ import annotations

import re
import shlex

from trainer.errors import ExportError

CHATML_START = "<|im_start|>"
CHATML_END = "<|im_end|>"
# Ollama's Go-template form of ChatML: the messages (SYSTEM comes first, as a system
# message), then the assistant's turn opened, as `add_generation_prompt` does.
CHATML_TEMPLATE = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n"
    "{{ .Content }}<|im_end|>\n"
    "{{ end }}<|im_start|>assistant\n"
)
# `dlm prompt`'s defaults: greedy answers of at most 128 tokens.
PARAMETERS = (("temperature", "0"), ("top_p", "0.95"), ("num_predict", "128"))
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}")


def check_name(name: str) -> str:
    """`name` if Ollama accepts it as a model name, else ExportError."""
    if not _NAME.fullmatch(name):
        raise ExportError(
            f"--ollama {name!r} is not an Ollama model name: use letters, digits and . _ - : / "
            "(e.g. `notes` or `me/notes:v3`), starting with a letter or digit."
        )
    return name


def is_chatml(chat_template: str | None) -> bool:
    """Whether a Jinja chat template is ChatML (`<|im_start|>role ... <|im_end|>`)."""
    return (
        bool(chat_template)
        and CHATML_START in str(chat_template)
        and CHATML_END in str(chat_template)
    )


def modelfile(gguf_name: str, chat_template: str | None, system_prompt: str | None) -> str:
    """The Modelfile's text: FROM the GGUF beside it, TEMPLATE and stops for ChatML,
    SYSTEM, and `dlm prompt`'s sampling defaults."""
    lines = [f"FROM ./{gguf_name}", ""]
    if is_chatml(chat_template):
        lines += [f'TEMPLATE """{CHATML_TEMPLATE}"""', ""]
        lines += [f'PARAMETER stop "{stop}"' for stop in (CHATML_START, CHATML_END)]
    lines += [f"PARAMETER {name} {value}" for name, value in PARAMETERS]
    if system_prompt:
        lines += ["", f'SYSTEM """{_quoted(system_prompt)}"""']
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    """Text for a triple-quoted Modelfile value, which cannot hold three quotes."""
    if '"""' in text:
        raise ExportError(
            'The document\'s system_prompt contains """, which an Ollama Modelfile cannot '
            "quote: change it in the frontmatter, or export without --ollama."
        )
    return text


def create_command(name: str, modelfile_path: str) -> str:
    """The command that makes the model known to Ollama."""
    return f"ollama create {shlex.quote(name)} -f {shlex.quote(modelfile_path)}"
