"""The remote summarizer: used when it answers in time, extractive fallback otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from distillguard.enforce.policy import DEFAULT_PARAMS
from distillguard.enforce.reasoning import ReasoningTransform, RemoteSummarizer


@pytest.fixture
async def summarizer_url() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(body)
        return web.json_response(
            {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Adds 2+2."}}]}
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/v1/chat/completions", seen
    await runner.cleanup()


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip


async def stream(url: str) -> tuple[list[dict[str, Any]], list[str]]:
    params = dict(DEFAULT_PARAMS["protect_reasoning"]) | {"mode": "summarize", "hold_chars": 0}
    reasons: list[str] = []
    transform = ReasoningTransform("openai", params, RemoteSummarizer(url, timeout_s=1.0), reasons.append)
    out: list[dict[str, Any]] = []
    for c in [
        chunk({"reasoning_content": "First add two and two. Then check. The result is four."}),
        chunk({"content": "4"}),
        chunk({"content": "."}),
        chunk({}, finish="stop"),
    ]:
        out += transform.transform_event(c)
        await asyncio.sleep(0.05)  # the upstream's pace: the loop runs between chunks
    return out, reasons


async def test_remote_summary_replaces_the_reasoning(
    summarizer_url: tuple[str, list[dict[str, Any]]],
) -> None:
    url, seen = summarizer_url
    out, reasons = await stream(url)
    assert out[-1]["choices"][0]["delta"]["reasoning_content"] == "Adds 2+2."
    assert "First add" in seen[0]["messages"][1]["content"]  # it got the reasoning to summarize
    assert reasons == ["reasoning_summarized"]


async def test_summarizer_down_falls_back_to_extractive() -> None:
    out, reasons = await stream("http://127.0.0.1:9/v1/chat/completions")  # nothing listens on 9
    summary = out[-1]["choices"][0]["delta"]["reasoning_content"]
    assert summary == "First add two and two. … The result is four."
    assert reasons == ["reasoning_summarized", "reasoning_summary_fallback"]
