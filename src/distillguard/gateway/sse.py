"""Incremental Server-Sent Events framing: bytes in arbitrary chunks -> complete frames.

The gateway passes upstream bytes through untouched and feeds a copy to this parser only
to observe the stream (usage, text, finish reason), or, when a plugin transforms the
response, to re-emit rewritten frames.
"""

from __future__ import annotations

from typing import Any

import orjson

from distillguard.events.schema import Flavor

Frame = tuple[str | None, bytes]  # (event name or None, data payload)


class SSEParser:
    """Feed chunks, get complete frames. Handles \\n and \\r\\n line endings, multi-line
    data, comments, and frames split anywhere across chunks."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[Frame]:
        buf = self._buf + chunk if self._buf else chunk
        if b"\r" in buf:
            # A lone trailing \r may be half of \r\n: keep it for the next chunk.
            tail = b""
            if buf.endswith(b"\r"):
                buf, tail = buf[:-1], b"\r"
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + tail
        frames: list[Frame] = []
        start = 0
        while True:
            end = buf.find(b"\n\n", start)
            if end < 0:
                break
            frame = _parse_frame(buf[start:end])
            if frame is not None:
                frames.append(frame)
            start = end + 2
        self._buf = buf[start:] if start else buf
        return frames

    def flush(self) -> list[Frame]:
        """A final frame the upstream did not terminate with a blank line."""
        rest, self._buf = self._buf.strip(b"\r\n"), b""
        frame = _parse_frame(rest) if rest else None
        return [frame] if frame is not None else []


def data_payloads(buf: bytes) -> list[bytes] | None:
    """The `data:` payloads of a whole stream, when every frame is the common single
    `data: ...` line (no \\r, comments, event names or multi-line data); else None, and the
    caller uses `SSEParser`. Three C-level passes instead of a parse per frame: JSON cannot
    hold a raw newline, so "\\n\\ndata: " only ever separates frames, and any other
    newline shows in the count."""
    if not buf:
        return []
    if b"\r" in buf or not buf.startswith(b"data: "):
        return None
    body = buf[:-2] if buf.endswith(b"\n\n") else buf
    payloads = body[6:].split(b"\n\ndata: ")
    if body.count(b"\n") != 2 * (len(payloads) - 1):
        return None
    return payloads


def _parse_frame(raw: bytes) -> Frame | None:
    if raw.startswith(b"data:") and b"\n" not in raw:  # the common single-line frame
        data = raw[5:]
        return None, data[1:] if data.startswith(b" ") else data
    event: str | None = None
    data_lines: list[bytes] = []
    for line in raw.split(b"\n"):
        if line.startswith(b"data:"):
            value = line[5:]
            data_lines.append(value[1:] if value.startswith(b" ") else value)
        elif line.startswith(b"event:"):
            event = line[6:].strip().decode("utf-8", "replace")
        # ":" comments, "id:" and "retry:" carry nothing the gateway needs.
    if not data_lines and event is None:
        return None
    return event, b"\n".join(data_lines)


def encode_event(flavor: Flavor, payload: dict[str, Any]) -> bytes:
    """One SSE frame for a (possibly rewritten) payload. Anthropic frames are named by the
    payload's "type"; OpenAI frames are bare `data:` lines."""
    data = orjson.dumps(payload)
    if flavor == "anthropic":
        name = payload.get("type", "message")
        return b"event: " + str(name).encode() + b"\ndata: " + data + b"\n\n"
    return b"data: " + data + b"\n\n"


OPENAI_DONE = b"data: [DONE]\n\n"
