"""Sending a response at a model's pace: latency to the first token, then N tokens/s.

Frames due at the same moment are written together, so a fast (or unpaced) stream costs a
handful of writes instead of one per token, while a slow stream still trickles out token by
token exactly like a real model server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence

from aiohttp import web

from distillguard.mock.behaviour import RequestTiming

SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}


class _HeadersWithFirstChunk(web.StreamResponse):
    """An unpaced stream sends status, headers and all frames in one socket write; aiohttp
    otherwise writes the headers alone first, which costs a second syscall per request."""

    _send_headers_immediately = False


async def wait_whole_response(timing: RequestTiming, tokens: int) -> None:
    """Non-streaming: the answer exists only once the last token is generated."""
    total = timing.latency_s
    if timing.tokens_per_second > 0 and tokens > 1:
        total += (tokens - 1) / timing.tokens_per_second
    if total > 0:
        await asyncio.sleep(total)


async def send_paced(
    request: web.Request,
    timing: RequestTiming,
    frames: Sequence[tuple[bytes, int]],
    stats: dict[str, int],
    headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    """Stream SSE frames. Each frame carries the count of tokens generated once it is sent;
    token k is due at latency + (k-1)/tps after the headers go out."""
    unpaced = timing.latency_s <= 0 and timing.tokens_per_second <= 0
    response_class = _HeadersWithFirstChunk if unpaced else web.StreamResponse
    response = response_class(status=200, headers=headers or SSE_HEADERS)
    stats["streams_started"] += 1
    try:
        await response.prepare(request)
        tps = timing.tokens_per_second
        if unpaced:
            await response.write(b"".join(f for f, _ in frames))
        else:
            start = time.monotonic() + timing.latency_s
            batch: list[bytes] = []
            for frame, tokens in frames:
                due = start + ((max(tokens, 1) - 1) / tps if tps > 0 else 0.0)
                wait = due - time.monotonic()
                if wait > 0.0005:
                    if batch:
                        await response.write(b"".join(batch))
                        batch.clear()
                    await asyncio.sleep(wait)
                batch.append(frame)
            if batch:
                await response.write(b"".join(batch))
        await response.write_eof()
    except (asyncio.CancelledError, ConnectionError):
        stats["streams_cancelled"] += 1
        raise
    stats["streams_completed"] += 1
    return response


def cut_for_injected_error(
    headers: Mapping[str, str], frames: list[tuple[bytes, int]], error_frame: bytes
) -> list[tuple[bytes, int]]:
    """`x-mock-stream-error-after: N`: stop after N tokens with an in-stream error event,
    the way an overloaded upstream fails after the 200 status has already gone out."""
    raw = headers.get("x-mock-stream-error-after")
    if raw is None or not raw.isdigit():
        return frames
    after = int(raw)
    if after >= frames[-1][1]:
        return frames
    kept: list[tuple[bytes, int]] = []
    for frame in frames:
        if frame[1] > after:
            break
        kept.append(frame)
    kept.append((error_frame, after))
    return kept
