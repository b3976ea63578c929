"""Gateway behaviour beyond the happy path: bad input, upstream failures, disconnects,
plugins, retention, health and metrics."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from distillguard.events.schema import RequestEvent
from distillguard.gateway import recorder
from distillguard.gateway.pipeline import Plugin, Rejection, RequestContext, ResponseTransform

from .conftest import TEST_KEY, Harness, start_gateway
from .fake_upstream import UpstreamState

OPENAI_AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
ANTHROPIC_AUTH = {"x-api-key": TEST_KEY, "anthropic-version": "2023-06-01"}
CHAT = {"model": "m1", "messages": [{"role": "user", "content": "hi"}]}


async def post(url: str, data: bytes | None = None, json: Any = None, headers: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.post(url, data=data, json=json, headers=headers) as r:
        return r.status, await r.json(content_type=None)


async def post_raw(url: str, json: Any, headers: Any) -> bytes:
    async with aiohttp.ClientSession() as s, s.post(url, json=json, headers=headers) as r:
        return await r.read()


def assert_openai_error(payload: Any, fragment: str) -> None:
    assert set(payload["error"]) == {"message", "type", "param", "code"}
    assert fragment in payload["error"]["message"]


@pytest.mark.parametrize(
    "data,fragment",
    [
        (b'{"model": "m1", "messages": [', "not valid JSON"),
        (b'{"model": "m1", "messages": "\xff\xfe"}', "not valid UTF-8"),
        (b"[1, 2]", "must be a JSON object"),
        (b"", "empty"),
        (b'{"model": 5, "messages": []}', "'model'"),
        (b'{"model": "m1", "messages": []}', "at least one message"),
        (b'{"model": "m1", "messages": [{"content": "no role"}]}', "role"),
        (b'{"model": "m1", "messages": [{"role": "user"}], "stream": "yes"}', "'stream'"),
    ],
)
async def test_bad_input_gets_400_in_openai_shape(gw: Harness, data: bytes, fragment: str) -> None:
    status, payload = await post(gw.url + "/v1/chat/completions", data=data, headers=OPENAI_AUTH)
    assert status == 400
    assert_openai_error(payload, fragment)
    assert gw.upstream.requests == []
    (event,) = await gw.wait_events(1)
    assert event.status == 400 and event.key_id == "key_alice"


async def test_bad_input_gets_400_in_anthropic_shape(gw: Harness) -> None:
    status, payload = await post(gw.url + "/v1/messages", data=b"{nope", headers=ANTHROPIC_AUTH)
    assert status == 400
    assert payload["type"] == "error" and payload["error"]["type"] == "invalid_request_error"
    body = {"model": "c", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}
    status, payload = await post(gw.url + "/v1/messages", json=body, headers=ANTHROPIC_AUTH)
    assert status == 400 and "role" in payload["error"]["message"]


async def test_body_over_limit_is_413(upstream: Any) -> None:
    server, state = upstream
    gw = await start_gateway(str(server.make_url("")).rstrip("/"), state, max_body_bytes=1000)
    try:
        big = {"model": "m1", "messages": [{"role": "user", "content": "x" * 5000}]}
        status, payload = await post(gw.url + "/v1/chat/completions", json=big, headers=OPENAI_AUTH)
        assert status == 413 and "limit" in payload["error"]["message"]
        status, payload = await post(gw.url + "/v1/messages", json=big, headers=ANTHROPIC_AUTH)
        assert status == 413 and payload["error"]["type"] == "request_too_large"

        # A chunked body (no Content-Length) is cut off too.
        async def gen() -> Any:
            for _ in range(10):
                yield b"x" * 500

        status, payload = await post(gw.url + "/v1/chat/completions", data=gen(), headers=OPENAI_AUTH)  # type: ignore[arg-type]
        assert status == 413
    finally:
        await gw.server.close()


async def test_unknown_endpoint_and_wrong_method(gw: Harness) -> None:
    status, payload = await post(gw.url + "/v1/embeddings", json={}, headers=OPENAI_AUTH)
    assert status == 404 and "Unknown endpoint" in payload["error"]["message"]
    status, payload = await post(gw.url + "/v2/whatever", json={}, headers=ANTHROPIC_AUTH)
    assert status == 404 and payload["error"]["type"] == "not_found_error"
    async with aiohttp.ClientSession() as s, s.get(gw.url + "/v1/chat/completions", headers=OPENAI_AUTH) as r:
        assert r.status == 405 and r.headers["Allow"] == "POST"
    # A model id cannot walk the upstream's path tree.
    for sneaky in ("/v1/models/%2e%2e", "/v1/models/a%2Fb", "/v1/models/x/../../admin"):
        async with aiohttp.ClientSession() as s, s.get(gw.url + sneaky, headers=OPENAI_AUTH) as r:
            assert r.status == 404, sneaky
    assert gw.upstream.requests == []


async def test_missing_key_is_401(gw: Harness) -> None:
    status, payload = await post(gw.url + "/v1/chat/completions", json=CHAT)
    assert status == 401 and "Missing API key" in payload["error"]["message"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_upstream_down_is_502_in_both_shapes() -> None:
    gw = await start_gateway(f"http://127.0.0.1:{free_port()}", UpstreamState())
    try:
        status, payload = await post(gw.url + "/v1/chat/completions", json=CHAT, headers=OPENAI_AUTH)
        assert status == 502 and payload["error"]["code"] == "upstream_unreachable"
        body = {"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
        status, payload = await post(gw.url + "/v1/messages", json=body, headers=ANTHROPIC_AUTH)
        assert status == 502 and payload["type"] == "error" and payload["error"]["type"] == "api_error"
        first, _ = await gw.wait_events(2)
        assert first.status == 502 and first.error_type == "upstream_unreachable"
    finally:
        await gw.server.close()


async def test_upstream_timeout_is_504(gw: Harness) -> None:
    slow = {"model": "slow", "messages": [{"role": "user", "content": "hi"}]}
    status, payload = await post(gw.url + "/v1/chat/completions", json=slow, headers=OPENAI_AUTH)
    assert status == 504 and payload["error"]["code"] == "upstream_timeout"


async def test_client_disconnect_cancels_upstream(gw: Harness) -> None:
    body = {"model": "slow-stream", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with aiohttp.ClientSession() as s:
        r = await s.post(gw.url + "/v1/chat/completions", json=body, headers=OPENAI_AUTH)
        await r.content.readline()  # the stream has started
        r.close()  # hang up mid-stream
    await asyncio.wait_for(gw.upstream.slow_stream_cancelled.wait(), timeout=3)
    assert not gw.upstream.slow_stream_finished and gw.upstream.slow_stream_sent < 200
    (event,) = await gw.wait_events(1)
    assert event.status == 499 and event.error_type == "client_disconnected"
    # What the client received before hanging up is recorded, with estimated usage.
    assert event.response_text and set(event.response_text) == {"x"}
    assert event.usage_estimated and event.completion_tokens >= 1


# --- plugins ---------------------------------------------------------------------------------


class Blocker(Plugin):
    name = "blocker"

    async def on_request(self, ctx: RequestContext) -> Rejection | None:
        if ctx.body.get("model") == "blocked":
            return Rejection(429, "Too many requests for this account.", "rate_limited", {"Retry-After": "7"})
        ctx.body["temperature"] = 0.0  # hardening rewrites the request
        ctx.event.action = "allow"
        return None


class Shouter(Plugin):
    """Upper-cases answer text; appends one extra chunk at the end of a stream."""

    name = "shouter"

    def __init__(self) -> None:
        self.completed: list[RequestEvent] = []

    def response_transform(self, ctx: RequestContext) -> ResponseTransform | None:
        return _Upper(ctx.flavor)

    async def on_complete(self, ctx: RequestContext) -> None:
        self.completed.append(ctx.event)


class _Upper:
    def __init__(self, flavor: str) -> None:
        self.flavor = flavor

    def transform_body(self, body: dict[str, Any]) -> dict[str, Any]:
        for choice in body.get("choices", []):
            choice["message"]["content"] = choice["message"]["content"].upper()
        for block in body.get("content", []):
            if block.get("type") == "text":
                block["text"] = block["text"].upper()
        return body

    def transform_event(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        for choice in event.get("choices", []):
            if choice["delta"].get("content"):
                choice["delta"]["content"] = choice["delta"]["content"].upper()
        delta = event.get("delta")
        if isinstance(delta, dict) and delta.get("type") == "text_delta":
            delta["text"] = delta["text"].upper()
        return [event]

    def finish(self) -> list[dict[str, Any]]:
        if self.flavor == "openai":
            return [
                {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": "m",
                    "choices": [{"index": 0, "delta": {"content": "!"}, "finish_reason": None}],
                }
            ]
        return []


@pytest.fixture
async def gw_plugins(upstream: tuple[TestServer, UpstreamState]) -> Any:
    server, state = upstream
    shouter = Shouter()
    gw = await start_gateway(str(server.make_url("")).rstrip("/"), state, plugins=[Blocker(), shouter])
    yield gw, shouter
    await gw.server.close()


async def test_rejection_rendered_with_headers(gw_plugins: Any) -> None:
    gw, shouter = gw_plugins
    blocked = {"model": "blocked", "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as s:
        async with s.post(gw.url + "/v1/chat/completions", json=blocked, headers=OPENAI_AUTH) as r:
            assert r.status == 429 and r.headers["Retry-After"] == "7"
            assert (await r.json())["error"]["code"] == "rate_limited"
        blocked_a = {**blocked, "max_tokens": 5}
        async with s.post(gw.url + "/v1/messages", json=blocked_a, headers=ANTHROPIC_AUTH) as r:
            assert r.status == 429 and (await r.json())["error"]["type"] == "rate_limit_error"
    assert gw.upstream.requests == []
    events = await gw.wait_events(2)
    assert [e.status for e in events] == [429, 429] and events[0].error_type == "rate_limited"
    assert events[0].model == "blocked"  # described before the plugins ran
    assert [e.request_id for e in shouter.completed] == [e.request_id for e in events]  # on_complete ran


async def test_transforms_apply_to_body_and_stream(gw_plugins: Any) -> None:
    gw, shouter = gw_plugins
    status, payload = await post(gw.url + "/v1/chat/completions", json=CHAT, headers=OPENAI_AUTH)
    assert status == 200 and payload["choices"][0]["message"]["content"] == "HELLO THERE FRIEND."
    assert gw.upstream.requests[-1]["body"]["temperature"] == 0.0  # the rewritten body went upstream
    body = {**CHAT, "stream": True}
    raw = await post_raw(gw.url + "/v1/chat/completions", body, OPENAI_AUTH)
    assert b"HELLO" in raw and b"Hello" not in raw
    assert raw.index(b'"!"') < raw.index(b"data: [DONE]") and raw.endswith(b"data: [DONE]\n\n")
    a_body = {"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "stream": True}
    raw_a = await post_raw(gw.url + "/v1/messages", a_body, ANTHROPIC_AUTH)
    assert b"event: content_block_delta\ndata: " in raw_a and b"FRIEND." in raw_a
    events = await gw.wait_events(3)
    assert events[1].response_text == "HELLO THERE FRIEND.!"  # what the client saw
    assert events[2].response_text == "HELLO THERE FRIEND."
    assert [e.request_id for e in shouter.completed] == [e.request_id for e in events]
    assert events[0].action == "allow"


# --- retention, fingerprints, lifecycle -----------------------------------------------------


@pytest.mark.parametrize("retention", ["full", "fingerprints-only", "none"])
async def test_retention_and_fingerprint_hook(upstream: Any, retention: str) -> None:
    seen_text: list[str | None] = []

    def fake_enrich(event: RequestEvent) -> RequestEvent:
        if event.request_id == "warm-up":
            return event
        seen_text.append(event.prompt_text)
        event.skeleton_hash = "sk"
        return event

    server, state = upstream
    previous = recorder.set_enricher(fake_enrich)
    gw = await start_gateway(str(server.make_url("")).rstrip("/"), state, retention=retention)
    try:
        status, _ = await post(gw.url + "/v1/chat/completions", json=CHAT, headers=OPENAI_AUTH)
        assert status == 200
        (event,) = await gw.wait_events(1)
    finally:
        recorder.set_enricher(previous)
        await gw.server.close()
    if retention == "full":
        assert event.prompt_text == "hi" and event.response_text and event.skeleton_hash == "sk"
    elif retention == "fingerprints-only":
        assert event.prompt_text is None and event.response_text is None and event.skeleton_hash == "sk"
        assert seen_text == ["hi"]  # fingerprints were taken before the text was dropped
    else:
        assert event.prompt_text is None and event.skeleton_hash is None and seen_text == []
    assert event.prompt_chars == 2  # structure survives every retention


async def test_healthz_metrics_and_sink_closed(upstream: Any) -> None:
    server, state = upstream
    gw = await start_gateway(str(server.make_url("")).rstrip("/"), state)
    async with aiohttp.ClientSession() as s:
        async with s.get(gw.url + "/healthz") as r:
            assert r.status == 200 and (await r.json())["status"] == "ok"
        await s.post(gw.url + "/v1/chat/completions", json=CHAT, headers=OPENAI_AUTH)
        await s.post(gw.url + "/v1/chat/completions", json={**CHAT, "model": "fail-500"}, headers=OPENAI_AUTH)
        await gw.wait_events(2)
        async with s.get(gw.url + "/metrics") as r:
            text = await r.text()
    assert 'distillguard_requests_total{endpoint="/v1/chat/completions",status="200"} 1.0' in text
    assert 'distillguard_upstream_errors_total{kind="http_500",upstream="fake"} 1.0' in text
    assert "distillguard_request_duration_seconds_bucket" in text
    await gw.server.close()
    assert gw.sink.closed


class _Exploding:
    def transform_body(self, body: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("transform bug")

    def transform_event(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        raise RuntimeError("transform bug")

    def finish(self) -> list[dict[str, Any]]:
        return []


class Exploder(Plugin):
    name = "exploder"

    def response_transform(self, ctx: RequestContext) -> ResponseTransform | None:
        return _Exploding()


async def test_plugin_bug_is_500_in_shape_never_a_traceback(upstream: Any) -> None:
    server, state = upstream
    gw = await start_gateway(str(server.make_url("")).rstrip("/"), state, plugins=[Exploder()])
    try:
        status, payload = await post(gw.url + "/v1/chat/completions", json=CHAT, headers=OPENAI_AUTH)
        assert status == 500 and "Internal gateway error" in payload["error"]["message"]
        raw = await post_raw(gw.url + "/v1/chat/completions", {**CHAT, "stream": True}, OPENAI_AUTH)
        assert b"Internal gateway error" in raw and b"Traceback" not in raw
        a_body = {
            "model": "c",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "x"}],
            "stream": True,
        }
        raw = await post_raw(gw.url + "/v1/messages", a_body, ANTHROPIC_AUTH)
        assert raw.startswith(b"event: error\ndata: ") and b"api_error" in raw
        events = await gw.wait_events(3)
        # Streams had sent 200 before failing: the status says so, error_type says why.
        assert [e.status for e in events] == [500, 200, 200]
        assert {e.error_type for e in events} == {"gateway_error"}
    finally:
        await gw.server.close()
