"""`create_server()`: a fresh server with every feature registered; `main()` runs it on stdio."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import lsp_method

from lsp.adapters import Adapters
from lsp.cli_bridge import Children, default_command
from lsp.features import (
    actions,
    asking,
    completion,
    diagnostics,
    formatting,
    hover,
    lenses,
    long_runs,
    loop,
    outline,
    semantic_tokens,
    synthesis,
    training,
)
from lsp.state import Documents, OpenDocument, Snapshot
from lsp.sync import DlmProtocol
from lsp.trust import JudgeOrigin

T = TypeVar("T")
logger = logging.getLogger("dlm.lsp")
FEATURES = (
    diagnostics,
    hover,
    outline,
    actions,
    lenses,
    loop,
    completion,
    semantic_tokens,
    formatting,
    long_runs,
    training,
    asking,
    synthesis,
)


@dataclass(slots=True)
class Settings:
    """Client-tunable behaviour, from `initializationOptions` or `workspace/didChangeConfiguration`
    (the same keys, optionally under `dlm`)."""

    diagnostics_delay: float = 0.2
    """Seconds of quiet after an edit before diagnostics are computed."""
    judge: str = "sway"
    samples: int = 4
    threshold: float | None = None
    max_pairs: int | None = None
    judge_url: str | None = None
    """`api:` judges: the OpenAI-compatible API base (`--judge-url`)."""
    rubric: str | None = None
    """`api:` judges: the rubric file (`--rubric`)."""
    dlm_command: list[str] = field(default_factory=default_command)
    """How to run `dlm` (the server reaches the store only through it)."""
    judge_origin: JudgeOrigin = field(default_factory=JudgeOrigin)
    """Where the client says `judge` came from (`judgeFromWorkspace`, `workspaceTrusted`)."""

    @classmethod
    def from_options(cls, options: Any, base: Settings | None = None) -> Settings:
        """Read the options; unknown or malformed values keep the current ones."""
        settings = replace(base) if base is not None else cls()
        if isinstance(options, dict) and isinstance(options.get("dlm"), dict):
            options = options["dlm"]
        if not isinstance(options, dict):
            return settings
        delay = _number(options.get("diagnosticsDelay"))
        if delay is not None and delay >= 0:
            settings.diagnostics_delay = delay
        if isinstance(options.get("judge"), str) and options["judge"].strip():
            settings.judge = options["judge"].strip()
        samples = _number(options.get("samples"))
        if samples is not None and samples >= 2 and samples == int(samples):
            settings.samples = int(samples)
        if "threshold" in options:
            settings.threshold = _number(options["threshold"])
        if "maxPairs" in options:
            pairs = _number(options["maxPairs"])
            settings.max_pairs = int(pairs) if pairs is not None and pairs >= 1 else None
        for key, name in (("judgeUrl", "judge_url"), ("rubric", "rubric")):
            if key in options:
                value = options[key]
                text = value.strip() if isinstance(value, str) else ""
                setattr(settings, name, text or None)
        command = options.get("dlmCommand")
        if isinstance(command, list) and command and all(isinstance(c, str) for c in command):
            settings.dlm_command = list(command)
        settings.judge_origin = _origin(options, settings.judge_origin)
        return settings

    def mine_arguments(self) -> list[str]:
        """The `dlm preference mine` flags these settings ask for."""
        arguments = ["--judge", self.judge, "--samples", str(self.samples)]
        if self.threshold is not None:
            arguments += ["--threshold", repr(self.threshold)]
        if self.max_pairs is not None:
            arguments += ["--max-pairs", str(self.max_pairs)]
        if self.judge_url is not None:
            arguments += ["--judge-url", self.judge_url]
        if self.rubric is not None:
            arguments += ["--rubric", self.rubric]
        return arguments


def _origin(options: dict[str, Any], base: JudgeOrigin) -> JudgeOrigin:
    """The judge's origin from the options; a missing or non-boolean key keeps `base`'s."""
    known = [options.get(key) for key in ("judgeFromWorkspace", "workspaceTrusted")]
    from_workspace, trusted = (
        new if isinstance(new, bool) else old
        for new, old in zip(known, (base.from_workspace, base.workspace_trusted), strict=True)
    )
    return JudgeOrigin(from_workspace=from_workspace, workspace_trusted=trusted)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class _Protocol(DlmProtocol):
    """The protocol, with two of pygls 2.1's request-table slips fixed."""

    def _handle_notification(self, method_name: str, params: Any) -> None:
        # pygls files the future of a notification whose handler is a generator (every
        # didOpen, didChange, didSave, didClose) under a fresh id and never takes it out:
        # a few kilobytes per edit, for as long as the server runs.
        before = set(self._request_futures)
        super()._handle_notification(method_name, params)
        for key in set(self._request_futures) - before:
            self._request_futures[key].add_done_callback(partial(self._forget, key))

    def _forget(self, key: Any, _: object) -> None:
        self._request_futures.pop(key, None)

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """Run the server's handler, then cancel every other pending request."""
        handler = self.fm.features.get(types.SHUTDOWN)
        if handler is not None:
            yield handler, args, None
        current = self.msg_id
        # A copy: cancelling a request runs callbacks that take it out of the table.
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current and not future.done():
                future.cancel()
        self._shutdown = True


class DlmServer(LanguageServer):
    """The language server and its per-session state (nothing global)."""

    def __init__(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            release = version("dlm-toolkit")
        except PackageNotFoundError:
            release = "0"
        super().__init__("dlm", release, protocol_cls=_Protocol)
        self.documents = Documents()
        self.settings = Settings()
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.staged: dict[str, int] = {}
        """Staged pairs per document URI, as `dlm preference list` last said."""
        self.running: dict[str, asyncio.subprocess.Process] = {}
        """Running miners, training runs and questions by progress token."""
        self.training: set[str] = set()
        """URIs of the documents training now."""
        self.adapters = Adapters()
        self.cancelled: set[str] = set()
        self.background: set[asyncio.Task[Any]] = set()
        self.children = Children()
        """Every `dlm` process this server started: none outlives it."""

    def stop_children(self) -> None:
        """Kill every `dlm` child (a long run counts as cancelled)."""
        self.cancelled.update(self.running)
        self.children.kill_all()

    def shutdown(self) -> None:
        """Stop the children, then the server: pygls calls this however the session
        ends (`exit`, stdin closed, a lost connection)."""
        self.stop_children()
        super().shutdown()  # type: ignore[no-untyped-call]

    def file_settled(self, uri: str) -> None:
        """The file on disk matches the editor (opened or saved): recount staged pairs;
        the adapter version is asked again when lenses or hints next need it."""
        self.adapters.invalidate(uri)
        if uri.startswith("file:"):
            self.spawn(loop.guarded_async(self, "staged pairs", loop.refresh_staged(self, uri)))

    def spawn(self, work: Any) -> None:
        """Run a coroutine in the background, kept alive until it finishes."""
        task = asyncio.get_running_loop().create_task(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def snapshot(self, uri: str) -> Snapshot | None:
        """The parse of the document's current text, or None if it is not open."""
        encoding = str(self.workspace.position_encoding or "utf-16")
        snapshot = self.documents.snapshot(uri, encoding)
        if snapshot is not None:
            return snapshot
        try:
            document = self.workspace.get_text_document(uri)
            text = document.source
        except Exception:  # a URI the client never opened and we cannot read
            return None
        return OpenDocument(text, document.version).snapshot(encoding)  # read, not tracked

    def guarded(self, feature: str, function: Callable[..., T], *args: Any) -> T | None:
        """Run one feature; a failure is logged to the client and yields nothing."""
        try:
            return function(*args)
        except Exception as error:
            logger.exception("%s failed", feature)
            self.window_log_message(
                types.LogMessageParams(
                    type=types.MessageType.Error, message=f"dlm {feature} failed: {error!r}"
                )
            )
            return None


def create_server() -> DlmServer:
    """A new server with every feature module registered."""
    server = DlmServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: DlmServer, params: types.InitializeParams) -> None:
        ls.settings = Settings.from_options(params.initialization_options)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: DlmServer, params: None) -> None:
        ls.stop_children()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def configuration(ls: DlmServer, params: types.DidChangeConfigurationParams) -> None:
        ls.settings = Settings.from_options(params.settings, ls.settings)

    for feature in FEATURES:
        feature.register(server)
    return server


def main() -> None:
    """Serve on stdio; logs go to stderr, never stdout (stdout carries the protocol)."""
    logging.basicConfig(level=logging.WARNING, format="dlm-lsp %(levelname)s %(message)s")
    create_server().start_io()
