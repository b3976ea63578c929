"""Open an event store from what a user types: a URL or a path.

sqlite:///var/lib/dg/events.db     SQLite (also: a plain path, `sqlite:///:memory:`)
postgresql://host/db?schema=dg     PostgreSQL (`schema`, `table` query options are ours)
events.jsonl[.gz], events.parquet  files, read-only (simulator output, exported logs)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec

from distillguard.events.columns import EventFilter
from distillguard.events.io import is_jsonl_path, is_parquet_path, read_events, read_jsonl
from distillguard.events.schema import RequestEvent
from distillguard.events.store import EventStore
from distillguard.events.writer import BatchingWriter

if TYPE_CHECKING:
    from distillguard.events.postgres_store import PostgresEventStore
    from distillguard.events.sqlite_store import SqliteEventStore

DEFAULT_DATABASE = "distillguard.db"


def default_database() -> str:
    """The CLI's `--db` default: `DG_DATABASE`, else `DG_DATABASE_URL` (the gateway's
    Settings.database_url from the environment), else ./distillguard.db."""
    return os.environ.get("DG_DATABASE") or os.environ.get("DG_DATABASE_URL") or DEFAULT_DATABASE


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))


def split_postgres_url(url: str) -> tuple[str, dict[str, str]]:
    """The libpq URL without our own query options, and those options (schema, table)."""
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in ("schema", "table")}
    rest = [(k, v) for k, v in query if k not in ours]
    return urlunsplit(parts._replace(query=urlencode(rest))), ours


def sqlite_path(target: str) -> str:
    """The file path of a sqlite:/// URL or plain path."""
    if target.startswith("sqlite:///"):
        return target[len("sqlite:///") :] or ":memory:"
    if target.startswith("sqlite://"):
        raise ValueError(f"{target!r}: use sqlite:///relative.db or sqlite:////absolute.db")
    return target


def open_store(target: str | Path | None = None, *, readonly: bool = False) -> Any:
    """An event store for `target` (default: `default_database()`).

    Returns a SqliteEventStore, PostgresEventStore or (for files) a read-only FileEventStore;
    all satisfy `EventStore`.
    """
    target = str(target) if target is not None else default_database()
    if is_postgres_url(target):
        from distillguard.events.postgres_store import PostgresEventStore

        url, options = split_postgres_url(target)
        schema, table = options.get("schema", "public"), options.get("table", "events")
        return PostgresEventStore(url, schema=schema, table=table, readonly=readonly)
    path = Path(target)
    if not target.startswith("sqlite:") and (is_jsonl_path(path) or is_parquet_path(path)):
        return FileEventStore(path)
    from distillguard.events.sqlite_store import SqliteEventStore

    return SqliteEventStore(sqlite_path(target), readonly=readonly)


def open_writer(target: str | Path | None = None, **writer_options: Any) -> BatchingWriter:
    """A BatchingWriter over `open_store(target)` that closes the store when it closes."""
    return BatchingWriter(open_store(target), close_store=True, **writer_options)


class _TsOnly(msgspec.Struct):
    ts_start: float


class FileEventStore:
    """A JSONL or Parquet file seen as a read-only `EventStore`.

    seq is the 1-based position in the file, and tailing (`after_seq`) follows file order.
    Otherwise events come in time order, like the database stores: a file already in time
    order (what the simulator writes) streams; an unordered one (a foreign log) is sorted
    in memory, once its first pass over `ts_start` found it out of order.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"no event file at {self.path}")
        self._time_ordered: bool | None = None

    def write_many(self, events: list[RequestEvent]) -> None:
        raise PermissionError(f"{self.path} is a read-only event file; write with distillguard.events.io")

    def is_time_ordered(self) -> bool:
        """One cheap pass over the timestamps only (cached)."""
        if self._time_ordered is None:
            previous = float("-inf")
            ordered = True
            for ts in self._timestamps():
                if ts < previous:
                    ordered = False
                    break
                previous = ts
            self._time_ordered = ordered
        return self._time_ordered

    def _timestamps(self) -> Iterator[float]:
        if is_parquet_path(self.path):
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(str(self.path), pre_buffer=False)
            for batch in parquet.iter_batches(columns=["ts_start"]):
                yield from batch.column(0).to_pylist()
        else:
            for item in read_jsonl(self.path, _TsOnly):
                yield item.ts_start

    def _in_order(self, after_seq: int | None) -> Iterable[tuple[int, RequestEvent]]:
        numbered = enumerate(read_events(self.path), start=1)
        if after_seq is not None or self.is_time_ordered():
            return numbered
        return sorted(numbered, key=lambda pair: (pair[1].ts_start, pair[0]))

    def iter_with_seq(
        self,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
        *,
        limit: int | None = None,
        **filters: str,
    ) -> Iterator[tuple[int, RequestEvent]]:
        flt = EventFilter(since, until, after_seq, filters)
        emitted = 0
        for seq, event in self._in_order(after_seq):
            if limit is not None and emitted >= limit:
                return
            if after_seq is not None and seq <= after_seq:
                continue
            if flt.matches(event):
                emitted += 1
                yield seq, event

    def iter_events(
        self,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
        *,
        limit: int | None = None,
        **filters: str,
    ) -> Iterator[RequestEvent]:
        for _, event in self.iter_with_seq(since, until, after_seq, limit=limit, **filters):
            yield event

    def count(self, since: float | None = None, until: float | None = None, **filters: str) -> int:
        flt = EventFilter(since, until, None, filters)
        n = 0
        for event in read_events(self.path):
            n += flt.matches(event)
        return n

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"FileEventStore({str(self.path)!r})"


if TYPE_CHECKING:  # mypy proves the three stores satisfy the EventStore protocol

    def _sqlite(s: SqliteEventStore) -> EventStore:
        return s

    def _postgres(s: PostgresEventStore) -> EventStore:
        return s

    def _file(s: FileEventStore) -> EventStore:
        return s
