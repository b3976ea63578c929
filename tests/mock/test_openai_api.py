"""The OpenAI wire format, checked by parsing everything through the official SDK."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from distillguard.mock.server import MockServer

MSG = [{"role": "user", "content": "Explain binary search."}]


def test_chat_is_deterministic_and_usage_is_consistent(oai: openai.OpenAI) -> None:
    a = oai.chat.completions.create(model="mock", messages=MSG)
    b = oai.chat.completions.create(model="mock", messages=MSG)
    other = oai.chat.completions.create(
        model="mock", messages=[{"role": "user", "content": "Something else"}]
    )
    assert a.object == "chat.completion"
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.choices[0].message.content != other.choices[0].message.content
    assert a.choices[0].finish_reason == "stop"
    assert a.usage is not None and a.usage.total_tokens == a.usage.prompt_tokens + a.usage.completion_tokens
    assert a.usage.completion_tokens == len(a.choices[0].message.content.split())


def test_max_tokens_truncates_with_length(oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(model="mock", messages=MSG, max_tokens=5)
    assert r.choices[0].finish_reason == "length"
    assert r.usage is not None and r.usage.completion_tokens == 5
    assert len(r.choices[0].message.content.split()) == 5


def test_stream_matches_non_stream_and_reports_usage(oai: openai.OpenAI) -> None:
    whole = oai.chat.completions.create(model="mock", messages=MSG)
    chunks = list(
        oai.chat.completions.create(
            model="mock", messages=MSG, stream=True, stream_options={"include_usage": True}
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    # one token per content chunk, like vLLM
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) == whole.usage.completion_tokens


def test_stream_ends_with_done(mock_server: MockServer, raw: Any) -> None:
    body = {"model": "mock", "messages": MSG, "stream": True}
    r = raw(f"{mock_server.openai_base_url}/chat/completions", body=json.dumps(body).encode())
    assert r.headers["content-type"].startswith("text/event-stream")
    frames = [f for f in r.text.split("\n\n") if f]
    assert frames[-1] == "data: [DONE]"
    assert all(f.startswith("data: ") for f in frames)
    assert "usage" not in json.loads(frames[0][6:])  # no include_usage -> no usage key


@pytest.mark.parametrize(
    "model,field", [("mock-reasoning", "reasoning_content"), ("mock-reasoning-field", "reasoning")]
)
def test_reasoning_fields(oai: openai.OpenAI, model: str, field: str) -> None:
    r = oai.chat.completions.create(model=model, messages=MSG, max_tokens=400)
    message = r.choices[0].message.model_dump()
    reasoning = message[field]
    assert "Step 1:" in reasoning
    assert message["content"] and "<think>" not in message["content"]
    details = r.usage.completion_tokens_details
    assert details is not None and details.reasoning_tokens == len(reasoning.split(" ")) - reasoning.count(
        " Step "
    )
    streamed = list(oai.chat.completions.create(model=model, messages=MSG, max_tokens=400, stream=True))
    deltas = [c.choices[0].delta.model_dump() for c in streamed]
    assert "".join(d.get(field) or "" for d in deltas) == reasoning
    assert "".join(d.get("content") or "" for d in deltas) == message["content"]
    first_content = next(i for i, d in enumerate(deltas) if d.get("content"))
    last_reasoning = max(i for i, d in enumerate(deltas) if d.get(field))
    assert last_reasoning < first_content


def test_think_tags_in_content(oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(model="mock-think", messages=MSG, max_tokens=400)
    content = r.choices[0].message.content or ""
    assert content.startswith("<think>\n") and "\n</think>\n\n" in content
    answer = content.split("</think>\n\n", 1)[1]
    assert answer and "Step" not in answer
    chunks = list(oai.chat.completions.create(model="mock-think", messages=MSG, max_tokens=400, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == content


def test_n_choices_differ_and_stream_interleaves(oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(model="mock", messages=MSG, n=3)
    texts = [c.message.content for c in r.choices]
    assert [c.index for c in r.choices] == [0, 1, 2] and len(set(texts)) == 3
    chunks = list(oai.chat.completions.create(model="mock", messages=MSG, n=3, stream=True))
    by_index: dict[int, str] = {0: "", 1: "", 2: ""}
    for c in chunks:
        by_index[c.choices[0].index] += c.choices[0].delta.content or ""
    assert [by_index[i] for i in range(3)] == texts


def test_logprobs(oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(model="mock", messages=MSG, logprobs=True, top_logprobs=3, max_tokens=10)
    content = r.choices[0].logprobs.content
    assert content is not None and len(content) == 10
    assert "".join(t.token for t in content) == r.choices[0].message.content
    for t in content:
        assert t.logprob <= 0 and len(t.top_logprobs) == 3
        assert t.top_logprobs[0].token == t.token
        assert t.top_logprobs[1].logprob < t.top_logprobs[0].logprob
        assert bytes(t.bytes or []) == t.token.encode()
    streamed = list(
        oai.chat.completions.create(
            model="mock", messages=MSG, logprobs=True, top_logprobs=2, max_tokens=10, stream=True
        )
    )
    lps = [c.choices[0].logprobs.content[0] for c in streamed if c.choices[0].logprobs]
    assert [t.logprob for t in lps] == [t.logprob for t in content]


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["c", "f"]},
                "days": {"type": "integer"},
            },
            "required": ["city"],
        },
    },
}


def test_tool_call_when_prompt_asks(oai: openai.OpenAI) -> None:
    ask = [{"role": "user", "content": "Please call get_weather for Paris"}]
    r = oai.chat.completions.create(model="mock", messages=ask, tools=[WEATHER])
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    args = json.loads(call.function.arguments)
    assert call.function.name == "get_weather" and set(args) == {"city", "unit", "days"}
    assert args["unit"] in ("c", "f") and isinstance(args["days"], int)
    chunks = list(oai.chat.completions.create(model="mock", messages=ask, tools=[WEATHER], stream=True))
    streamed_args = "".join(
        tc.function.arguments or ""
        for c in chunks
        for tc in (c.choices[0].delta.tool_calls or [])
        if tc.function is not None
    )
    assert json.loads(streamed_args) == args
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    # not asked -> plain answer; tool result -> plain answer
    plain = oai.chat.completions.create(model="mock", messages=MSG, tools=[WEATHER])
    assert plain.choices[0].message.tool_calls is None
    follow = [
        *ask,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "18C"},
    ]
    assert (
        oai.chat.completions.create(model="mock", messages=follow, tools=[WEATHER]).choices[0].finish_reason
        == "stop"
    )
    forced = oai.chat.completions.create(model="mock", messages=MSG, tools=[WEATHER], tool_choice="required")
    assert forced.choices[0].message.tool_calls is not None


def test_stop_sequence(oai: openai.OpenAI) -> None:
    full = oai.chat.completions.create(model="mock", messages=MSG).choices[0].message.content or ""
    word = full.split()[3]
    r = oai.chat.completions.create(model="mock", messages=MSG, stop=[word])
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].message.content == full[: full.index(word)]


def test_legacy_completions(oai: openai.OpenAI) -> None:
    r = oai.completions.create(model="mock", prompt=["one", "two"], max_tokens=8, logprobs=2)
    assert r.object == "text_completion" and len(r.choices) == 2
    assert r.choices[0].text != r.choices[1].text
    assert r.choices[0].finish_reason == "length" and r.usage.completion_tokens == 16
    lp = r.choices[0].logprobs
    assert lp is not None and "".join(lp.tokens or []) == r.choices[0].text and len(lp.top_logprobs[0]) == 2
    chunks = list(
        oai.completions.create(
            model="mock", prompt="one", max_tokens=8, stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(c.choices[0].text for c in chunks if c.choices) == r.choices[0].text
    streamed_lp = list(
        oai.completions.create(model="mock", prompt="one", max_tokens=8, logprobs=1, stream=True)
    )
    offsets = [c.choices[0].logprobs.text_offset[0] for c in streamed_lp if c.choices[0].logprobs]
    assert offsets == lp.text_offset
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 8


def test_models_list(oai: openai.OpenAI) -> None:
    ids = [m.id for m in oai.models.list()]
    assert {"mock", "mock-reasoning", "mock-reasoning-field", "mock-think"} <= set(ids)
    assert oai.models.retrieve("mock-think").id == "mock-think"


def test_errors_in_openai_shape(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as e500:
        oai.chat.completions.create(model="mock-error-500", messages=MSG)
    assert e500.value.status_code == 500 and e500.value.body["type"] == "server_error"
    with pytest.raises(openai.RateLimitError):
        oai.chat.completions.create(model="mock", messages=MSG, extra_headers={"x-mock-status": "429"})
    with pytest.raises(openai.BadRequestError) as bad:
        oai.chat.completions.create(model="mock", messages=[])
    assert "messages" in bad.value.message
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(model="mock", messages=MSG, max_tokens=0)
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(model="mock", messages=MSG, top_logprobs=2)


def test_malformed_json_and_unknown_path(mock_server: MockServer, raw: Any) -> None:
    r = raw(f"{mock_server.openai_base_url}/chat/completions", body=b"{nope")
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    r = raw(f"{mock_server.openai_base_url}/chat/completions", body=b"\xff\xfe")
    assert r.status_code == 400
    r = raw(f"{mock_server.openai_base_url}/nothing", "GET")
    assert r.status_code == 404 and "error" in r.json()
    r = raw(f"{mock_server.openai_base_url}/chat/completions", "GET")
    assert r.status_code == 405
