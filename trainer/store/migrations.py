"""The metrics database schema, as named migrations applied in order (never edit one)."""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_runs_steps_evals",
        """
        CREATE TABLE runs (
            run_id INTEGER PRIMARY KEY AUTOINCREMENT,
            phase TEXT NOT NULL CHECK (phase IN ('sft', 'dpo', 'orpo', 'reward')),
            method TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
            started_at TEXT NOT NULL,
            ended_at TEXT,
            seed INTEGER NOT NULL,
            adapter_version TEXT,
            base_model TEXT NOT NULL,
            doc_sha256 TEXT NOT NULL,
            world_size INTEGER NOT NULL DEFAULT 1,
            config TEXT NOT NULL
        );
        CREATE TABLE steps (
            run_id INTEGER NOT NULL REFERENCES runs(run_id),
            step INTEGER NOT NULL,
            loss REAL,
            learning_rate REAL,
            grad_norm REAL,
            tokens_per_second REAL,
            at TEXT NOT NULL
        );
        CREATE INDEX steps_by_run ON steps(run_id, step);
        CREATE TABLE evals (
            run_id INTEGER NOT NULL REFERENCES runs(run_id),
            step INTEGER,
            name TEXT NOT NULL,
            value REAL NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX evals_by_run ON evals(run_id);
        """,
    ),
    (
        "0002_replay",
        """
        CREATE TABLE replay (
            section_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            content TEXT NOT NULL,
            auto_mined INTEGER NOT NULL,
            first_seen_run INTEGER NOT NULL,
            last_seen_run INTEGER NOT NULL
        );
        """,
    ),
    (
        "0003_preference_mining",
        """
        CREATE TABLE preference_mining (
            event_id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id INTEGER NOT NULL REFERENCES runs(run_id),
            judge TEXT NOT NULL,
            samples INTEGER NOT NULL,
            prompts_seen INTEGER NOT NULL,
            pairs_mined INTEGER NOT NULL,
            skipped TEXT NOT NULL,
            threshold REAL NOT NULL,
            write_mode TEXT NOT NULL CHECK (write_mode IN ('staged', 'applied', 'empty')),
            duration_s REAL NOT NULL,
            at TEXT NOT NULL
        );
        CREATE TABLE mined_pairs (
            event_id INTEGER NOT NULL REFERENCES preference_mining(event_id),
            section_id TEXT NOT NULL,
            prompt TEXT NOT NULL,
            score_chosen REAL NOT NULL,
            score_rejected REAL NOT NULL,
            margin REAL NOT NULL
        );
        """,
    ),
    (
        "0004_documents",
        """
        CREATE TABLE documents (
            path TEXT PRIMARY KEY,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL
        );
        """,
    ),
    (
        "0005_run_owner",
        """
        ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
        ALTER TABLE runs ADD COLUMN owner_host TEXT;
        ALTER TABLE runs ADD COLUMN owner_started TEXT;
        """,
    ),
    (
        "0006_mining_seed",
        """
        ALTER TABLE preference_mining ADD COLUMN seed INTEGER;
        """,
    ),
    (
        "0007_answer_evals",
        """
        CREATE TABLE answer_evals (
            eval_id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            adapter_version TEXT NOT NULL,
            against TEXT,
            judge TEXT,
            by_score TEXT NOT NULL,
            prompts INTEGER NOT NULL,
            summary TEXT NOT NULL,
            items TEXT NOT NULL,
            decision TEXT
        );
        """,
    ),
)


def migrate(connection: sqlite3.Connection) -> list[str]:
    """Apply the migrations not yet recorded; returns the names applied now."""
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
    )
    done = {row[0] for row in connection.execute("SELECT name FROM schema_migrations")}
    applied = []
    for name, script in MIGRATIONS:
        if name in done:
            continue
        with connection:
            connection.executescript(f"BEGIN;\n{script}\nCOMMIT;")
        with connection:
            connection.execute("INSERT INTO schema_migrations VALUES (?, datetime('now'))", (name,))
        applied.append(name)
    return applied
