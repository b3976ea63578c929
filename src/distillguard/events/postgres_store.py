"""The shared event log for several gateway replicas: PostgreSQL via psycopg 3.

Same shape as the SQLite store (one table, a column per field, a `seq` identity column).
Batches go in with COPY, the fastest bulk path psycopg offers.

Tailing by `seq` needs care with several writers: identity values are handed out when a
row is inserted but become visible when its transaction commits, so a tailer could see
seq 12 before seq 11 commits and skip it forever. Every write transaction therefore takes
a transaction-scoped advisory lock first: batches from all replicas commit one after
another, seq order equals commit order, and `after_seq` tailing never skips a row. A
batch is one short COPY, so the serialisation costs little.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql

from distillguard.events.columns import (
    COLUMN_NAMES,
    COLUMNS,
    INDEXED_COLUMNS,
    EventFilter,
    RowCodec,
    SeqOrderedReads,
)
from distillguard.events.schema import RequestEvent

_PLACEHOLDER = "%s"


class PostgresEventStore(SeqOrderedReads):
    """`EventStore` over a PostgreSQL table `<schema>.<table>` (created if missing)."""

    def __init__(
        self,
        url: str,
        *,
        schema: str = "public",
        table: str = "events",
        readonly: bool = False,
        connect_timeout: float = 10.0,
    ) -> None:
        for name in (schema, table):
            if not name.isidentifier():
                raise ValueError(f"bad schema/table name {name!r}")
        self.url = url
        self.schema = schema
        self.table = table
        self.readonly = readonly
        self._connect_timeout = connect_timeout
        self._qualified = f'"{schema}"."{table}"'
        self._table_sql = self._qualified
        self._placeholder = _PLACEHOLDER
        self._lock_key = f"distillguard:{schema}.{table}"
        self._codec = RowCodec("postgres")
        self._lock = threading.Lock()
        self._conn = self._connect()
        if not readonly:
            self._create_schema()
        self._copy_sql = f"COPY {self._qualified} ({', '.join(COLUMN_NAMES)}) FROM STDIN"
        self._select_cols = ", ".join(COLUMN_NAMES)

    def _connect(self, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        """Autocommit, so that `transaction()` blocks are the only transactions."""
        timeout = max(1, int(self._connect_timeout))
        return psycopg.connect(self.url, connect_timeout=timeout, autocommit=autocommit)

    def _create_schema(self) -> None:
        cols = ",\n  ".join(c.sql_definition("postgres") for c in COLUMNS)
        with self._lock, self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [self._lock_key])
            self._conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self._qualified} (\n"
                f"  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  {cols}\n)"
            )
            existing = {
                row[0]
                for row in self._conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = %s",
                    [self.schema, self.table],
                )
            }
            for col in COLUMNS:  # fields added to RequestEvent since the table was created
                if col.name not in existing:
                    self._conn.execute(
                        f"ALTER TABLE {self._qualified} ADD COLUMN {col.sql_definition('postgres')}"
                    )
            for name in INDEXED_COLUMNS:
                self._conn.execute(
                    f'CREATE INDEX IF NOT EXISTS "{self.table}_{name}" ON {self._qualified} ({name})'
                )

    # --- writing ------------------------------------------------------------------------

    def write_many(self, events: list[RequestEvent]) -> None:
        """Append events in one transaction (all or nothing), serialised across replicas."""
        if self.readonly:
            raise PermissionError("event store opened read-only")
        if not events:
            return
        rows = [self._codec.to_row(e) for e in events]
        with self._lock:
            if self._conn.closed or self._conn.broken:
                self._conn = self._connect()  # the server restarted: reconnect, then retry
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [self._lock_key])
                with self._conn.cursor() as cur, cur.copy(self._copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)

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
        """(seq, event) pairs, streamed with a server-side cursor (constant memory)."""
        flt = EventFilter(since, until, after_seq, filters)
        where, params = flt.where(_PLACEHOLDER)
        query = f"SELECT seq, {self._select_cols} FROM {self._qualified}{where}{flt.order_by()}"
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        # A server-side cursor lives in a transaction: a non-autocommit connection.
        with self._connect(autocommit=False) as conn:
            if not self._has_table(conn):
                return
            with conn.cursor(name=f"dg_{uuid.uuid4().hex}") as cur:
                cur.itersize = 2000
                cur.execute(query.encode(), params)
                for row in cur:
                    yield row[0], self._codec.from_row(row[1:])

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
        query, params = self._counts_by_query(column, since, until, limit, filters)
        with self._connect() as conn:
            if not self._has_table(conn):
                return []
            return [(row[0], int(row[1])) for row in conn.execute(query.encode(), params)]

    def _scalar(self, query: str, params: list[Any]) -> Any:
        with self._connect() as conn:
            if not self._has_table(conn):
                return 0
            row = conn.execute(query.encode(), params).fetchone()
            assert row is not None
            return row[0]

    def _has_table(self, conn: psycopg.Connection[Any]) -> bool:
        """A read-only store may be opened before any gateway wrote (e.g. `detect` first)."""
        if not self.readonly:
            return True
        row = conn.execute("SELECT to_regclass(%s)", [self._qualified]).fetchone()
        return row is not None and row[0] is not None

    def drop(self) -> None:
        """Drop the table (tests and `--reset` only)."""
        with self._lock, self._conn.transaction():
            self._conn.execute(f"DROP TABLE IF EXISTS {self._qualified}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> PostgresEventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresEventStore(schema={self.schema!r}, table={self.table!r})"
