from __future__ import annotations

import random

from distillguard.detect.accounts import AccountState, BottomK, WindowConfig, ip_prefix, mix, observe_event
from distillguard.detect.scoring import member_night, night_share
from distillguard.events.schema import RequestEvent


def test_bottom_k_estimates_distinct_count() -> None:
    sketch = BottomK(64)
    rng = random.Random(1)
    values = [mix(rng.getrandbits(56)) for _ in range(20_000)]
    for v in values + values[:5000]:  # repeats do not count
        sketch.add(v)
    assert 15_000 < sketch.distinct() < 26_000
    small = BottomK(64)
    for v in values[:10]:
        small.add(v)
    assert small.distinct() == 10


def test_state_tracks_shares_gaps_and_evidence() -> None:
    cfg = WindowConfig()
    state = AccountState("a", cfg)
    for i in range(30):
        event = RequestEvent(
            request_id=f"r{i}", account_id="a", ts_start=1000.0 + 60 * i, n_user_turns=1,
            cot_score=0.9 if i % 2 else 0.0, logprobs=True, logit_bias=i < 3, skeleton_hash=f"{i % 3:016x}",
            client_ip="10.1.2.3",
        )  # fmt: skip
        observe_event(state, event, cfg, [])
    assert state.n == 30 and state.n_cot == 15 and state.n_logit_bias == 3
    assert state.gap_cv() < 0.01  # a metronome
    assert state.skeletons.distinct() == 3
    assert state.evidence["logit_bias"] == ["r0", "r1", "r2"]
    assert state.ip_prefixes == ["10.1.2"]


def test_night_share_separates_people_from_scripts() -> None:
    office = [0] * 24
    for h in range(9, 18):
        office[h] = 10
    assert night_share(office) == 0.0
    flat = [5] * 24
    assert abs(night_share(flat) - 1 / 3) < 1e-9
    assert member_night(flat, 5) < member_night(flat, 500) == 1.0


def test_ip_prefix() -> None:
    assert ip_prefix("203.0.113.9") == "203.0.113"
    assert ip_prefix("2001:db8:1:2::1") == "2001:db8:1"
    assert ip_prefix("") == ""
