"""OpenAI chat completions over HTTP: one POST, retried with backoff on transport errors only.

Retried: timeouts, connection errors, HTTP 408, 429 (after `Retry-After` when the
server sends one) and 5xx, with exponential backoff and jitter. Never retried: any
other HTTP status, and an answer that arrived but is wrong (that is the caller's to
judge). The API key goes into the `Authorization` header and nowhere else. An answer
is read up to `max_body` bytes and no further.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trainer.rewards.base import DEFAULT_MAX_OUTPUT

log = logging.getLogger("dlm.rewards")

_EXCERPT = 300
_ERROR_BODY = 4096


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry a transport failure."""

    max_retries: int = 4
    """Retries after the first attempt (so 5 attempts in all)."""
    backoff_s: float = 0.5
    """The first wait; each retry doubles it, and the wait is drawn from [half, all] of it."""
    max_wait_s: float = 60.0
    """No single wait is longer, `Retry-After` included."""

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_wait_s)
        ceiling = min(self.backoff_s * 2**attempt, self.max_wait_s)
        return rng.uniform(ceiling / 2, ceiling)


class EndpointError(Exception):
    """The endpoint gave no usable answer; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient
        """Whether the last failure was one worth retrying (a timeout, 429, 5xx...)."""


class BatchCancelledError(Exception):
    """Another request of the same batch failed, so this one stopped waiting."""


class ChatEndpoint:
    """POST `{api_base}/chat/completions`, returning the decoded JSON answer."""

    def __init__(
        self,
        api_base: str,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        max_body: int = DEFAULT_MAX_OUTPUT,
    ) -> None:
        self.url = chat_url(api_base)
        self.shown = public_url(self.url)
        """The URL without user info or query: what messages may show."""
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.max_body = max_body
        """The most bytes an answer may have; a longer one is an error, not read on."""
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._opener = urllib.request.build_opener()
        self._rng = random.Random()

    def __repr__(self) -> str:
        return f"ChatEndpoint({self.shown!r})"  # never the key

    def complete(
        self,
        body: dict[str, Any],
        stop: threading.Event | None = None,
        *,
        final: Callable[[EndpointError], bool] | None = None,
    ) -> Any:
        """The server's JSON answer to `body`; EndpointError when there is none to be had.

        `stop` ends the waiting early; an HTTP error that `final` accepts is not retried.
        """
        data = json.dumps(body).encode("utf-8")
        attempts = self.retry.max_retries + 1
        for attempt in range(attempts):
            if stop is not None and stop.is_set():
                raise BatchCancelledError
            try:
                raw = self._attempt(data)
            except _TransientError as problem:
                failure = EndpointError(str(problem), status=problem.status)
                if problem.status is not None and final is not None and final(failure):
                    raise failure from None
                if attempt + 1 == attempts:
                    raise EndpointError(
                        f"{problem} (gave up after {attempts} attempts)",
                        status=problem.status,
                        transient=True,
                    ) from None
                wait = self.retry.delay(attempt, problem.retry_after, self._rng)
                log.info("%s: %s; retrying in %.2f s", self.shown, problem, wait)
                if stop is None:
                    time.sleep(wait)
                elif stop.wait(wait):
                    raise BatchCancelledError from None
                continue
            try:
                return json.loads(raw)
            except ValueError:
                raise EndpointError(
                    f"the answer is not JSON: {_excerpt(raw)!r}; is {self.shown} an "
                    "OpenAI-compatible endpoint?"
                ) from None
            except RecursionError:
                raise EndpointError(
                    f"the answer is JSON nested too deeply to read; is {self.shown} an "
                    "OpenAI-compatible endpoint?"
                ) from None
        raise AssertionError("unreachable")

    def _attempt(self, data: bytes) -> bytes:
        request = urllib.request.Request(self.url, data=data, headers=self._headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body: bytes = response.read(self.max_body + 1)
        except urllib.error.HTTPError as error:
            text = _excerpt(_read(error))
            if error.code in (408, 429) or error.code >= 500:
                after = _retry_after(error.headers.get("Retry-After"))
                raise _TransientError(f"HTTP {error.code}: {text}", error.code, after) from None
            raise EndpointError(f"HTTP {error.code}: {text}", status=error.code) from None
        except TimeoutError:
            raise _TransientError(f"no answer within {self.timeout:g} s") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                raise _TransientError(f"no answer within {self.timeout:g} s") from None
            raise _TransientError(f"cannot reach {self.shown} ({reason})") from None
        if len(body) > self.max_body:
            raise EndpointError(
                f"the answer is more than {self.max_body} bytes, so it was not read on; "
                "raise --judge-max-output if the server is right to send that much"
            )
        return body


def chat_url(api_base: str) -> str:
    """`{api_base}/chat/completions`, keeping any query; the base must be an http(s) URL."""
    parts = urllib.parse.urlsplit(api_base.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{public_url(api_base)!r} is not an http(s) URL; give the API base, "
            "e.g. http://127.0.0.1:8080/v1"
        )
    path = parts.path.rstrip("/").removesuffix("/chat/completions") + "/chat/completions"
    return urllib.parse.urlunsplit(parts._replace(path=path, fragment=""))


def public_url(url: str) -> str:
    """`url` without user info, query or fragment (what may be shown or recorded)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class _TransientError(Exception):
    """A failure worth retrying."""

    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds: a number of seconds or an HTTP date; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _read(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read(_ERROR_BODY)
    except (OSError, http.client.HTTPException):
        return b""


def _excerpt(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."
