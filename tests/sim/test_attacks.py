"""Each attack strategy has the statistical shape it claims."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from itertools import combinations

import numpy as np
import pytest

from distillguard.sim.generate import SimResult, generate
from distillguard.sim.scenario import scenario_from_dict
from distillguard.sim.world import DISPOSABLE

from .sim_helpers import accounts_of, by_persona, per_account_daily_max

DAYS = 3


@pytest.fixture(scope="module")
def groups(mini: SimResult) -> dict:
    return by_persona(mini)


def _active_accounts(events: list, t0: float, t1: float) -> int:
    return len({e.account_id for e in events if t0 <= e.ts_start < t1})


def test_bulk_harvest_is_one_account_at_its_rate(mini: SimResult, groups: dict) -> None:
    ev = groups["bulk_harvest"]
    assert len({e.account_id for e in ev}) == 1
    assert abs(len(ev) - 2000 * DAYS) < 0.1 * 2000 * DAYS
    hours = np.floor((np.array([e.ts_start for e in ev]) % 86400) / 3600).astype(int)
    counts = np.bincount(hours, minlength=24)
    assert counts.min() > 0.6 * counts.mean()  # machine-flat, no diurnal dip


def test_hydra_load_balances_and_replaces_banned_accounts(mini: SimResult, groups: dict) -> None:
    ev = groups["hydra"]
    start = mini.events[0].ts_start
    accts = accounts_of(mini, "hydra")
    assert len(accts) > 30  # 20 slots plus replacements after bans (mean lifetime 0.8 days over 3 days)
    # At any moment about `accounts` (20) are active.
    for h in (12, 36, 60):
        active = _active_accounts(ev, start + h * 3600, start + (h + 2) * 3600)
        assert 12 <= active <= 24, active
    # Replacement accounts sign up during the run, shortly before they start sending.
    first_seen = {}
    for e in ev:
        first_seen.setdefault(e.account_id, e.ts_start)
    fresh = [a for a in accts if a.created_at > start]
    assert len(fresh) >= 8
    for a in fresh:
        if a.account_id in first_seen:
            assert 0 <= first_seen[a.account_id] - a.created_at < 12 * 3600
    # Load balancing: concurrently active accounts carry similar request rates.
    counts = Counter(e.account_id for e in ev if start + 24 * 3600 <= e.ts_start < start + 30 * 3600)
    busy = np.array([c for c in counts.values() if c > 5])
    assert busy.std() / busy.mean() < 0.6
    # Rotating proxies: many IPs per account.
    ips = defaultdict(set)
    for e in ev:
        ips[e.account_id].add(e.client_ip)
    assert np.median([len(s) for s in ips.values()]) > 10


def test_hydra_metadata_overlaps_within_campaign_not_across_legit(mini: SimResult) -> None:
    hydra = accounts_of(mini, "hydra")
    assert len({a.payment_fingerprint for a in hydra}) <= 3  # shared payment pool
    assert {a.email_domain for a in hydra} <= set(DISPOSABLE)

    def shared_card_rate(accts: list) -> float:
        pairs = list(combinations(accts[:60], 2))
        return float(np.mean([a.payment_fingerprint == b.payment_fingerprint for a, b in pairs]))

    chat = accounts_of(mini, "chat_user")
    assert shared_card_rate(hydra) > 0.2
    assert shared_card_rate(chat) == 0.0
    # Distinct-metadata campaigns (low-and-slow) look like legit users on this axis.
    slow = accounts_of(mini, "low_and_slow")
    assert shared_card_rate(slow) == 0.0


def test_low_and_slow_stays_under_per_account_limits(mini: SimResult, groups: dict) -> None:
    ev = groups["low_and_slow"]
    daily = per_account_daily_max(ev)
    assert len(daily) == 40
    assert max(daily.values()) < 60  # knob: 30/day per account; Poisson noise only
    chat_daily = per_account_daily_max(groups["chat_user"])
    assert max(daily.values()) < 3 * max(chat_daily.values())  # nothing a per-account threshold separates
    assert abs(len(ev) - 40 * 30 * DAYS) < 0.12 * 40 * 30 * DAYS
    scripts = Counter(_script(e.prompt_text or "") for e in ev)
    assert {"latin", "cjk", "cyrillic"} <= set(scripts)  # several languages
    assert len({e.prompt_text for e in ev}) > 0.9 * len(ev)  # paraphrased, not repeated
    assert len({e.system_hash for e in ev}) > 50  # persona rotation
    assert len({e.user_agent for e in ev}) > 5


def test_harvest_can_wrap_real_user_questions(mini: SimResult, groups: dict) -> None:
    from distillguard.sim.text.sharegpt import load_corpus

    real = load_corpus("eval").short_questions
    by_head = {q[:30]: q for q in real if len(q) >= 30}
    ev = groups["low_and_slow"]
    wrapped = sum(_contains_real(e.prompt_text or "", by_head) for e in ev)
    assert 0.3 * len(ev) < wrapped < 0.75 * len(ev)  # knob wrap_real=0.5 (short questions only counted)
    assert sum(_contains_real(e.prompt_text or "", by_head) for e in groups["hydra"]) == 0  # wrap_real=0


def test_logprob_extraction_shape(groups: dict) -> None:
    ev = groups["logprob_extraction"]
    assert all(e.logprobs and e.logit_bias and e.max_tokens == 1 for e in ev)
    assert all(e.top_logprobs == (5 if e.endpoint == "/v1/completions" else 20) for e in ev)
    assert all(e.temperature == 0.0 for e in ev)
    assert len({e.prompt_text for e in ev}) < 0.2 * len(ev)  # many near-identical prompts
    assert {e.endpoint for e in ev} <= {"/v1/completions", "/v1/chat/completions"}


def test_reseller_blending_ratio_and_shared_infrastructure(mini: SimResult, groups: dict) -> None:
    ev = groups["reseller"]
    harvest = [e for e in ev if e.request_id in mini.truth.attack_requests]
    share = len(harvest) / len(ev)
    assert 0.21 < share < 0.29  # knob harvest_share=0.25
    legit_part = [e for e in ev if e.request_id not in mini.truth.attack_requests]
    assert {e.client_ip for e in harvest} <= {e.client_ip for e in legit_part}
    assert {e.user_agent for e in harvest} == {e.user_agent for e in legit_part}
    assert {e.system_hash for e in harvest} <= {e.system_hash for e in legit_part}
    assert all(mini.truth.accounts[e.account_id].is_attack for e in ev)


def test_agentic_harvest_sends_tool_trajectories(groups: dict) -> None:
    ev = groups["agentic_harvest"]
    with_tools = [e for e in ev if e.n_tools > 0]
    assert 0.5 < len(with_tools) / len(ev) < 0.9  # styles agentic 0.7 / coding 0.3
    assert any(e.has_tool_results and "t" in e.roles for e in with_tools)
    assert len({e.system_hash for e in ev}) > 30


def test_model_release_pivot() -> None:
    scenario = scenario_from_dict(
        {
            "name": "pivot_test",
            "days": 4,
            "models": [{"name": "old", "release_day": -100}, {"name": "new", "release_day": 2}],
            "legit": [{"persona": "chat_user", "count": 150, "sessions_per_day": 2}],
            "attacks": [
                {
                    "attack": "model_pivot",
                    "name": "pivot",
                    "accounts": 10,
                    "requests_per_day": 3000,
                    "pivot_to": "new",
                    "pivot_delay_h": 6,
                    "account_lifetime_days": None,
                }
            ],
        }
    )
    r = generate(scenario, seed=3)
    release = scenario.start_ts + 2 * 86400
    attack = [e for e in r.events if e.request_id in r.truth.attack_requests]
    legit = [e for e in r.events if e.request_id not in r.truth.attack_requests]
    assert not any(e.model == "new" for e in r.events if e.ts_start < release)
    day_after = [e for e in attack if release + 6 * 3600 <= e.ts_start < release + 86400]
    assert np.mean([e.model == "new" for e in day_after]) > 0.9
    legit_after = [e for e in legit if release <= e.ts_start < release + 86400]
    assert np.mean([e.model == "new" for e in legit_after]) < 0.3  # gradual adoption


def test_synchronized_timing() -> None:
    scenario = scenario_from_dict(
        {
            "name": "sync_test",
            "days": 1,
            "legit": [],
            "attacks": [
                {
                    "attack": "hydra",
                    "name": "sync",
                    "accounts": 12,
                    "requests_per_day": 6000,
                    "timing": "synchronized",
                    "sync_period_s": 60,
                    "sync_jitter_s": 1,
                    "account_lifetime_days": None,
                }
            ],
        }
    )
    r = generate(scenario, seed=5)
    phase = np.array([e.ts_start for e in r.events]) % 60
    # Requests cluster around the tick: within +-4 s of it far more often than chance (8/60).
    near = np.mean((phase < 4) | (phase > 56))
    assert near > 0.9


def _script(text: str) -> str:
    if re.search(r"[\u4e00-\u9fff]", text):
        return "cjk"
    if re.search(r"[\u0400-\u04ff]", text):
        return "cyrillic"
    return "latin"


def _contains_real(text: str, by_head: dict[str, str]) -> bool:
    """A real question appears inside the prompt (wrappers add at most a short greeting)."""
    for cut in range(0, min(len(text), 24)):
        q = by_head.get(text[cut : cut + 30])
        if q is not None and q in text:
            return True
    return False


def test_adaptive_harvest_text_has_no_common_phrase(groups: dict) -> None:
    """No fixed string finds a paraphrasing multilingual campaign: every 16-character
    shingle occurs in under 10% of its prompts."""
    prompts = [e.prompt_text or "" for e in groups["low_and_slow"]]
    df: Counter[str] = Counter()
    for p in prompts:
        df.update({p[i : i + 16] for i in range(max(1, len(p) - 15))})
    assert df.most_common(1)[0][1] < 0.10 * len(prompts)
    # ...while a naive single-template harvester (paraphrase off) repeats its wording.
    naive = scenario_from_dict(
        {
            "name": "naive",
            "days": 0.5,
            "legit": [],
            "attacks": [
                {"attack": "bulk_harvest", "name": "naive", "requests_per_day": 2000, "paraphrase": False}
            ],
        }
    )
    naive_prompts = [e.prompt_text or "" for e in generate(naive, seed=1).events]
    df2: Counter[str] = Counter()
    for p in naive_prompts:
        df2.update({p[i : i + 16] for i in range(max(1, len(p) - 15))})
    assert df2.most_common(1)[0][1] > 0.9 * len(naive_prompts)
