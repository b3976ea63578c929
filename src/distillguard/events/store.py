"""Event-store contracts. Implementations: `sqlite_store` (embedded default), `postgres_store`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from distillguard.events.schema import RequestEvent


class EventSink(Protocol):
    """What the gateway hands events to. `submit` must be O(1) and never block."""

    def submit(self, event: RequestEvent) -> None: ...

    def close(self) -> None:
        """Flush everything submitted so far, then stop."""
        ...


class EventStore(Protocol):
    """A durable log of events that can be read back in time order."""

    def write_many(self, events: list[RequestEvent]) -> None: ...

    def iter_events(
        self, since: float | None = None, until: float | None = None, after_seq: int | None = None
    ) -> Iterator[RequestEvent]: ...

    def close(self) -> None: ...
