"""The gateway with the enforcement plugin stack mounted (`enforce.stack.build_plugins`), in
front of the mock: checks the plugin contract end to end through the official SDKs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import openai
import pytest

from distillguard.accounts.principal import Principal
from distillguard.detect.api import Tier, TierEntry
from distillguard.detect.tierstore import MemoryTierStore
from distillguard.enforce.stack import build_plugins
from distillguard.mock.server import start_mock

from .conftest import TEST_KEY, Harness, start_gateway
from .fake_upstream import UpstreamState

NORMAL_KEY = "sk-test-normal"
MESSAGES: Any = [{"role": "user", "content": "Why is the sky blue? Show your reasoning."}]


@pytest.fixture
async def enforced() -> AsyncIterator[tuple[Any, Harness]]:
    tiers = MemoryTierStore()
    tiers.publish({"acct_alice": TierEntry(tier=Tier.SUSPECT, reasons=["cot_harvest"])})
    mock = await start_mock("127.0.0.1", 0)
    gw = await start_gateway(mock.url.rstrip("/"), UpstreamState(), plugins=build_plugins(tiers))
    gw.keys.add(NORMAL_KEY, Principal(key_id="key_bob", account_id="acct_bob", org_id="org_b"))
    yield mock, gw
    await gw.server.close()
    await mock.close()


async def openai_stream(base: str, key: str) -> tuple[str, str]:
    async with openai.AsyncOpenAI(base_url=base + "/v1", api_key=key, max_retries=0) as client:
        stream = await client.chat.completions.create(model="mock-reasoning", messages=MESSAGES, stream=True)
        content, reasoning = [], []
        async for chunk in stream:
            for choice in chunk.choices:
                content.append(choice.delta.content or "")
                reasoning.append((choice.delta.model_extra or {}).get("reasoning_content") or "")
    return "".join(content), "".join(reasoning)


async def test_suspect_account_gets_protected_reasoning(enforced: tuple[Any, Harness]) -> None:
    mock, gw = enforced
    direct_content, direct_reasoning = await openai_stream(mock.url.rstrip("/"), "any")
    content, reasoning = await openai_stream(gw.url, TEST_KEY)
    assert content == direct_content  # the answer is untouched
    assert direct_reasoning and reasoning != direct_reasoning  # the chain of thought is not
    bob_content, bob_reasoning = await openai_stream(gw.url, NORMAL_KEY)
    assert (bob_content, bob_reasoning) == (direct_content, direct_reasoning)  # normal tier: as is
    alice, bob = await gw.wait_events(2)
    assert alice.tier == int(Tier.SUSPECT) and alice.action and "protect_reasoning" in alice.action
    assert bob.tier == 0


async def test_suspect_anthropic_stream_still_parses(enforced: tuple[Any, Harness]) -> None:
    _, gw = enforced
    client = anthropic.AsyncAnthropic(base_url=gw.url, api_key=TEST_KEY, max_retries=0)
    thinking: Any = {"type": "enabled", "budget_tokens": 2048}
    async with (
        client,
        client.messages.stream(model="mock", max_tokens=4096, messages=MESSAGES, thinking=thinking) as stream,
    ):
        final = await stream.get_final_message()
    assert final.content[-1].type == "text" and final.content[-1].text  # type: ignore[union-attr]
    (event,) = await gw.wait_events(1)
    assert event.status == 200 and event.response_text == final.content[-1].text  # type: ignore[union-attr]
