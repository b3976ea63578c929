from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from distillguard.events.columns import COLUMN_NAMES
from distillguard.events.schema import RequestEvent
from distillguard.events.sqlite_store import SqliteEventStore

from . import store_contract
from .factory import full_event


@pytest.fixture
def store(tmp_path: Path):
    s = SqliteEventStore(tmp_path / "events.db")
    yield s
    s.close()


def test_round_trip_every_field(store: SqliteEventStore) -> None:
    store_contract.check_round_trip_every_field(store)


def test_time_order(store: SqliteEventStore) -> None:
    store_contract.check_time_order(store)


def test_tailing_by_seq(store: SqliteEventStore) -> None:
    store_contract.check_tailing_by_seq(store)


def test_filters_and_counts(store: SqliteEventStore) -> None:
    store_contract.check_filters_and_counts(store)


def test_file_is_wal_with_one_column_per_field_and_indexes(tmp_path: Path) -> None:
    SqliteEventStore(tmp_path / "e.db").close()
    conn = sqlite3.connect(tmp_path / "e.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cols = [row[1] for row in conn.execute("PRAGMA table_info(events)")]
    assert cols == ["seq", *COLUMN_NAMES]
    indexed = {
        row[2]
        for idx in conn.execute("PRAGMA index_list(events)")
        for row in conn.execute(f"PRAGMA index_info({idx[1]})")
    }
    assert {"ts_start", "account_id", "org_id", "campaign_id", "skeleton_hash", "client_ip"} <= indexed


def test_seq_never_reused_after_delete(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "e.db")
    store.write_many([full_event(i) for i in range(3)])
    top = store.last_seq()
    with sqlite3.connect(tmp_path / "e.db") as conn:
        conn.execute("DELETE FROM events WHERE seq = ?", (top,))
    store.write_many([full_event(9)])
    assert [s for s, _ in store.iter_with_seq(after_seq=top - 1)] == [top + 1]


def test_reopen_keeps_data_and_adds_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # a file from an older schema
        conn.execute(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT, ts_start REAL)"
        )
        conn.execute("INSERT INTO events (request_id, ts_start) VALUES ('old', 1.0)")
    store = SqliteEventStore(path)
    store.write_many([full_event(1, ts=2.0)])
    back = list(store.iter_events())
    assert back[0] == RequestEvent(request_id="old", ts_start=1.0) and back[1] == full_event(1, ts=2.0)
    store.close()
    reopened = SqliteEventStore(path, readonly=True)
    assert reopened.count() == 2
    with pytest.raises(PermissionError):
        reopened.write_many([full_event(2)])


def test_readonly_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no event database"):
        SqliteEventStore(tmp_path / "nope.db", readonly=True)


def test_reader_sees_commits_while_writer_writes(tmp_path: Path) -> None:
    """A tailer in another thread (or process) follows the writer by seq without gaps."""
    store = SqliteEventStore(tmp_path / "e.db")
    tailer = SqliteEventStore(tmp_path / "e.db", readonly=True)
    seen: list[str] = []
    done = threading.Event()

    def tail() -> None:
        last = 0
        while True:
            finished = done.is_set()
            for seq, event in tailer.iter_with_seq(after_seq=last):
                seen.append(event.request_id)
                last = seq
            if finished:
                return

    t = threading.Thread(target=tail)
    t.start()
    for b in range(20):
        store.write_many([full_event(b * 10 + i) for i in range(10)])
    done.set()
    t.join(10)
    assert seen == [f"req-{i}" for i in range(200)]


def test_memory_store_is_shared_between_connections() -> None:
    store = SqliteEventStore(":memory:")
    store.write_many([full_event(1)])
    assert store.count() == 1 and next(store.iter_events()) == full_event(1)


def test_readonly_store_before_any_event_was_written(tmp_path: Path) -> None:
    """`detect` may start before the gateway wrote anything: an empty log, not an error."""
    path = tmp_path / "fresh.db"
    sqlite3.connect(path).execute("CREATE TABLE dg_keys (key_id TEXT)").connection.close()
    store = SqliteEventStore(path, readonly=True)
    assert list(store.iter_with_seq(after_seq=0)) == [] and store.last_seq() == 0 and store.count() == 0
    assert store.counts_by("account_id") == []
    writer = SqliteEventStore(path)
    writer.write_many([full_event(1)])
    assert [e for _, e in store.iter_with_seq(after_seq=0)] == [full_event(1)]
