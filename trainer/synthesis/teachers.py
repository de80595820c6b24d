"""The teachers that write synthesized pairs: the document's own model, a local
transformers model, or an LLM behind an OpenAI-compatible API.

`--teacher self` is the document's current adapter (the base model when it has none
yet); `hf:<model>` a local checkpoint, named as a document's `base_model` is (a registry
name, a directory, or `org/name` in the Hugging Face cache); `api:<model>` a model on
an OpenAI-compatible server (`--teacher-url`, key in $DLM_TEACHER_API_KEY, else
$DLM_JUDGE_API_KEY).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from dlmlang.errors import UsageError
from trainer.errors import ModelNotFoundError, SynthesisError
from trainer.generation.generate import Sampling
from trainer.runtime.devices import Placement

API_KEY_ENV = "DLM_TEACHER_API_KEY"
FALLBACK_KEY_ENV = "DLM_JUDGE_API_KEY"
KINDS = ("self", "hf", "api")


class TeacherSelectorError(SynthesisError, UsageError):
    """A --teacher that names no teacher, or lacks what it needs (a URL)."""


@dataclass(frozen=True, slots=True)
class TeacherSpec:
    """A parsed --teacher: its kind (`self`, `hf`, `api`) and model name."""

    kind: str
    model: str = ""
    url: str | None = None

    @property
    def name(self) -> str:
        """The teacher as the synthesis marker records it (`self`, `hf:...`, `api:...`)."""
        return "self" if self.kind == "self" else f"{self.kind}:{self.model}".replace('"', "'")


class Teacher(Protocol):
    """Anything that answers a chat with the assistant's next turn."""

    name: str

    def reply(self, messages: list[dict[str, str]], sampling: Sampling) -> str:
        """The assistant's next turn after `messages`."""
        ...

    def close(self) -> None:
        """Release the model or connection."""
        ...


def parse_teacher(selector: str, url: str | None = None) -> TeacherSpec:
    """`self`, `hf:<model>` or `api:<model>` (with `url`, its API base) as a spec."""
    kind, _, model = selector.strip().partition(":")
    if kind == "self" and not model:
        return TeacherSpec("self")
    if kind in ("hf", "api") and model.strip():
        if kind == "api" and not url:
            raise TeacherSelectorError(
                f"--teacher {selector} needs the endpoint: give --teacher-url URL, the API "
                "base of an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1."
            )
        return TeacherSpec(kind, model.strip(), url if kind == "api" else None)
    raise TeacherSelectorError(
        f"--teacher {selector!r} is not a teacher: use `self` (the document's adapter), "
        "`hf:<model>` (a local transformers model) or `api:<model>` with --teacher-url."
    )


class ModelTeacher:
    """A transformers model (with a LoRA adapter, or not) answering greedily or sampled."""

    def __init__(
        self, name: str, model_dir: Path, adapter_dir: Path | None, placement: Placement
    ) -> None:
        from trainer.generation.generate import load_for_generation

        self.name = name
        self.model, self.tokenizer = load_for_generation(model_dir, adapter_dir, placement)

    def reply(self, messages: list[dict[str, str]], sampling: Sampling) -> str:
        """The model's next turn, with the chat template applied."""
        from trainer.generation.generate import answer_messages

        return answer_messages(self.model, self.tokenizer, messages, sampling)

    def close(self) -> None:
        """Drop the model."""
        self.model = self.tokenizer = None


class ApiTeacher:
    """A model behind an OpenAI-compatible `/chat/completions` endpoint."""

    def __init__(self, model: str, api_base: str, api_key: str | None, timeout: float) -> None:
        from trainer.rewards.chat_api import ChatEndpoint

        self.name = f"api:{model}".replace('"', "'")
        self.model = model
        self.endpoint = ChatEndpoint(api_base, api_key=api_key, timeout=timeout)

    def reply(self, messages: list[dict[str, str]], sampling: Sampling) -> str:
        """The server's answer; SynthesisError when there is none."""
        from trainer.rewards.chat_api import EndpointError

        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": sampling.max_new_tokens,
            "temperature": max(sampling.temperature, 0.0),
            "seed": sampling.seed,
        }
        if sampling.temperature > 0:
            body["top_p"] = sampling.top_p
        try:
            answer = self.endpoint.complete(body)
        except EndpointError as error:
            raise SynthesisError(f"{self.name} at {self.endpoint.shown}: {error}") from None
        try:
            content = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            content = None
        if not isinstance(content, str):
            raise SynthesisError(
                f"{self.name} at {self.endpoint.shown} answered without a message; is it an "
                "OpenAI-compatible chat endpoint?"
            )
        return content

    def close(self) -> None:
        """Nothing to release: each request is its own connection."""


def load_teacher(
    spec: TeacherSpec,
    *,
    base_model_dir: Path | None,
    adapter_dir: Path | None,
    placement: Placement | None,
    home: Path,
    timeout: float = 120.0,
) -> Teacher:
    """The teacher of `spec`: `self` is the base model with `adapter_dir` (if any)."""
    if spec.kind in ("self", "hf"):
        assert placement is not None, "a model teacher runs somewhere"
        if spec.kind == "hf":
            return ModelTeacher(spec.name, _hf_model_dir(spec.model, home), None, placement)
        assert base_model_dir is not None, "the self teacher is the document's base model"
        return ModelTeacher("self", base_model_dir, adapter_dir, placement)
    assert spec.url is not None, "parse_teacher requires the URL of an api: teacher"
    key = os.environ.get(API_KEY_ENV) or os.environ.get(FALLBACK_KEY_ENV) or None
    return ApiTeacher(spec.model, spec.url, key, timeout)


def _hf_model_dir(model: str, home: Path) -> Path:
    """A local checkpoint: a registry name, a directory, else `org/name` in the HF cache."""
    from trainer.models import resolve_base_model

    try:
        return resolve_base_model(model, home).path
    except ModelNotFoundError:
        if "/" not in model or Path(model).expanduser().exists():
            raise
    return resolve_base_model(f"hf:{model}", home).path
