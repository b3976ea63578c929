"""Open an event store from what a user types: a URL or a path.

sqlite:///var/lib/dg/events.db     SQLite (also: a plain path, `sqlite:///:memory:`)
postgresql://host/db?schema=dg     PostgreSQL (`schema`, `table` query options are ours)
events.jsonl[.gz], events.parquet  files, read-only (simulator output, exported logs)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from distillguard.events.columns import EventFilter
from distillguard.events.io import _is_jsonl, _is_parquet, read_events
from distillguard.events.schema import RequestEvent
from distillguard.events.store import EventStore
from distillguard.events.writer import BatchingWriter

if TYPE_CHECKING:
    from distillguard.events.postgres_store import PostgresEventStore
    from distillguard.events.sqlite_store import SqliteEventStore

DEFAULT_DATABASE = "distillguard.db"


def default_database() -> str:
    """`DG_DATABASE` if set, else ./distillguard.db (the CLI's `--db` default)."""
    return os.environ.get("DG_DATABASE") or DEFAULT_DATABASE


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
    if not target.startswith("sqlite:") and (_is_jsonl(path) or _is_parquet(path)):
        return FileEventStore(path)
    from distillguard.events.sqlite_store import SqliteEventStore

    return SqliteEventStore(sqlite_path(target), readonly=readonly)


def open_writer(target: str | Path | None = None, **writer_options: Any) -> BatchingWriter:
    """A BatchingWriter over `open_store(target)` that closes the store when it closes."""
    return BatchingWriter(open_store(target), close_store=True, **writer_options)


class FileEventStore:
    """A JSONL or Parquet file seen as a read-only `EventStore`.

    Events come in file order (the simulator writes them in time order); seq is the
    1-based position in the file. Filters are applied while streaming.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"no event file at {self.path}")

    def write_many(self, events: list[RequestEvent]) -> None:
        raise PermissionError(f"{self.path} is a read-only event file; write with distillguard.events.io")

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
        for seq, event in enumerate(read_events(self.path), start=1):
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
