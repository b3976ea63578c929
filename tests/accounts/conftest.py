"""Registries on both backends: SQLite in a temp dir, PostgreSQL in a throwaway schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from distillguard.accounts.registry import PostgresAccountRegistry, SqlAccountRegistry, SqliteAccountRegistry

PG_URL = "postgresql://127.0.0.1:5432/test"
PEPPER = b"test-pepper"


def _pg_available() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=2).close()
    except Exception:
        return False
    return True


@pytest.fixture
def pg_schema() -> Iterator[str]:
    if not _pg_available():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    import psycopg

    schema = f"dg_test_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlAccountRegistry]:
    if request.param == "sqlite":
        reg: SqlAccountRegistry = SqliteAccountRegistry(tmp_path / "dg.db", pepper=PEPPER)
    else:
        schema = request.getfixturevalue("pg_schema")
        reg = PostgresAccountRegistry(PG_URL, schema=schema, pepper=PEPPER)
    yield reg
    reg.close()
