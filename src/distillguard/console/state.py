"""Where the console keeps its own state: one SQLite file (admins, sessions, labels, audit).

By default that is the event log's own SQLite file (tables prefixed `console_`), so one
file holds everything of an embedded deployment; with a PostgreSQL or JSONL/Parquet event
log it is a separate file, `distillguard-console.db` (see `default_state_path`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEFAULT_STATE_FILE = "distillguard-console.db"


def default_state_path(db: str | Path | None) -> str:
    """The event DB itself when it is SQLite, else ./distillguard-console.db."""
    from distillguard.events.io import _is_jsonl, _is_parquet
    from distillguard.events.open import default_database, is_postgres_url, sqlite_path

    target = str(db) if db is not None else default_database()
    if is_postgres_url(target):
        return DEFAULT_STATE_FILE
    if not target.startswith("sqlite:") and (_is_jsonl(Path(target)) or _is_parquet(Path(target))):
        return DEFAULT_STATE_FILE
    path = sqlite_path(target)
    return DEFAULT_STATE_FILE if path == ":memory:" else path


class StateDB:
    """A thread-safe SQLite connection with the console's tables."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout = 30000")

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, list(params)).fetchall())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self.tx() as cur:
            cur.execute(sql, list(params))
            return cur.rowcount

    def script(self, statements: Sequence[str]) -> None:
        with self.tx() as cur:
            for statement in statements:
                cur.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
