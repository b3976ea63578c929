"""End to end: official SDKs -> the real gateway with the enforcement stack -> the mock model.

The mock model emits reasoning in every style (think tags, reasoning fields, Anthropic
thinking and redacted thinking); protected accounts must receive none of it, in bodies and
in streams, while unflagged accounts receive the upstream's output unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anthropic
import openai
import pytest
from aiohttp.test_utils import TestServer
from enforce_helpers import DictTierStore, entry

from distillguard.accounts.principal import Principal
from distillguard.config import Settings, UpstreamSettings
from distillguard.detect.api import Tier
from distillguard.enforce.policy import policy_from_dict
from distillguard.enforce.reasoning import strip_think
from distillguard.enforce.stack import EnforcementPlugin, build_plugins
from distillguard.events.schema import RequestEvent
from distillguard.gateway.app import create_app
from distillguard.gateway.auth import InMemoryKeyResolver
from distillguard.mock.server import start_mock

POLICY = {
    "version": "e2e-1",
    "limits": {"window_s": 60, "account": {"requests": 50, "tokens": 0}},
    "tiers": {
        "SUSPECT": {"actions": ["protect_reasoning", "harden"]},
        "LIKELY": {"actions": ["protect_reasoning", "rate_limit"]},
        "CONFIRMED": {"actions": ["block"]},
    },
    "actions": {
        "protect_reasoning": {"mode": "omit"},
        "rate_limit": {
            "window_s": 3600,
            "account": {"requests": 0, "tokens": 0},
            "campaign": {"requests": 3},
        },
    },
}
ACCOUNTS = {
    "normal": None,
    "suspect": entry(Tier.SUSPECT, "cot_share"),
    "blocked": entry(Tier.CONFIRMED),
    **{f"hydra{i}": entry(Tier.LIKELY, "shared_skeleton", campaign="camp_h") for i in range(3)},
}


async def settle(sink: Sink, n: int) -> None:
    """Events are submitted right after a response ends: wait for the handler to get there."""
    for _ in range(300):
        if len(sink.events) >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"expected {n} events, got {len(sink.events)}")


class Sink:
    def __init__(self) -> None:
        self.events: list[RequestEvent] = []

    def submit(self, event: RequestEvent) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


@dataclass
class Env:
    url: str
    sink: Sink

    def oai(self, who: str, retries: int = 0) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=self.url + "/v1", api_key=f"sk-{who}", max_retries=retries)

    def ant(self, who: str, retries: int = 0) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(base_url=self.url, api_key=f"sk-{who}", max_retries=retries)


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    mock = await start_mock()
    settings = Settings(
        upstreams={"mock": UpstreamSettings(url=mock.url)}, default_upstream="mock"
    ).validate()
    tiers = DictTierStore({k: v for k, v in ACCOUNTS.items() if v is not None})
    stack = build_plugins(tiers, policy_from_dict(POLICY), known_upstreams={"mock"})
    plugins = [EnforcementPlugin(plugins=stack)]  # as `serve` loads it; test_sdk.py runs the list
    keys = InMemoryKeyResolver()
    for who in ACCOUNTS:
        keys.add(f"sk-{who}", Principal(key_id=f"key_{who}", account_id=who, org_id="org_1"))
    sink = Sink()
    server = TestServer(create_app(settings, sink=sink, key_resolver=keys, plugins=plugins))
    await server.start_server()
    yield Env(str(server.make_url("")).rstrip("/"), sink)
    await server.close()
    await mock.close()


QUESTION = [{"role": "user", "content": "Prove that the square root of 2 is irrational, step by step."}]


async def oai_stream(client: openai.AsyncOpenAI, model: str) -> tuple[str, str]:
    stream = await client.chat.completions.create(model=model, messages=QUESTION, stream=True)  # type: ignore[arg-type]
    content, reasoning = [], []
    async for chunk in stream:
        for choice in chunk.choices:
            content.append(choice.delta.content or "")
            extra = choice.delta.model_extra or {}
            reasoning.append(str(extra.get("reasoning_content") or extra.get("reasoning") or ""))
    return "".join(content), "".join(reasoning)


async def test_think_tags_stripped_from_the_stream_for_protected_accounts(env: Env) -> None:
    normal, _ = await oai_stream(env.oai("normal"), "mock-think")
    protected, _ = await oai_stream(env.oai("suspect"), "mock-think")
    assert "<think>" in normal and "</think>" in normal  # the upstream really reasons in content
    assert "think>" not in protected
    assert protected == strip_think(normal)[0] and protected.strip()


@pytest.mark.parametrize("model", ["mock-reasoning", "mock-reasoning-field"])
async def test_reasoning_fields_removed_in_bodies_and_streams(env: Env, model: str) -> None:
    _, normal_reasoning = await oai_stream(env.oai("normal"), model)
    assert normal_reasoning
    content, reasoning = await oai_stream(env.oai("suspect"), model)
    assert content and reasoning == ""
    body = await env.oai("suspect").chat.completions.create(model=model, messages=QUESTION)  # type: ignore[arg-type]
    extra = body.choices[0].message.model_extra or {}
    assert "reasoning_content" not in extra and "reasoning" not in extra
    assert body.choices[0].message.content


async def test_anthropic_thinking_blocks_removed_and_stream_stays_valid(env: Env) -> None:
    async def final(who: str) -> anthropic.types.Message:
        async with env.ant(who).messages.stream(
            model="mock-redacted",
            max_tokens=2048,
            thinking={"type": "enabled", "budget_tokens": 1024},
            messages=QUESTION,  # type: ignore[arg-type]
        ) as stream:
            return await stream.get_final_message()

    normal = await final("normal")
    assert {"thinking", "redacted_thinking", "text"} <= {b.type for b in normal.content}
    protected = await final("suspect")
    assert [b.type for b in protected.content] == ["text"]
    assert protected.content[0].text == next(b for b in normal.content if b.type == "text").text  # type: ignore[union-attr]
    body = await env.ant("suspect").messages.create(
        model="mock-redacted",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=QUESTION,  # type: ignore[arg-type]
    )
    assert [b.type for b in body.content] == ["text"]


async def test_campaign_budget_429_and_block_403_through_the_gateway(env: Env) -> None:
    for i in range(3):
        raw = await env.oai(f"hydra{i}").chat.completions.with_raw_response.create(
            model="mock", messages=QUESTION
        )  # type: ignore[arg-type]
        assert raw.headers["x-ratelimit-limit-requests"] == "3"  # the campaign bucket is the tightest
    with pytest.raises(openai.RateLimitError) as info:
        await env.oai("hydra0").chat.completions.create(model="mock", messages=QUESTION)  # type: ignore[arg-type]
    assert info.value.code == "rate_limit_exceeded"
    assert int(info.value.response.headers["retry-after"]) > 60
    assert info.value.response.headers["x-should-retry"] == "false"
    with pytest.raises(anthropic.RateLimitError):
        await env.ant("hydra1", retries=2).messages.create(model="mock", max_tokens=32, messages=QUESTION)  # type: ignore[arg-type]
    with pytest.raises(anthropic.PermissionDeniedError):
        await env.ant("blocked", retries=2).messages.create(model="mock", max_tokens=32, messages=QUESTION)  # type: ignore[arg-type]
    await settle(env.sink, 6)
    refused = [e for e in env.sink.events if e.status == 429]
    assert len(refused) == 2  # x-should-retry: false kept the Anthropic SDK from retrying
    assert all(e.action == "rate_limited" and e.campaign_id == "camp_h" for e in refused)
    blocked = [e for e in env.sink.events if e.status == 403]
    assert len(blocked) == 1 and blocked[0].action == "block" and blocked[0].policy_version == "e2e-1"


async def test_events_carry_the_decision(env: Env) -> None:
    await env.oai("suspect").chat.completions.create(
        model="mock",
        messages=QUESTION,
        logprobs=True,
        top_logprobs=5,
        n=1,  # type: ignore[arg-type]
    )
    await env.oai("normal").chat.completions.create(model="mock", messages=QUESTION)  # type: ignore[arg-type]
    await settle(env.sink, 2)
    by_account = {e.account_id: e for e in env.sink.events}
    suspect, normal = by_account["suspect"], by_account["normal"]
    assert (suspect.tier, suspect.action, suspect.shadow, suspect.policy_version) == (
        2,
        "harden+protect_reasoning",
        False,
        "e2e-1",
    )
    assert suspect.reasons == ["cot_share", "logprobs_dropped"]
    assert (normal.tier, normal.action, normal.reasons) == (0, "allow", [])
