from __future__ import annotations

import threading

import psycopg
import pytest

from distillguard.events.postgres_store import PostgresEventStore
from distillguard.events.schema import RequestEvent

from . import store_contract
from .conftest import PG_URL
from .factory import full_event

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(pg_schema: str):
    s = PostgresEventStore(PG_URL, schema=pg_schema)
    yield s
    s.close()


def test_round_trip_every_field(store: PostgresEventStore) -> None:
    store_contract.check_round_trip_every_field(store)


def test_time_order(store: PostgresEventStore) -> None:
    store_contract.check_time_order(store)


def test_tailing_by_seq(store: PostgresEventStore) -> None:
    store_contract.check_tailing_by_seq(store)


def test_filters_and_counts(store: PostgresEventStore) -> None:
    store_contract.check_filters_and_counts(store)


def test_table_has_indexes_and_a_column_per_field(store: PostgresEventStore, pg_schema: str) -> None:
    with psycopg.connect(PG_URL) as conn:
        indexes = [
            r[0]
            for r in conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = 'events'", [pg_schema]
            )
        ]
        ncols = conn.execute(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = 'events'",
            [pg_schema],
        ).fetchone()
    for col in ("ts_start", "account_id", "org_id", "campaign_id", "skeleton_hash", "client_ip"):
        assert any(f"({col})" in d for d in indexes), col
    assert ncols is not None and ncols[0] == len(full_event(0).__struct_fields__) + 1


def test_replicas_writing_at_once_never_make_a_tailer_skip(pg_schema: str) -> None:
    """Two replicas write concurrently; a tailer following seq sees every event exactly once."""
    replicas = [PostgresEventStore(PG_URL, schema=pg_schema) for _ in range(2)]
    tailer = PostgresEventStore(PG_URL, schema=pg_schema, readonly=True)
    seen: list[str] = []
    done = threading.Event()

    def write(r: int) -> None:
        for b in range(15):
            replicas[r].write_many([full_event(r * 10_000 + b * 20 + i) for i in range(20)])

    def tail() -> None:
        last = 0
        while True:
            finished = done.is_set()
            for seq, event in tailer.iter_with_seq(after_seq=last):
                seen.append(event.request_id)
                last = seq
            if finished:
                return

    writers = [threading.Thread(target=write, args=(r,)) for r in range(2)]
    tail_thread = threading.Thread(target=tail)
    tail_thread.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join(30)
    done.set()
    tail_thread.join(30)
    assert len(seen) == 600 and len(set(seen)) == 600
    for s in replicas:
        s.close()


def test_reconnects_after_the_connection_drops(store: PostgresEventStore) -> None:
    store.write_many([full_event(1)])
    store._conn.close()  # as if the server restarted
    store.write_many([full_event(2)])
    assert store.count() == 2


def test_readonly_refuses_writes(store: PostgresEventStore, pg_schema: str) -> None:
    ro = PostgresEventStore(PG_URL, schema=pg_schema, readonly=True)
    with pytest.raises(PermissionError):
        ro.write_many([full_event(1)])
    ro.close()


def test_adds_columns_missing_from_an_older_table(pg_schema: str) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{pg_schema}"')
        conn.execute(
            f'CREATE TABLE "{pg_schema}".events (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,'
            " request_id TEXT, ts_start DOUBLE PRECISION)"
        )
        conn.execute(f"INSERT INTO \"{pg_schema}\".events (request_id, ts_start) VALUES ('old', 1.0)")
    store = PostgresEventStore(PG_URL, schema=pg_schema)
    store.write_many([full_event(1, ts=2.0)])
    assert list(store.iter_events()) == [RequestEvent(request_id="old", ts_start=1.0), full_event(1, ts=2.0)]
    store.close()


def test_readonly_store_before_the_table_exists(pg_schema: str) -> None:
    ro = PostgresEventStore(PG_URL, schema=pg_schema, readonly=True)
    assert list(ro.iter_events()) == [] and ro.last_seq() == 0 and ro.count() == 0 and ro.counts_by() == []
    PostgresEventStore(PG_URL, schema=pg_schema).write_many([full_event(1)])
    assert list(ro.iter_events()) == [full_event(1)]
    ro.close()
