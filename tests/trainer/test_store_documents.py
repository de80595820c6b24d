"""The store's record of the document files that opened it, and which of them share it."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

import trainer.store.documents as documents
from trainer.store import Store
from trainer.store.documents import FRONTMATTER_BYTES, SharedStore, shared_with, sharing_warning
from trainer.store.migrations import MIGRATIONS

DLM_ID = "01JQ7Z0000000000000000000A"


def _document(path: Path, dlm_id: str = DLM_ID, body: str = "Some prose.\n") -> Path:
    path.write_text(f"---\ndlm_id: {dlm_id}\nbase_model: m\n---\n\n{body}", encoding="utf-8")
    return path


def test_record_keeps_the_first_sighting_and_resolves_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(DLM_ID, tmp_path)
    monkeypatch.chdir(tmp_path)
    _document(tmp_path / "notes.dlm")
    times = iter(["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"])
    monkeypatch.setattr(documents, "now", lambda: next(times))
    store.documents.record(Path("notes.dlm"))
    store.documents.record(tmp_path / "notes.dlm")
    [sighting] = store.documents.sightings()
    assert sighting.path == (tmp_path / "notes.dlm").resolve()
    assert (sighting.first_seen, sighting.last_seen) == (
        "2026-01-01T00:00:00Z",
        "2026-01-02T00:00:00Z",
    )


def test_an_existing_store_gets_the_table_and_keeps_its_runs(tmp_path: Path) -> None:
    root = tmp_path / "store" / DLM_ID
    root.mkdir(parents=True)
    old = sqlite3.connect(root / "metrics.sqlite", isolation_level=None)
    old.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for name, script in MIGRATIONS[:3]:
        old.executescript(script)
        old.execute("INSERT INTO schema_migrations VALUES (?, 'then')", (name,))
    old.execute(
        "INSERT INTO runs (phase, method, status, started_at, seed, base_model, doc_sha256,"
        " config) VALUES ('sft', 'lora', 'completed', 'then', 1, 'm', 'd', '{}')"
    )
    old.close()
    store = Store.open(DLM_ID, tmp_path)
    assert [run.run_id for run in store.metrics.runs()] == [1]
    assert shared_with(store, _document(tmp_path / "notes.dlm")) == []


def test_copies_are_reported_and_gone_or_changed_ones_forgotten(tmp_path: Path) -> None:
    store = Store.open(DLM_ID, tmp_path)
    this, copy, moved, changed, folder = (
        _document(tmp_path / name) for name in ("a.dlm", "b.dlm", "c.dlm", "d.dlm", "e.dlm")
    )
    for path in (this, copy, moved, changed, folder):
        store.documents.record(path)
    moved.unlink()
    _document(changed, "01JQ7Z0000000000000000000B")
    folder.unlink()
    folder.mkdir()
    assert shared_with(store, this) == [SharedStore(copy, other_is_newer=True)]
    assert [s.path for s in store.documents.sightings()] == [this, copy]
    assert shared_with(store, copy) == [SharedStore(this, other_is_newer=False)]


def test_files_that_cannot_be_read_now_are_kept_and_not_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(DLM_ID, tmp_path)
    locked = _document(tmp_path / "locked.dlm")
    long = tmp_path / "long.dlm"
    long.write_text("---\n" + "# a comment\n" * FRONTMATTER_BYTES, encoding="utf-8")
    for path in (locked, long):
        store.documents.record(path)
    real_open = os.open

    def refusing(path: str, flags: int) -> int:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags)

    monkeypatch.setattr(os, "open", refusing)
    this = _document(tmp_path / "notes.dlm")
    assert shared_with(store, this) == []
    assert [s.path for s in store.documents.sightings()] == [locked, long, this]


def test_a_fifo_is_not_waited_on(tmp_path: Path) -> None:
    store = Store.open(DLM_ID, tmp_path)
    fifo = tmp_path / "copy.dlm"
    os.mkfifo(fifo)
    store.documents.record(fifo)
    assert shared_with(store, _document(tmp_path / "notes.dlm")) == []


def test_a_read_only_store_records_nothing(tmp_path: Path) -> None:
    Store.open(DLM_ID, tmp_path).documents.record(_document(tmp_path / "copy.dlm"))
    reader = Store.open(DLM_ID, tmp_path, read_only=True)
    reader.documents.record(_document(tmp_path / "notes.dlm"))
    assert shared_with(reader, tmp_path / "notes.dlm") == []
    paths = [s.path for s in Store.open(DLM_ID, tmp_path).documents.sightings()]
    assert paths == [tmp_path / "copy.dlm"]


def test_the_warning_suggests_a_new_id_for_the_newer_file(tmp_path: Path) -> None:
    root = tmp_path / "store" / DLM_ID
    older = sharing_warning(SharedStore(Path("/d/a.dlm"), False), Path("b.dlm"), root)
    newer = sharing_warning(SharedStore(Path("/d/a.dlm"), True), Path("b.dlm"), root)
    assert older == (
        f"/d/a.dlm has the same dlm_id as b.dlm and shares its store ({root}): their runs, "
        "adapters and staged pairs mix. If one is a copy, give it its own id: "
        "`dlm new-id b.dlm`."
    )
    assert newer.endswith("`dlm new-id /d/a.dlm`.")
