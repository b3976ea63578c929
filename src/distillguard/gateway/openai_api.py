"""OpenAI wire format: request checks, what a request says about its caller, and what the
response says (text, reasoning, usage), from a body or from `chat.completion.chunk` frames.

Reasoning arrives as `reasoning_content` (vLLM, DeepSeek) or `reasoning` (OpenRouter,
newer vLLM) on the message / delta; both are counted as reasoning, not answer text.
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from distillguard.events.schema import RequestEvent
from distillguard.gateway.recorder import ROLE_LETTERS, ResponseSummary, content_text, short_hash
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

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
MODELS = "/v1/models"

_SAMPLING: dict[str, tuple[str, ...]] = {
    "stream": (BOOLEAN,),
    "temperature": (NUMBER,),
    "top_p": (NUMBER,),
    "n": (INTEGER,),
    "max_tokens": (INTEGER,),
    "logit_bias": (OBJECT,),
    "stop": (STRING, ARRAY),
    "stream_options": (OBJECT,),
    "user": (STRING,),
    "seed": (INTEGER,),
}
_CHAT_OPTIONAL = {
    **_SAMPLING,
    "max_completion_tokens": (INTEGER,),
    "logprobs": (BOOLEAN,),
    "top_logprobs": (INTEGER,),
    "tools": (ARRAY,),
    "functions": (ARRAY,),
    "reasoning_effort": (STRING,),
}
_COMPLETIONS_OPTIONAL = {**_SAMPLING, "logprobs": (INTEGER,), "echo": (BOOLEAN,)}


def validate_chat(body: Any) -> dict[str, Any]:
    checked = check_fields(body, {"model": (STRING,), "messages": (ARRAY,)}, _CHAT_OPTIONAL)
    check_messages(checked["messages"])
    return checked


def validate_completions(body: Any) -> dict[str, Any]:
    return check_fields(body, {"model": (STRING,), "prompt": (STRING, ARRAY)}, _COMPLETIONS_OPTIONAL)


def _common_params(body: dict[str, Any], event: RequestEvent) -> None:
    event.model = body.get("model") or ""
    event.stream = body.get("stream") is True
    event.temperature = body.get("temperature")
    event.top_p = body.get("top_p")
    event.n = body.get("n")
    event.max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    event.logit_bias = bool(body.get("logit_bias"))


def describe_chat(body: dict[str, Any], event: RequestEvent) -> None:
    _common_params(body, event)
    event.logprobs = body.get("logprobs") is True
    event.top_logprobs = body.get("top_logprobs")
    event.n_tools = len(body.get("tools") or ()) + len(body.get("functions") or ())
    event.reasoning_effort = body.get("reasoning_effort")
    messages = body["messages"]
    roles = []
    n_user = 0
    context_chars = 0
    system_parts: list[str] = []
    last_user = ""
    has_tool_results = False
    for msg in messages:
        role = msg["role"]
        roles.append(ROLE_LETTERS.get(role, "o"))
        text = content_text(msg.get("content"))
        context_chars += len(text)
        if role == "user":
            n_user += 1
            last_user = text
        elif role in ("system", "developer"):
            system_parts.append(text)
        elif role in ("tool", "function"):
            has_tool_results = True
    event.n_messages = len(messages)
    event.n_user_turns = n_user
    event.roles = "".join(roles)
    event.has_tool_results = has_tool_results
    event.prompt_chars = len(last_user)
    event.context_chars = context_chars
    event.prompt_text = last_user
    if system_parts:
        system = "\n".join(system_parts)
        event.system_text = system
        event.system_hash = short_hash(system)


def describe_completions(body: dict[str, Any], event: RequestEvent) -> None:
    _common_params(body, event)
    logprobs = body.get("logprobs")
    event.logprobs = bool(logprobs)
    event.top_logprobs = logprobs if isinstance(logprobs, int) and logprobs else None
    prompt = body["prompt"]
    text = prompt if isinstance(prompt, str) else "\n".join(p for p in prompt if isinstance(p, str))
    event.n_messages = 1
    event.n_user_turns = 1
    event.roles = "u"
    event.prompt_chars = len(text)
    event.context_chars = len(text)
    event.prompt_text = text


def _usage(summary: ResponseSummary, usage: Any) -> None:
    if not isinstance(usage, dict):
        return
    summary.has_usage = True
    summary.prompt_tokens = int(usage.get("prompt_tokens") or 0)
    summary.completion_tokens = int(usage.get("completion_tokens") or 0)
    details = usage.get("completion_tokens_details")
    if isinstance(details, dict):
        summary.reasoning_tokens = int(details.get("reasoning_tokens") or 0)


def observe_body(summary: ResponseSummary, body: Any) -> None:
    if not isinstance(body, dict):
        return
    for choice in body.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        message = choice.get("message")
        if isinstance(message, dict):
            content = message.get("content")
            if isinstance(content, str):
                summary.text_parts.append(content)
            reasoning = message.get("reasoning_content") or message.get("reasoning")
            if isinstance(reasoning, str):
                summary.reasoning_chars += len(reasoning)
        elif isinstance(choice.get("text"), str):  # /v1/completions
            summary.text_parts.append(choice["text"])
        if choice.get("finish_reason"):
            summary.finish_reason = choice["finish_reason"]
    _usage(summary, body.get("usage"))


def observe_chunk(summary: ResponseSummary, chunk: Any) -> None:
    if not isinstance(chunk, dict):
        return
    error = chunk.get("error")
    if isinstance(error, dict):
        summary.error_type = str(error.get("type") or error.get("code") or "stream_error")
        summary.error_message = str(error.get("message") or "")
        return
    for choice in chunk.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta")
        if isinstance(delta, dict):
            content = delta.get("content")
            if content and isinstance(content, str):
                summary.text_parts.append(content)
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str):
                summary.reasoning_chars += len(reasoning)
        else:
            text = choice.get("text")  # /v1/completions stream
            if isinstance(text, str):
                summary.text_parts.append(text)
        if choice.get("finish_reason"):
            summary.finish_reason = choice["finish_reason"]
    if chunk.get("usage"):
        _usage(summary, chunk["usage"])


# Typed decoding of only the fields the recorder reads: one decode per batch of frames,
# no dict walking. Anything unexpected falls back to the per-frame path above.
class _Delta(msgspec.Struct):
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None


class _Choice(msgspec.Struct):
    delta: _Delta | None = None
    text: str | None = None
    finish_reason: str | None = None


class _Details(msgspec.Struct):
    reasoning_tokens: int | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    completion_tokens_details: _Details | None = None


class _Chunk(msgspec.Struct):
    choices: list[_Choice] | None = None
    usage: _Usage | None = None
    error: Any = None


_chunks_decoder = msgspec.json.Decoder(list[_Chunk])


def observe_frames(summary: ResponseSummary, frames: list[bytes]) -> None:
    """Observe a batch of `data:` payloads (no `[DONE]`) from one network read."""
    try:
        chunks = _chunks_decoder.decode(b"[" + b",".join(frames) + b"]")
    except msgspec.DecodeError:
        for data in frames:
            try:  # noqa: SIM105 - cheaper than contextlib.suppress per frame
                observe_chunk(summary, orjson.loads(data))
            except orjson.JSONDecodeError:
                pass
        return
    text_parts = summary.text_parts
    for chunk in chunks:
        if chunk.error is not None:
            observe_chunk(summary, {"error": chunk.error})
            continue
        for choice in chunk.choices or ():
            delta = choice.delta
            if delta is not None:
                if delta.content:
                    text_parts.append(delta.content)
                reasoning = delta.reasoning_content or delta.reasoning
                if reasoning:
                    summary.reasoning_chars += len(reasoning)
            elif choice.text is not None:
                text_parts.append(choice.text)
            if choice.finish_reason:
                summary.finish_reason = choice.finish_reason
        usage = chunk.usage
        if usage is not None:
            summary.has_usage = True
            summary.prompt_tokens = usage.prompt_tokens or 0
            summary.completion_tokens = usage.completion_tokens or 0
            details = usage.completion_tokens_details
            if details is not None:
                summary.reasoning_tokens = details.reasoning_tokens or 0
