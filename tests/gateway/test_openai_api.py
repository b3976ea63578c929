"""The gateway through the official `openai` SDK: shapes out, events recorded."""

from __future__ import annotations

import openai
import pytest

from .conftest import PRINCIPAL, TEST_KEY, Harness


def client(gw: Harness, key: str = TEST_KEY) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key=key, max_retries=0, timeout=5)


MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hello."},
    {"role": "assistant", "content": "Hi."},
    {"role": "user", "content": "Again, with feeling."},
]


async def test_chat_non_streaming_records_event(gw: Harness) -> None:
    resp = await client(gw).chat.completions.create(
        model="m1", messages=MESSAGES, temperature=0.3, top_p=0.9, max_tokens=50, logit_bias={"42": 1}
    )
    assert resp.choices[0].message.content == "Hello there friend."
    assert resp.usage is not None and resp.usage.total_tokens == 18
    (event,) = await gw.wait_events(1)
    assert (event.key_id, event.account_id, event.org_id) == (
        PRINCIPAL.key_id,
        PRINCIPAL.account_id,
        PRINCIPAL.org_id,
    )
    assert event.endpoint == "/v1/chat/completions" and event.flavor == "openai"
    assert event.model == "m1" and event.status == 200 and event.stream is False
    assert (event.temperature, event.top_p, event.max_tokens, event.logit_bias) == (0.3, 0.9, 50, True)
    assert event.roles == "suau" and event.n_messages == 4 and event.n_user_turns == 2
    assert event.system_hash is not None and event.system_text == "You are terse."
    assert event.prompt_text == "Again, with feeling." and event.prompt_chars == len("Again, with feeling.")
    assert event.response_text == "Hello there friend."
    assert (event.prompt_tokens, event.completion_tokens, event.usage_estimated) == (11, 7, False)
    assert event.finish_reason == "stop"
    assert event.ts_start <= (event.ts_first_byte or 0) <= (event.ts_end or 0)
    assert event.client_ip == "127.0.0.1" and "OpenAI" in event.user_agent
    # The upstream got the body, but never the client's gateway key.
    sent = gw.upstream.requests[-1]
    assert sent["body"]["messages"] == MESSAGES
    assert TEST_KEY not in str(sent["headers"])


@pytest.mark.parametrize("model,field", [("reason-m", "reasoning_content"), ("reasoning2-m", "reasoning")])
async def test_chat_reasoning_fields_pass_through(gw: Harness, model: str, field: str) -> None:
    resp = await client(gw).chat.completions.create(model=model, messages=MESSAGES[:2])
    extra = resp.choices[0].message.model_extra or {}
    assert extra.get(field) == "Let me think carefully."
    (event,) = await gw.wait_events(1)
    assert event.reasoning_tokens == 3  # from completion_tokens_details
    assert event.response_text == "Hello there friend."  # reasoning is not answer text


async def test_chat_streaming_with_reasoning_and_usage(gw: Harness) -> None:
    stream = await client(gw).chat.completions.create(
        model="reason-m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    content, reasoning, usage = [], [], None
    async for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                content.append(choice.delta.content)
            extra = choice.delta.model_extra or {}
            if extra.get("reasoning_content"):
                reasoning.append(extra["reasoning_content"])
    assert "".join(content) == "Hello there friend."
    assert "".join(reasoning) == "Let me think carefully."
    assert usage is not None and usage.prompt_tokens == 11
    (event,) = await gw.wait_events(1)
    assert event.stream is True and event.status == 200
    assert (event.prompt_tokens, event.completion_tokens, event.reasoning_tokens) == (11, 7, 3)
    assert event.usage_estimated is False and event.finish_reason == "stop"
    assert event.response_text == "Hello there friend."


async def test_streaming_without_usage_is_estimated(gw: Harness) -> None:
    stream = await client(gw).chat.completions.create(model="reason-nousage", messages=MESSAGES, stream=True)
    async for _ in stream:
        pass
    (event,) = await gw.wait_events(1)
    assert event.usage_estimated is True
    context = sum(len(m["content"]) for m in MESSAGES)
    assert event.prompt_tokens == (context + 3) // 4
    assert event.reasoning_tokens == (len("Let me think carefully.") + 3) // 4
    assert event.completion_tokens == (len("Hello there friend.") + 3) // 4 + event.reasoning_tokens


async def test_stream_bytes_reach_client_unchanged(gw: Harness) -> None:
    """Passthrough is byte-exact: compare the gateway's stream with the upstream's."""
    import aiohttp

    body = {"model": "reason-m", "messages": MESSAGES, "stream": True}
    upstream_url = gw.settings.upstreams["fake"].url
    async with aiohttp.ClientSession() as s:
        async with s.post(upstream_url + "/v1/chat/completions", json=body) as r:
            direct = await r.read()
        headers = {"Authorization": f"Bearer {TEST_KEY}"}
        async with s.post(gw.url + "/v1/chat/completions", json=body, headers=headers) as r:
            assert r.headers["Content-Type"].startswith("text/event-stream")
            assert r.headers["x-request-id"].startswith("req_")
            via = await r.read()
    assert via == direct and via.endswith(b"data: [DONE]\n\n")


async def test_completions_streaming_and_not(gw: Harness) -> None:
    c = client(gw)
    resp = await c.completions.create(model="m1", prompt="Once upon", max_tokens=3, logprobs=2)
    assert resp.choices[0].text == "Hello there friend."
    stream = await c.completions.create(model="m1", prompt="Once upon", stream=True)
    texts = [chunk.choices[0].text async for chunk in stream]
    assert "".join(texts) == "Hello there friend."
    first, second = await gw.wait_events(2)
    assert first.endpoint == "/v1/completions" and first.roles == "u" and first.prompt_text == "Once upon"
    assert first.logprobs is True and first.top_logprobs == 2 and first.max_tokens == 3
    assert (first.prompt_tokens, first.completion_tokens) == (4, 3)
    assert second.stream is True and second.response_text == "Hello there friend."
    assert second.finish_reason == "length" and second.usage_estimated is True


async def test_models_list(gw: Harness) -> None:
    models = await client(gw).models.list()
    assert [m.id for m in models.data] == ["m1"]
    (event,) = await gw.wait_events(1)
    assert event.endpoint == "/v1/models" and event.status == 200


async def test_unknown_key_is_401_in_openai_shape(gw: Harness) -> None:
    with pytest.raises(openai.AuthenticationError) as info:
        await client(gw, key="sk-wrong").chat.completions.create(model="m1", messages=MESSAGES)
    assert info.value.status_code == 401
    assert info.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    assert "Invalid API key" in info.value.body["message"]  # type: ignore[index]
    assert gw.upstream.requests == []
    (event,) = await gw.wait_events(1)
    assert event.status == 401 and event.key_id == ""


async def test_revoked_key_is_401(gw: Harness) -> None:
    gw.keys.revoke(TEST_KEY)
    with pytest.raises(openai.AuthenticationError):
        await client(gw).chat.completions.create(model="m1", messages=MESSAGES)


async def test_upstream_errors_pass_through(gw: Harness) -> None:
    with pytest.raises(openai.InternalServerError) as info:
        await client(gw).chat.completions.create(model="fail-500", messages=MESSAGES)
    assert info.value.body["message"] == "upstream exploded"  # type: ignore[index]
    with pytest.raises(openai.RateLimitError):
        await client(gw).chat.completions.create(model="fail-429", messages=MESSAGES)
    first, second = await gw.wait_events(2)
    assert (first.status, first.error_type) == (500, "server_error")
    assert (second.status, second.error_type) == (429, "rate_limit_error")


async def test_bad_types_get_400_naming_the_field(gw: Harness) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await client(gw).chat.completions.create(model="m1", messages=MESSAGES, temperature="hot")  # type: ignore[arg-type]
    assert info.value.body["param"] == "temperature"  # type: ignore[index]
    assert "expected number" in info.value.body["message"]  # type: ignore[index]


def test_batched_frame_observation_matches_per_frame() -> None:
    import orjson

    from distillguard.gateway.openai_api import observe_chunk, observe_frames
    from distillguard.gateway.recorder import ResponseSummary

    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    frames = [
        {
            **base,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
        },
        {**base, "choices": [{"index": 0, "delta": {"reasoning_content": "think"}}], "usage": None},
        {**base, "choices": [{"index": 0, "delta": {"reasoning": "more"}}]},
        {**base, "choices": [{"index": 0, "delta": {"content": "Hi", "tool_calls": []}, "logprobs": None}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {
            **base,
            "choices": [],
            "usage": {
                "prompt_tokens": 3,
                "completion_tokens": 4,
                "completion_tokens_details": {"reasoning_tokens": 2},
            },
        },
    ]
    raw = [orjson.dumps(f) for f in frames]

    def summarize(batched: bool, payloads: list[bytes]) -> tuple[object, ...]:
        s = ResponseSummary()
        if batched:
            observe_frames(s, payloads)
        else:
            for p in payloads:
                observe_chunk(s, orjson.loads(p))
        return (
            "".join(s.text_parts),
            s.reasoning_chars,
            s.finish_reason,
            s.has_usage,
            s.prompt_tokens,
            s.completion_tokens,
            s.reasoning_tokens,
            s.error_type,
        )

    expected = ("Hi", 9, "stop", True, 3, 4, 2, None)
    assert summarize(False, raw) == expected
    assert summarize(True, raw) == expected
    # One odd frame (content as a list) sends the batch down the per-frame path: same result.
    odd = orjson.dumps({**base, "choices": [{"index": 0, "delta": {"content": ["x"]}}]})
    assert summarize(True, [*raw, odd]) == expected
    err = orjson.dumps({"error": {"type": "overloaded", "message": "busy"}})
    assert summarize(True, [raw[3], err])[7] == "overloaded"


async def test_long_stream_is_observed_in_parts(gw: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_PENDING_STREAM bytes the stream is parsed as it goes (bounded memory), with
    the same recorded result as the one parse at the end."""
    from distillguard.gateway import app as gateway_app

    monkeypatch.setattr(gateway_app, "MAX_PENDING_STREAM", 10)
    stream = await client(gw).chat.completions.create(
        model="reason-m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    async for _ in stream:
        pass
    (event,) = await gw.wait_events(1)
    assert event.response_text == "Hello there friend."
    assert (event.prompt_tokens, event.completion_tokens, event.reasoning_tokens) == (11, 7, 3)
    assert event.finish_reason == "stop" and event.usage_estimated is False
