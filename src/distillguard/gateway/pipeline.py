"""The request lifecycle as ordered hooks, mitmproxy-addon style.

The gateway core parses the request, authenticates it, builds a `RequestContext`, then
runs every plugin's hooks in order. Each behaviour (reasoning protection, rate limits, API
hardening, fallback, verification, block) is one `Plugin` in its own module, so a new
defence is a new file, not an edit across the gateway.

Lifecycle:  authenticate -> fingerprint -> on_request (decide) -> upstream call
            -> response_transform (per chunk / per body) -> on_complete -> record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from distillguard.accounts.principal import Principal
from distillguard.events.schema import Flavor, RequestEvent


@dataclass(slots=True)
class Rejection:
    """Stop the request before the upstream call. Rendered in the caller's error shape."""

    status: int  # 401, 403, 429, ...
    message: str
    # Machine-readable code. OpenAI: error.code / error.type; Anthropic: error.type.
    code: str = "forbidden"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class RequestContext:
    request_id: str
    flavor: Flavor
    endpoint: str
    body: dict[str, Any]  # the parsed JSON request; plugins may rewrite it (hardening)
    headers: dict[str, str]  # request headers, lower-cased names
    client_ip: str
    principal: Principal
    event: RequestEvent  # being built; plugins annotate tier/action/reasons/shadow
    upstream_name: str  # plugins may re-route (fallback)
    response_headers: dict[str, str] = field(default_factory=dict)  # extra headers to send
    state: dict[str, Any] = field(default_factory=dict)  # per-plugin scratch, keyed by plugin name


class ResponseTransform(Protocol):
    """Rewrites a response. Streaming works on parsed SSE payloads: an OpenAI chunk object,
    or an Anthropic event object (its SSE event name is the object's "type")."""

    def transform_body(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def transform_event(self, event: dict[str, Any]) -> list[dict[str, Any]]: ...

    def finish(self) -> list[dict[str, Any]]:
        """Events to emit before the stream's terminator (held-back text, summaries)."""
        ...


class Plugin:
    """Base class: override the hooks you need. Hooks must be O(1) per request."""

    name: str = "plugin"

    async def on_request(self, ctx: RequestContext) -> Rejection | None:
        return None

    def response_transform(self, ctx: RequestContext) -> ResponseTransform | None:
        return None

    async def on_complete(self, ctx: RequestContext) -> None:
        """After the response ended (or failed); `ctx.event` has usage and status."""
        return None
