"""The gateway through the official `anthropic` SDK: content blocks, named SSE events."""

from __future__ import annotations

import aiohttp
import anthropic
import pytest

from .conftest import TEST_KEY, Harness


def client(gw: Harness, key: str = TEST_KEY) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=gw.url, api_key=key, max_retries=0, timeout=5)


MESSAGES = [
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "calc", "input": {}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "4"}]},
    {"role": "user", "content": [{"type": "text", "text": "Explain why."}]},
]
THINKING = {"type": "enabled", "budget_tokens": 2048}


async def test_messages_with_thinking(gw: Harness) -> None:
    msg = await client(gw).messages.create(
        model="claude-x", max_tokens=4096, system="Be exact.", messages=MESSAGES, thinking=THINKING
    )
    kinds = [block.type for block in msg.content]
    assert kinds == ["thinking", "redacted_thinking", "text"]
    assert msg.content[0].thinking == "Let me think carefully."  # type: ignore[union-attr]
    assert msg.usage.input_tokens == 12
    (event,) = await gw.wait_events(1)
    assert event.flavor == "anthropic" and event.endpoint == "/v1/messages"
    assert event.roles == "suatu" and event.n_user_turns == 2 and event.has_tool_results
    assert event.thinking_budget == 2048 and event.max_tokens == 4096
    assert event.system_text == "Be exact." and event.system_hash is not None
    assert event.prompt_text == "Explain why."
    assert (event.prompt_tokens, event.completion_tokens) == (12, 9)
    assert event.reasoning_tokens > 0 and event.finish_reason == "end_turn"
    assert event.response_text == "Hello there friend."
    # anthropic-version reached the upstream, the client's key did not.
    sent = gw.upstream.requests[-1]["headers"]
    assert sent.get("anthropic-version") and TEST_KEY not in str(sent)


async def test_messages_without_thinking(gw: Harness) -> None:
    msg = await client(gw).messages.create(model="claude-x", max_tokens=10, messages=MESSAGES[:1])
    assert [b.type for b in msg.content] == ["text"]
    (event,) = await gw.wait_events(1)
    assert event.thinking_budget is None and event.reasoning_tokens == 0 and event.roles == "u"


async def test_streaming_with_thinking_named_events(gw: Harness) -> None:
    seen: list[str] = []
    async with client(gw).messages.stream(
        model="claude-x", max_tokens=4096, messages=MESSAGES, thinking=THINKING
    ) as stream:
        async for ev in stream:
            seen.append(ev.type)
        final = await stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "redacted_thinking", "text"]
    assert final.content[2].text == "Hello there friend."  # type: ignore[union-attr]
    assert final.usage.output_tokens == 9
    assert seen[0] == "message_start" and seen[-1] == "message_stop" and "thinking" in seen
    (event,) = await gw.wait_events(1)
    assert event.stream is True and event.status == 200
    assert (event.prompt_tokens, event.completion_tokens) == (12, 9)
    assert event.response_text == "Hello there friend." and event.finish_reason == "end_turn"


async def test_raw_sse_keeps_ping_and_event_names(gw: Harness) -> None:
    body = {"model": "claude-x", "max_tokens": 5, "messages": MESSAGES[:1], "stream": True}
    headers = {"x-api-key": TEST_KEY, "anthropic-version": "2023-06-01"}
    async with aiohttp.ClientSession() as s, s.post(gw.url + "/v1/messages", json=body, headers=headers) as r:
        raw = await r.read()
    assert b"event: ping\n" in raw and raw.rstrip().endswith(b'{"type":"message_stop"}')


async def test_bad_key_is_401_in_anthropic_shape(gw: Harness) -> None:
    with pytest.raises(anthropic.AuthenticationError) as info:
        await client(gw, key="nope").messages.create(model="claude-x", max_tokens=5, messages=MESSAGES[:1])
    assert info.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "Invalid API key (unknown or revoked)."},
    }


async def test_missing_max_tokens_is_400_in_anthropic_shape(gw: Harness) -> None:
    headers = {"x-api-key": TEST_KEY, "anthropic-version": "2023-06-01"}
    body = {"model": "claude-x", "messages": MESSAGES[:1]}
    async with aiohttp.ClientSession() as s, s.post(gw.url + "/v1/messages", json=body, headers=headers) as r:
        assert r.status == 400
        payload = await r.json()
    assert payload["type"] == "error" and payload["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in payload["error"]["message"]


async def test_upstream_overload_passes_through(gw: Harness) -> None:
    with pytest.raises(anthropic.InternalServerError) as info:
        await client(gw).messages.create(model="fail-500", max_tokens=5, messages=MESSAGES[:1])
    assert info.value.status_code == 500
    (event,) = await gw.wait_events(1)
    assert event.status == 500 and event.error_type == "api_error"


def test_odd_upstream_events_never_break_observation() -> None:
    import orjson

    from distillguard.gateway.anthropic_api import observe_frames
    from distillguard.gateway.recorder import ResponseSummary

    odd = [
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": 5}},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "redacted_thinking", "data": 7},
        },
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": None}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok"}},
    ]
    summary = ResponseSummary()
    observe_frames(summary, [orjson.dumps(e) for e in odd] + [b"{not json"])
    assert "".join(summary.text_parts) == "ok" and summary.reasoning_chars == 0
