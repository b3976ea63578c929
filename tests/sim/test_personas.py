"""Each legitimate persona has the statistical shape it claims (on the shared `mini` scenario)."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest

from distillguard.sim.generate import SimResult

from .sim_helpers import accounts_of, by_persona, local_hours

DAYS = 3


@pytest.fixture(scope="module")
def groups(mini: SimResult) -> dict:
    return by_persona(mini)


def test_every_persona_present(groups: dict) -> None:
    for persona in (
        "chat_user",
        "coding_agent",
        "saas_backend",
        "batch_pipeline",
        "eval_researcher",
        "student",
        "translation_service",
    ):
        assert len(groups[persona]) > 50, persona


def test_chat_users_are_multi_turn_and_diurnal(mini: SimResult, groups: dict) -> None:
    ev = groups["chat_user"]
    assert np.mean([e.n_user_turns > 1 for e in ev]) > 0.3
    assert max(e.n_user_turns for e in ev) >= 5
    hours = local_hours(mini, ev)
    night = np.mean((hours >= 2) & (hours < 6)) / 4
    day = np.mean((hours >= 9) & (hours < 18)) / 9
    assert day > 3 * night
    # Turns of one session come in bursts: most gaps between an account's consecutive requests are short.
    by_acct = defaultdict(list)
    for e in ev:
        by_acct[e.account_id].append(e.ts_start)
    gaps = np.concatenate([np.diff(sorted(t)) for t in by_acct.values() if len(t) > 1])
    assert np.median(gaps) < 600


def test_coding_agents_use_tools_and_long_contexts(mini: SimResult, groups: dict) -> None:
    ev = groups["coding_agent"]
    assert all(e.n_tools > 0 for e in ev)
    assert np.mean([e.has_tool_results for e in ev]) > 0.6
    assert np.median([e.context_chars for e in ev]) > 20_000
    assert all("t" in e.roles for e in ev if e.has_tool_results)
    # Companies: several developers share an org, its email domain and its card.
    accts = accounts_of(mini, "coding_agent")
    per_org = Counter(a.org_id for a in accts)
    assert max(per_org.values()) > 1
    org_cards = defaultdict(set)
    for a in accts:
        org_cards[a.org_id].add(a.payment_fingerprint)
    assert all(len(c) == 1 for c in org_cards.values())


def test_saas_backend_one_key_many_users(mini: SimResult, groups: dict) -> None:
    ev = groups["saas_backend"]
    assert len({e.account_id for e in ev}) == 1
    assert abs(len(ev) - 2000 * DAYS) < 0.1 * 2000 * DAYS
    assert len({e.system_hash for e in ev}) == 1
    assert len({e.prompt_text for e in ev}) > 0.3 * len(ev)
    assert len({e.client_ip for e in ev}) <= 4


def test_batch_pipeline_is_templated_and_bursty(groups: dict) -> None:
    ev = groups["batch_pipeline"]
    assert all(e.temperature == 0.0 for e in ev)
    for acct in {e.account_id for e in ev}:
        prompts = [e.prompt_text or "" for e in ev if e.account_id == acct]
        prefix = Counter(p[:25] for p in prompts).most_common(1)[0][1]
        assert prefix / len(prompts) > 0.95  # one template per account
        ts = np.sort([e.ts_start for e in ev if e.account_id == acct])
        assert np.median(np.diff(ts)) < 2.0  # jobs run at machine speed


def test_eval_researchers_burst_and_ask_for_reasoning(groups: dict) -> None:
    ev = groups["eval_researcher"]
    ts = np.sort([e.ts_start for e in ev])
    assert np.median(np.diff(ts)) < 5.0
    assert any(
        "step by step" in (e.prompt_text or "").lower() or "reasoning" in (e.prompt_text or "").lower()
        for e in ev
    )
    assert all(e.temperature is not None for e in ev)


def test_students_share_campus_infrastructure(mini: SimResult, groups: dict) -> None:
    accts = accounts_of(mini, "student")
    domains = Counter(a.email_domain for a in accts)
    assert len(domains) == 3 and min(domains.values()) >= 25  # three universities
    created = np.array([a.created_at for a in accts])
    early = created < created.min() + 15 * 86400
    assert early.mean() > 0.8  # most signed up at semester start (a few enrol late)
    ev = groups["student"]
    accounts_per_ip = defaultdict(set)
    for e in ev:
        accounts_per_ip[e.client_ip].add(e.account_id)
    assert max(len(s) for s in accounts_per_ip.values()) >= 5  # campus NAT
    assert sum("step" in (e.prompt_text or "").lower() for e in ev) > 0.2 * len(ev)
    assert all(a.payment_fingerprint for a in accts)
    assert len({a.payment_fingerprint for a in accts}) == len(accts)


def test_translation_service_is_flat_and_templated(mini: SimResult, groups: dict) -> None:
    ev = groups["translation_service"]
    assert abs(len(ev) - 1500 * DAYS) < 0.1 * 1500 * DAYS
    hours = np.floor(local_hours(mini, ev)).astype(int)
    counts = np.bincount(hours, minlength=24)
    assert counts.min() > 0.5 * counts.mean()
    assert all("ranslat" in (e.prompt_text or "") for e in ev)


def test_legit_accounts_have_distinct_cards(mini: SimResult) -> None:
    legit = [a for a in mini.accounts if not mini.truth.accounts[a.account_id].is_attack]
    personal = [a for a in legit if mini.truth.accounts[a.account_id].persona != "coding_agent"]
    assert len({a.payment_fingerprint for a in personal}) == len(personal)
    start = mini.events[0].ts_start
    new = [a for a in legit if a.created_at > start]
    assert 0 < len(new) < 0.15 * len(legit)  # some legitimate users sign up during the run


def test_no_account_sends_before_it_exists(mini: SimResult) -> None:
    created = {a.account_id: a.created_at for a in mini.accounts}
    assert all(e.ts_start >= created[e.account_id] for e in mini.events)
