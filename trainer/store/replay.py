"""Replay: every section a run trained on, so later runs can keep what left the document."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dlmlang import Document, SectionKind
from dlmlang.serialize import render_section

if TYPE_CHECKING:
    from trainer.store.metrics import MetricsDB


@dataclass(frozen=True, slots=True)
class ReplaySection:
    """A trained section: `content` is its text as dlm writes it (fence first)."""

    section_id: str
    kind: str
    content: str
    auto_mined: bool
    first_seen_run: int | None = None
    last_seen_run: int | None = None


def replay_sections(
    document: Document, kinds: Iterable[SectionKind], *, include_mined: bool = True
) -> list[ReplaySection]:
    """The document's sections of `kinds` as a run records them in replay."""
    wanted = set(kinds)
    return [
        ReplaySection(
            section_id=s.section_id,
            kind=s.kind.value,
            content=render_section(s),
            auto_mined=s.auto_mined,
        )
        for s in document.content_sections()
        if s.kind in wanted and (include_mined or not s.auto_mined)
    ]


class ReplayLog:
    """The `replay` table of the store's database."""

    def __init__(self, metrics: MetricsDB) -> None:
        self._connection = metrics.connection

    def record(self, run_id: int, sections: Iterable[ReplaySection]) -> None:
        """Note that `run_id` trained on `sections` (first sighting kept)."""
        with self._connection:
            self._connection.executemany(
                "INSERT INTO replay VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(section_id) DO UPDATE"
                " SET last_seen_run = excluded.last_seen_run, auto_mined = excluded.auto_mined",
                [
                    (s.section_id, s.kind, s.content, int(s.auto_mined), run_id, run_id)
                    for s in sections
                ],
            )

    def departed(
        self, present_ids: Iterable[str], *, kinds: Iterable[str], include_mined: bool = True
    ) -> list[ReplaySection]:
        """Sections trained before, of `kinds`, that are not in the document any more."""
        present = set(present_ids)
        wanted = set(kinds)
        rows = self._connection.execute(
            "SELECT section_id, kind, content, auto_mined, first_seen_run, last_seen_run"
            " FROM replay ORDER BY first_seen_run, section_id"
        ).fetchall()
        return [
            ReplaySection(row[0], row[1], row[2], bool(row[3]), row[4], row[5])
            for row in rows
            if row[0] not in present and row[1] in wanted and (include_mined or not row[3])
        ]

    def purge(self, section_ids: Iterable[str]) -> int:
        """Forget sections (a reverted mined section must not come back); returns how many."""
        ids = list(section_ids)
        with self._connection:
            cursor = self._connection.executemany(
                "DELETE FROM replay WHERE section_id = ?", [(i,) for i in ids]
            )
        return cursor.rowcount
