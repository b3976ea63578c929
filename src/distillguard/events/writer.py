"""Getting events off the hot path: a batching writer and a fan-out sink.

`BatchingWriter.submit` is an append to a deque and a length check: O(1), no lock, no I/O,
safe to call from the asyncio event loop. One background thread drains the deque and
writes batches of up to `max_batch` events (or whatever arrived within `max_delay`
seconds) with `store.write_many`, one transaction per batch.

Policy (also in docs/storage.md):
- Queue full (`max_queue` events waiting, i.e. the store is down or too slow): the new
  event is dropped and counted in `stats.dropped`. The gateway never waits for storage.
- A failed write is retried with exponential backoff (capped at `max_backoff`) for as long
  as the writer runs; events keep queueing meanwhile and, once the queue is full, new ones
  are dropped. On `close()` a failing batch gets `close_retries` more tries, then it and
  everything still queued are counted in `stats.failed` and logged.
- `close()` writes everything submitted before it and returns when it is durable (or
  counted as failed); events submitted after `close()` are counted in `stats.rejected`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from distillguard.events.schema import RequestEvent
from distillguard.events.store import EventSink

log = logging.getLogger(__name__)


class _BatchStore(Protocol):
    def write_many(self, events: list[RequestEvent]) -> None: ...


@dataclass
class WriterStats:
    submitted: int = 0  # accepted into the queue
    written: int = 0  # committed by the store
    dropped: int = 0  # refused because the queue was full
    rejected: int = 0  # submitted after close()
    failed: int = 0  # given up on at close() after retries
    batches: int = 0  # successful write_many calls
    write_errors: int = 0  # failed write_many attempts (each retried)
    queued: int = 0  # waiting right now


class BatchingWriter:
    """An `EventSink` that writes to an `EventStore` in batches from one thread.

    `submit` is meant to be called from one thread (the event loop); the counters are
    plain ints, exact under that use.
    """

    def __init__(
        self,
        store: _BatchStore,
        *,
        max_batch: int = 500,
        max_delay: float = 0.1,
        max_queue: int = 100_000,
        max_backoff: float = 5.0,
        close_retries: int = 3,
        close_store: bool = False,
        name: str = "dg-event-writer",
    ) -> None:
        if max_batch < 1 or max_queue < 1 or max_delay <= 0:
            raise ValueError("max_batch and max_queue must be >= 1 and max_delay > 0")
        self.store = store
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.max_queue = max_queue
        self.max_backoff = max_backoff
        self.close_retries = close_retries
        self._close_store = close_store
        self._queue: deque[RequestEvent] = deque()
        self._wake = threading.Event()
        self._progress = threading.Condition()
        self._closing = False
        self._closed = False
        self._gave_up = False
        self._stop = threading.Event()
        self._submitted = 0
        self._dropped = 0
        self._rejected = 0
        self._written = 0
        self._failed = 0
        self._batches = 0
        self._write_errors = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # --- hot path -------------------------------------------------------------------------

    def submit(self, event: RequestEvent) -> None:
        """Queue an event for writing. Never blocks, never raises."""
        if self._closing:
            self._rejected += 1
            return
        queue = self._queue
        if len(queue) >= self.max_queue:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 10_000 == 0:
                log.warning("event queue full (%d): %d events dropped so far", self.max_queue, self._dropped)
            return
        queue.append(event)
        self._submitted += 1
        if len(queue) >= self.max_batch:
            self._wake.set()

    # --- control --------------------------------------------------------------------------

    @property
    def stats(self) -> WriterStats:
        return WriterStats(
            submitted=self._submitted,
            written=self._written,
            dropped=self._dropped,
            rejected=self._rejected,
            failed=self._failed,
            batches=self._batches,
            write_errors=self._write_errors,
            queued=len(self._queue),
        )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is written (or failed). False on timeout."""
        target = self._submitted
        self._wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._progress:
            while self._written + self._failed < target:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                if not self._thread.is_alive():
                    return False
                self._progress.wait(0.05 if remaining is None else min(remaining, 0.05))
        return True

    def close(self, timeout: float | None = None) -> None:
        """Stop accepting events, write everything already submitted, stop the thread."""
        if self._closed:
            return
        self._closing = True
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error(
                "event writer did not finish within %ss; %d events unwritten", timeout, len(self._queue)
            )
            return
        self._closed = True
        if self._close_store:
            close = getattr(self.store, "close", None)
            if close is not None:
                close()

    def __enter__(self) -> BatchingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the writer thread ----------------------------------------------------------------

    def _run(self) -> None:
        queue = self._queue
        while True:
            closing = self._closing  # read before draining: nothing is submitted after it
            if len(queue) < self.max_batch and not closing:
                self._wake.wait(self.max_delay)
                self._wake.clear()
            while queue:
                n = min(len(queue), self.max_batch)
                batch = [queue.popleft() for _ in range(n)]
                self._write(batch)
            if closing:
                return

    def _write(self, batch: list[RequestEvent]) -> None:
        if self._gave_up:  # the store failed at shutdown already: don't stall close() per batch
            self._count(failed=len(batch))
            return
        backoff = min(0.05, self.max_backoff)
        tries_left_after_close = self.close_retries
        while True:
            try:
                self.store.write_many(batch)
            except Exception:
                self._write_errors += 1
                if self._closing:
                    if tries_left_after_close <= 0:
                        log.exception("giving up on %d queued events after repeated write errors", len(batch))
                        self._gave_up = True
                        self._count(failed=len(batch))
                        return
                    tries_left_after_close -= 1
                log.warning("event batch write failed; retrying in %.2fs", backoff, exc_info=True)
                # close() cuts a long backoff short: shutdown should not wait max_backoff per try
                self._stop.wait(backoff if not self._closing else min(backoff, 0.1))
                backoff = min(backoff * 2, self.max_backoff)
                continue
            self._count(written=len(batch))
            return

    def _count(self, *, written: int = 0, failed: int = 0) -> None:
        with self._progress:
            self._written += written
            self._failed += failed
            if written:
                self._batches += 1
            self._progress.notify_all()


class FanoutSink:
    """Hands every event to several sinks (e.g. the store's writer and an in-process detector).

    A sink that raises is logged and counted in `errors`; the others still get the event.
    """

    def __init__(self, sinks: Iterable[EventSink]) -> None:
        self.sinks: list[EventSink] = list(sinks)
        self.errors = 0

    def submit(self, event: RequestEvent) -> None:
        for sink in self.sinks:
            try:
                sink.submit(event)
            except Exception:
                self.errors += 1
                if self.errors == 1 or self.errors % 10_000 == 0:
                    log.exception("event sink %r failed (%d errors so far)", sink, self.errors)

    def close(self) -> None:
        for sink in self.sinks:
            try:
                sink.close()
            except Exception:
                log.exception("closing event sink %r failed", sink)


class ListSink:
    """Keeps events in memory (tests, demos, the simulator)."""

    def __init__(self) -> None:
        self.events: list[RequestEvent] = []

    def submit(self, event: RequestEvent) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


def open_sink(settings: Any) -> BatchingWriter:
    """The gateway's event sink: a BatchingWriter over `settings.database_url` (see events.open).

    Any failure to open it is a ConfigError (one line for `serve`, not a traceback)."""
    from distillguard.config import ConfigError
    from distillguard.events.open import open_writer

    try:
        return open_writer(settings.database_url)
    except Exception as exc:
        raise ConfigError(f"cannot open the event log at {settings.database_url}: {exc}") from exc
