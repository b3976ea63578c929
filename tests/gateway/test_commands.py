"""`distillguard serve` as a real process: registry keys, events in SQLite or PostgreSQL,
clean SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from distillguard.accounts.registry import PostgresAccountRegistry, SqlAccountRegistry, SqliteAccountRegistry
from distillguard.events.open import open_store

from .test_app import free_port

SRC = str(Path(__file__).resolve().parents[2] / "src")
PG_URL = "postgresql://127.0.0.1:5432/test"


def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=2):
            return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A --db value and a registry on it: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        db = str(tmp_path / "dg.db")
        registry: SqlAccountRegistry = SqliteAccountRegistry(db)
        yield db, registry
        registry.close()
        return
    if not pg_available():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    import psycopg

    schema = f"dg_gw_{uuid.uuid4().hex[:12]}"
    registry = PostgresAccountRegistry(PG_URL, schema=schema)
    yield f"{PG_URL}?schema={schema}", registry
    registry.close()
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


CHAT = {"model": "m1", "messages": [{"role": "user", "content": "hi"}]}


def serve(*args: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DG_")}
    env["PYTHONPATH"] = SRC
    return subprocess.Popen(
        [sys.executable, "-m", "distillguard", "serve", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal would give it
    )


async def wait_healthy(session: aiohttp.ClientSession, base: str, proc: subprocess.Popen[bytes]) -> None:
    """Startup imports a lot; on a loaded 2-core machine give it up to a minute."""
    deadline = asyncio.get_running_loop().time() + 60
    while asyncio.get_running_loop().time() < deadline:
        assert proc.poll() is None, proc.communicate()[1].decode()
        try:
            async with session.get(base + "/healthz") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("gateway did not come up")


@pytest.mark.parametrize(
    ("parts", "ctrl_c"),
    [([], False), (["--proxy-only"], False), ([], True)],
    ids=["full-stack", "proxy-only", "full-stack-ctrl-c"],
)
async def test_serve_with_registry_keys_records_events(
    upstream: Any, database: Any, parts: list[str], ctrl_c: bool
) -> None:
    server, _state = upstream
    db, registry = database
    raw_key, record = registry.create_key("acct_1", "org_1")
    port = free_port()
    upstream_url = str(server.make_url("")).rstrip("/")
    proc = serve("--upstream", upstream_url, "--port", str(port), "--db", db, *parts)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as s:
            await wait_healthy(s, base, proc)
            headers = {"Authorization": f"Bearer {raw_key}"}
            async with s.post(base + "/v1/chat/completions", json=CHAT, headers=headers) as r:
                assert r.status == 200, await r.text()
                assert (await r.json())["choices"][0]["message"]["content"] == "Hello there friend."
            wrong = raw_key[:-1] + ("1" if raw_key.endswith("0") else "0")  # same id, bad secret
            bad = {"Authorization": f"Bearer {wrong}"}
            async with s.post(base + "/v1/chat/completions", json=CHAT, headers=bad) as r:
                assert r.status == 401
    finally:
        if ctrl_c:  # the terminal signals the whole process group, event pipeline included
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    assert b"distillguard gateway on" in out
    # Acknowledged requests were flushed to the event log on the clean shutdown.
    store = open_store(db, readonly=True)
    events = list(store.iter_events())
    store.close()
    assert [e.status for e in events] == [200, 401], err.decode()[-3000:]
    assert events[0].key_id == record.key_id and events[0].account_id == "acct_1"
    assert events[0].org_id == "org_1" and events[0].response_text == "Hello there friend."
    assert events[0].skeleton_hash  # fingerprinted (by the event pipeline process)


def test_serve_without_upstream_explains(tmp_path: Path) -> None:
    proc = serve("--no-auth", "--port", "1", "--db", str(tmp_path / "x.db"))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and b"no upstream" in err
