"""The official SDKs against the enforcement plugins' output.

The gateway core is not merged yet, so a tiny aiohttp app stands in for it: it runs the
plugin stack, renders rejections in each API's error shape (as the gateway does), and
serves canned upstream responses through the plugins' transforms. What is checked is the
wire output of this package: status, headers, error bodies, rewritten streams.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import openai
import pytest
from aiohttp import web
from enforce_helpers import DictTierStore, entry, make_ctx

from distillguard.detect.api import Tier
from distillguard.enforce.policy import policy_from_dict
from distillguard.enforce.stack import build_plugins
from distillguard.gateway.pipeline import Rejection

POLICY = {
    "version": "sdk-test",
    "limits": {"window_s": 2, "account": {"requests": 2, "tokens": 0}},  # one request per second
    "tiers": {
        "SUSPECT": {"actions": ["protect_reasoning", "harden"]},
        "CONFIRMED": {"actions": ["verify"]},
    },
    "actions": {
        "protect_reasoning": {"mode": "omit", "hold_chars": 8},
        "verify": {"url": "https://verify.example/start"},
    },
}
TIERS = {"suspect": entry(Tier.SUSPECT), "confirmed": entry(Tier.CONFIRMED)}

OPENAI_TYPES = {403: "permission_error", 429: "rate_limit_exceeded", 503: "server_error"}
ANTHROPIC_TYPES = {403: "permission_error", 429: "rate_limit_error", 503: "overloaded_error"}


def error_response(flavor: str, r: Rejection) -> web.Response:
    """The error shapes the gateway renders (gateway/errors.py)."""
    if flavor == "anthropic":
        body: dict[str, Any] = {
            "type": "error",
            "error": {"type": ANTHROPIC_TYPES[r.status], "message": r.message},
        }
    else:
        body = {
            "error": {"message": r.message, "type": OPENAI_TYPES[r.status], "param": None, "code": r.code}
        }
    return web.json_response(body, status=r.status, headers=r.headers)


def openai_upstream_chunks() -> list[dict[str, Any]]:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    pieces = ["<thi", "nk>RRRR RRR", "R.</th", "ink>\n\nThe ans", "wer is 4."]
    chunks = [
        base
        | {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    ]
    chunks.append(
        base | {"choices": [{"index": 0, "delta": {"reasoning_content": "RRRR"}, "finish_reason": None}]}
    )
    chunks += [
        base | {"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces
    ]
    chunks.append(base | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    chunks.append(
        base | {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}}
    )
    return chunks


def anthropic_upstream_events() -> list[dict[str, Any]]:
    usage = {"input_tokens": 5, "output_tokens": 1}
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-x",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    return [
        {"type": "message_start", "message": message},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "RRRR RR."},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": "c2ln"},
        },
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "redacted_thinking", "data": "RRRR"},
        },
        {"type": "content_block_stop", "index": 1},
        {"type": "content_block_start", "index": 2, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 2, "delta": {"type": "text_delta", "text": "Four."}},
        {"type": "content_block_stop", "index": 2},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 30},
        },
        {"type": "message_stop"},
    ]


class FakeGateway:
    def __init__(self) -> None:
        self.plugins = build_plugins(DictTierStore(TIERS), policy_from_dict(POLICY))
        self.requests = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        flavor = "anthropic" if request.path == "/v1/messages" else "openai"
        key = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix(
            "Bearer "
        )
        ctx = make_ctx(account=key, key=key, flavor=flavor, body=await request.json())
        for plugin in self.plugins:
            rejection = await plugin.on_request(ctx)
            if rejection is not None:
                return error_response(flavor, rejection)
        transforms = [t for p in self.plugins if (t := p.response_transform(ctx)) is not None]
        upstream = anthropic_upstream_events() if flavor == "anthropic" else openai_upstream_chunks()
        response = web.StreamResponse(headers={"content-type": "text/event-stream", **ctx.response_headers})
        await response.prepare(request)
        for event in upstream:
            if flavor == "anthropic" and event["type"] == "message_stop":
                out = [e for t in transforms for e in t.finish()]
                for e in out:
                    await response.write(sse(flavor, e))
            events = [event]
            for t in transforms:
                events = [e for item in events for e in t.transform_event(item)]
            for e in events:
                await response.write(sse(flavor, e))
        if flavor == "openai":
            for t in transforms:
                for e in t.finish():
                    await response.write(sse(flavor, e))
            await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        for plugin in self.plugins:
            await plugin.on_complete(ctx)
        return response


def sse(flavor: str, event: dict[str, Any]) -> bytes:
    data = json.dumps(event).encode()
    if flavor == "anthropic":
        return b"event: " + event["type"].encode() + b"\ndata: " + data + b"\n\n"
    return b"data: " + data + b"\n\n"


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[str, FakeGateway]]:
    fake = FakeGateway()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.handle)
    app.router.add_post("/v1/messages", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", fake
    await runner.cleanup()


def oai(base: str, key: str, retries: int) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=base + "/v1", api_key=key, max_retries=retries)


def ant(base: str, key: str, retries: int) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=base, api_key=key, max_retries=retries)


async def oai_call(client: openai.AsyncOpenAI) -> str:
    stream = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "2+2?"}], stream=True
    )
    parts = []
    async for chunk in stream:
        for choice in chunk.choices:
            parts.append(choice.delta.content or "")
    return "".join(parts)


async def ant_call(client: anthropic.AsyncAnthropic) -> anthropic.types.Message:
    async with client.messages.stream(
        model="claude-x", max_tokens=64, messages=[{"role": "user", "content": "2+2?"}]
    ) as stream:
        return await stream.get_final_message()


async def test_openai_sdk_surfaces_429_without_retries(gateway: tuple[str, FakeGateway]) -> None:
    base, fake = gateway
    client = oai(base, "acct_o1", retries=0)
    await oai_call(client)
    await oai_call(client)
    with pytest.raises(openai.RateLimitError) as info:
        await oai_call(client)
    err = info.value
    assert err.status_code == 429 and err.code == "rate_limit_exceeded"
    assert err.response.headers["retry-after"] == "1"
    assert err.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert fake.requests == 3


async def test_openai_sdk_waits_retry_after_then_succeeds(gateway: tuple[str, FakeGateway]) -> None:
    base, fake = gateway
    client = oai(base, "acct_o2", retries=2)
    await oai_call(client)
    await oai_call(client)
    started = time.monotonic()
    assert (await oai_call(client)).endswith("The answer is 4.")  # a NORMAL account: reasoning kept
    waited = time.monotonic() - started
    assert 0.9 <= waited < 3.0  # the SDK slept the retry-after second, not its own backoff
    assert fake.requests == 4


async def test_anthropic_sdk_429_then_retry(gateway: tuple[str, FakeGateway]) -> None:
    base, fake = gateway
    # clients made first: the bucket refills a request a second, so the three calls must
    # not wait on client construction (a loaded machine made the third one fit)
    client, retrying = ant(base, "acct_a1", retries=0), ant(base, "acct_a1", retries=2)
    await ant_call(client)
    await ant_call(client)
    with pytest.raises(anthropic.RateLimitError) as info:
        await ant_call(client)
    assert info.value.status_code == 429
    assert info.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    headers = info.value.response.headers
    assert headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert headers["anthropic-ratelimit-requests-reset"].endswith("Z")
    started = time.monotonic()
    message = await ant_call(retrying)
    assert 0.9 <= time.monotonic() - started < 3.0
    assert message.content[-1].type == "text"
    assert fake.requests == 5  # two admitted, one refused, one refused then retried


async def test_verification_required_is_not_retried(gateway: tuple[str, FakeGateway]) -> None:
    base, fake = gateway
    with pytest.raises(openai.PermissionDeniedError) as info:
        await oai_call(oai(base, "confirmed", retries=2))
    assert info.value.code == "verification_required"
    assert info.value.response.headers["x-distillguard-verification-url"] == "https://verify.example/start"
    with pytest.raises(anthropic.PermissionDeniedError) as ainfo:
        await ant_call(ant(base, "confirmed", retries=2))
    assert ainfo.value.response.headers["x-distillguard-error-code"] == "verification_required"
    assert fake.requests == 2  # one each: a 403 is final


async def test_protected_streams_parse_in_both_sdks(gateway: tuple[str, FakeGateway]) -> None:
    base, _ = gateway
    assert await oai_call(oai(base, "suspect", retries=0)) == "The answer is 4."
    message = await ant_call(ant(base, "suspect", retries=0))
    assert [b.type for b in message.content] == ["text"]  # thinking blocks gone, index renumbered
    assert message.content[0].text == "Four."  # type: ignore[union-attr]
    assert "RRRR" not in message.model_dump_json()


async def test_unprotected_stream_keeps_reasoning(gateway: tuple[str, FakeGateway]) -> None:
    base, _ = gateway
    message = await ant_call(ant(base, "normal_user", retries=0))
    assert [b.type for b in message.content] == ["thinking", "redacted_thinking", "text"]
