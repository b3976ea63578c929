from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest
from aiohttp.test_utils import TestServer

from distillguard.accounts.principal import Principal
from distillguard.config import Settings, UpstreamSettings
from distillguard.events.schema import RequestEvent
from distillguard.gateway.app import create_app
from distillguard.gateway.auth import InMemoryKeyResolver
from distillguard.gateway.pipeline import Plugin

from .fake_upstream import UpstreamState, build_upstream_app

TEST_KEY = "sk-test-alice"
PRINCIPAL = Principal(key_id="key_alice", account_id="acct_alice", org_id="org_wonder")


class MemorySink:
    def __init__(self) -> None:
        self.events: list[RequestEvent] = []
        self.closed = False

    def submit(self, event: RequestEvent) -> None:
        self.events.append(event)

    def close(self) -> None:
        self.closed = True


@dataclass
class Harness:
    server: TestServer
    sink: MemorySink
    keys: InMemoryKeyResolver
    upstream: UpstreamState
    settings: Settings
    plugins: list[Plugin] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def wait_events(self, n: int = 1, timeout: float = 3.0) -> list[RequestEvent]:
        """Events are submitted right after the response ends; give the handler a moment."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.sink.events) < n:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {n} events, got {len(self.sink.events)}")
            await asyncio.sleep(0.01)
        return self.sink.events


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[TestServer, UpstreamState]]:
    state = UpstreamState()
    server = TestServer(build_upstream_app(state))
    await server.start_server()
    yield server, state
    await server.close()


async def start_gateway(
    upstream_url: str,
    state: UpstreamState,
    *,
    plugins: Sequence[Plugin] = (),
    **settings_overrides: object,
) -> Harness:
    settings = Settings(
        upstreams={"fake": UpstreamSettings(url=upstream_url, read_timeout_s=1.0, connect_timeout_s=1.0)},
        default_upstream="fake",
        # The whole suite runs on either upstream client (DG_TEST_UPSTREAM_CLIENT=aiohttp for the other).
        upstream_client=os.environ.get("DG_TEST_UPSTREAM_CLIENT", "http1"),  # type: ignore[arg-type]
    )
    for name, value in settings_overrides.items():
        setattr(settings, name, value)
    settings.validate()
    sink = MemorySink()
    keys = InMemoryKeyResolver()
    keys.add(TEST_KEY, PRINCIPAL)
    app = create_app(settings, sink=sink, key_resolver=keys, plugins=plugins)
    server = TestServer(app)
    await server.start_server()
    return Harness(server, sink, keys, state, settings, list(plugins))


@pytest.fixture
async def gw(upstream: tuple[TestServer, UpstreamState]) -> AsyncIterator[Harness]:
    up_server, state = upstream
    harness = await start_gateway(str(up_server.make_url("")).rstrip("/"), state)
    yield harness
    await harness.server.close()
