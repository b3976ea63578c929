"""The gateway in front of the project's mock upstream (`distillguard.mock`), driven by the
official SDKs: what comes through the gateway equals what the mock sends directly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import openai
import pytest

from distillguard.mock.server import start_mock

from .conftest import TEST_KEY, Harness, start_gateway
from .fake_upstream import UpstreamState

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Why is the sky blue?"}]


@pytest.fixture
async def mock_gw() -> AsyncIterator[tuple[Any, Harness]]:
    mock = await start_mock("127.0.0.1", 0)
    gw = await start_gateway(
        mock.url.rstrip("/"), UpstreamState(), forward_header_prefixes=["anthropic-", "openai-", "x-mock-"]
    )
    yield mock, gw
    await gw.server.close()
    await mock.close()


def oa(base: str, key: str = TEST_KEY) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=base + "/v1", api_key=key, max_retries=0, timeout=10)


def an(base: str, key: str = TEST_KEY) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=base, api_key=key, max_retries=0, timeout=10)


async def collect_openai(client: openai.AsyncOpenAI, model: str) -> tuple[str, str, Any]:
    stream = await client.chat.completions.create(
        model=model,
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},  # type: ignore[arg-type]
    )
    content, reasoning, usage = [], [], None
    async for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            content.append(choice.delta.content or "")
            extra = choice.delta.model_extra or {}
            reasoning.append(extra.get("reasoning_content") or extra.get("reasoning") or "")
    return "".join(content), "".join(reasoning), usage


@pytest.mark.parametrize("model", ["mock", "mock-reasoning", "mock-reasoning-field", "mock-think"])
async def test_openai_stream_matches_direct(mock_gw: tuple[Any, Harness], model: str) -> None:
    mock, gw = mock_gw
    async with oa(mock.url.rstrip("/"), "any") as direct_client, oa(gw.url) as gw_client:
        direct = await collect_openai(direct_client, model)
        via = await collect_openai(gw_client, model)
    assert via == direct
    (event,) = await gw.wait_events(1)
    usage = via[2]
    assert (event.prompt_tokens, event.completion_tokens) == (usage.prompt_tokens, usage.completion_tokens)
    assert event.usage_estimated is False
    if model == "mock":
        assert event.reasoning_tokens == 0 and event.response_text == via[0]
    elif model == "mock-think":
        assert via[0].startswith("<think>")
        assert not event.response_text.startswith("<think>")  # type: ignore[union-attr]
        assert event.response_text and event.response_text in via[0]
    else:
        assert via[1] and event.reasoning_tokens == usage.completion_tokens_details.reasoning_tokens > 0
        assert event.response_text == via[0]


async def test_openai_non_stream_reasoning_field(mock_gw: tuple[Any, Harness]) -> None:
    _, gw = mock_gw
    resp = await oa(gw.url).chat.completions.create(model="mock-reasoning-field", messages=MESSAGES)  # type: ignore[arg-type]
    assert (resp.choices[0].message.model_extra or {}).get("reasoning")
    (event,) = await gw.wait_events(1)
    assert event.response_text == resp.choices[0].message.content and event.reasoning_tokens > 0


async def test_anthropic_redacted_thinking_stream(mock_gw: tuple[Any, Harness]) -> None:
    mock, gw = mock_gw
    kwargs: dict[str, Any] = {
        "model": "mock-redacted",
        "max_tokens": 4096,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Why is the sky blue?"}],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
    }
    finals = []
    for client in (an(mock.url.rstrip("/"), "any"), an(gw.url)):
        async with client, client.messages.stream(**kwargs) as stream:
            finals.append(await stream.get_final_message())
    direct, via = finals
    assert [b.type for b in via.content] == ["thinking", "redacted_thinking", "text"]
    assert via.model_dump(exclude={"id"}) == direct.model_dump(exclude={"id"})  # ids count up
    (event,) = await gw.wait_events(1)
    assert event.thinking_budget == 2048 and event.roles == "su"
    assert (event.prompt_tokens, event.completion_tokens) == (via.usage.input_tokens, via.usage.output_tokens)
    assert event.response_text == via.content[2].text  # type: ignore[union-attr]


async def test_mock_errors_pass_through(mock_gw: tuple[Any, Harness]) -> None:
    mock, gw = mock_gw
    bodies = []
    for client in (an(mock.url.rstrip("/"), "any"), an(gw.url)):
        with pytest.raises(anthropic.InternalServerError) as info:
            await client.messages.create(
                model="mock-error-503", max_tokens=10, messages=[{"role": "user", "content": "x"}]
            )
        assert info.value.status_code == 503
        bodies.append(info.value.body)
    assert bodies[0] == bodies[1] and bodies[1]["type"] == "error"  # type: ignore[index]
    (event,) = await gw.wait_events(1)
    assert event.status == 503 and event.error_type == bodies[1]["error"]["type"]  # type: ignore[index]


async def test_in_stream_error_is_recorded(mock_gw: tuple[Any, Harness]) -> None:
    _, gw = mock_gw
    client = oa(gw.url).with_options(default_headers={"x-mock-stream-error-after": "3"})
    with pytest.raises(openai.APIError):
        stream = await client.chat.completions.create(model="mock", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
        async for _ in stream:
            pass
    (event,) = await gw.wait_events(1)
    assert event.error_type is not None


async def test_hung_upstream_is_504(mock_gw: tuple[Any, Harness]) -> None:
    _, gw = mock_gw
    client = oa(gw.url).with_options(default_headers={"x-mock-delay-ms": "3000"})
    with pytest.raises(openai.APIStatusError) as info:
        await client.chat.completions.create(model="mock", messages=MESSAGES)  # type: ignore[arg-type]
    assert info.value.status_code == 504


async def test_disconnect_cancels_mock_stream(mock_gw: tuple[Any, Harness]) -> None:
    mock, gw = mock_gw
    client = oa(gw.url).with_options(
        default_headers={"x-mock-tokens-per-second": "50", "x-mock-output-tokens": "500"}
    )
    stream = await client.chat.completions.create(model="mock", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    async for _ in stream:
        break
    await stream.close()
    for _ in range(100):
        if mock.stats.get("streams_cancelled", 0) >= 1:
            break
        await asyncio.sleep(0.03)
    assert mock.stats["streams_cancelled"] == 1 and mock.stats.get("streams_completed", 0) == 0
    (event,) = await gw.wait_events(1)
    assert event.status == 499


async def test_model_by_id_and_count_tokens(mock_gw: tuple[Any, Harness]) -> None:
    mock, gw = mock_gw
    async with oa(gw.url) as client:
        model = await client.models.retrieve("mock-reasoning")
    assert model.id == "mock-reasoning"
    messages: Any = [{"role": "user", "content": "Why is the sky blue?"}]
    async with an(mock.url.rstrip("/"), "any") as direct, an(gw.url) as via:
        expected = await direct.messages.count_tokens(model="mock", messages=messages)
        got = await via.messages.count_tokens(model="mock", messages=messages)
    assert got.input_tokens == expected.input_tokens > 0
    first, second = await gw.wait_events(2)
    assert first.endpoint == "/v1/models/mock-reasoning" and second.endpoint == "/v1/messages/count_tokens"


async def test_anthropic_in_stream_error_event(mock_gw: tuple[Any, Harness]) -> None:
    _, gw = mock_gw
    client = an(gw.url).with_options(default_headers={"x-mock-stream-error-after": "3"})
    async with client:
        with pytest.raises(anthropic.APIStatusError) as info:
            async with client.messages.stream(
                model="mock", max_tokens=100, messages=[{"role": "user", "content": "Tell me a story."}]
            ) as stream:
                async for _ in stream:
                    pass
    assert "overloaded" in str(info.value.body) or "Overloaded" in str(info.value)
    (event,) = await gw.wait_events(1)
    assert event.status == 200 and event.error_type == "overloaded_error"  # headers said 200
