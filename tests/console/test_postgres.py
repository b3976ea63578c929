"""The console over a PostgreSQL event log (the multi-replica deployment)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from distillguard.console.data import ConsoleData, FixedAssessment
from distillguard.console.state import default_state_path
from distillguard.detect.api import Assessment, Flag, Tier
from distillguard.events.open import open_store
from distillguard.events.sqlite_store import SqliteEventStore

from .conftest import World

PG_URL = "postgresql://127.0.0.1:5432/test"
pytestmark = pytest.mark.postgres


@pytest.fixture()
def pg_url() -> Iterator[str]:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=2).close()
    except Exception:
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    schema = f"dg_console_{uuid.uuid4().hex[:10]}"
    yield f"{PG_URL}?schema={schema}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_console_tails_and_queries_a_postgres_log(pg_url: str, world: World) -> None:
    events = list(SqliteEventStore(world.db, readonly=True).iter_events())
    writer = open_store(pg_url)
    writer.write_many(events[:1000])
    busiest = max(world.org_of, key=lambda a: sum(e.account_id == a for e in events))
    flag = Flag(kind="account", subject_id=busiest, risk=0.9, tier=Tier.LIKELY)
    data = ConsoleData(
        open_store(pg_url, readonly=True),
        FixedAssessment(Assessment(at=0.0, accounts={busiest: flag})),
        refresh_s=0,
    )
    data.refresh()
    assert data.index.events == 1000
    writer.write_many(events[1000:])  # the gateway keeps writing; the console tails by seq
    data.refresh()
    assert data.overview().requests == len(events)
    view = data.account(busiest)
    assert view is not None and view.row.tier == Tier.LIKELY
    assert view.samples and all(e.account_id == busiest for e in view.samples)
    assert default_state_path(pg_url) == "distillguard-console.db"
    writer.close()
    data.store.close()
