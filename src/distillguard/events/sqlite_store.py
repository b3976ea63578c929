"""The embedded default event log: one SQLite file in WAL mode.

One table, a column per `RequestEvent` field, plus `seq` (INTEGER PRIMARY KEY
AUTOINCREMENT): strictly increasing and never reused, so a detector in another process can
tail the log with `iter_with_seq(after_seq=last_seen)`. SQLite serialises writers, so seq
order is commit order and a tailer never skips a row.

Writes go through one connection guarded by a lock (the BatchingWriter's thread is the
only writer in practice); every read opens its own short-lived connection, so WAL lets
readers run while the writer commits.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from distillguard.events.columns import (
    COLUMN_NAMES,
    COLUMNS,
    INDEXED_COLUMNS,
    EventFilter,
    RowCodec,
    SeqOrderedReads,
)
from distillguard.events.schema import RequestEvent

_PLACEHOLDER = "?"


class SqliteEventStore(SeqOrderedReads):
    """`EventStore` over a SQLite file. `path` may be ":memory:" (shared within the process)."""

    def __init__(self, path: str | Path, *, table: str = "events", readonly: bool = False) -> None:
        if not table.isidentifier():
            raise ValueError(f"bad table name {table!r}")
        self.table = table
        self._table_sql = table
        self._placeholder = _PLACEHOLDER
        self.readonly = readonly
        if str(path) == ":memory:":
            self._uri = f"file:dg-{uuid.uuid4().hex}?mode=memory&cache=shared"
        else:
            resolved = Path(path).expanduser().resolve()
            if readonly and not resolved.exists():
                raise FileNotFoundError(f"no event database at {resolved}")
            if not readonly:
                resolved.parent.mkdir(parents=True, exist_ok=True)
            self._uri = resolved.as_uri() + ("?mode=ro" if readonly else "")
        self.path = path
        self._codec = RowCodec("sqlite")
        self._lock = threading.Lock()
        self._conn = self._connect()
        if not readonly:
            self._create_schema()
        self._insert_sql = (
            f"INSERT INTO {table} ({', '.join(COLUMN_NAMES)}) "
            f"VALUES ({', '.join(_PLACEHOLDER for _ in COLUMN_NAMES)})"
        )
        self._select_cols = ", ".join(COLUMN_NAMES)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA busy_timeout = 30000")
        if not self.readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL: a committed batch survives a process crash; only an OS crash or
            # power loss may roll back the last transactions (see docs/storage.md).
            conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _create_schema(self) -> None:
        cols = ",\n  ".join(c.sql_definition("sqlite") for c in COLUMNS)
        with self._lock, self._conn:
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (\n"
                f"  seq INTEGER PRIMARY KEY AUTOINCREMENT,\n  {cols}\n)"
            )
            existing = {row[1] for row in self._conn.execute(f"PRAGMA table_info({self.table})")}
            for col in COLUMNS:  # fields added to RequestEvent since the file was created
                if col.name not in existing:
                    definition = col.sql_definition("sqlite")
                    self._conn.execute(f"ALTER TABLE {self.table} ADD COLUMN {definition}")
            for name in INDEXED_COLUMNS:
                self._conn.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_{name} ON {self.table} ({name})")

    # --- writing ------------------------------------------------------------------------

    def write_many(self, events: list[RequestEvent]) -> None:
        """Append events in one transaction (all or nothing)."""
        if self.readonly:
            raise PermissionError("event store opened read-only")
        if not events:
            return
        rows = [self._codec.to_row(e) for e in events]
        with self._lock, self._conn:
            self._conn.executemany(self._insert_sql, rows)

    # --- reading ------------------------------------------------------------------------

    def iter_with_seq(
        self,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
        *,
        limit: int | None = None,
        **filters: str,
    ) -> Iterator[tuple[int, RequestEvent]]:
        """(seq, event) pairs; a tailer keeps the last seq and passes it back as `after_seq`."""
        flt = EventFilter(since, until, after_seq, filters)
        where, params = flt.where(_PLACEHOLDER)
        sql = f"SELECT seq, {self._select_cols} FROM {self.table}{where}{flt.order_by()}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        conn = self._reader()
        try:
            if not self._has_table(conn):
                return
            cursor = conn.execute(sql, params)
            while rows := cursor.fetchmany(1000):
                for row in rows:
                    yield row[0], self._codec.from_row(row[1:])
        finally:
            conn.close()

    def counts_by(
        self,
        column: str = "account_id",
        since: float | None = None,
        until: float | None = None,
        *,
        limit: int | None = None,
        **filters: str,
    ) -> list[tuple[str, int]]:
        """Requests per value of `column` (account_id, org_id, client_ip, ...), most first."""
        sql, params = self._counts_by_query(column, since, until, limit, filters)
        conn = self._reader()
        try:
            if not self._has_table(conn):
                return []
            return [(row[0], int(row[1])) for row in conn.execute(sql, params)]
        finally:
            conn.close()

    def _scalar(self, sql: str, params: list[Any]) -> Any:
        """A count or max; 0 when the table does not exist yet."""
        conn = self._reader()
        try:
            if not self._has_table(conn):
                return 0
            return conn.execute(sql, params).fetchone()[0]
        finally:
            conn.close()

    def _has_table(self, conn: sqlite3.Connection) -> bool:
        """A read-only store may be opened before any gateway wrote (e.g. `detect` first)."""
        if not self.readonly:
            return True
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return conn.execute(query, [self.table]).fetchone() is not None

    def _reader(self) -> sqlite3.Connection:
        return sqlite3.connect(self._uri, uri=True, check_same_thread=False, timeout=30.0)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqliteEventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteEventStore({str(self.path)!r})"
