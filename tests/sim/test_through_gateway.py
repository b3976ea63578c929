"""End to end: simulated requests sent with the SDKs through the real gateway (mock upstream
behind it) are recorded as events that match the simulated ones field by field."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestServer

from distillguard.accounts.principal import Principal
from distillguard.config import Settings, UpstreamSettings
from distillguard.events.schema import RequestEvent
from distillguard.gateway.app import create_app
from distillguard.gateway.auth import InMemoryKeyResolver
from distillguard.mock.server import start_mock
from distillguard.sim.generate import Simulation
from distillguard.sim.scenario import scenario_from_dict
from distillguard.sim.through import send_through_async

SPEC = {
    "name": "through_gateway",
    "days": 0.25,
    "start": "2026-03-02T16:00:00Z",
    "legit": [
        {"persona": "chat_user", "count": 15, "sessions_per_day": 6},
        {"persona": "coding_agent", "count": 3, "countries": ["US"], "sessions_per_day": 6},
    ],
    "attacks": [{"attack": "logprob_extraction", "name": "probe", "accounts": 1, "requests_per_day": 300}],
}
COMPARED = (
    "account_id",
    "org_id",
    "key_id",
    "endpoint",
    "flavor",
    "model",
    "stream",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "n_tools",
    "thinking_budget",
    "n_messages",
    "n_user_turns",
    "roles",
    "system_hash",
    "has_tool_results",
    "prompt_text",
    "system_text",
    "max_tokens",
    "temperature",
    "n",
)


class _Sink:
    def __init__(self) -> None:
        self.events: list[RequestEvent] = []

    def submit(self, event: RequestEvent) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


async def test_simulated_events_match_what_the_gateway_records() -> None:
    sim = Simulation(scenario_from_dict(SPEC), seed=3)
    mock = await start_mock()
    settings = Settings(upstreams={"mock": UpstreamSettings(url=mock.url)}, default_upstream="mock")
    settings.validate()
    resolver = InMemoryKeyResolver()
    keys = {}
    for i, acct in enumerate(sim.accounts):
        keys[acct.account_id] = f"sk-sim-{i}"
        resolver.add(
            keys[acct.account_id],
            Principal(key_id=sim.key_ids[acct.account_id], account_id=acct.account_id, org_id=acct.org_id),
        )
    sink = _Sink()
    server = TestServer(create_app(settings, sink=sink, key_resolver=resolver))
    await server.start_server()
    try:
        url = str(server.make_url("")).rstrip("/")
        report = await send_through_async(sim, url, keys, speedup=1e9, concurrency=1, limit=80)
        for _ in range(300):
            if len(sink.events) >= report.sent:
                break
            await asyncio.sleep(0.01)
    finally:
        await server.close()
        await mock.close()
    assert report.failed == 0, report.errors
    assert report.sent == 80 and len(sink.events) == 80
    simulated = list(sim.iter_events())[:80]
    assert {e.endpoint for e in simulated} == {"/v1/chat/completions", "/v1/messages", "/v1/completions"}
    assert any(e.flavor == "anthropic" and e.temperature is not None for e in simulated)
    for recorded, expected in zip(sink.events, simulated, strict=True):
        assert recorded.status == 200
        for name in COMPARED:
            got, want = getattr(recorded, name), getattr(expected, name)
            if name == "max_tokens" and expected.flavor == "anthropic" and expected.thinking_budget:
                continue  # raised above the thinking budget when sent
            if name == "temperature" and expected.thinking_budget:
                continue  # not sent with extended thinking
            assert got == want, (name, got, want, expected.roles)
