"""The gateway: an aiohttp app that proxies OpenAI and Anthropic wire formats.

Per request: route -> authenticate -> read + check JSON -> describe (RequestEvent) ->
plugins.on_request -> upstream call -> pass bytes through (or transform parsed SSE
payloads when a plugin asks) -> plugins.on_complete -> fingerprint + retention -> sink.

Build it with `create_app(settings, sink=..., key_resolver=..., plugins=[...])`; serve it
with `run(app, settings)` (uvloop, handler cancellation on client disconnect).
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from yarl import URL

from distillguard.config import ConfigError, Settings
from distillguard.events.schema import Flavor, RequestEvent
from distillguard.events.store import EventSink
from distillguard.gateway import anthropic_api, openai_api, recorder
from distillguard.gateway.auth import KeyResolver, extract_key
from distillguard.gateway.errors import GatewayError, error_response, error_type_name, sse_error_frame
from distillguard.gateway.http1 import UpstreamConnectError, UpstreamProtocolError
from distillguard.gateway.metrics import GatewayMetrics
from distillguard.gateway.pipeline import Plugin, RequestContext, ResponseTransform
from distillguard.gateway.recorder import ResponseSummary
from distillguard.gateway.sse import OPENAI_DONE, SSEParser, data_payloads, encode_event
from distillguard.gateway.upstream import Upstream, UpstreamPool, UpstreamResponse, response_headers

log = logging.getLogger(__name__)

GATEWAY_KEY: web.AppKey[Gateway] = web.AppKey("distillguard_gateway")
# A model id as a path segment: no "/", nothing a URL would normalise into another path.
_MODEL_PATH = re.compile(r"^/v1/models/[A-Za-z0-9._:@+-]{1,200}$")
CLIENT_CLOSED = 499  # nginx's "client closed request": recorded, never sent
# Stream bytes kept for observing after the response; a longer stream is parsed in parts.
MAX_PENDING_STREAM = 1 << 20


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    flavor: Flavor
    validate: Callable[[Any], dict[str, Any]] | None  # None: no request body (GET)
    describe: Callable[[dict[str, Any], RequestEvent], None] | None
    observe_body: Callable[[ResponseSummary, Any], None]
    observe_event: Callable[[ResponseSummary, Any], None]
    observe_frames: Callable[[ResponseSummary, list[bytes]], None]  # raw SSE payloads, batched


ROUTES: dict[str, Route] = {
    openai_api.CHAT: Route(
        "POST",
        "openai",
        openai_api.validate_chat,
        openai_api.describe_chat,
        openai_api.observe_body,
        openai_api.observe_chunk,
        openai_api.observe_frames,
    ),
    openai_api.COMPLETIONS: Route(
        "POST",
        "openai",
        openai_api.validate_completions,
        openai_api.describe_completions,
        openai_api.observe_body,
        openai_api.observe_chunk,
        openai_api.observe_frames,
    ),
    openai_api.MODELS: Route(
        "GET",
        "openai",
        None,
        None,
        openai_api.observe_body,
        openai_api.observe_chunk,
        openai_api.observe_frames,
    ),
    anthropic_api.COUNT_TOKENS: Route(
        "POST",
        "anthropic",
        anthropic_api.validate_messages_shape,
        anthropic_api.describe_messages,
        anthropic_api.observe_body,
        anthropic_api.observe_event,
        anthropic_api.observe_frames,
    ),
    anthropic_api.MESSAGES: Route(
        "POST",
        "anthropic",
        anthropic_api.validate_messages,
        anthropic_api.describe_messages,
        anthropic_api.observe_body,
        anthropic_api.observe_event,
        anthropic_api.observe_frames,
    ),
}


def caller_flavor(request: web.BaseRequest, route: Route | None) -> Flavor:
    """Which error shape the caller understands: the route's, else guessed from headers."""
    if route is not None and route.validate is not None:
        return route.flavor
    headers = request.headers
    if "anthropic-version" in headers or ("x-api-key" in headers and "authorization" not in headers):
        return "anthropic"
    return "openai"


_ID_PREFIX = "req_" + os.urandom(8).hex()  # random per process: unique across replicas
_id_counter = itertools.count(1)


def new_request_id() -> str:
    """Unique, cheap (no syscall per request); not a secret."""
    return f"{_ID_PREFIX}{next(_id_counter):08x}"


class Gateway:
    """Holds the collaborators; `handle` is the one aiohttp handler for every API path."""

    def __init__(
        self,
        settings: Settings,
        sink: EventSink,
        key_resolver: KeyResolver,
        plugins: Sequence[Plugin] = (),
    ) -> None:
        if not settings.upstreams:
            raise ConfigError("no upstream configured: pass --upstream URL or [upstreams.*] in the config")
        self.settings = settings
        self.sink = sink
        self.keys = key_resolver
        self.plugins = list(plugins)
        self.upstreams = UpstreamPool(settings)
        self.metrics = GatewayMetrics()
        self.retention = settings.retention
        self.max_body = settings.max_body_bytes
        self.forward_prefixes = tuple(p.lower() for p in settings.forward_header_prefixes)
        # A sink that fingerprints (the event pipeline process) gets the text; else we do it.
        self.sink_fingerprints = bool(getattr(sink, "fingerprints_events", False))

    # --- the handler ------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        t0 = time.time()
        path = request.path
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        route = ROUTES.get(path)
        if route is None and _MODEL_PATH.match(path) and not path.endswith(("/.", "/..")):
            route = ROUTES[openai_api.MODELS]  # GET /v1/models/{id}
        flavor = caller_flavor(request, route)
        if route is None:
            return error_response(
                flavor, GatewayError(404, f"Unknown endpoint: {request.method} {request.path}", "not_found")
            )
        if request.method != route.method:
            return error_response(
                flavor,
                GatewayError(
                    405,
                    f"Method {request.method} not allowed on {path}; use {route.method}.",
                    "method_not_allowed",
                    headers={"Allow": route.method},
                ),
            )
        headers = request.headers
        event = RequestEvent(
            request_id=new_request_id(),
            ts_start=t0,
            client_ip=self._client_ip(request),
            user_agent=headers.get("User-Agent", ""),
            endpoint=path,
            flavor=flavor,
        )
        ctx: RequestContext | None = None
        summary: ResponseSummary | None = None
        response: web.StreamResponse
        try:
            try:
                ctx, raw_body = await self._prepare(request, route, event)
                await self._on_request(ctx)
                # Created here so a stream cut short by the client still records what it got.
                summary = ResponseSummary()
                response = await self._proxy(request, route, ctx, raw_body, summary)
            except GatewayError as err:
                event.status = err.status
                event.error_type = error_type_name(flavor, err.status, err.code)
                err.headers.setdefault("x-request-id", event.request_id)
                response = error_response(flavor, err)
            except (ConnectionResetError, aiohttp.ClientConnectionResetError):
                event.status = CLIENT_CLOSED
                event.error_type = "client_disconnected"
                response = web.Response(status=CLIENT_CLOSED)
            except ConfigError as err:
                event.status = 400
                event.error_type = "invalid_upstream"
                response = error_response(flavor, GatewayError(400, str(err), "invalid_upstream"))
            except Exception:
                log.exception("gateway error on %s %s", request.method, path)
                event.status = 500
                event.error_type = "gateway_error"
                response = error_response(
                    flavor, GatewayError(500, f"Internal gateway error (request {event.request_id}).")
                )
        except asyncio.CancelledError:
            # The client went away (handler cancellation): the upstream request is already
            # closed by leaving its context; still record what happened.
            event.status = CLIENT_CLOSED
            event.error_type = "client_disconnected"
            await self._complete(ctx, event, summary, route, t0)
            raise
        if not response.prepared and event.status != CLIENT_CLOSED:
            # Send before recording, so fingerprints, plugins' on_complete and metrics cost
            # the client no latency (aiohttp accepts an already-sent response back).
            try:
                await response.prepare(request)
                await response.write_eof()
            except (ConnectionResetError, aiohttp.ClientConnectionResetError):
                event.status, event.error_type = CLIENT_CLOSED, "client_disconnected"
        await self._complete(ctx, event, summary, route, t0)
        return response

    async def _complete(
        self,
        ctx: RequestContext | None,
        event: RequestEvent,
        summary: ResponseSummary | None,
        route: Route,
        t0: float,
    ) -> None:
        """Record the exchange. The client has its answer already: a failure here is logged,
        never raised into the connection."""
        try:
            await self._record(ctx, event, summary, route, t0)
        except Exception:
            log.exception("recording request %s failed", event.request_id)

    async def _record(
        self,
        ctx: RequestContext | None,
        event: RequestEvent,
        summary: ResponseSummary | None,
        route: Route,
        t0: float,
    ) -> None:
        ts_end = time.time()
        if route.validate is None:  # GET /v1/models: nothing to count
            summary = None
        # Work deferred off the latency path when no plugin needed it earlier.
        if ctx is not None and route.describe is not None and not self.plugins:
            route.describe(ctx.body, event)
        if summary is not None and (summary.pending_stream or summary.stream_parser is not None):
            _observe_pending_stream(route.observe_frames, summary, final=True)
        if summary is not None and summary.pending_body is not None:
            try:  # noqa: SIM105 - the cheaper form on the hot path
                route.observe_body(summary, orjson.loads(summary.pending_body))
            except orjson.JSONDecodeError:
                pass
            summary.pending_body = None
        event = recorder.finish_event(
            event, summary, self.retention, ts_end, fingerprint=not self.sink_fingerprints
        )
        if ctx is not None:
            ctx.event = event
            for plugin in self.plugins:
                try:
                    await plugin.on_complete(ctx)
                except Exception:
                    log.exception("plugin %s on_complete failed", plugin.name)
        recorder.submit(self.sink, event)
        first_byte = event.ts_first_byte - t0 if event.ts_first_byte is not None else None
        # Label by route, not raw path: /v1/models/{id} must not mint a series per id.
        label = event.endpoint if event.endpoint in ROUTES else openai_api.MODELS + "/{id}"
        self.metrics.observe(label, event.status, ts_end - t0, first_byte)

    def _client_ip(self, request: web.Request) -> str:
        if self.settings.trust_forwarded_for:
            forwarded = request.headers.get("X-Forwarded-For")
            if forwarded:
                return forwarded.split(",", 1)[0].strip()
        return request.remote or ""

    # --- before the upstream call --------------------------------------------------------
    async def _prepare(
        self, request: web.Request, route: Route, event: RequestEvent
    ) -> tuple[RequestContext, bytes]:
        headers = request.headers
        raw_key = extract_key(headers.get("Authorization"), headers.get("x-api-key"))
        if raw_key is None:
            raise GatewayError(
                401,
                "Missing API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'.",
                "missing_api_key",
            )
        principal = self.keys.resolve(raw_key)
        if principal is None:
            raise GatewayError(401, "Invalid API key (unknown or revoked).", "invalid_api_key")
        event.key_id = principal.key_id
        event.account_id = principal.account_id
        event.org_id = principal.org_id

        body: dict[str, Any] = {}
        raw = b""
        if route.validate is not None:
            raw = await self._read_body(request)
            body = route.validate(self._parse_json(raw))
            if route.describe is not None and self.plugins:
                route.describe(body, event)  # plugins decide on it; else after the response
        ctx = RequestContext(
            request_id=event.request_id,
            flavor=route.flavor,
            endpoint=event.endpoint,
            body=body,
            headers={k.lower(): v for k, v in headers.items()},
            client_ip=event.client_ip,
            principal=principal,
            event=event,
            upstream_name=self.upstreams.default_name,
        )
        return ctx, raw

    async def _on_request(self, ctx: RequestContext) -> None:
        for plugin in self.plugins:
            rejection = await plugin.on_request(ctx)
            if rejection is not None:
                self.metrics.rejections.labels(plugin.name, str(rejection.status)).inc()
                raise GatewayError(
                    rejection.status, rejection.message, rejection.code, headers=dict(rejection.headers)
                )

    async def _read_body(self, request: web.Request) -> bytes:
        length = request.content_length
        if length is not None and length > self.max_body:
            raise GatewayError(
                413, f"Request body is {length} bytes; the limit is {self.max_body}.", "request_too_large"
            )
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise GatewayError(
                413, f"Request body exceeds the limit of {self.max_body} bytes.", "request_too_large"
            ) from None
        if not raw:
            raise GatewayError(400, "Request body is empty; expected a JSON object.", "invalid_json")
        return raw

    @staticmethod
    def _parse_json(raw: bytes) -> Any:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as uexc:
                raise GatewayError(
                    400, f"Request body is not valid UTF-8 (byte {uexc.start}).", "invalid_encoding"
                ) from None
            raise GatewayError(
                400, f"Request body is not valid JSON: {exc.msg} at position {exc.pos}.", "invalid_json"
            ) from None

    # --- the upstream call ---------------------------------------------------------------
    def _upstream_request_headers(self, request: web.Request, flavor: Flavor, up: Upstream) -> dict[str, str]:
        out = {"Content-Type": "application/json", "Accept-Encoding": "identity"}
        prefixes = self.forward_prefixes
        for name, value in request.headers.items():
            if name.lower().startswith(prefixes):
                out[name] = value
        out.update(up.auth_headers(flavor))
        return out

    async def _proxy(
        self,
        request: web.Request,
        route: Route,
        ctx: RequestContext,
        raw_body: bytes,
        summary: ResponseSummary,
    ) -> web.StreamResponse:
        event = ctx.event
        up = self.upstreams.get(ctx.upstream_name)
        event.upstream = up.name
        transforms = [t for p in self.plugins if (t := p.response_transform(ctx)) is not None]
        data: bytes | None = None
        if route.validate is not None:
            # Without plugins the client's bytes go upstream exactly as sent; plugins may
            # have rewritten the parsed body, so then it is re-encoded.
            data = orjson.dumps(ctx.body) if self.plugins else raw_body
        req_headers = self._upstream_request_headers(request, ctx.flavor, up)
        url = up.url_for(event.endpoint)
        if request.query_string:
            url = URL(up.base_url + event.endpoint + "?" + request.query_string)
        try:
            async with self.upstreams.request(up, route.method, url, data, req_headers) as upstream:
                event.ts_first_byte = time.time()
                headers = response_headers(upstream.headers)
                headers["x-request-id"] = event.request_id
                headers.update(ctx.response_headers)
                ctype = upstream.headers.get("Content-Type", "")
                if upstream.status >= 400:
                    return await self._pass_error(upstream, route, ctx, headers)
                if ctype.startswith("text/event-stream"):
                    return await self._stream(request, upstream, route, ctx, headers, transforms, summary)
                body = await upstream.read()
                event.status = upstream.status
                if not ctype.startswith("application/json"):
                    return web.Response(status=upstream.status, body=body, headers=headers)
                if not transforms:
                    summary.pending_body = body  # observed after the response is sent
                    return web.Response(status=upstream.status, body=body, headers=headers)
                try:
                    parsed = orjson.loads(body)
                except orjson.JSONDecodeError:
                    return web.Response(status=upstream.status, body=body, headers=headers)
                if isinstance(parsed, dict):
                    for t in transforms:
                        parsed = t.transform_body(parsed)
                    body = orjson.dumps(parsed)
                route.observe_body(summary, parsed)
                return web.Response(status=upstream.status, body=body, headers=headers)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            self.metrics.upstream_errors.labels(up.name, "timeout").inc()
            raise GatewayError(504, f"Upstream '{up.name}' timed out.", "upstream_timeout") from None
        except (aiohttp.ClientConnectorError, UpstreamConnectError) as exc:
            self.metrics.upstream_errors.labels(up.name, "connect").inc()
            reason = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
            raise GatewayError(
                502, f"Upstream '{up.name}' is unreachable: {reason}.", "upstream_unreachable"
            ) from None
        except (
            aiohttp.ClientPayloadError,
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientOSError,
            UpstreamProtocolError,
        ) as exc:
            self.metrics.upstream_errors.labels(up.name, "protocol").inc()
            raise GatewayError(
                502, f"Upstream '{up.name}' failed: {type(exc).__name__}.", "upstream_error"
            ) from None

    async def _pass_error(
        self, upstream: UpstreamResponse, route: Route, ctx: RequestContext, headers: dict[str, str]
    ) -> web.Response:
        """Upstream 4xx/5xx: the client gets the upstream's status and body unchanged."""
        body = await upstream.read()
        event = ctx.event
        event.status = upstream.status
        event.error_type = f"upstream_{upstream.status}"
        if upstream.status >= 500:
            self.metrics.upstream_errors.labels(event.upstream, f"http_{upstream.status}").inc()
        try:
            parsed = orjson.loads(body)
            error = parsed.get("error") if isinstance(parsed, dict) else None
            if isinstance(error, dict) and (error.get("type") or error.get("code")):
                event.error_type = str(error.get("type") or error.get("code"))
        except orjson.JSONDecodeError:
            pass
        return web.Response(status=upstream.status, body=body, headers=headers)

    async def _stream(
        self,
        request: web.Request,
        upstream: UpstreamResponse,
        route: Route,
        ctx: RequestContext,
        headers: dict[str, str],
        transforms: list[ResponseTransform],
        summary: ResponseSummary,
    ) -> web.StreamResponse:
        event = ctx.event
        event.status = upstream.status
        headers.setdefault("Cache-Control", "no-cache")
        resp = _CoalescingStreamResponse(status=upstream.status, headers=headers)
        await resp.prepare(request)
        parser = SSEParser()
        rewriter = _StreamRewriter(ctx.flavor, transforms, route, summary) if transforms else None
        observe = route.observe_frames
        pending = summary.pending_stream
        is_last = _ends_openai_stream if ctx.flavor == "openai" else _ends_anthropic_stream
        done = False  # the terminator went out with write_eof
        try:
            async for chunk in upstream.content.iter_any():
                if done:
                    continue  # nothing may follow the terminator; drain so the connection is reused
                if rewriter is None:
                    # The terminator's chunk goes out with the end-of-body marker: one write.
                    if is_last(chunk):
                        await resp.write_eof(chunk)
                        done = True
                    else:
                        await resp.write(chunk)
                    # Observed once the client has it all (app._record), not per chunk.
                    pending.append(chunk)
                    summary.pending_bytes += len(chunk)
                    if summary.pending_bytes > MAX_PENDING_STREAM:
                        _observe_pending_stream(observe, summary, final=False)
                else:
                    out = rewriter.rewrite(parser.feed(chunk))
                    if out:
                        await resp.write(out)
            if rewriter is not None:
                out = rewriter.rewrite(parser.flush()) + rewriter.finish()
                if out:
                    await resp.write(out)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            self.metrics.upstream_errors.labels(event.upstream, "timeout").inc()
            event.error_type = "upstream_timeout"  # status stays what the client got
            if not done:
                await resp.write(sse_error_frame(ctx.flavor, 504, "Upstream timed out mid-stream."))
        except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, UpstreamProtocolError) as exc:
            self.metrics.upstream_errors.labels(event.upstream, "protocol").inc()
            event.error_type = "upstream_error"
            if not done:
                message = f"Upstream failed mid-stream: {type(exc).__name__}."
                await resp.write(sse_error_frame(ctx.flavor, 502, message))
        except (ConnectionResetError, asyncio.CancelledError):
            raise  # the client went away: handled (and recorded) by `handle`
        except Exception:
            # Headers are out, so no new response: end the stream with an error frame.
            log.exception("stream failed for %s", event.request_id)
            event.error_type = "gateway_error"
            if not done:
                message = f"Internal gateway error (request {event.request_id})."
                await resp.write(sse_error_frame(ctx.flavor, 500, message))
        if summary.error_type is not None and event.error_type is None:
            event.error_type = summary.error_type
        await resp.write_eof()
        return resp


class _CoalescingStreamResponse(web.StreamResponse):
    """Sends the headers with the first body chunk (one write, not two). The attribute is
    aiohttp's own switch (web.Response uses it); without it we only lose the coalescing."""

    _send_headers_immediately = False


# JSON strings cannot hold a raw newline, so a line that starts with these is a real frame.
def _ends_openai_stream(chunk: bytes) -> bool:
    n = len(OPENAI_DONE)
    return chunk.endswith(OPENAI_DONE) and (len(chunk) == n or chunk[-n - 1] == 0x0A)


def _ends_anthropic_stream(chunk: bytes) -> bool:
    if not chunk.endswith(b"\n\n"):
        return False
    start = chunk.rfind(b"event: message_stop")
    return (
        start >= 0
        and (start == 0 or chunk[start - 1] == 0x0A)
        and chunk.find(b"\n\n", start) == len(chunk) - 2
    )


def _observe_pending_stream(
    observe: Callable[[ResponseSummary, list[bytes]], None], summary: ResponseSummary, *, final: bool
) -> None:
    """Observe the stream bytes passed through so far. At the end, a stream of plain
    single-line `data:` frames (most OpenAI-style streams) is split in one go; anything
    else, and a long stream in parts, goes through the incremental SSEParser."""
    buf = b"".join(summary.pending_stream)
    summary.pending_stream.clear()
    summary.pending_bytes = 0
    parser: SSEParser | None = summary.stream_parser
    payloads = data_payloads(buf) if final and parser is None else None
    if payloads is None:
        if parser is None:
            parser = summary.stream_parser = SSEParser()
        frames = parser.feed(buf)
        if final:
            frames += parser.flush()
        payloads = [d for _, d in frames if d]
    payloads = [d for d in payloads if d != b"[DONE]"]
    if payloads:
        _observe_safely(observe, summary, payloads)


def _observe_safely(
    observe: Callable[[ResponseSummary, list[bytes]], None], summary: ResponseSummary, frames: list[bytes]
) -> None:
    """Recording must never break a stream the client is reading: an upstream payload the
    observers do not expect costs the event some detail, nothing more."""
    try:
        observe(summary, frames)
    except Exception:
        log.debug("could not observe %d stream frames", len(frames), exc_info=True)


class _StreamRewriter:
    """Applies the plugins' ResponseTransforms to parsed SSE payloads, in plugin order."""

    def __init__(
        self, flavor: Flavor, transforms: list[ResponseTransform], route: Route, summary: ResponseSummary
    ) -> None:
        self.flavor = flavor
        self.transforms = transforms
        self.observe = route.observe_event
        self.summary = summary
        self.finished = False

    def rewrite(self, frames: list[tuple[str | None, bytes]]) -> bytes:
        out: list[bytes] = []
        for name, data in frames:
            if data == b"[DONE]":
                out.append(self.finish())
                out.append(OPENAI_DONE)
                continue
            try:
                payload = orjson.loads(data)
            except orjson.JSONDecodeError:
                out.append(_raw_frame(name, data))
                continue
            if not isinstance(payload, dict):
                out.append(_raw_frame(name, data))
                continue
            if payload.get("type") == "message_stop" and self.flavor == "anthropic":
                out.append(self.finish())
            payloads = [payload]
            for t in self.transforms:
                payloads = [p for item in payloads for p in t.transform_event(item)]
            out.append(self._emit(payloads))
        return b"".join(out)

    def finish(self) -> bytes:
        if self.finished:
            return b""
        self.finished = True
        pending: list[dict[str, Any]] = []
        for t in self.transforms:
            pending = [p for item in pending for p in t.transform_event(item)] + t.finish()
        return self._emit(pending)

    def _emit(self, payloads: list[dict[str, Any]]) -> bytes:
        parts = []
        for p in payloads:
            self.observe(self.summary, p)
            parts.append(encode_event(self.flavor, p))
        return b"".join(parts)


def _raw_frame(name: str | None, data: bytes) -> bytes:
    head = b"event: " + name.encode() + b"\n" if name else b""
    return head + b"data: " + data + b"\n\n"


# --- construction ---------------------------------------------------------------------------


class _NullSink:
    def submit(self, event: RequestEvent) -> None:
        pass

    def close(self) -> None:
        pass


def create_app(
    settings: Settings,
    *,
    sink: EventSink | None = None,
    key_resolver: KeyResolver,
    plugins: Sequence[Plugin] = (),
    close_sink_on_shutdown: bool = True,
) -> web.Application:
    """The gateway as an aiohttp Application. The caller owns nothing after this: the app
    opens the upstream pool on startup, and closes it (and the sink, flushing it) on cleanup."""
    gateway = Gateway(settings, sink or _NullSink(), key_resolver, plugins)
    # aiohttp enforces the body limit itself too (read() raises 413, which we render).
    app = web.Application(client_max_size=settings.max_body_bytes, handler_args={"max_field_size": 16384})
    app[GATEWAY_KEY] = gateway

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def metrics(request: web.Request) -> web.Response:
        body, ctype = gateway.metrics.render()
        return web.Response(body=body, headers={"Content-Type": ctype})

    async def on_startup(app: web.Application) -> None:
        await gateway.upstreams.start()
        if not gateway.sink_fingerprints:
            recorder.warm_up()
        # Everything allocated so far lives for the whole process: keep it out of the
        # collector's scans, which otherwise show up as latency spikes at the p99.
        gc.collect()
        gc.freeze()

    async def on_cleanup(app: web.Application) -> None:
        await gateway.upstreams.close()
        if close_sink_on_shutdown:
            gateway.sink.close()

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_route("*", "/{tail:.*}", gateway.handle)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def run(
    app: web.Application,
    settings: Settings,
    *,
    print_fn: Callable[[str], None] | None = print,
    use_uvloop: bool = True,
) -> None:
    """Serve until SIGINT/SIGTERM on uvloop; a client disconnect cancels its handler (and
    with it the upstream request); shutdown drains in-flight requests, then flushes the sink."""
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if use_uvloop:
        try:
            import uvloop

            loop_factory = uvloop.new_event_loop
        except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
            pass
    loop = loop_factory() if loop_factory else asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    web.run_app(
        app,
        host=settings.listen_host,
        port=settings.listen_port,
        handler_cancellation=True,
        access_log=None,
        print=print_fn,
        loop=loop,
        shutdown_timeout=30,
    )
