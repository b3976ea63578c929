"""What a request asks the mock to do: server options, model-name features, test headers.

Features are chosen by the model name so that any client (an SDK, the gateway, a demo)
can pick them without extra parameters; headers let a single test bend one request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

ReasoningStyle = Literal["none", "reasoning_content", "reasoning", "think_tags"]

# Documented names (GET /v1/models lists them). Any other name works too: features are read
# from substrings, so e.g. "my-mock-think-model" behaves like "mock-think".
MODEL_NAMES = (
    "mock",
    "mock-reasoning",
    "mock-reasoning-field",
    "mock-think",
    "mock-redacted",
    "mock-error-500",
    "mock-error-503",
    "mock-error-429",
)

_ERROR_IN_NAME = re.compile(r"error-(\d{3})")


@dataclass(frozen=True, slots=True)
class MockOptions:
    """Server-wide settings; each can be overridden per request by an x-mock-* header."""

    latency_ms: float = 0.0  # time to first token
    tokens_per_second: float = 0.0  # 0 = as fast as possible
    seed: str = ""  # salt for the prompt hash: a different seed gives different answers


@dataclass(frozen=True, slots=True)
class ModelBehaviour:
    reasoning: ReasoningStyle
    redacted_thinking: bool  # Anthropic: add a redacted_thinking block when thinking is on
    error_status: int | None


@lru_cache(maxsize=1024)
def behaviour_for(model: str) -> ModelBehaviour:
    name = model.lower()
    error = _ERROR_IN_NAME.search(name)
    if "think" in name:
        reasoning: ReasoningStyle = "think_tags"
    elif "reasoning-field" in name:
        reasoning = "reasoning"
    elif "reasoning" in name:
        reasoning = "reasoning_content"
    else:
        reasoning = "none"
    return ModelBehaviour(
        reasoning=reasoning,
        redacted_thinking="redacted" in name,
        error_status=int(error.group(1)) if error else None,
    )


@dataclass(slots=True)
class RequestTiming:
    """When to start sending and how fast to produce tokens, for one request."""

    delay_s: float  # before the status line and headers (a slow/hung upstream)
    latency_s: float  # then until the first token
    tokens_per_second: float


def _header_float(headers: Mapping[str, str], name: str, default: float) -> float:
    raw = headers.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value >= 0 else default


def timing_for(headers: Mapping[str, str], options: MockOptions) -> RequestTiming:
    return RequestTiming(
        delay_s=_header_float(headers, "x-mock-delay-ms", 0.0) / 1000.0,
        latency_s=_header_float(headers, "x-mock-latency-ms", options.latency_ms) / 1000.0,
        tokens_per_second=_header_float(headers, "x-mock-tokens-per-second", options.tokens_per_second),
    )


def injected_status(headers: Mapping[str, str], behaviour: ModelBehaviour) -> int | None:
    """The error a test asked for, via `x-mock-status` or a model named `...error-NNN`."""
    raw = headers.get("x-mock-status")
    if raw is not None:
        try:
            status = int(raw)
        except ValueError:
            status = 0
        if 400 <= status <= 599:
            return status
    return behaviour.error_status
