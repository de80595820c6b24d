"""Deterministic generated .dlm documents for the benchmarks."""

from __future__ import annotations

import random

_WORDS = [
    "the",
    "of",
    "and",
    "a",
    "model",
    "adapter",
    "section",
    "document",
    "train",
    "answer",
    "question",
    "token",
    "loss",
    "language",
    "learning",
    "rate",
    "batch",
    "prose",
    "instruction",
    "preference",
    "chosen",
    "rejected",
    "prompt",
    "gradient",
    "step",
    "epoch",
    "data",
    "sample",
    "judge",
    "margin",
    "run",
    "store",
]

FRONTMATTER = (
    "---\ndlm_id: 01JQ7Z0000000000000000000A\ndlm_version: 15\nbase_model: smollm2-135m\n"
    "training:\n  lora_r: 8\n  sequence_len: 512\n---\n\n"
)
_MARKER = (
    '<!-- dlm-auto-mined: judge_name="sway" judge_score_chosen="0.82" '
    'judge_score_rejected="0.31" mined_at="2026-04-23T18:42:11Z" mined_run_id="7" -->\n'
)


def generate_document(target_bytes: int = 1_000_000, seed: int = 0) -> str:
    """A valid document of about `target_bytes`: prose, instruction and preference sections."""
    rng = random.Random(seed)

    def paragraph(lines: int) -> str:
        return "\n".join(
            " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 14))) for _ in range(lines)
        )

    parts = [FRONTMATTER]
    size = len(FRONTMATTER)
    index = 0
    while size < target_bytes:
        kind = index % 4
        if kind == 0:
            part = (
                f"::prose::\n{paragraph(rng.randint(3, 8))}\n\n{paragraph(rng.randint(2, 6))}\n\n"
            )
        elif kind == 1:
            part = (
                f"::instruction::\n### Q\n{paragraph(rng.randint(1, 2))}\n### A\n"
                f"{paragraph(rng.randint(2, 5))}\n\n### Q\n{paragraph(1)}\n### A\n"
                f"```python\nprint({index})\n```\n{paragraph(rng.randint(1, 3))}\n\n"
            )
        else:
            marker = _MARKER if kind == 3 else ""
            part = (
                f"::preference::\n{marker}### Prompt\n{paragraph(1)}\n### Chosen\n"
                f"{paragraph(rng.randint(1, 3))}\n### Rejected\n{paragraph(rng.randint(1, 3))}\n\n"
            )
        parts.append(part)
        size += len(part)
        index += 1
    return "".join(parts)
