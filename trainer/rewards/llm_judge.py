"""`api:<model>`: an LLM grades each answer against a rubric over an OpenAI-compatible API.

The wire protocol is OpenAI chat completions (llama.cpp's server, llama-cpp-python's
server, vLLM, Ollama, hosted APIs): the rubric as the system message, the question and
the answer as the user message, temperature 0, and the verdict `{"reasoning", "score"}`
requested with a JSON schema. `response_format="auto"` sends the OpenAI form
(`{"type": "json_schema", ...}`) and, when the server refuses it (400, 422, or
llama-cpp-python's 500 naming `response_format`), the form llama-cpp-python knows
(`{"type": "json_object", "schema": ...}`); `load()` settles which with a preflight
request before any sampling. Verdicts are checked strictly (`parse_verdict`): a
malformed one stops the run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Literal

from trainer.rewards.base import (
    DEFAULT_MAX_OUTPUT,
    DetailedRM,
    JudgeError,
    Messages,
    RewardDetails,
    conversation,
    split_answer,
)
from trainer.rewards.chat_api import BatchCancelledError, ChatEndpoint, EndpointError, RetryPolicy
from trainer.rewards.rubric import DEFAULT_RUBRIC, Rubric, parse_verdict, read_rubric

ResponseFormat = Literal["auto", "json_schema", "json_object"]

API_KEY_ENV = "DLM_JUDGE_API_KEY"
DEFAULT_CONCURRENCY = 4
DEFAULT_MAX_TOKENS = 512
DEFAULT_TIMEOUT_S = 60.0

_PROBE = conversation("What is 2 + 2?", "4")
_FORMATS: dict[str, tuple[str, ...]] = {
    "auto": ("json_schema", "json_object"),
    "json_schema": ("json_schema",),
    "json_object": ("json_object",),
}
_TITLES = {
    "system": "The assistant's instructions",
    "user": "Question",
    "assistant": "Earlier reply",
}
_EXCERPT = 200


class LLMJudge(DetailedRM):
    """An LLM behind an OpenAI-compatible endpoint, grading answers on a rubric's scale."""

    def __init__(
        self,
        model: str,
        api_base: str,
        api_key: str | None = None,
        rubric: Rubric | str = DEFAULT_RUBRIC,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        response_format: ResponseFormat = "auto",
        selector: str | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> None:
        self.model = model
        self._selector = selector or f"api:{model}"
        if not model.strip():
            raise JudgeError("api: needs a model name, e.g. `api:qwen2.5-7b-instruct`.")
        self.rubric = Rubric(rubric) if isinstance(rubric, str) else rubric
        self.scale = self.rubric.scale
        if concurrency < 1 or max_tokens < 1 or timeout <= 0:
            raise JudgeError(f"{self.name}: concurrency, max_tokens and timeout must be > 0.")
        if response_format not in _FORMATS:
            raise JudgeError(
                f"{self.name}: response_format must be auto, json_schema or json_object, "
                f"not {response_format!r}."
            )
        try:
            self.endpoint = ChatEndpoint(
                api_base, api_key=api_key, timeout=timeout, retry=retry, max_body=max_output
            )
        except ValueError as error:
            raise JudgeError(f"{self.name}: {error} (--judge-url).") from None
        self.concurrency = concurrency
        self.max_tokens = max_tokens
        self.response_format = response_format
        self._format: str | None = None  # settled by `load`

    def __repr__(self) -> str:
        return f"LLMJudge({self.name!r}, {self.endpoint.shown!r})"  # never the key

    @property
    def name(self) -> str:
        """`api:<model>`: no URL, no key."""
        return self._selector

    @property
    def settled_format(self) -> str | None:
        """The response_format the server took (json_schema or json_object); None before `load`."""
        return self._format

    def load(self) -> None:
        """One preflight verdict: the server answers, takes the key, and honours the schema."""
        if self._format is not None:
            return
        fmt: str = "json_schema" if self.response_format == "auto" else self.response_format
        try:
            if self.response_format == "auto":
                fmt = self._first_format()
            else:
                self._ask(_PROBE, fmt, None)
        except EndpointError as error:
            tried = "json_schema or json_object" if self.response_format == "auto" else fmt
            raise self._failure(error, "the preflight request", tried) from None
        except ValueError as error:
            raise self._bad_verdict(error, "the preflight request (a test question)") from None
        self._format = fmt

    def close(self) -> None:
        """Nothing is held between requests."""

    def fingerprint(self) -> dict[str, str]:
        """The model, the endpoint (no secrets), the rubric and the request settings."""
        return {
            **super().fingerprint(),
            "model": self.model,
            "endpoint": self.endpoint.shown,
            "rubric": self.rubric.digest(),
            "scale": self.scale.name,
            "max_tokens": str(self.max_tokens),
        }

    def request_body(self, messages: Messages, fmt: str = "json_schema") -> dict[str, Any]:
        """The chat-completions request that grades the conversation's last answer."""
        schema = self.rubric.schema()
        response_format: dict[str, Any]
        if fmt == "json_schema":
            response_format = {
                "type": "json_schema",
                "json_schema": {"name": "verdict", "schema": schema, "strict": True},
            }
        else:
            response_format = {"type": "json_object", "schema": schema}
        return {
            "model": self.model,
            "messages": [
                {"role": "system", "content": self.rubric.system_prompt()},
                {"role": "user", "content": render_conversation(messages)},
            ],
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "response_format": response_format,
        }

    def _first_format(self) -> str:
        """`json_schema` unless the server refuses that form; then `json_object`."""
        try:
            self._ask(_PROBE, "json_schema", None, final=_refuses_format)
        except EndpointError as error:
            if not _refuses_format(error):
                raise
            self._ask(_PROBE, "json_object", None)
            return "json_object"
        return "json_schema"

    def _details_batch(self, batch: Sequence[Messages], batch_size: int) -> list[RewardDetails]:
        """Every conversation graded, `concurrency` at a time; the first failure stops all."""
        self.load()
        fmt = self._format
        assert fmt is not None
        if not batch:
            return []
        stop = threading.Event()
        workers = min(self.concurrency, len(batch))
        with ThreadPoolExecutor(workers, thread_name_prefix="dlm-judge") as pool:
            futures = [pool.submit(self._graded, i, m, fmt, stop) for i, m in enumerate(batch)]
            wait(futures, return_when=FIRST_EXCEPTION)
            failure = _first_failure(futures)
            if failure is not None:
                stop.set()
                for future in futures:
                    future.cancel()
                raise failure
            return [future.result() for future in futures]

    def _graded(
        self, index: int, messages: Messages, fmt: str, stop: threading.Event
    ) -> RewardDetails:
        where = f"answer {index + 1} (to {_question(messages)!r})"
        try:
            return self._ask(messages, fmt, stop)
        except EndpointError as error:
            raise self._failure(error, where, fmt) from None
        except ValueError as error:
            raise self._bad_verdict(error, where) from None

    def _ask(
        self,
        messages: Messages,
        fmt: str,
        stop: threading.Event | None,
        final: Callable[[EndpointError], bool] | None = None,
    ) -> RewardDetails:
        body = self.request_body(messages, fmt)
        answer = self.endpoint.complete(body, stop, final=final)
        content, finish = _reply(answer)
        if finish == "length":
            raise ValueError(
                f"the reply was cut off at max_tokens={self.max_tokens}: {_cut(content)!r}"
            )
        try:
            score, reasoning = parse_verdict(content, self.rubric)
        except ValueError as error:
            raise ValueError(f"{error}; the reply was {_cut(content)!r}") from None
        except OverflowError:
            raise ValueError(
                f'"score" is outside the range of a float; the reply was {_cut(content)!r}'
            ) from None
        except RecursionError:
            raise ValueError(f"the reply is nested too deeply to read: {_cut(content)!r}") from None
        return RewardDetails(
            score,
            self.scale.to_common(score),
            reasoning=reasoning,
            extra={"response_format": fmt},
        )

    def _failure(self, error: EndpointError, where: str, fmt: str) -> JudgeError:
        url = self.endpoint.shown
        if error.status in (401, 403):
            fix = f"Set {API_KEY_ENV} to a key this endpoint accepts."
        elif error.status == 404:
            fix = (
                f"Check --judge-url (the API base, usually ending in /v1; dlm posts to {url}) "
                f"and that the server serves the model {self.model!r}."
            )
        elif error.status in (400, 422):
            fix = (
                f"The server may not know the model {self.model!r} or structured outputs "
                f"(response_format {fmt}); use llama.cpp's server, vLLM or Ollama."
            )
        elif error.transient:
            fix = (
                f"Check that the server at {url} is running and not overloaded; "
                "raise --judge-timeout for a slow model."
            )
        else:
            fix = f"Check the server at {url}."
        return JudgeError(f"{self.name}: {where} failed: {error}. {fix}")

    def _bad_verdict(self, error: ValueError, where: str) -> JudgeError:
        return JudgeError(
            f"{self.name}: the verdict on {where} is unusable: {error}. Nothing is salvaged "
            "from a malformed verdict: use a server that enforces the JSON schema "
            "(llama.cpp's server, vLLM, Ollama) and a model able to follow the rubric."
        )


def load_api_rm(
    model: str,
    api_base: str | None = None,
    api_key: str | None = None,
    rubric: Rubric | str | Path | None = None,
    **options: Any,
) -> LLMJudge:
    """An `LLMJudge`; the key defaults to $DLM_JUDGE_API_KEY, a `Path` rubric is read from file."""
    if not api_base:
        raise JudgeError(
            f"api:{model} needs the endpoint: give --judge-url URL, the API base of an "
            "OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1."
        )
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
    if isinstance(rubric, Path):
        rubric = read_rubric(rubric)
    return LLMJudge(model, api_base, key, DEFAULT_RUBRIC if rubric is None else rubric, **options)


def render_conversation(messages: Messages) -> str:
    """The user message for the judge: the conversation so far, then the answer to grade."""
    context, answer = split_answer(messages)
    parts = [
        f"## {_TITLES.get(m.get('role', ''), m.get('role', ''))}\n{m.get('content', '')}"
        for m in context
    ]
    parts.append(f"## Answer to grade\n{answer}")
    return "\n\n".join(parts)


def _refuses_format(error: EndpointError) -> bool:
    """Whether an HTTP error reads as "this server does not know that response_format".

    llama-cpp-python's server answers the OpenAI form with HTTP 500 and a validation
    error naming `response_format`; others answer 400 or 422.
    """
    if error.status is None or error.transient:
        return False
    text = str(error).lower()
    return error.status in (400, 422) or "response_format" in text or "json_schema" in text


def _reply(answer: Any) -> tuple[str, str | None]:
    """(content, finish_reason) of the first choice; ValueError if the answer has none."""
    try:
        choice = answer["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise ValueError(
            f"the answer has no choices[0].message.content: {_cut(str(answer))!r}"
        ) from None
    if not isinstance(content, str):
        raise ValueError(f"choices[0].message.content is {content!r}, not text")
    finish = choice.get("finish_reason") if isinstance(choice, dict) else None
    return content, finish if isinstance(finish, str) else None


def _first_failure(futures: list[Future[RewardDetails]]) -> BaseException | None:
    """The failure of the lowest-numbered item that failed on its own (not cancelled)."""
    for future in futures:
        if future.done() and not future.cancelled():
            error = future.exception()
            if error is not None and not isinstance(error, BatchCancelledError):
                return error
    return None


def _question(messages: Messages) -> str:
    users = [m.get("content", "") for m in messages if m.get("role") == "user"]
    return _cut(users[-1] if users else "", 60)


def _cut(text: str, limit: int = _EXCERPT) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
