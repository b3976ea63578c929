"""Serving behaviour: pacing, injected delays, cancellation, the starters and the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import openai
import typer
from typer.testing import CliRunner

from distillguard.mock.commands import register
from distillguard.mock.server import MockServer, run_mock_in_thread, start_mock

MSG = [{"role": "user", "content": "pace me"}]
SRC = Path(__file__).resolve().parents[2] / "src"


def test_latency_and_tokens_per_second_pace_the_stream(oai: openai.OpenAI) -> None:
    headers = {"x-mock-latency-ms": "150", "x-mock-tokens-per-second": "100", "x-mock-output-tokens": "21"}
    start = time.perf_counter()
    stream = oai.chat.completions.create(model="mock", messages=MSG, stream=True, extra_headers=headers)
    arrivals = [time.perf_counter() - start for c in stream if c.choices and c.choices[0].delta.content]
    assert len(arrivals) == 21
    # Lower bounds are exact (the mock never sends early); upper bounds only catch a mock that
    # ignores pacing altogether, with room for a loaded machine.
    assert 0.15 <= arrivals[0] < 2.0  # first token after the latency
    assert arrivals[10] >= 0.25 and arrivals[-1] >= 0.35  # then 100 tokens/s
    assert arrivals[-1] < 3.0


def test_non_stream_waits_for_the_whole_answer(oai: openai.OpenAI) -> None:
    headers = {"x-mock-latency-ms": "50", "x-mock-tokens-per-second": "200", "x-mock-output-tokens": "41"}
    start = time.perf_counter()
    oai.chat.completions.create(model="mock", messages=MSG, extra_headers=headers)
    assert 0.25 <= time.perf_counter() - start < 3.0  # 50 ms + 40 tokens / 200 per s


def test_delay_header_holds_back_the_headers(mock_server: MockServer, raw: Any) -> None:
    start = time.perf_counter()
    r = raw(
        f"{mock_server.openai_base_url}/chat/completions",
        body=json.dumps({"model": "mock", "messages": MSG}).encode(),
        headers={"x-mock-delay-ms": "200"},
    )
    assert r.status_code == 200 and time.perf_counter() - start >= 0.2


def test_server_options_apply_and_seed_changes_answers() -> None:
    with run_mock_in_thread(latency_ms=120, seed="other") as slow:
        client = openai.OpenAI(base_url=slow.openai_base_url, api_key="x", max_retries=0)
        start = time.perf_counter()
        salted = client.chat.completions.create(model="mock", messages=MSG).choices[0].message.content
        assert time.perf_counter() - start >= 0.12
    with run_mock_in_thread() as plain:
        client = openai.OpenAI(base_url=plain.openai_base_url, api_key="x", max_retries=0)
        assert client.chat.completions.create(model="mock", messages=MSG).choices[0].message.content != salted


async def test_start_mock_and_client_disconnect_is_counted() -> None:
    server = await start_mock(port=0, tokens_per_second=50)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{server.url}/healthz") as r:
                assert await r.json() == {"status": "ok"}
            body = {"model": "mock", "messages": MSG, "stream": True}
            async with session.post(f"{server.openai_base_url}/chat/completions", json=body) as r:
                await r.content.readuntil(b"\n\n")  # first frame, then hang up mid-stream
            for _ in range(100):
                if server.stats["streams_cancelled"]:
                    break
                await asyncio.sleep(0.02)
            async with session.get(f"{server.url}/mock/stats") as r:
                stats = await r.json()
        assert stats["streams_cancelled"] == 1 and stats["streams_completed"] == 0
        assert stats["requests"] == 1
    finally:
        await server.close()


def test_thread_runner_releases_its_port() -> None:
    with run_mock_in_thread() as server:
        port = server.port
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))  # would fail if the mock were still listening


def test_cli_registers_mock_upstream() -> None:
    app = typer.Typer()
    register(app)

    @app.command()
    def other() -> None:  # typer needs two commands to keep subcommand names
        pass

    result = CliRunner().invoke(app, ["mock-upstream", "--help"])
    assert result.exit_code == 0
    for flag in ("--host", "--port", "--latency-ms", "--tokens-per-second"):
        assert flag in result.output


def test_mid_stream_error_openai(oai: openai.OpenAI) -> None:
    seen = []
    stream = oai.chat.completions.create(
        model="mock", messages=MSG, stream=True, extra_headers={"x-mock-stream-error-after": "3"}
    )
    try:
        for chunk in stream:
            seen.append(chunk.choices[0].delta.content or "")
    except openai.APIError as exc:
        assert "mid-stream" in exc.message
    else:
        raise AssertionError("the stream should have failed")
    assert len([s for s in seen if s]) == 3


def test_mid_stream_error_anthropic(claude: anthropic.Anthropic, mock_server: MockServer, raw: Any) -> None:
    body = {"model": "mock", "max_tokens": 100, "messages": MSG, "stream": True}
    r = raw(
        f"{mock_server.url}/v1/messages",
        body=json.dumps(body).encode(),
        headers={"x-mock-stream-error-after": "2"},
    )
    frames = [f for f in r.text.split("\n\n") if f]
    assert frames[-1].startswith("event: error\n") and "overloaded_error" in frames[-1]
    assert sum(f.startswith("event: content_block_delta") for f in frames) == 2
    try:
        with claude.messages.stream(
            model="mock", max_tokens=100, messages=MSG, extra_headers={"x-mock-stream-error-after": "2"}
        ) as stream:
            for _ in stream:
                pass
    except anthropic.APIStatusError as exc:
        assert "Overloaded" in exc.message
    else:
        raise AssertionError("the stream should have failed")


def test_cli_serves_until_interrupted(raw: Any) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen(
        [sys.executable, "-m", "distillguard", "mock-upstream", "--port", "0", "--latency-ms", "1"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split("listening on ")[1].split()[0]
        assert raw(f"{url}/healthz", "GET").json() == {"status": "ok"}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_thread_runner_exits_quickly_with_a_stream_in_flight() -> None:
    with run_mock_in_thread(tokens_per_second=5) as server:
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="x", max_retries=0)
        stream = client.chat.completions.create(model="mock", messages=MSG, stream=True)
        next(iter(stream))
        start = time.perf_counter()
    assert time.perf_counter() - start < 5.0


def test_received_requests_are_kept_for_inspection(
    mock_server: MockServer, oai: openai.OpenAI, raw: Any
) -> None:
    oai.chat.completions.create(model="mock", messages=MSG, max_tokens=7, extra_headers={"x-probe": "yes"})
    last = mock_server.received[-1]
    assert last["path"] == "/v1/chat/completions"
    assert last["body"]["max_tokens"] == 7 and last["headers"]["x-probe"] == "yes"
    over_http = raw(f"{mock_server.url}/mock/requests", "GET").json()
    assert over_http[-1]["body"] == last["body"]
    assert len(mock_server.received) <= 64
