"""Deterministic tool calls: which tool the "model" calls and with what arguments.

Rule (documented in docs/mock.md): call a tool when the tool choice forces one, or when the
last user message mentions a tool's name (underscores may be spaces). Arguments are built
from the tool's JSON schema, so agentic clients get well-typed input.
"""

from __future__ import annotations

from typing import Any

from distillguard.mock.textgen import ANSWER_SENTENCES


def mentioned_tool(names: list[str], last_user_text: str) -> str | None:
    text = last_user_text.lower()
    for name in names:
        low = name.lower()
        if low in text or low.replace("_", " ") in text:
            return name
    return None


def choose_tool(names: list[str], last_user_text: str | None, mode: str, forced: str | None) -> str | None:
    """mode: "auto", "required" (any tool), "forced" (the named one), or "none"."""
    if not names or mode == "none":
        return None
    if mode == "forced":
        return forced if forced in names else None
    hit = mentioned_tool(names, last_user_text) if last_user_text is not None else None
    if mode == "required":
        return hit or names[0]
    return hit


def _value_for(schema: Any, seed: int, depth: int) -> Any:
    if not isinstance(schema, dict):
        return "mock"
    if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
        return schema["enum"][seed % len(schema["enum"])]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or (kind is None and "properties" in schema):
        return arguments_for(schema, seed, depth + 1) if depth < 4 else {}
    if kind == "array":
        return [_value_for(schema.get("items"), seed >> 3, depth + 1)] if depth < 4 else []
    if kind == "integer":
        return int(schema.get("minimum", 0)) + seed % 97
    if kind == "number":
        return round(float(schema.get("minimum", 0)) + (seed % 9973) / 100.0, 2)
    if kind == "boolean":
        return bool(seed & 1)
    if kind == "null":
        return None
    words = ANSWER_SENTENCES[seed % len(ANSWER_SENTENCES)]
    return "".join(words[:3]).strip().rstrip(".")


def arguments_for(schema: Any, seed: int, depth: int = 0) -> dict[str, Any]:
    """Values for every property of an object schema (required ones first)."""
    if not isinstance(schema, dict):
        return {}
    props = schema.get("properties")
    if not isinstance(props, dict):
        return {}
    required = (
        [p for p in schema.get("required", []) if p in props]
        if isinstance(schema.get("required"), list)
        else []
    )
    ordered = required + [p for p in props if p not in required]
    return {name: _value_for(props[name], seed >> (i % 32) ^ i, depth) for i, name in enumerate(ordered)}
