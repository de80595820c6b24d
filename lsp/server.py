"""`create_server()`: a fresh server with every feature registered; `main()` runs it on stdio."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from lsp import diagnostics, hover, outline
from lsp.state import Documents, Snapshot

T = TypeVar("T")
logger = logging.getLogger("dlm.lsp")
FEATURES = (diagnostics, hover, outline)


@dataclass(slots=True)
class Settings:
    """Client-tunable behaviour (from `initializationOptions`)."""

    diagnostics_delay: float = 0.2
    """Seconds of quiet after an edit before diagnostics are computed."""

    @classmethod
    def from_options(cls, options: Any) -> Settings:
        """Read `initializationOptions`; unknown or malformed values keep the defaults."""
        settings = cls()
        if isinstance(options, dict):
            delay = options.get("diagnosticsDelay")
            if isinstance(delay, int | float) and not isinstance(delay, bool) and delay >= 0:
                settings.diagnostics_delay = float(delay)
        return settings


class DlmServer(LanguageServer):
    """The language server and its per-session state (nothing global)."""

    def __init__(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            release = version("dlm-toolkit")
        except PackageNotFoundError:
            release = "0"
        super().__init__("dlm", release)
        self.documents = Documents()
        self.settings = Settings()
        self.pending: dict[str, asyncio.Task[None]] = {}

    def snapshot(self, uri: str) -> Snapshot | None:
        """The parse of the document's current text, or None if it is not open."""
        try:
            document = self.workspace.get_text_document(uri)
            text = document.source
        except Exception:  # a URI the client never opened and we cannot read
            return None
        snapshot = self.documents.parse(uri, text, document.version)
        snapshot.encoding = str(self.workspace.position_encoding or "utf-16")
        return snapshot

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

    for feature in FEATURES:
        feature.register(server)
    return server


def main() -> None:
    """Serve on stdio; logs go to stderr, never stdout (stdout carries the protocol)."""
    logging.basicConfig(level=logging.WARNING, format="dlm-lsp %(levelname)s %(message)s")
    create_server().start_io()
