"""The event pipeline process: what the gateway submits is fingerprinted, retained,
written and detected in a child process; assessments come back; close is lossless; a
killed child is replaced."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from distillguard.config import Settings
from distillguard.detect.tierstore import open_tier_store
from distillguard.events.open import open_store
from distillguard.events.schema import RequestEvent
from distillguard.gateway.sidecar import PipelineProcess


def event(i: int) -> RequestEvent:
    return RequestEvent(
        request_id=f"req_{i}",
        ts_start=time.time(),
        account_id=f"acct_{i % 3}",
        status=200,
        prompt_text=f"Explain step by step how topic number {i} works, with reasons.",
        response_text="First, consider the basics. Then the details follow.",
        roles="u",
        n_messages=1,
    )


def stored(db: Path) -> list[RequestEvent]:
    store = open_store(str(db), readonly=True)
    try:
        return list(store.iter_events())
    finally:
        store.close()


@pytest.mark.parametrize("retention", ["full", "fingerprints-only"])
def test_events_are_fingerprinted_retained_and_all_written_by_close(tmp_path: Path, retention: str) -> None:
    db = tmp_path / "dg.db"
    settings = Settings(database_url=str(db), retention=retention, assess_interval_s=0.2)  # type: ignore[arg-type]
    tiers = open_tier_store("memory://")
    pipeline = PipelineProcess(settings, tiers).start()
    for i in range(500):
        pipeline.submit(event(i))
    pipeline.close()  # right away: nothing acknowledged may be lost
    events = stored(db)
    assert sorted(e.request_id for e in events) == sorted(f"req_{i}" for i in range(500))
    assert all(e.skeleton_hash and e.minhash for e in events)  # fingerprinted in the child
    if retention == "full":
        assert all(e.prompt_text and e.response_text for e in events)
    else:
        assert all(e.prompt_text is None and e.response_text is None for e in events)
    assert pipeline.final_stats["written"] == 500 and pipeline.final_stats["detected"] == 500
    # The last assessment came back and was published where the gateway reads tiers.
    assert pipeline.assessments >= 1 and pipeline.last_assessment is not None
    assert not pipeline._process.is_alive()


def test_assessments_reach_the_gateway_while_running(tmp_path: Path) -> None:
    settings = Settings(database_url=str(tmp_path / "dg.db"), assess_interval_s=0.1)
    seen = []
    pipeline = PipelineProcess(settings, open_tier_store("memory://"), on_assessment=seen.append)
    with pipeline:
        pipeline.submit(event(1))
        deadline = time.monotonic() + 30
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen, "no assessment came back"
    assert pipeline.last_assessment is seen[-1]


def test_a_killed_pipeline_is_replaced_and_later_events_are_written(tmp_path: Path) -> None:
    db = tmp_path / "dg.db"
    pipeline = PipelineProcess(Settings(database_url=str(db), detect=False), None, flush_interval_s=0.01)
    pipeline.start()
    first = pipeline._process
    os.kill(first.pid, signal.SIGKILL)
    first.join(10)
    for i in range(50):
        pipeline.submit(event(i))
    deadline = time.monotonic() + 30
    while pipeline._process is first and time.monotonic() < deadline:
        time.sleep(0.05)
    pipeline.close()
    assert pipeline.restarts == 1
    assert sorted(e.request_id for e in stored(db)) == sorted(f"req_{i}" for i in range(50))


def test_close_without_start_does_nothing(tmp_path: Path) -> None:
    pipeline = PipelineProcess(Settings(database_url=str(tmp_path / "dg.db")), None)
    pipeline.submit(event(1))
    pipeline.close()
    assert pipeline._process is None
