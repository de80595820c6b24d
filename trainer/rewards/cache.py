"""`CachedRM`: scores kept in SQLite, keyed by the judge's fingerprint and the conversation.

The judge key is a hash of `fingerprint()` (selector, model revision or weights hash,
dtype, chat template, max length; sway adds its adapter's hash), so a new model,
template or adapter never reads old scores. Only successful scores are stored, and
an ensemble is cached member by member (raw scores, never group-dependent ones).
The file is `<cache_dir>/rewards.sqlite` (WAL, so concurrent readers are fine).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trainer.rewards.base import BaseRM, DetailedRM, JudgeError, Messages, RewardDetails
from trainer.rewards.ensemble import EnsembleRM

SCHEMA_VERSION = 1
CACHE_FILE = "rewards.sqlite"
_STORED = ("raw_logits", "tokens_scored", "truncated", "step_scores", "reasoning")

log = logging.getLogger("dlm.rewards")


class RewardCache:
    """The SQLite file: (judge key, item key) -> score and stored details."""

    def __init__(self, cache_dir: Path) -> None:
        self.path = Path(cache_dir).expanduser() / CACHE_FILE
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._migrate()
        except sqlite3.Error as error:
            raise JudgeError(f"Cannot open the judge cache {self.path} ({error}).") from None

    def get_many(self, judge_key: str, item_keys: Sequence[str]) -> dict[str, tuple[float, str]]:
        """Stored (score, details JSON) for the keys that are present."""
        found: dict[str, tuple[float, str]] = {}
        unique = list(dict.fromkeys(item_keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT item_key, score, details FROM scores "
                f"WHERE judge_key = ? AND item_key IN ({marks})",
                [judge_key, *chunk],
            )
            found.update({key: (score, details) for key, score, details in rows})
        return found

    def put_many(self, judge_key: str, rows: Sequence[tuple[str, float, str]]) -> None:
        """Store successful scores (one transaction)."""
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO scores (judge_key, item_key, score, details, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(judge_key, key, score, details, time.time()) for key, score, details in rows],
            )

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def _migrate(self) -> None:
        with self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                self._db.execute(
                    "CREATE TABLE scores (judge_key TEXT NOT NULL, item_key TEXT NOT NULL, "
                    "score REAL NOT NULL, details TEXT NOT NULL, created_at REAL NOT NULL, "
                    "PRIMARY KEY (judge_key, item_key))"
                )
                self._db.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
            elif row[0] != str(SCHEMA_VERSION):
                raise JudgeError(
                    f"The judge cache {self.path} has schema {row[0]}; this dlm reads "
                    f"{SCHEMA_VERSION}. Use another --judge-cache directory or delete the file."
                )


class CachedRM(DetailedRM):
    """`CachedRM(rm, cache_dir)`: the same scores, computed once per judge and conversation."""

    def __init__(self, rm: BaseRM, cache_dir: Path | str | RewardCache) -> None:
        self.cache = (
            cache_dir if isinstance(cache_dir, RewardCache) else RewardCache(Path(cache_dir))
        )
        self.rm = rm
        self.scale = rm.scale
        self.hits = 0
        self.misses = 0
        # An ensemble's score depends on the group; cache each member's raw score instead.
        self._inner = rm.map_members(self._wrap) if isinstance(rm, EnsembleRM) else None
        self._judge_key: str | None = None

    @property
    def name(self) -> str:
        """The wrapped model's name: caching does not change a score."""
        return self.rm.name

    def load(self) -> None:
        """Load the wrapped model."""
        (self._inner or self.rm).load()

    def close(self) -> None:
        """Close the wrapped model and the cache."""
        (self._inner or self.rm).close()
        self.cache.close()

    def fingerprint(self) -> dict[str, str]:
        """The wrapped model's fingerprint."""
        return self.rm.fingerprint()

    def _wrap(self, member: BaseRM) -> BaseRM:
        return CachedRM(member, self.cache)

    def _details_batch(self, batch: Sequence[Messages], batch_size: int) -> list[RewardDetails]:
        if self._inner is not None:
            return self._inner.score_batch_details(batch, batch_size=batch_size)
        judge_key = self._key()
        keys = [item_key(messages) for messages in batch]
        stored = self.cache.get_many(judge_key, keys)
        missing = [i for i, key in enumerate(keys) if key not in stored]
        hits, misses = len(batch) - len(missing), len(missing)
        fresh: dict[str, RewardDetails] = {}
        if missing:
            computed = self.rm.score_batch_details(
                [batch[i] for i in missing], batch_size=batch_size
            )
            if len(computed) != len(missing):
                raise JudgeError(f"{self.name} returned {len(computed)} scores for {misses}.")
            fresh = {keys[i]: d for i, d in zip(missing, computed, strict=True)}
            # Stored only once the whole batch succeeded: failures never reach the cache.
            self.cache.put_many(judge_key, [(k, d.score, _dump(d)) for k, d in fresh.items()])
        self.hits += hits
        self.misses += misses
        log.debug("%s: cache %d hit(s), %d miss(es)", self.name, hits, misses)
        results = []
        for key in keys:
            if key in fresh:
                details = dataclasses.replace(fresh[key], cache_hit=False)
            else:
                details = self._load(*stored[key])
            results.append(dataclasses.replace(details, cache_hits=hits, cache_misses=misses))
        return results

    def _key(self) -> str:
        if self._judge_key is None:
            fingerprint = json.dumps(self.rm.fingerprint(), sort_keys=True)
            self._judge_key = hashlib.sha256(fingerprint.encode()).hexdigest()
        return self._judge_key

    def _load(self, score: float, details: str) -> RewardDetails:
        stored: dict[str, Any] = json.loads(details)
        for key in ("raw_logits", "step_scores"):
            stored[key] = tuple(stored.get(key, ()))
        return RewardDetails(score, self.scale.to_common(score), cache_hit=True, **stored)


def item_key(messages: Messages) -> str:
    """The conversation's hash (prompt, candidate and any system message)."""
    canonical = json.dumps([dict(m) for m in messages], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _dump(details: RewardDetails) -> str:
    return json.dumps({key: getattr(details, key) for key in _STORED})
