"""The minimal upstream client (gateway/http1.py): framing, keep-alive, failures; and the
gateway running on it end to end (it is the default; DG_TEST_UPSTREAM_CLIENT=aiohttp runs
the whole suite on the alternative)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import openai
import pytest
from yarl import URL

from distillguard.gateway.app import GATEWAY_KEY
from distillguard.gateway.http1 import Http1Client, UpstreamConnectError, UpstreamProtocolError

from .conftest import TEST_KEY, start_gateway
from .test_app import free_port

Responder = Callable[[bytes], bytes | None]  # request bytes -> raw response (None: hang up)


class RawServer:
    """Answers each request with whatever `respond` returns; counts connections."""

    def __init__(self, respond: Responder, close_after_response: bool = False) -> None:
        self.respond = respond
        self.close_after = close_after_response
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.base_events.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                answer = self.respond(request)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionResetError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> URL:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return URL(f"http://127.0.0.1:{port}/v1/chat/completions")


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[..., Any]]:
    servers: list[RawServer] = []

    async def make(respond: Responder, **kwargs: Any) -> RawServer:
        srv = RawServer(respond, **kwargs)
        srv.server = await asyncio.start_server(srv.handle, "127.0.0.1", 0)
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        assert srv.server is not None
        srv.server.close()


def chunked(*pieces: bytes, trailer: bytes = b"") -> bytes:
    body = b"".join(f"{len(p):x};ext=1\r\n".encode() + p + b"\r\n" for p in pieces)
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        + body
        + b"0\r\n"
        + trailer
        + b"\r\n"
    )


def fixed(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body


async def fetch(client: Http1Client, url: URL, stream: bool = False) -> tuple[int, bytes]:
    async with client.request("POST", url, b"{}", {"Content-Type": "application/json"}) as resp:
        if stream:
            return resp.status, b"".join([c async for c in resp.content.iter_any()])
        return resp.status, await resp.read()


def client() -> Http1Client:
    return Http1Client(connect_timeout=1.0, read_timeout=1.0)


async def test_framings_and_keep_alive(raw_server: Any) -> None:
    answers = iter(
        [
            fixed(b'{"ok": 1}'),
            chunked(b"data: a\n\n", b"data: b\n\n", b"data: [DONE]\n\n"),
            chunked(b"x", trailer=b"X-Trailer: 1\r\n"),
            b"HTTP/1.1 204 No Content\r\n\r\n",
        ]
    )
    srv = await raw_server(lambda _req: next(answers))
    c = client()
    assert await fetch(c, srv.url) == (200, b'{"ok": 1}')
    assert await fetch(c, srv.url, stream=True) == (200, b"data: a\n\ndata: b\n\ndata: [DONE]\n\n")
    assert await fetch(c, srv.url) == (200, b"x")
    assert await fetch(c, srv.url) == (204, b"")
    assert srv.connections == 1  # one keep-alive connection for all four
    assert srv.requests[0].startswith(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:")
    await c.close()


async def test_chunks_split_anywhere(raw_server: Any) -> None:
    payload = chunked(b"data: one\n\n", b"data: two\n\n", b"data: [DONE]\n\n")

    class Dribble(RawServer):
        async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(2)
            for i in range(len(payload)):  # one byte per write
                writer.write(payload[i : i + 1])
                await writer.drain()
            writer.close()

    srv = Dribble(lambda _r: None)
    srv.server = await asyncio.start_server(srv.handle, "127.0.0.1", 0)
    try:
        status, body = await fetch(client(), srv.url, stream=True)
    finally:
        srv.server.close()
    assert (status, body) == (200, b"data: one\n\ndata: two\n\ndata: [DONE]\n\n")


async def test_close_delimited_and_connection_close(raw_server: Any) -> None:
    srv = await raw_server(
        lambda _r: b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", close_after_response=True
    )
    c = client()
    assert await fetch(c, srv.url) == (200, b"until the end")
    assert await fetch(c, srv.url) == (200, b"until the end")
    assert srv.connections == 2  # not reused after Connection: close
    await c.close()


async def test_stale_pooled_connection_is_retried_once(raw_server: Any) -> None:
    # The server answers, then closes the idle connection (as keep-alive timeouts do).
    srv = await raw_server(lambda _r: fixed(b"fresh"), close_after_response=True)
    c = client()
    assert await fetch(c, srv.url) == (200, b"fresh")
    assert await fetch(c, srv.url) == (200, b"fresh")  # the race: EOF may not have arrived yet
    await asyncio.sleep(0.05)
    assert await fetch(c, srv.url) == (200, b"fresh")  # EOF seen while idle
    assert srv.connections == 3
    await c.close()


async def test_failures(raw_server: Any) -> None:
    c = client()
    with pytest.raises(UpstreamConnectError):
        await fetch(c, URL(f"http://127.0.0.1:{free_port()}/x"))
    garbage = await raw_server(lambda _r: b"SMTP ready\r\n\r\n")
    with pytest.raises(UpstreamProtocolError):
        await fetch(c, garbage.url)
    hangup = await raw_server(lambda _r: None)
    with pytest.raises(UpstreamProtocolError):
        await fetch(c, hangup.url)
    short = await raw_server(
        lambda _r: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", close_after_response=True
    )
    with pytest.raises(UpstreamProtocolError):
        await fetch(c, short.url)
    silent = await raw_server(lambda _r: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    with pytest.raises(TimeoutError):
        await fetch(c, silent.url)
    await c.close()


async def test_gateway_on_http1_end_to_end(upstream: Any) -> None:
    server, state = upstream
    gw = await start_gateway(str(server.make_url("")).rstrip("/"), state, upstream_client="http1")
    try:
        assert gw.server.app[GATEWAY_KEY].upstreams.client_kind == "http1"
        async with openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key=TEST_KEY, max_retries=0) as oa:
            stream = await oa.chat.completions.create(
                model="reason-m",
                messages=[{"role": "user", "content": "hi"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            resp = await oa.chat.completions.create(model="m1", messages=[{"role": "user", "content": "hi"}])
        assert text == "Hello there friend." and resp.choices[0].message.content == "Hello there friend."
        # A hung-up client closes the upstream connection (the upstream sees the cancel).
        body = {"model": "slow-stream", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        async with aiohttp.ClientSession() as s:
            r = await s.post(gw.url + "/v1/chat/completions", json=body, headers={"x-api-key": TEST_KEY})
            await r.content.readline()
            r.close()
        await asyncio.wait_for(state.slow_stream_cancelled.wait(), timeout=3)
        events = await gw.wait_events(3)
        assert [e.status for e in events] == [200, 200, 499]
        assert events[0].completion_tokens == 7 and events[0].usage_estimated is False
    finally:
        await gw.server.close()


@pytest.fixture
def self_signed(tmp_path: Any) -> tuple[str, str]:
    """A throwaway certificate for localhost / 127.0.0.1 (Debian's openssl CLI)."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key,
            "-out",
            cert,
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_https_upstream(self_signed: tuple[str, str]) -> None:
    import ssl

    from aiohttp import web

    cert, key = self_signed
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=b"over tls: " + await request.read())

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=server_ctx).start()
    try:
        url = URL(f"https://localhost:{port}/v1/chat/completions")
        trusting = Http1Client(
            connect_timeout=2, read_timeout=2, ssl_context=ssl.create_default_context(cafile=cert)
        )
        assert await fetch(trusting, url) == (200, b"over tls: {}")
        assert await fetch(trusting, url) == (200, b"over tls: {}")  # reused TLS connection
        await trusting.close()
        default = Http1Client(connect_timeout=2, read_timeout=2)  # system trust: must refuse
        with pytest.raises(UpstreamConnectError):
            await fetch(default, url)
    finally:
        await runner.cleanup()


async def test_in_flight_requests_are_capped(raw_server: Any) -> None:
    release = asyncio.Event()
    in_flight = 0
    peak = 0

    class Slow(RawServer):
        async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal in_flight, peak
            self.connections += 1
            await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(2)
            in_flight += 1
            peak = max(peak, in_flight)
            await release.wait()
            in_flight -= 1
            writer.write(fixed(b"ok"))
            await writer.drain()
            writer.close()

    srv = Slow(lambda _r: None)
    srv.server = await asyncio.start_server(srv.handle, "127.0.0.1", 0)
    c = Http1Client(connect_timeout=1, read_timeout=5, max_idle_per_host=3)
    tasks = [asyncio.create_task(fetch(c, srv.url)) for _ in range(8)]
    await asyncio.sleep(0.3)
    assert peak == 3  # the other five wait for a slot
    release.set()
    assert [await t for t in tasks] == [(200, b"ok")] * 8
    srv.server.close()
    await c.close()
