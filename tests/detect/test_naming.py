"""Who a flagged campaign *names* (publishes at its tier) besides who it links: fresh
members, two-account campaigns, and naming re-evaluated while the campaign score is cached."""

from __future__ import annotations

from dataclasses import replace

from synth import DAY, T0, Builder, _hex, _sig
from test_engine import replay

from distillguard.detect.api import Tier
from distillguard.detect.engine import DetectorConfig, DistillGuardDetector


def _detector(**scoring: float) -> DistillGuardDetector:
    config = DetectorConfig()
    config.scoring = replace(config.scoring, **scoring)  # type: ignore[arg-type]
    return DistillGuardDetector(config, enrich=False)


def _fresh_world() -> tuple[Builder, str, str, float]:
    """A confirmed hydra; at 1.5 days a fresh account (signed up 10 minutes earlier) and an
    old account both send 8 of the hydra's prompts, two minutes apart."""
    b = Builder(21)
    b.chat_users(20)
    hydra = set(b.hydra(12, per_account_day=150, days=2, shared_payment=False, templates=400))
    late = T0 + 1.5 * DAY
    prompts = [e for e in b.t.events if e.account_id in hydra][:8]
    fresh = b.account("hydra", campaign="hydra-1", created_at=late - 600, email_domain="gmail.com")
    old = b.account("student", created_at=T0 - 30 * DAY)
    for i, src in enumerate(prompts):
        for acct, dt in ((fresh, 0.0), (old, 30.0)):
            b.event(
                acct,
                late + 120.0 * i + dt,
                skeleton_hash=src.skeleton_hash,
                minhash=list(src.minhash or []),
                cot_score=0.9,
                completion_tokens=900,
            )
    return b, fresh, old, late


def test_fresh_account_joining_a_confirmed_campaign_is_named_within_its_first_requests() -> None:
    b, fresh, old, late = _fresh_world()
    first = replay(b.t, _detector())
    assert fresh in first and first[fresh] <= late + 120.0 * 3 + 300.0
    # the old account asks the same but has no signup/infrastructure tie: not named
    assert old not in first
    # with the fresh-member rule off it is not named at all within its 8 requests
    assert fresh not in replay(b.t, _detector(fresh_link_min=1.01))


def _pair_world() -> tuple[Builder, list[str]]:
    """Two harvest accounts with mostly their own prompts and 3 templates in common: one
    link between them, weaker than 0.8."""
    b = Builder(31)
    b.chat_users(20)
    rng = b.rng
    shared = [(_hex(rng), _sig(rng)) for _ in range(3)]
    pair = []
    for i in range(2):
        acct = b.account("hydra", campaign="pair", created_at=T0 - 3 * DAY + i * 3 * 3600)
        pair.append(acct)
        own = [(_hex(rng), _sig(rng)) for _ in range(60)]
        for _ in range(400):
            skel, base = rng.choice(shared) if rng.random() < 0.15 else rng.choice(own)
            b.event(
                acct,
                T0 + rng.uniform(0, 2 * DAY),
                skeleton_hash=skel,
                minhash=_sig(rng, base, noise=10),
                cot_score=0.9,
                completion_tokens=900,
                client_ip=f"{rng.randrange(256)}.{rng.randrange(256)}.9.9",
            )
    return b, pair


def _named(det: DistillGuardDetector, now: float) -> set[str]:
    result = det.assess(now)
    return {a for c in result.campaigns.values() if c.tier >= Tier.SUSPECT for a in c.accounts}


def test_two_account_campaign_names_both_on_one_firm_link() -> None:
    b, pair = _pair_world()
    end = T0 + 2 * DAY + 1
    det = _detector()
    replay(b.t, det)
    assert all(0.6 <= det._link_best[a] < 0.8 for a in pair)  # the case the rule is for
    assert _named(det, end) == set(pair)
    off = _detector(pair_link_min=1.01)
    replay(b.t, off)
    assert not _named(off, end) & set(pair)


def test_naming_is_re_evaluated_while_the_campaign_score_is_cached() -> None:
    """A linked member turns harvest-shaped (its reasoning share rises) late, adding far less
    than 3% to its campaign's requests: it is named at the next assessment all the same."""
    b = Builder(17)
    b.chat_users(10)
    hydra = b.hydra(12, per_account_day=150, days=1, shared_payment=False, templates=400)
    prompts = [e for e in b.t.events if e.account_id in set(hydra)]
    late = T0 + 1.2 * DAY
    member = b.account("hydra", campaign="hydra-1", created_at=T0 - 10 * DAY)
    for i, src in enumerate(prompts[:80]):
        early = i < 50  # first 50 requests: the campaign's prompts without the reasoning ask
        b.event(
            member,
            (T0 + 0.1 * DAY + i * 1800.0) if early else (late + (i - 50) * 60.0),
            skeleton_hash=src.skeleton_hash,
            minhash=list(src.minhash or []),
            cot_score=0.0 if early else 0.9,
            completion_tokens=900,
        )
    assert 0.03 * len(prompts) > 30  # the late burst alone cannot refresh the cached score
    det = _detector()
    replay(b.t, det)
    now = late + 30 * 60.0 + 600.0
    assert member in _named(det, now)


def test_a_named_replacement_stays_named_past_its_tenth_request() -> None:
    """Named on its card at its first request; its prompts carry no reasoning ask (a rewrite
    job), so its own shape would not name it once it has 10 requests: it stays named."""
    b = Builder(13)
    b.chat_users(20)
    hydra = b.hydra(12, per_account_day=150, days=2, templates=400)
    pay = next(a.payment_fingerprint for a in b.t.accounts if a.account_id == hydra[0])
    prompts = [e for e in b.t.events if e.account_id in set(hydra)]
    late = T0 + 1.5 * DAY
    fresh = b.account("hydra", campaign="hydra-1", created_at=late, payment_fingerprint=pay)
    for i, src in enumerate(prompts[:16]):
        b.event(
            fresh,
            late + 60.0 + 300.0 * i,
            skeleton_hash=src.skeleton_hash,
            minhash=list(src.minhash or []),
            cot_score=0.0,
            completion_tokens=900,
        )
    det = _detector()
    first = replay(b.t, det)
    assert fresh in first and first[fresh] <= late + 60.0 + 2 * 300.0
    assert det.accounts[fresh].n == 16
    assert fresh in _named(det, late + 60.0 + 300.0 * 16)
