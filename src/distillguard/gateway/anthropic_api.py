"""Anthropic Messages wire format: request checks, request description, and response
observation from a body or from named SSE events (message_start ... message_stop).

`thinking` and `redacted_thinking` blocks count as reasoning, not answer text. A user turn
made only of `tool_result` blocks is recorded as role "t" (as OpenAI's role "tool").
"""

from __future__ import annotations

from typing import Any

import orjson

from distillguard.events.schema import RequestEvent
from distillguard.gateway.errors import GatewayError
from distillguard.gateway.recorder import ResponseSummary, content_text, short_hash
from distillguard.gateway.validation import (
    ARRAY,
    BOOLEAN,
    INTEGER,
    NUMBER,
    OBJECT,
    STRING,
    check_fields,
    check_messages,
)

MESSAGES = "/v1/messages"
COUNT_TOKENS = "/v1/messages/count_tokens"

_OPTIONAL = {
    "system": (STRING, ARRAY),
    "stream": (BOOLEAN,),
    "temperature": (NUMBER,),
    "top_p": (NUMBER,),
    "top_k": (INTEGER,),
    "stop_sequences": (ARRAY,),
    "tools": (ARRAY,),
    "thinking": (OBJECT,),
    "metadata": (OBJECT,),
}


def validate_messages(body: Any) -> dict[str, Any]:
    checked = check_fields(
        body, {"model": (STRING,), "max_tokens": (INTEGER,), "messages": (ARRAY,)}, _OPTIONAL
    )
    return _check_roles(checked)


def validate_messages_shape(body: Any) -> dict[str, Any]:
    """count_tokens: a messages request without max_tokens."""
    return _check_roles(check_fields(body, {"model": (STRING,), "messages": (ARRAY,)}, _OPTIONAL))


def _check_roles(checked: dict[str, Any]) -> dict[str, Any]:
    check_messages(checked["messages"])
    for i, msg in enumerate(checked["messages"]):
        if msg["role"] not in ("user", "assistant"):
            raise GatewayError(
                400,
                f"messages.{i}.role: Input should be 'user' or 'assistant'",
                "invalid_value",
                f"messages.{i}.role",
            )
    return checked


def _is_tool_result_turn(content: Any) -> bool:
    return (
        isinstance(content, list)
        and bool(content)
        and all(isinstance(p, dict) and p.get("type") == "tool_result" for p in content)
    )


def describe_messages(body: dict[str, Any], event: RequestEvent) -> None:
    event.model = body.get("model") or ""
    event.stream = body.get("stream") is True
    event.temperature = body.get("temperature")
    event.top_p = body.get("top_p")
    event.max_tokens = body.get("max_tokens")
    event.n_tools = len(body.get("tools") or ())
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        event.thinking_budget = budget if isinstance(budget, int) else None
    system = content_text(body.get("system"))
    roles = ["s"] if system else []
    n_user = 0
    context_chars = len(system)
    last_user = ""
    has_tool_results = False
    for msg in body["messages"]:
        content = msg.get("content")
        text = content_text(content)
        context_chars += len(text)
        if msg["role"] == "assistant":
            roles.append("a")
        elif _is_tool_result_turn(content):
            roles.append("t")
            has_tool_results = True
        else:
            roles.append("u")
            n_user += 1
            last_user = text
    event.n_messages = len(body["messages"]) + (1 if system else 0)
    event.n_user_turns = n_user
    event.roles = "".join(roles)
    event.has_tool_results = has_tool_results
    event.prompt_chars = len(last_user)
    event.context_chars = context_chars
    event.prompt_text = last_user
    if system:
        event.system_text = system
        event.system_hash = short_hash(system)


def _usage(summary: ResponseSummary, usage: Any, *, replace_input: bool) -> None:
    if not isinstance(usage, dict):
        return
    summary.has_usage = True
    if replace_input and "input_tokens" in usage:
        summary.prompt_tokens = (
            int(usage.get("input_tokens") or 0)
            + int(usage.get("cache_creation_input_tokens") or 0)
            + int(usage.get("cache_read_input_tokens") or 0)
        )
    if "output_tokens" in usage:
        summary.completion_tokens = int(usage.get("output_tokens") or 0)


def observe_body(summary: ResponseSummary, body: Any) -> None:
    if not isinstance(body, dict):
        return
    for block in body.get("content") or ():
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            summary.text_parts.append(block["text"])
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            summary.reasoning_chars += len(block["thinking"])
        elif kind == "redacted_thinking" and isinstance(block.get("data"), str):
            summary.reasoning_chars += len(block["data"])
    if body.get("stop_reason"):
        summary.finish_reason = body["stop_reason"]
    _usage(summary, body.get("usage"), replace_input=True)


def observe_event(summary: ResponseSummary, event: Any) -> None:
    if not isinstance(event, dict):
        return
    kind = event.get("type")
    if kind == "content_block_delta":
        delta = event.get("delta") or {}
        dtype = delta.get("type")
        if dtype == "text_delta" and isinstance(delta.get("text"), str):
            summary.text_parts.append(delta["text"])
        elif dtype == "thinking_delta" and isinstance(delta.get("thinking"), str):
            summary.reasoning_chars += len(delta["thinking"])
    elif kind == "content_block_start":
        block = event.get("content_block") or {}
        if block.get("type") == "redacted_thinking" and isinstance(block.get("data"), str):
            summary.reasoning_chars += len(block["data"])
        elif block.get("type") == "text" and isinstance(block.get("text"), str):
            summary.text_parts.append(block["text"])
    elif kind == "message_start":
        message = event.get("message") or {}
        _usage(summary, message.get("usage"), replace_input=True)
    elif kind == "message_delta":
        delta = event.get("delta") or {}
        if delta.get("stop_reason"):
            summary.finish_reason = delta["stop_reason"]
        _usage(summary, event.get("usage"), replace_input=True)
    elif kind == "error":
        error = event.get("error") or {}
        summary.error_type = str(error.get("type") or "stream_error")
        summary.error_message = str(error.get("message") or "")


def observe_frames(summary: ResponseSummary, frames: list[bytes]) -> None:
    """Observe a batch of event payloads from one network read."""
    for data in frames:
        if data.startswith(b'{"type":"ping"') or data.startswith(b'{"type": "ping"'):
            continue
        try:  # noqa: SIM105 - cheaper than contextlib.suppress per frame
            observe_event(summary, orjson.loads(data))
        except orjson.JSONDecodeError:
            pass
