"""`distillguard console --follow`: a standalone console that keeps up with a growing log."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from distillguard.console.data import ConsoleData, FixedAssessment
from distillguard.console.standalone import Follower, load_console_data
from distillguard.detect.api import Assessment
from distillguard.events.sqlite_store import SqliteEventStore

from .conftest import World


def test_follow_reads_new_events_and_reassesses(world: World, tmp_path: Path) -> None:
    events = list(SqliteEventStore(world.db, readonly=True).iter_events())
    half = len(events) // 2
    db = str(tmp_path / "growing.db")
    writer = SqliteEventStore(db)
    writer.write_many(events[:half])
    data = load_console_data(db, accounts_path=world.accounts_path)
    first = data.assessment()
    assert data.index.events == half
    follower = Follower(data, interval_s=0.2, poll_s=0.1).start()
    try:
        writer.write_many(events[half:])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with data.lock:
                caught_up = data.index.events == len(events)
            if (
                caught_up
                and follower.runner.processed == len(events) - half
                and data.assessment() is not first
            ):
                break
            time.sleep(0.2)
        assert data.index.events == len(events)
        latest = data.assessment()
        assert latest is not first and latest.at >= first.at
        assert data.overview().requests == len(events)
    finally:
        follower.close()
        writer.close()


def test_follow_needs_the_hunt_detector() -> None:
    with pytest.raises(ValueError, match="holds the detector"):
        Follower(ConsoleData(None, FixedAssessment(Assessment(at=0.0))))
