"""The mock upstream as an aiohttp app, plus starters for async code, sync code and the CLI.

aiohttp's server on uvloop was chosen for throughput: the gateway benchmark pushes more
than a thousand requests a second through the gateway, so the mock behind it must not be
the bottleneck.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from distillguard.mock.anthropic_api import AnthropicHandlers
from distillguard.mock.behaviour import MODEL_NAMES, MockOptions
from distillguard.mock.errors import anthropic_error, openai_error
from distillguard.mock.openai_api import OpenAIHandlers
from distillguard.mock.state import MockState

KNOWN_PATHS = ("/v1/chat/completions", "/v1/completions", "/v1/models", "/v1/messages", "/healthz")
MAX_BODY_BYTES = 64 * 1024 * 1024
STATE_KEY = web.AppKey("mock_state", MockState)


def _is_anthropic(request: web.Request) -> bool:
    return "anthropic-version" in request.headers or request.path.startswith("/v1/messages")


def _models_payload(anthropic: bool) -> bytes:
    if anthropic:
        data: list[dict[str, Any]] = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
            for m in MODEL_NAMES
        ]
        return orjson.dumps(
            {"data": data, "has_more": False, "first_id": MODEL_NAMES[0], "last_id": MODEL_NAMES[-1]}
        )
    data = [
        {"id": m, "object": "model", "created": 1735689600, "owned_by": "distillguard-mock"}
        for m in MODEL_NAMES
    ]
    return orjson.dumps({"object": "list", "data": data})


_OPENAI_MODELS = _models_payload(False)
_ANTHROPIC_MODELS = _models_payload(True)
_HEALTH = orjson.dumps({"status": "ok"})


async def _models(request: web.Request) -> web.Response:
    body = _ANTHROPIC_MODELS if "anthropic-version" in request.headers else _OPENAI_MODELS
    return web.Response(body=body, content_type="application/json")


async def _model(request: web.Request) -> web.Response:
    model = request.match_info["model"]
    if "anthropic-version" in request.headers:
        info: dict[str, Any] = {
            "type": "model",
            "id": model,
            "display_name": model,
            "created_at": "2025-01-01T00:00:00Z",
        }
    else:
        info = {"id": model, "object": "model", "created": 1735689600, "owned_by": "distillguard-mock"}
    return web.Response(body=orjson.dumps(info), content_type="application/json")


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(body=_HEALTH, content_type="application/json")


async def _stats(request: web.Request) -> web.Response:
    return web.Response(body=orjson.dumps(request.app[STATE_KEY].stats), content_type="application/json")


async def _received(request: web.Request) -> web.Response:
    return web.Response(
        body=orjson.dumps(list(request.app[STATE_KEY].received)), content_type="application/json"
    )


async def _fallback(request: web.Request) -> web.Response:
    if request.path in KNOWN_PATHS:
        status, message = 405, f"Method {request.method} is not allowed on {request.path}."
    else:
        status, message = 404, f"Unknown endpoint {request.method} {request.path}."
    return anthropic_error(status, message) if _is_anthropic(request) else openai_error(status, message)


def make_app(options: MockOptions | None = None) -> web.Application:
    options = options or MockOptions()
    state = MockState()
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STATE_KEY] = state
    openai = OpenAIHandlers(options, state)
    anthropic = AnthropicHandlers(options, state)
    app.router.add_post("/v1/chat/completions", openai.chat_completions)
    app.router.add_post("/v1/completions", openai.completions)
    app.router.add_get("/v1/models", _models)
    app.router.add_get("/v1/models/{model}", _model)  # every name is served, so every name exists
    app.router.add_post("/v1/messages", anthropic.messages)
    app.router.add_post("/v1/messages/count_tokens", anthropic.count_tokens)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/mock/stats", _stats)
    app.router.add_get("/mock/requests", _received)
    app.router.add_route("*", "/{tail:.*}", _fallback)
    return app


@dataclass
class MockServer:
    """A running mock. `base_url` is what SDKs take (OpenAI adds /v1 itself only if told)."""

    runner: web.AppRunner
    host: str
    port: int
    state: MockState = field(default_factory=MockState)

    @property
    def stats(self) -> dict[str, int]:
        """Counters: requests, streams_started, streams_completed, streams_cancelled."""
        return self.state.stats

    @property
    def received(self) -> list[dict[str, Any]]:
        """The last 64 generation requests as received: {"path", "headers", "body"}."""
        return list(self.state.received)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_mock(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    latency_ms: float = 0.0,
    tokens_per_second: float = 0.0,
    seed: str = "",
) -> MockServer:
    """Start serving on the running loop; port 0 picks a free port (see `.port`)."""
    app = make_app(MockOptions(latency_ms=latency_ms, tokens_per_second=tokens_per_second, seed=seed))
    # A short shutdown_timeout: a test or demo exiting mid-stream should not wait a minute.
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=4096, reuse_address=True)
    await site.start()
    bound_port = runner.addresses[0][1]
    return MockServer(runner=runner, host=host, port=bound_port, state=app[STATE_KEY])


@contextmanager
def run_mock_in_thread(host: str = "127.0.0.1", port: int = 0, **options: Any) -> Iterator[MockServer]:
    """Run the mock on its own event loop in a daemon thread, for sync code (demos, tests)."""
    loop = asyncio.new_event_loop()
    ready: dict[str, Any] = {}
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            ready["server"] = loop.run_until_complete(start_mock(host, port, **options))
        except BaseException as exc:  # surfaced to the caller below
            ready["error"] = exc
            started.set()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(ready["server"].close())
        loop.close()

    thread = threading.Thread(target=serve, name="distillguard-mock", daemon=True)
    thread.start()
    started.wait()
    if "error" in ready:
        raise ready["error"]
    try:
        yield ready["server"]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


def serve_forever(host: str, port: int, options: MockOptions, on_ready: Any = None) -> None:
    """Blocking entry point for `distillguard mock-upstream` (uses uvloop when installed)."""

    async def main() -> None:
        server = await start_mock(
            host,
            port,
            latency_ms=options.latency_ms,
            tokens_per_second=options.tokens_per_second,
            seed=options.seed,
        )
        if on_ready is not None:
            on_ready(server)
        try:
            await asyncio.Event().wait()
        finally:
            await server.close()

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux/macOS
        runner: Any = asyncio.run
    else:
        runner = uvloop.run
    with suppress(KeyboardInterrupt):
        runner(main())
