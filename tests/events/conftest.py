"""A throwaway PostgreSQL schema per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

PG_URL = "postgresql://127.0.0.1:5432/test"


def pg_available() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=2).close()
    except Exception:
        return False
    return True


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema for one test, dropped afterwards."""
    if not pg_available():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    import psycopg

    schema = f"dg_test_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
