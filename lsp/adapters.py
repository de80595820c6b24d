"""What the server knows of each document's adapter: its current version, as `dlm`
last said, and the answers that version gave to the document's questions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Answer:
    """One question's answer from one adapter version."""

    version: str
    text: str


@dataclass(slots=True)
class Adapters:
    """Adapter versions and cached answers, per document URI."""

    _versions: dict[str, str | None] = field(default_factory=dict)
    _stale: set[str] = field(default_factory=set)
    _answers: dict[tuple[str, str, str], str] = field(default_factory=dict)
    queries: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    """The `dlm show` running for a document, so that requests share one."""

    def known(self, uri: str) -> bool:
        """Whether `dlm` has said which adapter the document has (if any)."""
        return uri in self._versions

    def needs_query(self, uri: str) -> bool:
        """Whether to ask `dlm` again: never asked, or the file was saved since."""
        return uri not in self._versions or uri in self._stale

    def invalidate(self, uri: str) -> None:
        """The file was saved (or opened): ask again, keeping what is known until then."""
        self._stale.add(uri)

    def version(self, uri: str) -> str | None:
        """The document's current adapter version; None when it has none or is not known."""
        return self._versions.get(uri)

    def set_version(self, uri: str, version: str | None) -> None:
        """Record the current version (cached answers of other versions are kept)."""
        self._versions[uri] = version
        self._stale.discard(uri)

    def answer(self, uri: str, question: str) -> Answer | None:
        """The current version's cached answer to `question`, if it gave one."""
        version = self._versions.get(uri)
        if version is None:
            return None
        text = self._answers.get((uri, version, question))
        return Answer(version, text) if text is not None else None

    def remember(self, uri: str, version: str, question: str, text: str) -> None:
        """Cache the answer `version` gave to `question`."""
        self._answers[(uri, version, question)] = text
