"""What the mock has seen: counters and the last requests, for tests of the gateway in front
of it (did it cancel the upstream stream? did hardening rewrite the body it forwarded?)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RECENT_REQUESTS = 64


def new_stats() -> dict[str, int]:
    return {"requests": 0, "streams_started": 0, "streams_completed": 0, "streams_cancelled": 0}


@dataclass
class MockState:
    stats: dict[str, int] = field(default_factory=new_stats)
    received: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT_REQUESTS))

    def record(self, path: str, headers: Mapping[str, str], body: dict[str, Any]) -> None:
        """Keep the parsed body as received (a reference, not a copy); header names lower-cased
        plain str (aiohttp's are a str subclass that JSON encoders refuse)."""
        self.received.append(
            {"path": path, "headers": {str(k).lower(): v for k, v in headers.items()}, "body": body}
        )
