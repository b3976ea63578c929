"""Bad input never crashes the mock: every malformed request gets a 4xx in the API's shape."""

from __future__ import annotations

import json
import random
from typing import Any

from distillguard.mock.server import MockServer

WEIRD: list[Any] = [
    None,
    0,
    -1,
    1.5,
    True,
    "",
    "x",
    [],
    [1],
    {},
    {"type": "nope"},
    [None],
    [{"type": 3}],
    "\ud800",
]

CHAT = {
    "model": "mock",
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "tool", "content": "ok", "tool_call_id": "c"},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "f",
                "parameters": {
                    "type": "object",
                    "properties": {"a": {"type": "array", "items": {"type": "integer"}}},
                },
            },
        }
    ],
    "tool_choice": "auto",
    "n": 1,
    "max_tokens": 5,
    "logprobs": True,
    "top_logprobs": 1,
    "stop": ["x"],
    "stream": False,
}
MESSAGES = {
    "model": "mock",
    "max_tokens": 2000,
    "system": [{"type": "text", "text": "be brief"}],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "ok"}]}
            ],
        },
    ],
    "tools": [
        {"name": "f", "input_schema": {"type": "object", "properties": {"a": {"type": ["string", "null"]}}}}
    ],
    "tool_choice": {"type": "auto"},
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "stop_sequences": ["x"],
    "stream": False,
}


def _mutations(body: dict[str, Any], rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Replace one field (top level, or inside the first message / block) with a weird value."""
    out = []
    for _ in range(count):
        mutated = json.loads(json.dumps(body))
        target = mutated
        if rng.random() < 0.5:
            msg = mutated["messages"][rng.randrange(len(mutated["messages"]))]
            target = msg
            if isinstance(msg.get("content"), list) and rng.random() < 0.5:
                target = msg["content"][0]
        key = rng.choice([*target.keys(), "extra"])
        target[key] = rng.choice(WEIRD)
        if rng.random() < 0.1:
            target.pop(key)
        out.append(mutated)
    return out


def _check(raw: Any, url: str, body: dict[str, Any], anthropic: bool) -> None:
    for stream in (False, True):
        try:
            payload = json.dumps({**body, "stream": stream}).encode("utf-8", "surrogatepass")
        except UnicodeEncodeError:
            continue
        r = raw(url, body=payload)
        assert r.status_code < 500, (body, r.text)
        if r.status_code >= 400:
            error = r.json()
            if anthropic:
                assert error["type"] == "error" and error["error"]["message"]
            else:
                assert error["error"]["message"] and error["error"]["type"] == "invalid_request_error"


def test_valid_bodies_pass(mock_server: MockServer, raw: Any) -> None:
    assert (
        raw(f"{mock_server.openai_base_url}/chat/completions", body=json.dumps(CHAT).encode()).status_code
        == 200
    )
    assert raw(f"{mock_server.url}/v1/messages", body=json.dumps(MESSAGES).encode()).status_code == 200


def test_mutated_chat_requests(mock_server: MockServer, raw: Any) -> None:
    for body in _mutations(CHAT, random.Random(1), 150):
        _check(raw, f"{mock_server.openai_base_url}/chat/completions", body, anthropic=False)


def test_mutated_messages_requests(mock_server: MockServer, raw: Any) -> None:
    for body in _mutations(MESSAGES, random.Random(2), 150):
        _check(raw, f"{mock_server.url}/v1/messages", body, anthropic=True)


def test_mutated_completions_requests(mock_server: MockServer, raw: Any) -> None:
    base = {
        "model": "mock",
        "prompt": "hi",
        "max_tokens": 5,
        "logprobs": 1,
        "n": 2,
        "stop": "x",
        "messages": [{}],
    }
    for body in _mutations(base, random.Random(3), 80):
        _check(raw, f"{mock_server.openai_base_url}/completions", body, anthropic=False)
