"""Turns what the gateway saw of one exchange into a finished `RequestEvent`.

The flavor modules (openai_api, anthropic_api) fill the request side and feed a
`ResponseSummary` while the response passes; `finish_event` then estimates missing usage,
adds edge fingerprints while the text is still there, applies retention and hands the
event to the sink (O(1): the sink batches off the hot path).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from distillguard.events.schema import RequestEvent, Retention
from distillguard.events.store import EventSink

log = logging.getLogger(__name__)

ROLE_LETTERS = {
    "system": "s",
    "developer": "d",
    "user": "u",
    "assistant": "a",
    "tool": "t",
    "function": "f",
}


def _load_enrich() -> Callable[[RequestEvent], RequestEvent] | None:
    try:
        from distillguard import fingerprint
    except ImportError:  # pragma: no cover - the package is part of distillguard
        return None
    return getattr(fingerprint, "enrich", None)


_enrich = _load_enrich()


def set_enricher(
    fn: Callable[[RequestEvent], RequestEvent] | None,
) -> Callable[[RequestEvent], RequestEvent] | None:
    """Override the fingerprint hook (tests, or a deployment that fingerprints elsewhere);
    returns the previous one so it can be put back."""
    global _enrich
    previous, _enrich = _enrich, fn
    return previous


def warm_up() -> None:
    """Run the fingerprint hook once at startup: its first call builds lookup tables, which
    would otherwise stall the first request."""
    if _enrich is not None:
        try:
            _enrich(RequestEvent(request_id="warm-up", ts_start=0.0, prompt_text="Hello, explain this."))
        except Exception:
            log.exception("fingerprint.enrich failed on the warm-up event")


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def content_text(content: Any) -> str:
    """Text of an OpenAI/Anthropic message content: a string or a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    parts.append(text)
                elif part.get("type") == "tool_result":
                    parts.append(content_text(part.get("content")))
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return ""


class ResponseSummary:
    """What the response said, accumulated frame by frame or from one body."""

    __slots__ = (
        "completion_tokens",
        "error_message",
        "error_type",
        "finish_reason",
        "has_usage",
        "pending_body",
        "pending_bytes",
        "pending_stream",
        "prompt_tokens",
        "reasoning_chars",
        "reasoning_tokens",
        "stream_parser",
        "text_parts",
    )

    def __init__(self) -> None:
        self.text_parts: list[str] = []
        self.reasoning_chars = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.reasoning_tokens = 0
        self.has_usage = False
        self.finish_reason: str | None = None
        self.error_type: str | None = None
        self.error_message: str | None = None
        self.pending_body: bytes | None = None  # a JSON body not parsed yet (see app._record)
        self.pending_stream: list[bytes] = []  # SSE bytes passed through, not parsed yet
        self.pending_bytes = 0
        self.stream_parser: Any = None  # an SSEParser once a long stream was parsed in part


def finish_event(
    event: RequestEvent,
    summary: ResponseSummary | None,
    retention: Retention,
    ts_end: float,
    *,
    fingerprint: bool = True,
) -> RequestEvent:
    """`fingerprint=False`: leave fingerprints and retention to the sink (the event pipeline
    process does both, off the gateway's CPU); the event keeps its text until then."""
    event.ts_end = ts_end
    response_text = "".join(summary.text_parts) if summary is not None else ""
    if summary is not None and response_text.startswith("<think>"):
        # Reasoning inline in the content (DeepSeek-R1 style, vLLM without a reasoning
        # parser): count it as reasoning, keep only the answer as response text.
        thought, sep, answer = response_text.partition("</think>")
        if sep:
            summary.reasoning_chars += len(thought) - len("<think>")
            response_text = answer.lstrip("\n")
    # 499: the client hung up; what it had received until then still counts.
    delivered = event.status < 400 or event.status == 499
    if summary is not None:
        if summary.finish_reason is not None:
            event.finish_reason = summary.finish_reason
        if summary.error_type is not None and event.error_type is None:
            event.error_type = summary.error_type
        if summary.has_usage:
            event.prompt_tokens = summary.prompt_tokens
            event.completion_tokens = summary.completion_tokens
            event.reasoning_tokens = summary.reasoning_tokens or (summary.reasoning_chars + 3) // 4
        elif delivered:
            # No usage from upstream: ~4 characters per token, flagged as an estimate.
            event.prompt_tokens = (event.context_chars + 3) // 4
            event.reasoning_tokens = (summary.reasoning_chars + 3) // 4
            event.completion_tokens = (len(response_text) + 3) // 4 + event.reasoning_tokens
            event.usage_estimated = True
    if delivered:
        event.response_text = response_text
    return fingerprint_and_retain(event, retention) if fingerprint else event


def fingerprint_and_retain(event: RequestEvent, retention: Retention) -> RequestEvent:
    """Fingerprints while the text is there, then what `retention` keeps."""
    if retention != "none" and _enrich is not None:
        try:
            event = _enrich(event)
        except Exception:  # a fingerprint bug must never lose the event
            log.exception("fingerprint.enrich failed for %s", event.request_id)
    if retention != "full":
        event.prompt_text = None
        event.system_text = None
        event.response_text = None
    if retention == "none":
        event.skeleton_hash = None
        event.minhash = None
    return event


def submit(sink: EventSink, event: RequestEvent) -> None:
    try:
        sink.submit(event)
    except Exception:  # the client already has its answer; log, never fail the request
        log.exception("event sink rejected %s", event.request_id)
