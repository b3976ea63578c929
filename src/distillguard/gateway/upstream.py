"""The pooled HTTP client to model servers.

Default: the minimal keep-alive HTTP/1.1 client of `http1.py`, one pool per upstream (about
half the CPU per request of aiohttp's). `upstream_client = "aiohttp"`: one shared aiohttp
`ClientSession`. Either way a large shared keep-alive pool is what keeps the added latency
under a millisecond; a client per request (or a small pool) is what made the FastAPI+httpx
prototype collapse near 200 req/s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import aiohttp
from yarl import URL

from distillguard.config import ConfigError, Settings, UpstreamSettings
from distillguard.events.schema import Flavor
from distillguard.gateway.http1 import Http1Client

# Upstream response headers never copied to the client: hop-by-hop, or recomputed by us.
# (content-encoding is kept: bodies pass through undecoded; we ask for identity anyway.)
_DROP_RESPONSE_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "server",
        "date",
        "proxy-authenticate",
        "trailer",
        "upgrade",
    }
)


class Upstream:
    __slots__ = ("_urls", "api_key", "base_url", "name", "timeout")

    def __init__(self, name: str, cfg: UpstreamSettings) -> None:
        self.name = name
        self.base_url = cfg.url.rstrip("/")
        self.api_key = cfg.api_key
        self._urls: dict[str, URL] = {}
        self.timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=cfg.connect_timeout_s, sock_read=cfg.read_timeout_s
        )

    def url_for(self, path: str) -> URL:
        """Parsed once per path (the client would otherwise parse the string per request)."""
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) > 1000:  # /v1/models/{id} paths are client-chosen: stay bounded
                self._urls.clear()
            url = self._urls[path] = URL(self.base_url + path)
        return url

    def auth_headers(self, flavor: Flavor) -> dict[str, str]:
        if not self.api_key:
            return {}
        if flavor == "anthropic":
            return {"x-api-key": self.api_key}
        return {"Authorization": f"Bearer {self.api_key}"}


class UpstreamBody(Protocol):
    def iter_any(self) -> AsyncIterator[bytes]: ...


class UpstreamResponse(Protocol):
    """What the gateway reads from either client (aiohttp's ClientResponse, Http1Response)."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> UpstreamBody: ...

    async def read(self) -> bytes: ...


class UpstreamPool:
    def __init__(self, settings: Settings) -> None:
        self.upstreams = {name: Upstream(name, cfg) for name, cfg in settings.upstreams.items()}
        self.default_name = settings.default_upstream
        self._pool_size = settings.upstream_pool_size
        self._session: aiohttp.ClientSession | None = None
        self.client_kind = settings.upstream_client
        self._http1 = {
            name: Http1Client(
                connect_timeout=cfg.connect_timeout_s,
                read_timeout=cfg.read_timeout_s,
                max_idle_per_host=settings.upstream_pool_size,
            )
            for name, cfg in settings.upstreams.items()
        }

    def request(
        self, up: Upstream, method: str, url: URL, data: bytes | None, headers: dict[str, str]
    ) -> AbstractAsyncContextManager[UpstreamResponse]:
        if self.client_kind == "http1":
            return self._http1[up.name].request(method, url, data, headers)
        return self.session.request(method, url, data=data, headers=headers, timeout=up.timeout)

    def get(self, name: str | None) -> Upstream:
        try:
            return self.upstreams[name or self.default_name]
        except KeyError:
            raise ConfigError(f"no upstream named {name!r}") from None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("UpstreamPool.start() was not awaited")
        return self._session

    async def start(self) -> None:
        if self.client_kind != "aiohttp":
            return
        connector = aiohttp.TCPConnector(
            limit=self._pool_size,
            limit_per_host=0,
            ttl_dns_cache=300,
            keepalive_timeout=30,
            enable_cleanup_closed=False,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
            # No cookie jar: upstream cookies must never leak between customers.
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        for client in self._http1.values():
            await client.close()


def response_headers(upstream_headers: Mapping[str, str]) -> dict[str, str]:
    """Upstream response headers worth passing on (rate-limit hints, request ids, type)."""
    out: dict[str, str] = {}
    for name, value in upstream_headers.items():
        if name.lower() not in _DROP_RESPONSE_HEADERS:
            out[name] = value
    return out
