"""Error bodies in each API's own shape, so SDKs raise their usual exception classes."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

_OPENAI_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "permission_denied"),
    404: ("invalid_request_error", None),
    409: ("invalid_request_error", None),
    413: ("invalid_request_error", "request_too_large"),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def openai_error_body(status: int, message: str, param: str | None = None) -> dict[str, Any]:
    err_type, code = _OPENAI_TYPES.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None)
    )
    return {"error": {"message": message, "type": err_type, "param": param, "code": code}}


def anthropic_error_body(status: int, message: str) -> dict[str, Any]:
    err_type = _ANTHROPIC_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": err_type, "message": message}}


def openai_error(status: int, message: str, param: str | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps(openai_error_body(status, message, param)),
        content_type="application/json",
    )


def anthropic_error(status: int, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps(anthropic_error_body(status, message)),
        content_type="application/json",
    )


def injected_message(status: int) -> str:
    return f"mock upstream: injected error {status} (x-mock-status header or error-NNN model name)"


class BadRequest(Exception):
    """Invalid input; rendered as a 400 in the caller's API shape."""

    def __init__(self, message: str, param: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.status = status


async def read_json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object.")
    return body
