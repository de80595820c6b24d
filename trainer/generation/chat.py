"""Chatting with a document's adapter: the use case behind `dlm repl` (the CLI reads the lines
and prints); the model loaded once, every turn answered with the earlier ones as chat messages,
and an exchange turned into the edit that appends it to the document."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dlmlang.document import Document
from dlmlang.edits import TextEdit, insert_after
from dlmlang.errors import UsageError
from dlmlang.sections import QAPair, Section
from dlmlang.serialize import instruction_section
from trainer.generation.generate import Sampling, answer_messages, load_for_generation
from trainer.runtime.devices import Placement
from trainer.store import Store

BASE = "base"
"""The version name of the base model alone, without an adapter."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One turn of a chat: what was asked, and what the model answered."""

    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class ChatModel:
    """Where a chat's model comes from: the base checkpoint and the device it runs on."""

    model_dir: Path
    placement: Placement


class Chat:
    """A conversation with one loaded model; each turn sees the earlier ones as messages."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        version: str,
        *,
        system_prompt: str | None = None,
        sampling: Sampling | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.version = version
        self.system_prompt = system_prompt
        self.sampling = sampling or Sampling(temperature=0.0)
        self.history: list[Exchange] = []

    @property
    def last(self) -> Exchange | None:
        """The latest exchange, or None before the first question (or after a reset)."""
        return self.history[-1] if self.history else None

    def ask(self, question: str) -> str:
        """The model's answer to `question` after the history; the exchange joins it."""
        seed = self.sampling.seed + len(self.history)  # each turn its own stream, reproducibly
        text = answer_messages(
            self.model, self.tokenizer, self.messages(question), replace(self.sampling, seed=seed)
        )
        self.history.append(Exchange(question, text))
        return text

    def messages(self, question: str) -> list[dict[str, str]]:
        """The chat for `question`: system prompt, then as many of the latest exchanges as
        fit the model's context with room for the answer, then the question."""
        head = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        tail = [{"role": "user", "content": question}]
        kept = list(self.history)
        while True:
            turns = [
                message
                for exchange in kept
                for message in (
                    {"role": "user", "content": exchange.question},
                    {"role": "assistant", "content": exchange.answer},
                )
            ]
            messages = [*head, *turns, *tail]
            if not kept or self._fits(messages):
                return messages
            kept.pop(0)

    def reset(self) -> None:
        """Forget the history; the next question starts a new conversation."""
        self.history.clear()

    def set_temperature(self, temperature: float) -> None:
        """Sample at `temperature` from now on; 0 is greedy."""
        if not (math.isfinite(temperature) and temperature >= 0):
            raise UsageError(
                f"A temperature is 0 (greedy) or a finite number above, not {temperature}."
            )
        self.sampling = replace(self.sampling, temperature=temperature)

    def use_model(self, model: Any, tokenizer: Any, version: str) -> None:
        """Answer with another model (another adapter version) from now on; the history stays."""
        self.model, self.tokenizer, self.version = model, tokenizer, version

    def _fits(self, messages: list[dict[str, str]]) -> bool:
        limit = getattr(getattr(self.model, "config", None), "max_position_embeddings", None)
        if not isinstance(limit, int):
            return True
        prompt = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        used = len(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])
        return used + self.sampling.max_new_tokens <= limit


def pick_version(store: Store, requested: str | None, document: str) -> str:
    """The adapter version to chat with: `requested` ("v0002", "2" or "base"), else the
    store's current one."""
    return store.resolve_version(requested, document, "the chat answers with it")


def load_version(source: ChatModel, store: Store, version: str) -> tuple[Any, Any]:
    """(model, tokenizer): the base model with adapter `version` applied ("base": none)."""
    adapter = None if version == BASE else store.version_path(version)
    return load_for_generation(source.model_dir, adapter, source.placement)


def open_chat(
    source: ChatModel,
    store: Store,
    version: str,
    *,
    system_prompt: str | None,
    sampling: Sampling,
) -> Chat:
    """A new chat with adapter `version` of the store, loaded once."""
    model, tokenizer = load_version(source, store, version)
    return Chat(model, tokenizer, version, system_prompt=system_prompt, sampling=sampling)


def exchange_section(exchange: Exchange) -> Section:
    """The exchange as an `::instruction::` section (### Q / ### A), escaped when written."""
    if not exchange.answer.strip():
        raise UsageError("The last answer is empty; there is nothing to save. Ask again.")
    return instruction_section([QAPair(exchange.question, exchange.answer)])


def save_edits(document: Document, exchange: Exchange) -> list[TextEdit]:
    """The edit appending `exchange` at the end of `document`; none when that section is
    already there."""
    section = exchange_section(exchange)
    if any(s.section_id == section.section_id for s in document.sections):
        return []
    return [insert_after(document, None, [section])]
