"""SDKs build response objects without validating them; here every payload and every stream
event is validated against the SDK's pydantic types, so a wrong type cannot slip through."""

from __future__ import annotations

import json
from typing import Any

import pytest
from anthropic.types import Message, RawMessageStreamEvent
from openai.types import Completion
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import TypeAdapter

from distillguard.mock.server import MockServer

MSG = [{"role": "user", "content": "Please call get_weather, then explain rainbows."}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def _post(raw: Any, url: str, body: dict[str, Any]) -> Any:
    r = raw(url, body=json.dumps(body).encode())
    assert r.status_code == 200, r.text
    return r


def _sse_data(text: str) -> list[Any]:
    out = []
    for frame in text.split("\n\n"):
        for line in frame.split("\n"):
            if line.startswith("data: ") and line != "data: [DONE]":
                out.append(json.loads(line[6:]))
    return out


@pytest.mark.parametrize("model", ["mock", "mock-reasoning", "mock-reasoning-field", "mock-think"])
@pytest.mark.parametrize("extra", [{}, {"tools": TOOLS}, {"logprobs": True, "top_logprobs": 2, "n": 2}])
def test_chat_shapes(mock_server: MockServer, raw: Any, model: str, extra: dict[str, Any]) -> None:
    url = f"{mock_server.openai_base_url}/chat/completions"
    body = {"model": model, "messages": MSG, **extra}
    ChatCompletion.model_validate(_post(raw, url, body).json())
    chunks = _sse_data(
        _post(raw, url, {**body, "stream": True, "stream_options": {"include_usage": True}}).text
    )
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk)


def test_completion_shapes(mock_server: MockServer, raw: Any) -> None:
    url = f"{mock_server.openai_base_url}/completions"
    body = {"model": "mock-think", "prompt": ["a", "b"], "logprobs": 2, "max_tokens": 30}
    Completion.model_validate(_post(raw, url, body).json())
    for chunk in _sse_data(
        _post(raw, url, {**body, "stream": True, "stream_options": {"include_usage": True}}).text
    ):
        # The real API streams `"finish_reason": null` until the last chunk, although the SDK's
        # Completion type (shared with whole responses) does not allow null; check the rest.
        for choice in chunk["choices"]:
            if choice["finish_reason"] is None:
                choice["finish_reason"] = "stop"
        Completion.model_validate(chunk)


@pytest.mark.parametrize("model", ["mock", "mock-redacted"])
@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"thinking": {"type": "enabled", "budget_tokens": 1024}},
        {
            "tools": [
                {
                    "name": "get_weather",
                    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
                }
            ]
        },
    ],
)
def test_messages_shapes(mock_server: MockServer, raw: Any, model: str, extra: dict[str, Any]) -> None:
    url = f"{mock_server.url}/v1/messages"
    body = {"model": model, "max_tokens": 2048, "messages": MSG, **extra}
    Message.model_validate(_post(raw, url, body).json())
    adapter: TypeAdapter[Any] = TypeAdapter(RawMessageStreamEvent)
    events = [e for e in _sse_data(_post(raw, url, {**body, "stream": True}).text) if e["type"] != "ping"]
    for event in events:
        adapter.validate_python(event)
