"""`--through`: scenario requests sent with the official SDKs arrive well-formed (mock upstream as target)."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from distillguard.sim.generate import Simulation
from distillguard.sim.scenario import scenario_from_dict
from distillguard.sim.through import anthropic_request, openai_request, send_through

SPEC = {
    "name": "through",
    "days": 0.2,
    "start": "2026-03-02T15:00:00Z",
    "legit": [
        {"persona": "chat_user", "count": 20, "sessions_per_day": 4},
        {
            "persona": "coding_agent",
            "count": 4,
            "anthropic_share": 1.0,
            "thinking_share": 1.0,
            "countries": ["US"],
        },
    ],
    "attacks": [{"attack": "logprob_extraction", "name": "probe", "accounts": 2, "requests_per_day": 600}],
}


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return Simulation(scenario_from_dict(SPEC), seed=2)


def test_request_rebuilding_matches_event_shape(sim: Simulation) -> None:
    for ev in sim.iter_events():
        if ev.flavor == "anthropic":
            args = anthropic_request(ev)
            n_msgs = len(args["messages"]) + ("system" in args)
            assert n_msgs == ev.n_messages
            assert args["messages"][-1]["role"] == "user"
            roles = [m["role"] for m in args["messages"]]
            assert all(a != b for a, b in itertools.pairwise(roles))  # alternation
            if ev.thinking_budget:
                assert args["max_tokens"] > ev.thinking_budget
        else:
            args = openai_request(ev)
            if ev.endpoint == "/v1/completions":
                assert args["prompt"] == ev.prompt_text
            else:
                assert len(args["messages"]) == ev.n_messages
                users = [m for m in args["messages"] if m["role"] == "user"]
                assert users[-1]["content"] == ev.prompt_text
            assert ("logit_bias" in args) == ev.logit_bias


@pytest.mark.slow
def test_send_through_mock_upstream(sim: Simulation) -> None:
    from distillguard.mock.server import run_mock_in_thread

    keys = {a.account_id: f"sk-test-{i}" for i, a in enumerate(sim.accounts)}
    del keys[sim.accounts[0].account_id]  # an account without a key is skipped, not sent
    with run_mock_in_thread() as mock:
        report = send_through(sim, mock.url, keys, speedup=1e9, concurrency=8, limit=64)
        received = mock.received
    assert report.sent + report.skipped == 64
    assert report.failed == 0, report.errors
    assert report.ok == report.sent > 40
    assert any(r["body"].get("stream") for r in received if r["path"] == "/v1/messages")
    paths = Counter(r["path"] for r in received)
    assert set(paths) == {"/v1/chat/completions", "/v1/messages", "/v1/completions"}, paths
    assert sum(paths.values()) == report.sent
    agent = [r["body"] for r in received if r["path"] == "/v1/messages" and r["body"].get("tools")]
    assert agent and any(b.get("thinking") for b in agent)
    auth = {
        r["headers"].get("Authorization")
        or r["headers"].get("authorization")
        or r["headers"].get("X-Api-Key")
        or r["headers"].get("x-api-key")
        for r in received
    }
    assert all(a and "sk-test-" in a for a in auth)
    probes = [r["body"] for r in received if r["body"].get("logit_bias")]
    assert probes and all(b.get("max_tokens") == 1 for b in probes)
