"""The Anthropic wire format, checked by parsing everything through the official SDK."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest

from distillguard.mock.server import MockServer

MSG: list[Any] = [{"role": "user", "content": "Why is the sky blue?"}]
THINK = {"type": "enabled", "budget_tokens": 1024}


def test_message_shape_and_determinism(claude: anthropic.Anthropic) -> None:
    a = claude.messages.create(model="mock", max_tokens=256, messages=MSG)
    b = claude.messages.create(model="mock", max_tokens=256, messages=MSG)
    assert a.type == "message" and a.role == "assistant" and a.id.startswith("msg_")
    assert [blk.type for blk in a.content] == ["text"]
    assert a.content[0].text == b.content[0].text
    assert a.stop_reason == "end_turn"
    assert a.usage.output_tokens == len(a.content[0].text.split())
    short = claude.messages.create(model="mock", max_tokens=4, messages=MSG)
    assert short.stop_reason == "max_tokens" and short.usage.output_tokens == 4


def test_stream_events_and_accumulation(claude: anthropic.Anthropic) -> None:
    whole = claude.messages.create(model="mock", max_tokens=256, messages=MSG)
    with claude.messages.stream(model="mock", max_tokens=256, messages=MSG) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_message()
    assert final.content[0].text == whole.content[0].text
    assert final.usage.output_tokens == whole.usage.output_tokens
    assert final.usage.input_tokens == whole.usage.input_tokens
    assert final.stop_reason == "end_turn"
    assert events[0] == "message_start" and events[-1] == "message_stop"


def test_raw_sse_event_order(mock_server: MockServer, raw: Any) -> None:
    body = {"model": "mock", "max_tokens": 3000, "messages": MSG, "stream": True, "thinking": THINK}
    r = raw(f"{mock_server.url}/v1/messages", body=json.dumps(body).encode())
    frames = [f for f in r.text.split("\n\n") if f]
    names = [f.split("\n")[0].removeprefix("event: ") for f in frames]
    for f, name in zip(frames, names, strict=True):
        assert json.loads(f.split("\n")[1].removeprefix("data: "))["type"] == name
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    deltas = [
        json.loads(f.split("\n")[1][6:])["delta"]["type"]
        for f in frames
        if f.startswith("event: content_block_delta")
    ]
    assert deltas[0] == "thinking_delta" and "signature_delta" in deltas and deltas[-1] == "text_delta"
    assert deltas.index("signature_delta") < deltas.index("text_delta")
    assert names[-2:] == ["message_delta", "message_stop"]


def test_thinking_blocks_streamed_and_whole(claude: anthropic.Anthropic) -> None:
    whole = claude.messages.create(model="mock", max_tokens=3000, thinking=THINK, messages=MSG)
    assert [b.type for b in whole.content] == ["thinking", "text"]
    thinking = whole.content[0]
    assert "Step 1:" in thinking.thinking and thinking.signature
    with claude.messages.stream(model="mock", max_tokens=3000, thinking=THINK, messages=MSG) as stream:
        final = stream.get_final_message()
    assert final.content[0].thinking == thinking.thinking
    assert final.content[0].signature == thinking.signature
    assert final.usage.output_tokens == whole.usage.output_tokens
    assert whole.usage.output_tokens == len(thinking.thinking.split(" ")) - thinking.thinking.count(
        " Step "
    ) + len(whole.content[1].text.split())


def test_thinking_signature_is_verified_on_the_way_back(claude: anthropic.Anthropic) -> None:
    first = claude.messages.create(model="mock", max_tokens=3000, thinking=THINK, messages=MSG)
    history = [
        *MSG,
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {"role": "user", "content": "And at sunset?"},
    ]
    ok = claude.messages.create(model="mock", max_tokens=3000, thinking=THINK, messages=history)
    assert ok.content[0].type == "thinking"
    history[1]["content"][0]["thinking"] += " tampered"
    with pytest.raises(anthropic.BadRequestError) as err:
        claude.messages.create(model="mock", max_tokens=3000, thinking=THINK, messages=history)
    assert "signature" in err.value.message


def test_redacted_thinking(claude: anthropic.Anthropic) -> None:
    r = claude.messages.create(model="mock-redacted", max_tokens=3000, thinking=THINK, messages=MSG)
    assert [b.type for b in r.content] == ["thinking", "redacted_thinking", "text"]
    with claude.messages.stream(
        model="mock-redacted", max_tokens=3000, thinking=THINK, messages=MSG
    ) as stream:
        final = stream.get_final_message()
    assert final.content[1].data == r.content[1].data


def test_thinking_validation(claude: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError):
        claude.messages.create(
            model="mock", max_tokens=3000, thinking={"type": "enabled", "budget_tokens": 100}, messages=MSG
        )
    with pytest.raises(anthropic.BadRequestError):
        claude.messages.create(model="mock", max_tokens=1024, thinking=THINK, messages=MSG)


TOOL = {
    "name": "lookup_order",
    "description": "Find an order",
    "input_schema": {
        "type": "object",
        "properties": {"order_id": {"type": "string"}, "verbose": {"type": "boolean"}},
        "required": ["order_id"],
    },
}


def test_tool_use(claude: anthropic.Anthropic) -> None:
    ask: list[Any] = [{"role": "user", "content": "Please lookup order 42"}]
    r = claude.messages.create(model="mock", max_tokens=256, messages=ask, tools=[TOOL])
    assert r.stop_reason == "tool_use"
    use = r.content[-1]
    assert use.type == "tool_use" and use.name == "lookup_order" and set(use.input) == {"order_id", "verbose"}
    with claude.messages.stream(model="mock", max_tokens=256, messages=ask, tools=[TOOL]) as stream:
        final = stream.get_final_message()
    assert final.content[-1].input == use.input
    follow = [
        *ask,
        {"role": "assistant", "content": [b.model_dump() for b in r.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "shipped"}]},
    ]
    assert (
        claude.messages.create(model="mock", max_tokens=256, messages=follow, tools=[TOOL]).stop_reason
        == "end_turn"
    )


def test_stop_sequences(claude: anthropic.Anthropic) -> None:
    full = claude.messages.create(model="mock", max_tokens=256, messages=MSG).content[0].text
    word = full.split()[2]
    r = claude.messages.create(model="mock", max_tokens=256, messages=MSG, stop_sequences=[word])
    assert r.stop_reason == "stop_sequence" and r.stop_sequence == word
    assert r.content[0].text == full[: full.index(word)]


def test_errors_in_anthropic_shape(claude: anthropic.Anthropic, mock_server: MockServer, raw: Any) -> None:
    with pytest.raises(anthropic.InternalServerError) as e:
        claude.messages.create(model="mock-error-503", max_tokens=10, messages=MSG)
    assert e.value.status_code == 503 and e.value.body["type"] == "error"
    with pytest.raises(anthropic.RateLimitError) as rl:
        claude.messages.create(
            model="mock", max_tokens=10, messages=MSG, extra_headers={"x-mock-status": "429"}
        )
    assert rl.value.body["error"]["type"] == "rate_limit_error"
    with pytest.raises(anthropic.BadRequestError):
        claude.messages.create(model="mock", max_tokens=10, messages=[{"role": "system", "content": "x"}])
    r = raw(f"{mock_server.url}/v1/messages", body=json.dumps({"model": "mock", "messages": MSG}).encode())
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in r.json()["error"]["message"]
    r = raw(f"{mock_server.url}/v1/nothing", "GET", headers={"anthropic-version": "2023-06-01"})
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"


def test_models_and_count_tokens(claude: anthropic.Anthropic) -> None:
    ids = [m.id for m in claude.models.list()]
    assert "mock" in ids
    count = claude.messages.count_tokens(model="mock", messages=MSG)
    created = claude.messages.create(model="mock", max_tokens=8, messages=MSG)
    assert count.input_tokens == created.usage.input_tokens
