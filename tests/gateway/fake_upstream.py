"""A tiny canned OpenAI/Anthropic model server for gateway tests.

The model name picks the behaviour: "...reason..." adds reasoning, "...nousage..." drops
usage, "fail-500"/"fail-429" return errors, "slow" stalls, "slow-stream" streams slowly
and records how far it got (to prove a client disconnect cancels the upstream request).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

ANSWER = ["Hello", " there", " friend."]
REASONING = ["Let me", " think", " carefully."]


class UpstreamState:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []  # {"path", "headers", "body"}
        self.slow_stream_sent = 0
        self.slow_stream_finished = False
        self.slow_stream_cancelled = asyncio.Event()


def _sse(payload: dict[str, Any], event: str | None = None) -> bytes:
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + orjson.dumps(payload) + b"\n\n"


def _openai_error(status: int, message: str, etype: str) -> web.Response:
    body = {"error": {"message": message, "type": etype, "param": None, "code": None}}
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def _anthropic_error(status: int, message: str, etype: str) -> web.Response:
    body = {"type": "error", "error": {"type": etype, "message": message}}
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def build_upstream_app(state: UpstreamState) -> web.Application:
    async def record(request: web.Request) -> dict[str, Any]:
        body = orjson.loads(await request.read()) if request.can_read_body else {}
        state.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        return body

    async def failure(model: str, flavor: str) -> web.Response | None:
        make = _anthropic_error if flavor == "anthropic" else _openai_error
        if model == "fail-500":
            return make(500, "upstream exploded", "api_error" if flavor == "anthropic" else "server_error")
        if model == "fail-429":
            return make(429, "slow down", "rate_limit_error")
        if model == "slow":
            await asyncio.sleep(5)
        return None

    async def slow_stream(request: web.Request, frame: bytes) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        try:
            for _ in range(200):
                await resp.write(frame)
                state.slow_stream_sent += 1
                await asyncio.sleep(0.02)
            state.slow_stream_finished = True
        except (asyncio.CancelledError, ConnectionResetError):
            state.slow_stream_cancelled.set()
            raise
        return resp

    async def chat(request: web.Request) -> web.StreamResponse:
        body = await record(request)
        model = body["model"]
        if (fail := await failure(model, "openai")) is not None:
            return fail
        reasoning_key = "reasoning" if "reasoning2" in model else "reasoning_content"
        with_reasoning = "reason" in model
        usage = {
            "prompt_tokens": 11,
            "completion_tokens": 7,
            "total_tokens": 18,
            "completion_tokens_details": {"reasoning_tokens": 3 if with_reasoning else 0},
        }
        base = {"id": "chatcmpl-1", "created": 1, "model": model}
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": "".join(ANSWER)}
            if with_reasoning:
                message[reasoning_key] = "".join(REASONING)
            out = {
                **base,
                "object": "chat.completion",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
            }
            if "nousage" not in model:
                out["usage"] = usage
            return web.Response(body=orjson.dumps(out), content_type="application/json")

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
            return _sse({**base, "object": "chat.completion.chunk", "choices": [choice]})

        if model == "slow-stream":
            return await slow_stream(request, chunk({"content": "x"}))
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(chunk({"role": "assistant", "content": ""}))
        if with_reasoning:
            for piece in REASONING:
                await resp.write(chunk({reasoning_key: piece}))
        for piece in ANSWER:
            await resp.write(chunk({"content": piece}))
        await resp.write(chunk({}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage") and "nousage" not in model:
            await resp.write(_sse({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}))
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def completions(request: web.Request) -> web.StreamResponse:
        body = await record(request)
        model = body["model"]
        if (fail := await failure(model, "openai")) is not None:
            return fail
        base = {"id": "cmpl-1", "created": 1, "model": model, "object": "text_completion"}
        if not body.get("stream"):
            out = {
                **base,
                "choices": [
                    {"index": 0, "text": "".join(ANSWER), "finish_reason": "length", "logprobs": None}
                ],
                "usage": {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7},
            }
            return web.Response(body=orjson.dumps(out), content_type="application/json")
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for i, piece in enumerate(ANSWER):
            finish = "length" if i == len(ANSWER) - 1 else None
            choice = {"index": 0, "text": piece, "finish_reason": finish, "logprobs": None}
            await resp.write(_sse({**base, "choices": [choice]}))
        await resp.write(b"data: [DONE]\n\n")
        return resp

    async def models(request: web.Request) -> web.Response:
        await record(request)
        data = [{"id": "m1", "object": "model", "created": 1, "owned_by": "fake"}]
        body = orjson.dumps({"object": "list", "data": data})
        return web.Response(body=body, content_type="application/json")

    async def messages(request: web.Request) -> web.StreamResponse:
        body = await record(request)
        model = body["model"]
        if (fail := await failure(model, "anthropic")) is not None:
            return fail
        thinking = (body.get("thinking") or {}).get("type") == "enabled"
        content: list[dict[str, Any]] = []
        if thinking:
            content.append({"type": "thinking", "thinking": "".join(REASONING), "signature": "sig-1"})
            content.append({"type": "redacted_thinking", "data": "ZW5jcnlwdGVk"})
        content.append({"type": "text", "text": "".join(ANSWER)})
        msg = {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": model,
            "stop_reason": "end_turn",
            "stop_sequence": None,
        }
        if not body.get("stream"):
            out = {**msg, "content": content, "usage": {"input_tokens": 12, "output_tokens": 9}}
            return web.Response(body=orjson.dumps(out), content_type="application/json")

        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)

        async def send(payload: dict[str, Any]) -> None:
            await resp.write(_sse(payload, payload["type"]))

        start = {**msg, "content": [], "stop_reason": None, "usage": {"input_tokens": 12, "output_tokens": 1}}
        await send({"type": "message_start", "message": start})
        await send({"type": "ping"})
        index = 0
        if thinking:
            block = {"type": "thinking", "thinking": ""}
            await send({"type": "content_block_start", "index": index, "content_block": block})
            for piece in REASONING:
                delta = {"type": "thinking_delta", "thinking": piece}
                await send({"type": "content_block_delta", "index": index, "delta": delta})
            sig = {"type": "signature_delta", "signature": "sig-1"}
            await send({"type": "content_block_delta", "index": index, "delta": sig})
            await send({"type": "content_block_stop", "index": index})
            index += 1
            block = {"type": "redacted_thinking", "data": "ZW5jcnlwdGVk"}
            await send({"type": "content_block_start", "index": index, "content_block": block})
            await send({"type": "content_block_stop", "index": index})
            index += 1
        text_block = {"type": "text", "text": ""}
        await send({"type": "content_block_start", "index": index, "content_block": text_block})
        for piece in ANSWER:
            text_delta = {"type": "text_delta", "text": piece}
            await send({"type": "content_block_delta", "index": index, "delta": text_delta})
        await send({"type": "content_block_stop", "index": index})
        delta = {"stop_reason": "end_turn", "stop_sequence": None}
        await send({"type": "message_delta", "delta": delta, "usage": {"output_tokens": 9}})
        await send({"type": "message_stop"})
        return resp

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/v1/completions", completions)
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/messages", messages)
    return app
