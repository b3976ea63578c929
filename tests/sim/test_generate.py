from __future__ import annotations

import msgspec
import pytest

from distillguard.events.schema import RequestEvent
from distillguard.sim.generate import SimResult, Simulation, generate
from distillguard.sim.scenario import Scenario


def _encode(events: list[RequestEvent]) -> bytes:
    return msgspec.json.encode(events)


def test_same_seed_same_events(mini_scenario: Scenario, mini: SimResult) -> None:
    again = generate(mini_scenario, seed=7)
    assert _encode(again.events) == _encode(mini.events)
    assert msgspec.json.encode(again.accounts) == msgspec.json.encode(mini.accounts)
    assert msgspec.json.encode(again.truth) == msgspec.json.encode(mini.truth)


def test_other_seed_other_events(mini_scenario: Scenario, mini: SimResult) -> None:
    other = generate(mini_scenario, seed=8)
    assert {e.request_id for e in other.events}.isdisjoint({e.request_id for e in mini.events[:1000]})
    assert [e.account_id for e in other.events[:50]] != [e.account_id for e in mini.events[:50]]


def test_events_sorted_and_inside_window(mini_scenario: Scenario, mini: SimResult) -> None:
    ts = [e.ts_start for e in mini.events]
    assert ts == sorted(ts)
    assert mini_scenario.start_ts <= ts[0] and ts[-1] < mini_scenario.end_ts
    assert len({e.request_id for e in mini.events}) == len(mini.events)


def test_truth_consistent_with_events(mini: SimResult) -> None:
    ids = {e.request_id: e for e in mini.events}
    known_accounts = {a.account_id for a in mini.accounts}
    assert set(mini.truth.accounts) == known_accounts
    assert {e.account_id for e in mini.events} <= known_accounts
    assert {a.org_id for a in mini.accounts} <= {o.org_id for o in mini.orgs}
    for rid, camp in mini.truth.attack_requests.items():
        ev = ids[rid]
        acct = mini.truth.accounts[ev.account_id]
        assert acct.is_attack and acct.campaign_id == camp
    # Every request of a non-blending attack account is harvest; legit accounts never are.
    for ev in mini.events:
        acct = mini.truth.accounts[ev.account_id]
        if not acct.is_attack:
            assert ev.request_id not in mini.truth.attack_requests
        elif acct.persona != "reseller":
            assert ev.request_id in mini.truth.attack_requests
    assert set(mini.truth.attack_requests.values()) == set(mini.truth.campaigns)


def test_events_carry_no_truth(mini: SimResult) -> None:
    truth_words = ("hydra", "harvest", "attack", "camp_", "slow", "probe", "reseller")
    for ev in mini.events[:: max(1, len(mini.events) // 2000)]:
        for text in (ev.account_id, ev.org_id, ev.key_id, ev.request_id, ev.user_agent):
            assert not any(w in text for w in truth_words)
        assert ev.campaign_id is None and ev.skeleton_hash is None and ev.minhash is None
    for org in mini.orgs:
        assert not any(w in org.name.lower() for w in truth_words)


def test_streaming_matches_generate(mini_scenario: Scenario, mini: SimResult) -> None:
    sim = Simulation(mini_scenario, seed=7)
    streamed = list(sim.iter_events(chunk=997))
    assert _encode(streamed) == _encode(mini.events)
    assert sim.n_events == len(mini.events)


def test_event_fields_filled(mini: SimResult) -> None:
    for ev in mini.events[:: max(1, len(mini.events) // 500)]:
        assert ev.client_ip.count(".") == 3 and ev.user_agent and ev.model
        assert ev.endpoint in ("/v1/chat/completions", "/v1/messages", "/v1/completions")
        assert (ev.flavor == "anthropic") == (ev.endpoint == "/v1/messages")
        assert ev.n_messages == len(ev.roles) and ev.roles.count("u") == ev.n_user_turns
        assert ev.prompt_text and ev.prompt_chars == len(ev.prompt_text)
        assert (ev.system_hash is None) == (ev.system_text is None)
        assert ev.prompt_tokens > 0 and ev.ts_end is not None and ev.ts_end >= ev.ts_start
        if ev.flavor == "anthropic":
            assert ev.max_tokens  # required by the Messages API
        if ev.status == 200:
            assert ev.ts_first_byte is not None and ev.finish_reason in ("stop", "length")
        else:
            assert ev.error_type and ev.completion_tokens == 0


@pytest.mark.slow
def test_deterministic_across_processes() -> None:
    """Nothing depends on Python's per-process hash randomization."""
    import os
    import subprocess
    import sys

    code = (
        "import hashlib, msgspec\n"
        "from distillguard.sim.generate import generate\n"
        "r = generate('mixed_campaigns', 3, scale=0.02)\n"
        "h = hashlib.sha256(msgspec.json.encode(r.events) + msgspec.json.encode(r.truth))\n"
        "print(len(r.events), h.hexdigest())\n"
    )
    outs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        cmd = [sys.executable, "-c", code]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        outs.add(done.stdout)
    assert len(outs) == 1
