"""Cheap shape checks on request bodies, so bad input gets a 400 that names the field.

Only what the gateway relies on is checked; the upstream stays the authority on the rest.
"""

from __future__ import annotations

from typing import Any

from distillguard.gateway.errors import GatewayError

NUMBER = "number"
INTEGER = "integer"
STRING = "string"
BOOLEAN = "boolean"
ARRAY = "array"
OBJECT = "object"


def _is(kind: str, value: Any) -> bool:
    if kind == NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == STRING:
        return isinstance(value, str)
    if kind == BOOLEAN:
        return isinstance(value, bool)
    if kind == ARRAY:
        return isinstance(value, list)
    if kind == OBJECT:
        return isinstance(value, dict)
    raise ValueError(kind)


FieldSpec = dict[str, tuple[str, ...]]  # field -> accepted kinds


def check_fields(body: Any, required: FieldSpec, optional: FieldSpec) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise GatewayError(400, "Request body must be a JSON object.")
    for name, kinds in required.items():
        if name not in body:
            raise GatewayError(
                400, f"Missing required parameter: '{name}'.", "missing_required_parameter", name
            )
        _check(name, body[name], kinds)
    for name, kinds in optional.items():
        value = body.get(name)
        if value is not None:
            _check(name, value, kinds)
    return body


def _check(name: str, value: Any, kinds: tuple[str, ...]) -> None:
    for kind in kinds:
        if _is(kind, value):
            return
    expected = " or ".join(kinds)
    raise GatewayError(
        400,
        f"Invalid type for '{name}': expected {expected}, got {_json_type(value)}.",
        "invalid_type",
        name,
    )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def check_messages(messages: list[Any], param: str = "messages") -> None:
    if not messages:
        raise GatewayError(400, f"'{param}' must contain at least one message.", "invalid_value", param)
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise GatewayError(400, f"'{param}[{i}]' must be an object.", "invalid_type", f"{param}[{i}]")
        role = msg.get("role")
        if not isinstance(role, str):
            raise GatewayError(
                400, f"'{param}[{i}].role' must be a string.", "invalid_type", f"{param}[{i}].role"
            )
