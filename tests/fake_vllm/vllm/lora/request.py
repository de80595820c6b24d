"""The fake `LoRARequest`: vLLM's current fields and checks."""

from __future__ import annotations

from dataclasses import dataclass

from vllm import record


@dataclass
class LoRARequest:
    """A LoRA adapter by name, id (from 1) and path."""

    lora_name: str
    lora_int_id: int
    lora_path: str = ""

    def __post_init__(self) -> None:
        if self.lora_int_id < 1:
            raise ValueError(f"id must be > 0, got {self.lora_int_id}")
        if not self.lora_path:
            raise ValueError("lora_path cannot be empty")
        record("LoRARequest", **vars(self))
