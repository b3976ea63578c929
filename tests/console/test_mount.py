"""The console inside the gateway: mounted under /console next to the catch-all API route,
fed by the OnlineDetector and a live event log it tails."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from distillguard.config import Settings, UpstreamSettings
from distillguard.console.app import mount_console
from distillguard.console.auth import Auth
from distillguard.console.standalone import live_console_data
from distillguard.console.state import StateDB
from distillguard.detect.engine import DistillGuardDetector
from distillguard.detect.online import OnlineDetector
from distillguard.detect.tierstore import MemoryTierStore
from distillguard.enforce.overrides import MemoryOverrideStore
from distillguard.events.sqlite_store import SqliteEventStore
from distillguard.gateway.app import create_app
from distillguard.gateway.auth import AllowAnyKeyResolver
from distillguard.sim.generate import Simulation

from .conftest import PASSWORD, TINY, login


async def test_mounted_in_the_gateway_with_a_live_log(tmp_path: Path) -> None:
    db = str(tmp_path / "events.db")
    writer = SqliteEventStore(db)
    runner = OnlineDetector(DistillGuardDetector(), MemoryTierStore())
    data = live_console_data(db, runner, refresh_s=0)
    state = StateDB(tmp_path / "console.db")
    Auth(state).create_user("admin", PASSWORD)

    settings = Settings(upstreams={"up": UpstreamSettings(url="http://127.0.0.1:9")}, default_upstream="up")
    gateway = create_app(settings, key_resolver=AllowAnyKeyResolver())
    mount_console(gateway, data, state=state, overrides=MemoryOverrideStore())

    async with TestClient(TestServer(gateway)) as client:
        api = await client.get("/v1/models")  # still the gateway's: an OpenAI-shaped 401
        assert api.status == 401 and "error" in await api.json()
        await login(client, "admin")
        empty = await (await client.get("/console/")).text()
        assert "No campaigns found." in empty

        # traffic arrives: the gateway writes events, the detector assesses them
        sim = Simulation(TINY, seed=11)
        events = list(sim.iter_events())
        writer.write_many(events)
        for info in sim.accounts:
            runner.submit_account(info)
        for event in events:
            runner.submit(event)
        runner.clock = lambda: events[-1].ts_start  # simulated traffic: assess on its own clock
        runner.step()
        campaign = next(iter(runner.last_assessment.campaigns))  # type: ignore[union-attr]

        page = await (await client.get("/console/")).text()
        assert campaign in page and "No campaigns found." not in page
        camp = await client.get(f"/console/campaigns/{campaign}")
        assert camp.status == 200 and "Linked accounts" in await camp.text()
        assert data.index.events == len(events)  # the console tailed the whole log
    writer.close()
    data.store.close()
