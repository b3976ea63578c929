"""Anthropic wire format: POST /v1/messages (and /v1/messages/count_tokens).

Thinking blocks appear when the request enables extended thinking; they carry a signature
the mock can verify when a client sends them back, like the real API does. A model name
containing "redacted" adds a redacted_thinking block.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from distillguard.mock.behaviour import MockOptions, behaviour_for, injected_status, timing_for
from distillguard.mock.errors import (
    BadRequest,
    anthropic_error,
    anthropic_error_body,
    injected_message,
    read_json,
)
from distillguard.mock.generate import plan_output
from distillguard.mock.pacing import cut_for_injected_error, send_paced, wait_whole_response
from distillguard.mock.state import MockState
from distillguard.mock.textgen import (
    estimate_tokens,
    prompt_seed,
    redacted_data,
    thinking_signature,
)
from distillguard.mock.tools import arguments_for, choose_tool

_ID_PREFIX = os.urandom(4).hex()
_ids = itertools.count(1)


# Anthropic reports a failure after the 200 as a named `error` event.
STREAM_ERROR_FRAME = (
    b"event: error\ndata: "
    + orjson.dumps(anthropic_error_body(529, "Overloaded (mock: injected mid-stream)"))
    + b"\n\n"
)


def _new_id(prefix: str) -> str:
    return f"{prefix}_01{_ID_PREFIX}{next(_ids):014x}"


@dataclass(slots=True)
class MessagesPrompt:
    texts: list[str]
    input_tokens: int
    last_user_text: str | None  # None when the turn answers a tool_result


def _block_text(block: dict[str, Any], where: str) -> tuple[str, int]:
    kind = block.get("type")
    if kind == "text":
        text = block.get("text")
        if not isinstance(text, str):
            raise BadRequest(f"{where}.text: Field required and must be a string")
        return text, 0
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            return "\n".join(b.get("text", "") for b in content if isinstance(b, dict)), 0
        return str(content), 0
    if kind == "tool_use":
        return f"{block.get('name', '')}({orjson.dumps(block.get('input', {})).decode()})", 0
    if kind == "thinking":
        thinking, signature = block.get("thinking"), block.get("signature")
        if not isinstance(thinking, str) or signature != thinking_signature(thinking):
            raise BadRequest(f"{where}: Invalid `signature` in `thinking` block")
        return thinking, 0
    if kind == "redacted_thinking":
        return "", 0
    if kind in ("image", "document"):
        return "", 1000
    raise BadRequest(
        f"{where}.type: Input tag '{kind}' found using 'type' does not match any of the expected tags"
    )


def parse_messages(body: dict[str, Any]) -> MessagesPrompt:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages: Field required and must be a non-empty list")
    texts: list[str] = []
    tokens = 0
    system = body.get("system")
    if isinstance(system, str):
        texts.append(system)
        tokens += estimate_tokens(system)
    elif isinstance(system, list):
        for i, block in enumerate(system):
            if not isinstance(block, dict):
                raise BadRequest(f"system.{i}: Input should be an object")
            text, _ = _block_text(block, f"system.{i}")
            texts.append(text)
            tokens += estimate_tokens(text)
    elif system is not None:
        raise BadRequest("system: Input should be a valid string or list of text blocks")
    last_user: str | None = None
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant"):
            raise BadRequest(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        content = msg.get("content")
        if isinstance(content, str):
            text, extra, has_tool_result = content, 0, False
        elif isinstance(content, list):
            parts, extra, has_tool_result = [], 0, False
            for j, block in enumerate(content):
                if not isinstance(block, dict):
                    raise BadRequest(f"messages.{i}.content.{j}: Input should be an object")
                part, more = _block_text(block, f"messages.{i}.content.{j}")
                parts.append(part)
                extra += more
                has_tool_result = has_tool_result or block.get("type") == "tool_result"
            text = "\n".join(parts)
        else:
            raise BadRequest(f"messages.{i}.content: Input should be a valid string or list of blocks")
        texts.append(msg["role"])
        texts.append(text)
        tokens += 3 + estimate_tokens(text) + extra
        last_user = text if msg["role"] == "user" and not has_tool_result else None
    tools = body.get("tools")
    if tools:
        tokens += estimate_tokens(orjson.dumps(tools).decode())
    return MessagesPrompt(texts, max(tokens, 1), last_user)


def _thinking_budget(body: dict[str, Any], max_tokens: int) -> int | None:
    thinking = body.get("thinking")
    if thinking is None:
        return None
    if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled"):
        raise BadRequest(
            "thinking: Input should be {'type': 'enabled', 'budget_tokens': N} or {'type': 'disabled'}"
        )
    if thinking["type"] == "disabled":
        return None
    budget = thinking.get("budget_tokens")
    if isinstance(budget, bool) or not isinstance(budget, int):
        raise BadRequest("thinking.enabled.budget_tokens: Field required and must be an integer")
    if budget < 1024:
        raise BadRequest("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
    if budget >= max_tokens:
        raise BadRequest("`max_tokens` must be greater than `thinking.budget_tokens`.")
    return budget


def _tools(body: dict[str, Any]) -> dict[str, Any]:
    tools = body.get("tools")
    if tools is None:
        return {}
    if not isinstance(tools, list):
        raise BadRequest("tools: Input should be a valid list")
    out: dict[str, Any] = {}
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise BadRequest(f"tools.{i}.name: Field required")
        out[tool["name"]] = tool.get("input_schema") or {}
    return out


def _tool_mode(body: dict[str, Any]) -> tuple[str, str | None]:
    choice = body.get("tool_choice")
    if choice is None:
        return "auto", None
    if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
        raise BadRequest("tool_choice: Input should be {'type': 'auto' | 'any' | 'tool' | 'none'}")
    kind = choice["type"]
    if kind == "tool":
        return "forced", choice.get("name")
    return {"auto": "auto", "any": "required", "none": "none"}[kind], None


def _frame(event: str, data: dict[str, Any], produced: int) -> tuple[bytes, int]:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n", produced


class AnthropicHandlers:
    def __init__(self, options: MockOptions, state: MockState) -> None:
        self.options = options
        self.state = state
        self.stats = state.stats

    async def count_tokens(self, request: web.Request) -> web.Response:
        try:
            body = await read_json(request)
            prompt = parse_messages(body)
        except BadRequest as exc:
            return anthropic_error(exc.status, exc.message)
        return web.Response(
            body=orjson.dumps({"input_tokens": prompt.input_tokens}), content_type="application/json"
        )

    async def messages(self, request: web.Request) -> web.StreamResponse:
        self.stats["requests"] += 1
        try:
            return await self._messages(request)
        except BadRequest as exc:
            return anthropic_error(exc.status, exc.message)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        self.state.record(request.path, request.headers, body)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise BadRequest("model: Field required")
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise BadRequest("max_tokens: Field required and must be a positive integer")
        prompt = parse_messages(body)
        budget = _thinking_budget(body, max_tokens)
        stop = body.get("stop_sequences") or []
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise BadRequest("stop_sequences: Input should be a list of strings")
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise BadRequest("stream: Input should be a valid boolean")
        tools = _tools(body)
        mode, forced = _tool_mode(body)
        behaviour = behaviour_for(model)
        timing = timing_for(request.headers, self.options)
        if timing.delay_s:
            await asyncio.sleep(timing.delay_s)
        status = injected_status(request.headers, behaviour)
        if status is not None:
            return anthropic_error(status, injected_message(status))

        seed = prompt_seed(prompt.texts, self.options.seed)
        planned = plan_output(
            seed, request.headers, max_tokens, budget is not None, reasoning_cap=budget, stop=stop
        )
        thinking = "".join(planned.reasoning)
        tool_name = choose_tool(list(tools), prompt.last_user_text, mode, forced)
        blocks: list[dict[str, Any]] = []
        if budget is not None:
            blocks.append(
                {"type": "thinking", "thinking": thinking, "signature": thinking_signature(thinking)}
            )
            if behaviour.redacted_thinking:
                blocks.append({"type": "redacted_thinking", "data": redacted_data(seed)})
        output_tokens = len(planned.reasoning)
        answer = planned.answer
        if tool_name is not None:
            answer = [f"I'll use the {tool_name} tool."]
            tool_input = arguments_for(tools[tool_name], seed)
            output_tokens += 6 + estimate_tokens(orjson.dumps(tool_input).decode())
            stop_reason = "tool_use"
        else:
            output_tokens += len(answer)
            stop_reason = (
                "stop_sequence"
                if planned.stop_sequence
                else "max_tokens"
                if planned.truncated
                else "end_turn"
            )
        if answer or tool_name is None:
            blocks.append({"type": "text", "text": "".join(answer)})
        if tool_name is not None:
            blocks.append(
                {"type": "tool_use", "id": _new_id("toolu"), "name": tool_name, "input": tool_input}
            )
        message_id = _new_id("msg")
        usage = {
            "input_tokens": prompt.input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        if stream:
            frames = _stream_frames(
                message_id,
                model,
                blocks,
                planned.reasoning,
                answer,
                usage,
                stop_reason,
                planned.stop_sequence,
            )
            frames = cut_for_injected_error(request.headers, frames, STREAM_ERROR_FRAME)
            return await send_paced(request, timing, frames, self.stats)
        await wait_whole_response(timing, output_tokens)
        payload = {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": blocks,
            "stop_reason": stop_reason,
            "stop_sequence": planned.stop_sequence,
            "usage": usage,
        }
        return web.Response(body=orjson.dumps(payload), content_type="application/json")


def _stream_frames(
    message_id: str,
    model: str,
    blocks: list[dict[str, Any]],
    thinking_tokens: list[str],
    answer_tokens: list[str],
    usage: dict[str, Any],
    stop_reason: str,
    stop_sequence: str | None,
) -> list[tuple[bytes, int]]:
    start_usage = dict(usage, output_tokens=1)
    frames = [
        _frame(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
            0,
        )
    ]
    produced = 0
    pinged = False
    for index, block in enumerate(blocks):
        kind = block["type"]
        if kind == "thinking":
            start: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
        elif kind == "text":
            start = {"type": "text", "text": ""}
        elif kind == "tool_use":
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        else:  # redacted_thinking arrives whole
            start = block
        frames.append(
            _frame(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
                produced,
            )
        )
        if not pinged:
            frames.append(_frame("ping", {"type": "ping"}, produced))
            pinged = True
        if kind == "thinking":
            for tok in thinking_tokens:
                produced += 1
                frames.append(_delta(index, {"type": "thinking_delta", "thinking": tok}, produced))
            frames.append(
                _delta(index, {"type": "signature_delta", "signature": block["signature"]}, produced)
            )
        elif kind == "text":
            for tok in answer_tokens:
                produced += 1
                frames.append(_delta(index, {"type": "text_delta", "text": tok}, produced))
        elif kind == "tool_use":
            args = orjson.dumps(block["input"]).decode()
            for start_at in range(0, len(args), 16):
                produced += 1
                frames.append(
                    _delta(
                        index,
                        {"type": "input_json_delta", "partial_json": args[start_at : start_at + 16]},
                        produced,
                    )
                )
        frames.append(_frame("content_block_stop", {"type": "content_block_stop", "index": index}, produced))
    frames.append(
        _frame(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
            produced,
        )
    )
    frames.append(_frame("message_stop", {"type": "message_stop"}, produced))
    return frames


def _delta(index: int, delta: dict[str, Any], produced: int) -> tuple[bytes, int]:
    return _frame(
        "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}, produced
    )
