"""Shared fixtures: one small DistillBench world (a hydra among legitimate users), written
to a SQLite event log once per session and run through the real detector."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from distillguard.console.app import create_console_app, standalone_app
from distillguard.console.auth import Auth
from distillguard.console.data import ConsoleData
from distillguard.console.state import StateDB
from distillguard.enforce.overrides import MemoryOverrideStore

TINY = Path(__file__).parent / "tiny.yaml"
PASSWORD = "correct horse battery"


class World:
    def __init__(self, root: Path) -> None:
        from distillguard.events.sqlite_store import SqliteEventStore
        from distillguard.sim.generate import Simulation, write_outputs

        sim = Simulation(TINY, seed=7)
        self.files = write_outputs(sim, root / "sim", "jsonl")
        self.truth = sim.truth
        self.accounts = {a.account_id: a for a in sim.accounts}
        self.db = str(root / "events.db")
        store = SqliteEventStore(self.db)
        events = list(sim.iter_events())
        store.write_many(events)
        store.close()
        self.n_events = len(events)
        self.accounts_path = str(self.files["accounts"])
        # the org with the most active legitimate accounts: the scoped viewer's org
        legit_orgs = Counter(e.org_id for e in events if not self.truth.accounts[e.account_id].is_attack)
        self.legit_org = legit_orgs.most_common(1)[0][0]
        self.attack_orgs = {e.org_id for e in events if self.truth.accounts[e.account_id].is_attack}
        self.org_of = {e.account_id: e.org_id for e in events}


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("console_world"))


@pytest.fixture(scope="session")
def console_data(world: World) -> ConsoleData:
    from distillguard.console.standalone import load_console_data

    return load_console_data(world.db, accounts_path=world.accounts_path)


@pytest.fixture(scope="session")
def campaign_id(console_data: ConsoleData) -> str:
    rows = console_data.campaign_rows()
    assert rows, "the detector found no campaign in the tiny world"
    return rows[0].account_id


@pytest.fixture()
def state(tmp_path: Path) -> Iterator[StateDB]:
    db = StateDB(tmp_path / "console.db")
    auth = Auth(db)
    auth.create_user("admin", PASSWORD, role="admin")
    auth.create_user("ana", PASSWORD, role="analyst")
    auth.create_user("vic", PASSWORD, role="viewer")
    yield db
    db.close()


@pytest.fixture()
def overrides() -> MemoryOverrideStore:
    return MemoryOverrideStore()


@pytest.fixture()
def console_app(console_data: ConsoleData, state: StateDB, overrides: MemoryOverrideStore) -> web.Application:
    return standalone_app(create_console_app(console_data, state=state, overrides=overrides))


@pytest.fixture()
async def client(console_app: web.Application) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(console_app)) as c:
        yield c


async def login(client: TestClient[Any, Any], username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token (read from a page)."""
    page = await client.get("/console/login")
    token = csrf_in(await page.text())
    resp = await client.post(
        "/console/login",
        data={"csrf": token, "username": username, "password": password, "next": "/console/"},
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    page = await client.get("/console/audit")  # a light page: no plots
    assert page.status == 200
    return csrf_in(await page.text())


def csrf_in(html: str) -> str:
    import re

    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)
