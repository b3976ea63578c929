from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.events import io
from distillguard.events.open import (
    FileEventStore,
    default_database,
    open_store,
    open_writer,
    split_postgres_url,
    sqlite_path,
)
from distillguard.events.postgres_store import PostgresEventStore
from distillguard.events.sqlite_store import SqliteEventStore

from .conftest import PG_URL
from .factory import full_event


def test_sqlite_from_path_and_url(tmp_path: Path) -> None:
    plain = open_store(tmp_path / "a.db")
    assert isinstance(plain, SqliteEventStore)
    plain.write_many([full_event(1)])
    plain.close()
    via_url = open_store(f"sqlite:///{tmp_path / 'a.db'}", readonly=True)
    assert isinstance(via_url, SqliteEventStore) and via_url.count() == 1
    assert sqlite_path("sqlite:///rel.db") == "rel.db" and sqlite_path("sqlite:////abs.db") == "/abs.db"
    with pytest.raises(ValueError):
        sqlite_path("sqlite://host/x.db")


def test_default_database_follows_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DG_DATABASE", raising=False)
    monkeypatch.delenv("DG_DATABASE_URL", raising=False)
    assert default_database() == "distillguard.db"
    monkeypatch.setenv("DG_DATABASE_URL", "sqlite:///x.db")
    assert default_database() == "sqlite:///x.db"
    monkeypatch.setenv("DG_DATABASE", "postgresql://h/db")
    assert default_database() == "postgresql://h/db"


@pytest.mark.parametrize("name", ["e.jsonl", "e.jsonl.gz", "e.parquet"])
def test_event_files_open_read_only_with_filters_and_seq(tmp_path: Path, name: str) -> None:
    events = [full_event(i) for i in range(12)]
    io.write_events(tmp_path / name, events)
    store = open_store(tmp_path / name)
    assert isinstance(store, FileEventStore)
    assert list(store.iter_events()) == events
    assert [e.request_id for e in store.iter_events(account_id="acct-1")] == ["req-1", "req-5", "req-9"]
    assert [s for s, _ in store.iter_with_seq(after_seq=10)] == [11, 12]
    assert store.count(org_id="org-0") == 6
    assert len(list(store.iter_events(limit=4))) == 4
    with pytest.raises(PermissionError):
        store.write_many(events)


def test_postgres_url_options_are_split_off() -> None:
    url, opts = split_postgres_url("postgresql://u@h:5432/db?schema=dg&sslmode=disable&table=ev")
    assert url == "postgresql://u@h:5432/db?sslmode=disable" and opts == {"schema": "dg", "table": "ev"}


@pytest.mark.postgres
def test_postgres_url(pg_schema: str) -> None:
    writer = open_writer(f"{PG_URL}?schema={pg_schema}", max_delay=0.01)
    assert isinstance(writer.store, PostgresEventStore) and writer.store.schema == pg_schema
    writer.submit(full_event(1))
    writer.close()
    store = open_store(f"{PG_URL}?schema={pg_schema}", readonly=True)
    assert list(store.iter_events()) == [full_event(1)]
    store.close()


@pytest.mark.parametrize("name", ["e.jsonl", "e.parquet"])
def test_unordered_files_are_read_in_time_order_but_tailed_in_file_order(tmp_path: Path, name: str) -> None:
    stamps = [3.0, 1.0, 2.0, 1.0]
    io.write_events(tmp_path / name, [full_event(i, ts=t) for i, t in enumerate(stamps)])
    store = open_store(tmp_path / name)
    assert not store.is_time_ordered()
    assert [e.request_id for e in store.iter_events()] == ["req-1", "req-3", "req-2", "req-0"]
    assert [s for s, _ in store.iter_with_seq(since=2.0)] == [3, 1]
    assert [e.request_id for e in store.iter_events(after_seq=0)] == ["req-0", "req-1", "req-2", "req-3"]
