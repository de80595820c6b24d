"""A scriptable OpenAI-compatible chat endpoint on 127.0.0.1, for fault-injection tests."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWER_HEADING = "## Answer to grade\n"


@dataclass
class Reply:
    """One HTTP answer: a verdict `content`, or a raw `body`, with a status and headers."""

    content: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    finish_reason: str = "stop"
    delay: float = 0.0


def verdict(score: Any, reasoning: str = "because") -> Reply:
    """A well-formed reply carrying `{"reasoning", "score"}`."""
    return Reply(json.dumps({"reasoning": reasoning, "score": score}))


def hashed_score(body: dict[str, Any]) -> Reply:
    """A deterministic 0-10 score from a hash of the graded answer."""
    answer = answer_of(body)
    score = int(hashlib.sha256(answer.encode("utf-8")).hexdigest(), 16) % 11
    return verdict(score, f"{len(answer)} characters")


def answer_of(body: dict[str, Any]) -> str:
    """The answer being graded in a request body."""
    user = body["messages"][-1]["content"]
    return str(user.split(ANSWER_HEADING, 1)[1])


@dataclass
class Seen:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeOpenAI:
    """Serves POST /v1/chat/completions: scripted replies first, then `responder`'s."""

    def __init__(self, responder: Callable[[dict[str, Any]], Reply] = hashed_score) -> None:
        self.responder = responder
        self.script: list[Reply] = []
        self.formats = {"json_schema", "json_object"}
        self.refusal = Reply(status=422, body=b'{"detail": "response_format type not supported"}')
        self.delay = 0.0
        self.requests: list[Seen] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """The API base to give the judge."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def graded(self) -> list[Seen]:
        """Requests that graded an answer other than the preflight's."""
        return [s for s in self.requests if answer_of(s.body) != "4"]

    def _reply(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            if self.script:
                return self.script.pop(0)
        kind = seen.body.get("response_format", {}).get("type")
        if kind not in self.formats:
            return self.refusal
        return self.responder(seen.body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:
                    fake.active += 1
                    fake.max_active = max(fake.max_active, fake.active)
                try:
                    reply = fake._reply(seen)
                    time.sleep(reply.delay or fake.delay)
                finally:
                    with fake._lock:
                        fake.active -= 1
                if self.path != "/v1/chat/completions":
                    reply = Reply(status=404, body=b'{"error": "not found"}')
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                payload = reply.body
                if payload is None:
                    message = {"role": "assistant", "content": reply.content}
                    choice = {"index": 0, "message": message, "finish_reason": reply.finish_reason}
                    payload = json.dumps({"object": "chat.completion", "choices": [choice]})
                    payload = payload.encode("utf-8")
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    @contextmanager
    def running(self) -> Iterator[FakeOpenAI]:
        """The server, serving until the block ends."""
        self._thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
