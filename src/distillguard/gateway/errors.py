"""Errors in the caller's wire shape, so an SDK client raises the right exception class.

OpenAI:    {"error": {"message", "type", "param", "code"}}
Anthropic: {"type": "error", "error": {"type", "message"}}
"""

from __future__ import annotations

import orjson
from aiohttp import web

from distillguard.events.schema import Flavor

# HTTP status -> Anthropic error.type (https://docs.anthropic.com/en/api/errors).
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "api_error",
    529: "overloaded_error",
}

# HTTP status -> OpenAI error.type.
_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_exceeded",
    500: "server_error",
    502: "server_error",
    503: "server_error",
    504: "server_error",
}


class GatewayError(Exception):
    """Raised inside a handler; rendered by `error_response` in the caller's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.headers = headers or {}


def error_body(
    flavor: Flavor, status: int, message: str, code: str | None = None, param: str | None = None
) -> bytes:
    if flavor == "anthropic":
        etype = _ANTHROPIC_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
        return orjson.dumps({"type": "error", "error": {"type": etype, "message": message}})
    etype = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return orjson.dumps({"error": {"message": message, "type": etype, "param": param, "code": code}})


def error_type_name(flavor: Flavor, status: int, code: str | None) -> str:
    """The short name recorded in `RequestEvent.error_type`."""
    if code:
        return code
    table = _ANTHROPIC_TYPES if flavor == "anthropic" else _OPENAI_TYPES
    return table.get(status, "api_error" if status >= 500 else "invalid_request_error")


def error_response(flavor: Flavor, err: GatewayError) -> web.Response:
    return web.Response(
        status=err.status,
        body=error_body(flavor, err.status, err.message, err.code, err.param),
        content_type="application/json",
        headers=err.headers,
    )


def sse_error_frame(flavor: Flavor, status: int, message: str) -> bytes:
    """An error reported inside an already-started stream (headers are sent)."""
    if flavor == "anthropic":
        return b"event: error\ndata: " + error_body(flavor, status, message) + b"\n\n"
    return b"data: " + error_body(flavor, status, message) + b"\n\n"
