from __future__ import annotations

import threading
import time
from pathlib import Path

from distillguard.events.schema import RequestEvent
from distillguard.events.sqlite_store import SqliteEventStore
from distillguard.events.writer import BatchingWriter, FanoutSink, ListSink

from .factory import full_event


class RecordingStore:
    """Records batches; can be made to block or fail."""

    def __init__(self) -> None:
        self.batches: list[list[RequestEvent]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.failures_left = 0

    def write_many(self, events: list[RequestEvent]) -> None:
        self.gate.wait()
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("database down")
        self.batches.append(list(events))

    @property
    def events(self) -> list[RequestEvent]:
        return [e for b in self.batches for e in b]


def test_close_flushes_everything_submitted_to_sqlite(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "e.db")
    writer = BatchingWriter(store, max_batch=64, max_delay=10.0)  # long delay: only close() flushes
    events = [full_event(i) for i in range(1000)]
    for e in events:
        writer.submit(e)
    writer.close()
    assert list(store.iter_with_seq()) and [e for _, e in store.iter_with_seq(after_seq=0)] == events
    assert writer.stats.written == 1000 and writer.stats.queued == 0 and writer.stats.dropped == 0


def test_batches_by_size_and_by_time() -> None:
    store = RecordingStore()
    writer = BatchingWriter(store, max_batch=100, max_delay=0.05)
    for i in range(250):
        writer.submit(full_event(i))
    assert writer.flush(timeout=5)
    assert all(len(b) <= 100 for b in store.batches)
    assert [e.request_id for e in store.events] == [f"req-{i}" for i in range(250)]
    writer.submit(full_event(999))  # a lone event is written within ~max_delay, without flush
    deadline = time.monotonic() + 2
    while len(store.events) < 251 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert store.events[-1].request_id == "req-999"
    writer.close()


def test_submit_never_blocks_and_counts_drops_when_the_queue_is_full() -> None:
    store = RecordingStore()
    store.gate.clear()  # the database hangs
    writer = BatchingWriter(store, max_batch=10, max_delay=0.01, max_queue=50)
    time.sleep(0.05)
    started = time.perf_counter()
    for i in range(500):
        writer.submit(full_event(i))
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5  # nothing waited on the hung store
    stats = writer.stats
    assert stats.submitted + stats.dropped == 500
    assert stats.dropped >= 500 - 50 - 10  # at most the queue plus one in-flight batch got in
    store.gate.set()
    writer.close()
    assert len(store.events) == writer.stats.submitted == writer.stats.written
    # the newest events were dropped, not the oldest
    assert store.events[0].request_id == "req-0"


def test_failed_writes_are_retried_without_losing_events() -> None:
    store = RecordingStore()
    store.failures_left = 3
    writer = BatchingWriter(store, max_batch=10, max_delay=0.01, max_backoff=0.02)
    for i in range(30):
        writer.submit(full_event(i))
    writer.close()
    assert [e.request_id for e in store.events] == [f"req-{i}" for i in range(30)]
    assert writer.stats.write_errors == 3 and writer.stats.failed == 0


def test_close_gives_up_on_a_dead_store_quickly_and_counts_it() -> None:
    store = RecordingStore()
    store.failures_left = 10**9
    writer = BatchingWriter(store, max_batch=10, max_delay=0.01, max_backoff=5.0, close_retries=2)
    for i in range(2500):
        writer.submit(full_event(i % 10))
    started = time.monotonic()
    writer.close(timeout=30)
    assert time.monotonic() - started < 3  # not 250 batches x retries x backoff
    assert writer.stats.failed == 2500 and writer.stats.written == 0 and writer.stats.queued == 0


def test_submit_after_close_is_rejected_not_raised() -> None:
    store = RecordingStore()
    writer = BatchingWriter(store)
    writer.close()
    writer.submit(full_event(1))
    assert writer.stats.rejected == 1 and store.events == []


def test_fanout_isolates_a_failing_sink() -> None:
    class Broken:
        def submit(self, event: RequestEvent) -> None:
            raise RuntimeError("boom")

        def close(self) -> None:
            raise RuntimeError("boom")

    a, b = ListSink(), ListSink()
    fan = FanoutSink([a, Broken(), b])
    fan.submit(full_event(1))
    fan.close()
    assert a.events == b.events == [full_event(1)] and fan.errors == 1


def test_open_sink_for_the_gateway_settings(tmp_path: Path) -> None:
    from distillguard.config import Settings
    from distillguard.events.open import open_store
    from distillguard.events.writer import open_sink

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'gw.db'}")
    sink = open_sink(settings)
    sink.submit(full_event(1))
    sink.close()
    assert list(open_store(tmp_path / "gw.db", readonly=True).iter_events()) == [full_event(1)]


def test_open_sink_failure_is_a_config_error() -> None:
    import pytest

    from distillguard.config import ConfigError, Settings
    from distillguard.events.writer import open_sink

    with pytest.raises(ConfigError, match="event log"):
        open_sink(Settings(database_url="postgresql://127.0.0.1:1/nothing"))
