"""`metrics.sqlite`: runs, their steps and evals, mining events (docs/metrics.md)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trainer.errors import CorruptStoreError
from trainer.store.migrations import migrate
from trainer.store.owner import RunOwner, this_process

RUN_STATUSES = ("running", "completed", "failed", "interrupted")
"""Every status a run can have (docs/metrics.md, "Run statuses")."""

_RUN_COLUMNS = (
    "run_id, phase, method, status, started_at, ended_at, seed, adapter_version, base_model,"
    " doc_sha256, world_size, config"
)


@dataclass(frozen=True, slots=True)
class RunRow:
    """One training run."""

    run_id: int
    phase: str
    method: str
    status: str
    started_at: str
    ended_at: str | None
    seed: int
    adapter_version: str | None
    base_model: str
    doc_sha256: str
    world_size: int
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OpenRun:
    """A run still recorded as running, and the process that opened it."""

    run_id: int
    owner: RunOwner | None
    """None for runs recorded before owners were (they are judged by the store lock alone)."""


@dataclass(frozen=True, slots=True)
class StepRow:
    """One logged optimizer step."""

    run_id: int
    step: int
    loss: float | None
    learning_rate: float | None
    grad_norm: float | None
    tokens_per_second: float | None
    at: str


@dataclass(frozen=True, slots=True)
class EvalRow:
    """One evaluation value."""

    run_id: int
    step: int | None
    name: str
    value: float
    at: str


@dataclass(frozen=True, slots=True)
class AnswerEvalRow:
    """One `dlm eval` (or loop gate): versions, scoring, means and comparison, every answer."""

    eval_id: int
    at: str
    adapter_version: str
    against: str | None
    judge: str | None
    by_score: str
    prompts: int
    summary: dict[str, Any]
    items: list[dict[str, Any]]
    decision: str | None
    """The loop's verdict on `adapter_version` (`promoted` or `rejected`); None for `dlm eval`."""


def now() -> str:
    """UTC now, ISO-8601 with seconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class MetricsDB:
    """The store's SQLite database (WAL: readers see steps while a run writes them)."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """Open (creating and migrating) the database; `read_only` opens an existing one as is."""
        self.path = path
        self.read_only = read_only
        try:
            if read_only:
                self.connection = sqlite3.connect(
                    f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30
                )
                self.connection.execute("SELECT count(*) FROM runs").fetchone()
                return
            self.connection = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.connection.execute("PRAGMA journal_mode=WAL")
            migrate(self.connection)
        except sqlite3.DatabaseError as error:
            raise CorruptStoreError(
                f"{path} is not a readable SQLite database ({error}). Move it away to start "
                "a new history; the adapter versions next to it are unaffected."
            ) from None

    def start_run(
        self,
        *,
        phase: str,
        method: str,
        seed: int,
        base_model: str,
        doc_sha256: str,
        config: dict[str, Any],
        world_size: int = 1,
    ) -> int:
        """Record a new run as running, owned by this process; returns its id.

        Run ids are one sequence for every phase.
        """
        owner = this_process()
        cursor = self.connection.execute(
            "INSERT INTO runs (phase, method, status, started_at, seed, base_model, doc_sha256,"
            " world_size, config, owner_pid, owner_host, owner_started)"
            " VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                phase,
                method,
                now(),
                seed,
                base_model,
                doc_sha256,
                world_size,
                json.dumps(config),
                owner.pid,
                owner.host,
                owner.started,
            ),
        )
        return int(cursor.lastrowid or 0)

    def log_step(
        self,
        run_id: int,
        *,
        step: int,
        loss: float | None,
        learning_rate: float | None,
        grad_norm: float | None,
        tokens_per_second: float | None,
    ) -> None:
        """Record one step, committed at once."""
        self.connection.execute(
            "INSERT INTO steps VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run_id, step, loss, learning_rate, grad_norm, tokens_per_second, now()),
        )

    def log_eval(self, run_id: int, *, step: int | None, name: str, value: float) -> None:
        """Record one evaluation value."""
        self.connection.execute(
            "INSERT INTO evals VALUES (?, ?, ?, ?, ?)", (run_id, step, name, value, now())
        )

    @contextmanager
    def failure_recorded(self, run_id: int) -> Iterator[None]:
        """Inside: if the block raises, the run is closed as interrupted (Ctrl-C) or failed."""
        try:
            yield
        except KeyboardInterrupt:
            self.finish_run(run_id, status="interrupted", adapter_version=None)
            raise
        except BaseException:
            self.finish_run(run_id, status="failed", adapter_version=None)
            raise

    def finish_run(self, run_id: int, *, status: str, adapter_version: str | None) -> None:
        """Close a run: completed, failed or interrupted."""
        self.connection.execute(
            "UPDATE runs SET status = ?, ended_at = ?, adapter_version = ? WHERE run_id = ?",
            (status, now(), adapter_version, run_id),
        )

    def close_interrupted(self, run_id: int) -> bool:
        """Close a run that is still running as interrupted, ended now; whether it was running."""
        cursor = self.connection.execute(
            "UPDATE runs SET status = 'interrupted', ended_at = ?"
            " WHERE run_id = ? AND status = 'running'",
            (now(), run_id),
        )
        return cursor.rowcount == 1

    def open_runs(self) -> list[OpenRun]:
        """The runs recorded as running, oldest first, with their owners."""
        rows = self.connection.execute(
            "SELECT run_id, owner_pid, owner_host, owner_started FROM runs"
            " WHERE status = 'running' ORDER BY run_id"
        ).fetchall()
        return [
            OpenRun(run_id, RunOwner(pid, host or "", started) if pid is not None else None)
            for run_id, pid, host, started in rows
        ]

    def runs(self) -> list[RunRow]:
        """Every run, oldest first."""
        rows = self.connection.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY run_id"
        ).fetchall()
        return [_run(row) for row in rows]

    def run(self, run_id: int) -> RunRow | None:
        """One run, if it exists."""
        row = self.connection.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        return _run(row) if row else None

    def steps(self, run_id: int) -> list[StepRow]:
        """A run's steps in order."""
        rows = self.connection.execute(
            "SELECT * FROM steps WHERE run_id = ? ORDER BY step, rowid", (run_id,)
        ).fetchall()
        return [StepRow(*row) for row in rows]

    def evals(self, run_id: int) -> list[EvalRow]:
        """A run's evaluations in order."""
        rows = self.connection.execute(
            "SELECT * FROM evals WHERE run_id = ? ORDER BY rowid", (run_id,)
        ).fetchall()
        return [EvalRow(*row) for row in rows]

    def record_mining(
        self,
        *,
        run_id: int,
        judge: str,
        samples: int,
        prompts_seen: int,
        skipped: dict[str, int],
        threshold: float,
        write_mode: str,
        duration_s: float,
        pairs: list[tuple[str, str, float, float]],
        seed: int | None = None,
    ) -> int:
        """One mining event and its pairs (section_id, prompt, chosen, rejected scores),
        with the sampling seed that reproduces it."""
        with self.connection:
            cursor = self.connection.execute(
                "INSERT INTO preference_mining (run_id, judge, samples, prompts_seen, pairs_mined,"
                " skipped, threshold, write_mode, duration_s, at, seed)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    judge,
                    samples,
                    prompts_seen,
                    len(pairs),
                    json.dumps(skipped, sort_keys=True),
                    threshold,
                    write_mode,
                    duration_s,
                    now(),
                    seed,
                ),
            )
            event_id = int(cursor.lastrowid or 0)
            self.connection.executemany(
                "INSERT INTO mined_pairs VALUES (?, ?, ?, ?, ?, ?)",
                [(event_id, sid, prompt, c, r, c - r) for sid, prompt, c, r in pairs],
            )
        return event_id

    def mining_events(self, run_id: int | None = None) -> list[dict[str, Any]]:
        """Mining events (newest last), of one run if given, each with its pairs."""
        query = "SELECT * FROM preference_mining"
        rows = self.connection.execute(
            query + (" WHERE run_id = ? ORDER BY event_id" if run_id else " ORDER BY event_id"),
            (run_id,) if run_id else (),
        ).fetchall()
        names = [d[0] for d in self.connection.execute(query + " LIMIT 0").description]
        events = []
        for row in rows:
            event = dict(zip(names, row, strict=True))
            event["skipped"] = json.loads(event["skipped"])
            event["pairs"] = [
                {
                    "section_id": p[0],
                    "prompt": p[1],
                    "score_chosen": p[2],
                    "score_rejected": p[3],
                    "margin": p[4],
                }
                for p in self.connection.execute(
                    "SELECT section_id, prompt, score_chosen, score_rejected, margin FROM"
                    " mined_pairs WHERE event_id = ?",
                    (event["event_id"],),
                )
            ]
            events.append(event)
        return events

    def record_answer_eval(
        self,
        *,
        adapter_version: str,
        against: str | None,
        judge: str | None,
        by_score: str,
        summary: dict[str, Any],
        items: list[dict[str, Any]],
        decision: str | None = None,
    ) -> int:
        """One answer eval; returns its id."""
        with self.connection:
            cursor = self.connection.execute(
                "INSERT INTO answer_evals (at, adapter_version, against, judge, by_score, prompts,"
                " summary, items, decision) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    now(),
                    adapter_version,
                    against,
                    judge,
                    by_score,
                    len(items),
                    json.dumps(summary, sort_keys=True),
                    json.dumps(items, ensure_ascii=False),
                    decision,
                ),
            )
        return int(cursor.lastrowid or 0)

    def answer_evals(self) -> list[AnswerEvalRow]:
        """Every answer eval, oldest first."""
        rows = self.connection.execute(
            "SELECT eval_id, at, adapter_version, against, judge, by_score, prompts, summary,"
            " items, decision FROM answer_evals ORDER BY eval_id"
        ).fetchall()
        return [
            AnswerEvalRow(
                eval_id=row[0],
                at=row[1],
                adapter_version=row[2],
                against=row[3],
                judge=row[4],
                by_score=row[5],
                prompts=row[6],
                summary=json.loads(row[7]),
                items=json.loads(row[8]),
                decision=row[9],
            )
            for row in rows
        ]

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def _run(row: tuple[Any, ...]) -> RunRow:
    (run_id, phase, method, status, started, ended, seed, version, base, sha, world, config) = row
    return RunRow(
        run_id,
        phase,
        method,
        status,
        started,
        ended,
        seed,
        version,
        base,
        sha,
        world,
        json.loads(config),
    )
