from __future__ import annotations

import time

from synth import Builder

from distillguard.detect.api import Assessment, Flag, Tier
from distillguard.detect.engine import DistillGuardDetector
from distillguard.detect.online import OnlineDetector, tier_entries
from distillguard.detect.tierstore import MemoryTierStore
from distillguard.events.schema import AccountInfo, RequestEvent


class Recorder:
    """A detector that flags every account it has seen (to test the runner alone)."""

    name = "recorder"

    def __init__(self) -> None:
        self.events: list[str] = []
        self.infos: list[str] = []

    def observe_account(self, info: AccountInfo) -> None:
        self.infos.append(info.account_id)

    def observe(self, event: RequestEvent) -> None:
        if event.request_id == "boom":
            raise RuntimeError("bad event")
        self.events.append(event.request_id)

    def assess(self, now: float) -> Assessment:
        flags = {rid: Flag(kind="account", subject_id=rid, risk=0.9, tier=Tier.LIKELY) for rid in self.events}
        return Assessment(at=now, accounts=flags)


def test_background_thread_publishes_tiers() -> None:
    store = MemoryTierStore()
    recorder = Recorder()
    online = OnlineDetector(recorder, store, interval_s=0.05).start()
    online.submit_account(AccountInfo(account_id="x"))
    online.submit(RequestEvent(request_id="boom", ts_start=1.0))  # must not kill the thread
    online.submit(RequestEvent(request_id="r1", ts_start=1.0))
    deadline = time.time() + 5
    while store.get("r1") is None and time.time() < deadline:
        time.sleep(0.02)
    online.close()
    got = store.get("r1")
    assert got is not None and got.tier == Tier.LIKELY
    assert recorder.infos == ["x"]
    assert online.errors == 1
    assert online.assessments >= 1


def test_queue_is_bounded_and_counts_drops() -> None:
    online = OnlineDetector(Recorder(), MemoryTierStore(), max_queue=10)
    for i in range(25):
        online.submit(RequestEvent(request_id=f"r{i}", ts_start=float(i)))
    assert online.dropped == 15
    online.step()
    assert online.processed == 10


def test_real_engine_through_runner() -> None:
    b = Builder(5)
    b.chat_users(10)
    acct = b.extractor(requests=300)
    clock_now = [0.0]
    store = MemoryTierStore()
    online = OnlineDetector(DistillGuardDetector(enrich=False), store, clock=lambda: clock_now[0])
    for info in b.t.accounts:
        online.submit_account(info)
    for event in b.t.sorted_events():
        online.submit(event)
        clock_now[0] = event.ts_start
    online.step()
    got = store.get(acct)
    assert got is not None and got.tier >= Tier.SUSPECT
    assert "logprob_extraction" in got.reasons
    assert all(store.get(a) is None for a, p in b.t.label.items() if p != "extractor")


def test_tier_entries_keeps_campaign() -> None:
    flag = Flag(kind="account", subject_id="a", risk=0.5, tier=Tier.SUSPECT, campaign_id="c1")
    entries = tier_entries(Assessment(at=3.0, accounts={"a": flag}))
    assert entries["a"].campaign_id == "c1" and entries["a"].updated_at == 3.0


def test_assess_at_waits_for_an_assessment_at_the_simulated_moment() -> None:
    """A caller holding a simulated clock still gets tiers computed at its moment, from
    everything it submitted before asking, however long the assessment takes."""
    seen: list[float] = []
    store = MemoryTierStore()
    online = OnlineDetector(
        Recorder(), store, interval_s=1e12, clock=lambda: 0.0, on_assessment=lambda a: seen.append(a.at)
    ).start()
    try:
        for i in range(50):
            online.submit(RequestEvent(request_id=f"r{i}", ts_start=100.0))
        got = online.assess_at(300.0, timeout_s=10)
        assert got is not None and got.at == 300.0
        assert set(got.accounts) == {f"r{i}" for i in range(50)}  # nothing submitted was left out
        assert store.get("r49") is not None
        online.submit(RequestEvent(request_id="late", ts_start=400.0))
        again = online.assess_at(600.0, timeout_s=10)
        assert again is not None and "late" in again.accounts
    finally:
        online.close()
    assert seen[:2] == [300.0, 600.0]  # the runner's own cadence (1e12 s) never fired between


def test_assess_at_without_a_thread_runs_in_the_caller() -> None:
    online = OnlineDetector(Recorder(), MemoryTierStore(), clock=lambda: 5.0)
    online.submit(RequestEvent(request_id="r1", ts_start=1.0))
    got = online.assess_at(42.0)
    assert got is not None and got.at == 42.0 and "r1" in got.accounts
    assert online.step().at == 5.0  # default: the clock's now
