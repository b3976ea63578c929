"""OpenAI wire format: /v1/chat/completions, /v1/completions, /v1/models.

Reasoning is emitted the way vLLM does it, selected by the model name: a
`reasoning_content` field, a `reasoning` field, or `<think>...</think>` inside the content.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from distillguard.mock.behaviour import (
    MockOptions,
    ModelBehaviour,
    behaviour_for,
    injected_status,
    timing_for,
)
from distillguard.mock.errors import BadRequest, injected_message, openai_error, openai_error_body, read_json
from distillguard.mock.generate import Planned, plan_output
from distillguard.mock.pacing import cut_for_injected_error, send_paced, wait_whole_response
from distillguard.mock.state import MockState
from distillguard.mock.textgen import estimate_tokens, prompt_seed, token_logprob, top_alternatives
from distillguard.mock.tools import arguments_for, choose_tool

_ID_PREFIX = os.urandom(4).hex()
_ids = itertools.count(1)
_SLOT = "\ue000slot\ue000"
_SLOT_BYTES = orjson.dumps(_SLOT)
SYSTEM_FINGERPRINT = "fp_distillguard_mock"
THINK_OPEN = "<think>\n"
THINK_CLOSE = "\n</think>\n\n"
PLAIN = ModelBehaviour(reasoning="none", redacted_thinking=False, error_status=None)
# vLLM and OpenAI report a failure after the 200 as a data frame holding an error object.
STREAM_ERROR_FRAME = (
    b"data: " + orjson.dumps(openai_error_body(500, "mock upstream: injected mid-stream failure")) + b"\n\n"
)


def _new_id(prefix: str) -> str:
    return f"{prefix}-{_ID_PREFIX}{next(_ids):016x}"


# ---------------------------------------------------------------- request parsing


def _int_field(body: dict[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"'{name}' must be an integer.", name)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BadRequest(f"'{name}' must be {bound}, got {value}.", name)
    return value


def _model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("'model' is required and must be a non-empty string.", "model")
    return model


def _stop_list(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        return stop
    raise BadRequest("'stop' must be a string or a list of strings.", "stop")


def _content_text(content: Any, where: str) -> tuple[str, int]:
    """Text of a message content and extra tokens for non-text parts (images)."""
    if content is None or isinstance(content, str):
        return content or "", 0
    if isinstance(content, list):
        texts, extra = [], 0
        for part in content:
            if not isinstance(part, dict):
                raise BadRequest(f"{where}: content parts must be objects.")
            if part.get("type") == "text":
                text = part.get("text")
                if not isinstance(text, str):
                    raise BadRequest(f"{where}: a text part needs a string 'text'.")
                texts.append(text)
            else:
                extra += 85
        return "\n".join(texts), extra
    raise BadRequest(f"{where}: 'content' must be a string, a list of parts, or null.")


@dataclass(slots=True)
class ChatPrompt:
    texts: list[str]
    prompt_tokens: int
    last_user_text: str | None  # None when the conversation ends with a tool result


def parse_messages(body: dict[str, Any]) -> ChatPrompt:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty list.", "messages")
    texts: list[str] = []
    tokens = 3
    last_user: str | None = None
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or not isinstance(msg.get("role"), str):
            raise BadRequest(f"messages[{i}] must be an object with a string 'role'.", f"messages[{i}]")
        role = msg["role"]
        text, extra = _content_text(msg.get("content"), f"messages[{i}]")
        calls = msg.get("tool_calls")
        if isinstance(calls, list):
            for call in calls:
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict):
                    text += f"{fn.get('name', '')}({fn.get('arguments', '')})"
        texts.append(role)
        texts.append(text)
        tokens += 4 + estimate_tokens(text) + extra
        last_user = text if role == "user" else None
    tools = body.get("tools")
    if tools:
        tokens += estimate_tokens(orjson.dumps(tools).decode())
    return ChatPrompt(texts, tokens, last_user)


def _tool_names_and_schemas(body: dict[str, Any]) -> dict[str, Any]:
    tools = body.get("tools")
    if tools is None:
        return {}
    if not isinstance(tools, list):
        raise BadRequest("'tools' must be a list.", "tools")
    out: dict[str, Any] = {}
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise BadRequest(
                f"tools[{i}] must be {{'type': 'function', 'function': {{'name': ...}}}}.", "tools"
            )
        out[fn["name"]] = fn.get("parameters") or {}
    return out


def _tool_mode(body: dict[str, Any]) -> tuple[str, str | None]:
    choice = body.get("tool_choice", "auto")
    if choice in ("auto", "none", "required"):
        return choice, None
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return "forced", choice["function"].get("name")
    raise BadRequest("'tool_choice' must be 'auto', 'none', 'required' or a function choice.", "tool_choice")


# ---------------------------------------------------------------- shared pieces


@dataclass(slots=True)
class Choice:
    index: int
    planned: Planned
    content: list[str]  # tokens that go into `content` (includes <think> markup if any)
    reasoning: list[str]  # tokens that go into the reasoning field (empty for think tags)
    tool_call: dict[str, Any] | None  # {"id", "name", "arguments"}
    finish_reason: str
    completion_tokens: int
    reasoning_tokens: int


def _build_choice(
    index: int,
    seed: int,
    headers: Mapping[str, str],
    max_tokens: int | None,
    behaviour: ModelBehaviour,
    stop: list[str],
    tool: tuple[str, Any] | None,
) -> Choice:
    style = behaviour.reasoning
    overhead = 2 if style == "think_tags" else 0
    planned = plan_output(seed, headers, max_tokens, style != "none", overhead=overhead, stop=stop)
    reasoning: list[str] = []
    if style == "think_tags":
        content = [THINK_OPEN, *planned.reasoning, THINK_CLOSE, *planned.answer]
    else:
        content = planned.answer
        reasoning = planned.reasoning
    n_tokens = len(planned.reasoning) + len(planned.answer) + overhead
    tool_call = None
    if tool is not None:
        name, schema = tool
        args = orjson.dumps(arguments_for(schema, seed)).decode()
        tool_call = {"id": f"call_{seed & 0xFFFFFFFFFFFF:012x}{index}", "name": name, "arguments": args}
        content = [THINK_OPEN, *planned.reasoning, THINK_CLOSE] if style == "think_tags" else []
        n_tokens = len(planned.reasoning) + overhead * (style == "think_tags") + estimate_tokens(args) + 5
        finish = "tool_calls"
    elif planned.truncated:
        finish = "length"
    else:
        finish = "stop"
    return Choice(
        index,
        planned,
        content,
        reasoning,
        tool_call,
        finish,
        n_tokens,
        len(planned.reasoning) if style != "none" else 0,
    )


def _usage(prompt_tokens: int, choices: list[Choice], behaviour: ModelBehaviour) -> dict[str, Any]:
    completion = sum(c.completion_tokens for c in choices)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
    }
    if behaviour.reasoning != "none":
        usage["completion_tokens_details"] = {"reasoning_tokens": sum(c.reasoning_tokens for c in choices)}
    return usage


def _chat_logprob_entry(seed: int, pos: int, token: str, top: int) -> dict[str, Any]:
    lp = token_logprob(seed, pos)
    alts = top_alternatives(seed, pos, token, lp, top) if top else []
    return {
        "token": token,
        "logprob": lp,
        "bytes": list(token.encode()),
        "top_logprobs": [{"token": t, "logprob": p, "bytes": list(t.encode())} for t, p in alts],
    }


def _error_from(exc: BadRequest) -> web.Response:
    return openai_error(exc.status, exc.message, exc.param)


def _check_injected(request: web.Request, behaviour: ModelBehaviour) -> web.Response | None:
    status = injected_status(request.headers, behaviour)
    return openai_error(status, injected_message(status)) if status is not None else None


# ---------------------------------------------------------------- chat completions


class OpenAIHandlers:
    def __init__(self, options: MockOptions, state: MockState) -> None:
        self.options = options
        self.state = state
        self.stats = state.stats

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        self.stats["requests"] += 1
        try:
            return await self._chat(request)
        except BadRequest as exc:
            return _error_from(exc)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        self.state.record(request.path, request.headers, body)
        model = _model(body)
        prompt = parse_messages(body)
        max_tokens = _int_field(body, "max_completion_tokens", 1)
        if max_tokens is None:
            max_tokens = _int_field(body, "max_tokens", 1)
        n = _int_field(body, "n", 1, 128) or 1
        top = _int_field(body, "top_logprobs", 0, 20)
        want_logprobs = bool(body.get("logprobs"))
        if top is not None and not want_logprobs:
            raise BadRequest("'top_logprobs' requires 'logprobs' to be true.", "top_logprobs")
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise BadRequest("'stream' must be a boolean.", "stream")
        stop = _stop_list(body)
        tools = _tool_names_and_schemas(body)
        mode, forced = _tool_mode(body)
        behaviour = behaviour_for(model)
        timing = timing_for(request.headers, self.options)
        if timing.delay_s:
            await asyncio.sleep(timing.delay_s)
        injected = _check_injected(request, behaviour)
        if injected is not None:
            return injected

        tool_name = choose_tool(list(tools), prompt.last_user_text, mode, forced)
        tool = (tool_name, tools[tool_name]) if tool_name is not None else None
        base_seed = prompt_seed(prompt.texts, self.options.seed)
        seeds = [_choice_seed(base_seed, i) for i in range(n)]
        choices = [
            _build_choice(i, seed, request.headers, max_tokens, behaviour, stop, tool)
            for i, seed in enumerate(seeds)
        ]
        usage = _usage(prompt.prompt_tokens, choices, behaviour)
        logprobs_top = (top or 0) if want_logprobs else None
        response_id = _new_id("chatcmpl")
        created = int(time.time())
        if stream:
            opts = body.get("stream_options")
            include_usage = isinstance(opts, dict) and bool(opts.get("include_usage"))
            frames = _chat_stream_frames(
                response_id, created, model, choices, seeds, behaviour, usage, include_usage, logprobs_top
            )
            frames = cut_for_injected_error(request.headers, frames, STREAM_ERROR_FRAME)
            return await send_paced(request, timing, frames, self.stats)

        await wait_whole_response(timing, max(c.completion_tokens for c in choices))
        out_choices = []
        for c, seed in zip(choices, seeds, strict=True):
            message: dict[str, Any] = {
                "role": "assistant",
                "content": "".join(c.content) if c.content else None,
            }
            if behaviour.reasoning == "reasoning_content":
                message["reasoning_content"] = "".join(c.reasoning)
            elif behaviour.reasoning == "reasoning":
                message["reasoning"] = "".join(c.reasoning)
            if c.tool_call is not None:
                message["tool_calls"] = [_tool_call_obj(c.tool_call)]
            lp = None
            if logprobs_top is not None:
                lp = {
                    "content": [
                        _chat_logprob_entry(seed, p, t, logprobs_top) for p, t in enumerate(c.content)
                    ],
                    "refusal": None,
                }
            out_choices.append(
                {"index": c.index, "message": message, "logprobs": lp, "finish_reason": c.finish_reason}
            )
        payload = {
            "id": response_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": out_choices,
            "usage": usage,
        }
        return web.Response(body=orjson.dumps(payload), content_type="application/json")

    # ------------------------------------------------------------ legacy completions

    async def completions(self, request: web.Request) -> web.StreamResponse:
        self.stats["requests"] += 1
        try:
            return await self._completions(request)
        except BadRequest as exc:
            return _error_from(exc)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        self.state.record(request.path, request.headers, body)
        model = _model(body)
        prompts = _prompts(body.get("prompt"))
        max_tokens = _int_field(body, "max_tokens", 1)
        if max_tokens is None:
            max_tokens = 16  # the OpenAI default for /v1/completions
        n = _int_field(body, "n", 1, 128) or 1
        logprobs = _int_field(body, "logprobs", 0, 5)
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise BadRequest("'stream' must be a boolean.", "stream")
        stop = _stop_list(body)
        behaviour = behaviour_for(model)
        timing = timing_for(request.headers, self.options)
        if timing.delay_s:
            await asyncio.sleep(timing.delay_s)
        injected = _check_injected(request, behaviour)
        if injected is not None:
            return injected
        # Legacy completions carry no reasoning field: only <think> markup shows up.
        text_behaviour = behaviour if behaviour.reasoning == "think_tags" else PLAIN
        choices: list[Choice] = []
        seeds: list[int] = []
        prompt_tokens = 0
        for p_index, prompt in enumerate(prompts):
            prompt_tokens += estimate_tokens(prompt)
            base = prompt_seed(("completion", prompt), self.options.seed)
            for i in range(n):
                seed = _choice_seed(base, i)
                seeds.append(seed)
                choices.append(
                    _build_choice(
                        p_index * n + i, seed, request.headers, max_tokens, text_behaviour, stop, None
                    )
                )
        usage = _usage(prompt_tokens, choices, PLAIN)
        response_id = _new_id("cmpl")
        created = int(time.time())
        if stream:
            opts = body.get("stream_options")
            include_usage = isinstance(opts, dict) and bool(opts.get("include_usage"))
            frames = _completion_stream_frames(
                response_id, created, model, choices, seeds, usage, include_usage, logprobs
            )
            frames = cut_for_injected_error(request.headers, frames, STREAM_ERROR_FRAME)
            return await send_paced(request, timing, frames, self.stats)
        await wait_whole_response(timing, max(c.completion_tokens for c in choices))
        out = [
            {
                "index": c.index,
                "text": "".join(c.content),
                "logprobs": _completion_logprobs(seed, c.content, logprobs, 0)
                if logprobs is not None
                else None,
                "finish_reason": c.finish_reason,
            }
            for c, seed in zip(choices, seeds, strict=True)
        ]
        payload = {
            "id": response_id,
            "object": "text_completion",
            "created": created,
            "model": model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": out,
            "usage": usage,
        }
        return web.Response(body=orjson.dumps(payload), content_type="application/json")


def _choice_seed(base: int, index: int) -> int:
    """Distinct, stable seeds for the n choices of one prompt."""
    return (base + index * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF


def _prompts(prompt: Any) -> list[str]:
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and prompt:
        if all(isinstance(p, str) for p in prompt):
            return prompt
        if all(isinstance(p, int) for p in prompt):
            return [" ".join(map(str, prompt))]
        if all(isinstance(p, list) and all(isinstance(t, int) for t in p) for p in prompt):
            return [" ".join(map(str, p)) for p in prompt]
    raise BadRequest("'prompt' must be a string, a list of strings, or token arrays.", "prompt")


def _tool_call_obj(call: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": call["id"],
        "type": "function",
        "function": {"name": call["name"], "arguments": call["arguments"]},
    }


def _completion_logprobs(
    seed: int, tokens: list[str], k: int, offset: int, char_start: int = 0
) -> dict[str, Any]:
    lps = [token_logprob(seed, offset + p) for p in range(len(tokens))]
    text_offset, pos = [], char_start
    for t in tokens:
        text_offset.append(pos)
        pos += len(t)
    return {
        "tokens": tokens,
        "token_logprobs": lps,
        "top_logprobs": [
            dict(top_alternatives(seed, offset + p, t, lp, k)) if k else {}
            for p, (t, lp) in enumerate(zip(tokens, lps, strict=True))
        ],
        "text_offset": text_offset,
    }


# ---------------------------------------------------------------- streaming


def _template(obj: dict[str, Any]) -> tuple[bytes, bytes]:
    """Split a serialized chunk around the choice slot, so each token costs one small dumps."""
    pre, post = orjson.dumps(obj).split(_SLOT_BYTES)
    return b"data: " + pre, post + b"\n\n"


def _chat_stream_frames(
    response_id: str,
    created: int,
    model: str,
    choices: list[Choice],
    seeds: list[int],
    behaviour: ModelBehaviour,
    usage: dict[str, Any],
    include_usage: bool,
    logprobs_top: int | None,
) -> list[tuple[bytes, int]]:
    base: dict[str, Any] = {
        "id": response_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": [_SLOT],
    }
    if include_usage:
        base["usage"] = None
    pre, post = _template(base)
    dumps = orjson.dumps
    field = "reasoning_content" if behaviour.reasoning == "reasoning_content" else "reasoning"
    per_choice: list[list[tuple[bytes, int]]] = []
    for c, seed in zip(choices, seeds, strict=True):
        frames: list[tuple[bytes, int]] = []
        idx = c.index

        def emit(
            delta: dict[str, Any],
            produced: int,
            logprobs: Any = None,
            finish: Any = None,
            _frames: list[tuple[bytes, int]] = frames,
            _idx: int = idx,
        ) -> None:
            choice = {"index": _idx, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
            _frames.append((pre + dumps(choice) + post, produced))

        emit({"role": "assistant", "content": ""}, 0)
        produced = 0
        for tok in c.reasoning:
            produced += 1
            emit({field: tok}, produced)
        for pos, tok in enumerate(c.content):
            produced += 1
            lp = None
            if logprobs_top is not None:
                lp = {"content": [_chat_logprob_entry(seed, pos, tok, logprobs_top)], "refusal": None}
            emit({"content": tok}, produced, lp)
        if c.tool_call is not None:
            call = c.tool_call
            emit(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": call["name"], "arguments": ""},
                        }
                    ]
                },
                produced + 1,
            )
            args = call["arguments"]
            for start in range(0, len(args), 16):
                produced += 1
                emit(
                    {"tool_calls": [{"index": 0, "function": {"arguments": args[start : start + 16]}}]},
                    produced,
                )
        emit({}, produced, None, c.finish_reason)
        per_choice.append(frames)
    frames_all = _interleave(per_choice)
    if include_usage:
        tail = dict(base, choices=[], usage=usage)
        frames_all.append((b"data: " + dumps(tail) + b"\n\n", frames_all[-1][1]))
    frames_all.append((b"data: [DONE]\n\n", frames_all[-1][1]))
    return frames_all


def _interleave(per_choice: list[list[tuple[bytes, int]]]) -> list[tuple[bytes, int]]:
    """n > 1: choices advance together, token k of every choice before token k+1."""
    if len(per_choice) == 1:
        return per_choice[0]
    out: list[tuple[bytes, int]] = []
    for group in itertools.zip_longest(*per_choice):
        out.extend(f for f in group if f is not None)
    return out


def _completion_stream_frames(
    response_id: str,
    created: int,
    model: str,
    choices: list[Choice],
    seeds: list[int],
    usage: dict[str, Any],
    include_usage: bool,
    logprobs: int | None,
) -> list[tuple[bytes, int]]:
    base: dict[str, Any] = {
        "id": response_id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": [_SLOT],
    }
    if include_usage:
        base["usage"] = None
    pre, post = _template(base)
    dumps = orjson.dumps
    per_choice = []
    for c, seed in zip(choices, seeds, strict=True):
        frames = []
        chars = 0
        for pos, tok in enumerate(c.content):
            lp = _completion_logprobs(seed, [tok], logprobs, pos, chars) if logprobs is not None else None
            chars += len(tok)
            choice = {"index": c.index, "text": tok, "logprobs": lp, "finish_reason": None}
            frames.append((pre + dumps(choice) + post, pos + 1))
        choice = {"index": c.index, "text": "", "logprobs": None, "finish_reason": c.finish_reason}
        frames.append((pre + dumps(choice) + post, len(c.content)))
        per_choice.append(frames)
    frames_all = _interleave(per_choice)
    if include_usage:
        tail = dict(base, choices=[], usage=usage)
        frames_all.append((b"data: " + dumps(tail) + b"\n\n", frames_all[-1][1]))
    frames_all.append((b"data: [DONE]\n\n", frames_all[-1][1]))
    return frames_all
