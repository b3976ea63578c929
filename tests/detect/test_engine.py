from __future__ import annotations

from synth import DAY, T0, Builder, Traffic

from distillguard.detect.api import Detector, Tier
from distillguard.detect.engine import DetectorConfig, DistillGuardDetector


def replay(traffic: Traffic, detector: DistillGuardDetector, cadence: float = 300.0) -> dict[str, float]:
    """Feed accounts and events in time order; return account -> first time at SUSPECT+."""
    for info in sorted(traffic.accounts, key=lambda a: a.created_at):
        detector.observe_account(info)
    events = traffic.sorted_events()
    first: dict[str, float] = {}
    tick = events[0].ts_start + cadence

    def assess(now: float) -> None:
        result = detector.assess(now)
        for acct, flag in result.accounts.items():
            if flag.tier >= Tier.SUSPECT:
                first.setdefault(acct, now)

    for event in events:
        while event.ts_start >= tick:
            assess(tick)
            tick += cadence
        detector.observe(event)
    assess(tick)
    return first


def test_detector_satisfies_protocol() -> None:
    assert isinstance(DistillGuardDetector(), Detector)
    assert DistillGuardDetector().name == "distillguard"


def test_hydra_found_hard_negatives_spared() -> None:
    b = Builder(7)
    b.chat_users(40)
    b.students(25)  # one campus: shared IP prefix and email domain, lots of "step by step"
    b.company(10)  # one org, one system prompt, one card
    batch = b.batch_pipeline(per_day=1500)
    hydra = b.hydra(30, shared_payment=False)
    det = DistillGuardDetector(enrich=False)
    first = replay(b.t, det)
    flagged = set(first)
    assert set(hydra) <= flagged
    legit = {a for a, p in b.t.label.items() if p != "hydra"}
    assert not (flagged & legit), sorted(b.t.label[a] for a in flagged & legit)
    assert batch not in flagged
    # the campaign is reported as one, with reasons that carry numbers and evidence
    result = det.assess(b.t.sorted_events()[-1].ts_start + 1)
    campaigns = [c for c in result.campaigns.values() if c.tier >= Tier.SUSPECT]
    assert len(campaigns) == 1
    campaign = campaigns[0]
    assert set(campaign.accounts) == set(hydra)
    codes = {r.code for r in campaign.reasons}
    assert "cot_share" in codes
    assert any(r.code in ("shared_skeleton", "near_duplicate_prompts") for r in campaign.reasons)
    assert all(any(ch.isdigit() for ch in r.detail) for r in campaign.reasons)
    assert any(r.evidence for r in campaign.reasons)
    # members inherit the campaign tier and id
    assert all(result.accounts[a].campaign_id == campaign.subject_id for a in hydra)


def test_logit_extraction_alone_is_flagged() -> None:
    b = Builder(3)
    b.chat_users(10)
    acct = b.extractor(requests=300)
    first = replay(b.t, DistillGuardDetector(enrich=False))
    assert acct in first
    assert all(b.t.label[a] == "extractor" for a in first)


def test_config_round_trip(tmp_path) -> None:
    cfg = DetectorConfig()
    cfg.scoring.tiers["SUSPECT"] = 0.71
    cfg.link.weights[6] = 2.0
    path = tmp_path / "thresholds.json"
    cfg.save(path)
    loaded = DetectorConfig.load(path)
    assert loaded.scoring.tiers["SUSPECT"] == 0.71
    assert loaded.link.weights[6] == 2.0
    assert loaded.to_dict() == cfg.to_dict()


def test_observe_fingerprints_events_that_only_carry_text() -> None:
    from distillguard.events.schema import RequestEvent

    det = DistillGuardDetector()
    event = RequestEvent(
        request_id="r1", account_id="a1", ts_start=1.0, prompt_text="Explain step by step how a heap works."
    )
    det.observe(event)
    assert event.skeleton_hash is not None and event.minhash
    assert det.accounts["a1"].skeletons.values  # the skeleton reached the account's sketch


def test_idle_accounts_are_forgotten_flagged_ones_kept() -> None:
    b = Builder(9)
    b.chat_users(20, days=1)
    acct = b.extractor(requests=300, days=1)
    cfg = DetectorConfig()
    cfg.forget_after_s = 2 * 86400
    det = DistillGuardDetector(cfg, enrich=False)
    replay(b.t, det)
    assert len(det.accounts) == 21
    last = b.t.sorted_events()[-1].ts_start
    dropped = det.forget_idle(last + 3 * 86400)
    assert dropped == 20
    assert list(det.accounts) == [acct]
    assert all(acct in key for key in det.linker.pairs)
    assert det.assess(last + 3 * 86400).tier_of(acct) >= Tier.SUSPECT


def test_harvest_blended_into_product_traffic_is_flagged() -> None:
    """A reseller's key: 80% real product traffic, 20% one-shot reasoning harvest through the
    same system prompts and IPs. The harvest sub-stream is judged on its own volume."""
    b = Builder(11)
    b.chat_users(10)
    reseller = b.product_backend(per_day=1500, harvest_share=0.2)
    saas = b.product_backend(per_day=1500)
    first = replay(b.t, DistillGuardDetector(enrich=False))
    assert reseller in first
    assert saas not in first
    flag = DistillGuardDetector(enrich=False)
    replay(b.t, flag)
    reasons = flag.assess(b.t.sorted_events()[-1].ts_start + 1).accounts[reseller].reasons
    stream = [r for r in reasons if r.code == "harvest_stream"]
    assert stream and stream[0].evidence and any(ch.isdigit() for ch in stream[0].detail)


def test_short_answers_of_a_labelling_job_are_not_a_harvest_stream() -> None:
    """Same shape, but the one-shot 'grading-like' requests get one-word labels (a
    classification job): worthless to a distiller, not flagged."""
    b = Builder(12)
    b.chat_users(10)
    labeller = b.product_backend(per_day=1500, harvest_share=0.2, intent_tokens=8, other_tokens=8)
    assert labeller not in replay(b.t, DistillGuardDetector(enrich=False))


def test_replacement_paid_with_a_flagged_campaigns_card_inherits_on_first_request() -> None:
    b = Builder(13)
    b.chat_users(20)
    hydra = b.hydra(12, per_account_day=150, days=2)
    pay = next(a.payment_fingerprint for a in b.t.accounts if a.account_id == hydra[0])
    late = T0 + 1.5 * DAY
    fresh = b.account("hydra", campaign="hydra-1", created_at=late, payment_fingerprint=pay)
    b.event(fresh, late + 60, cot_score=0.9)
    other = b.account("chat_user", created_at=late)
    b.event(other, late + 60, cot_score=0.9)
    det = DistillGuardDetector(enrich=False)
    first = replay(b.t, det)
    assert set(hydra) <= set(first)
    assert fresh in first and first[fresh] <= late + 60 + 2 * 300.0
    assert other not in first
    result = det.assess(b.t.sorted_events()[-1].ts_start + 1)
    assert result.accounts[fresh].campaign_id == result.accounts[hydra[0]].campaign_id


def test_logit_probe_with_one_token_answers_is_flagged_sooner() -> None:
    """logit_bias + top_logprobs + max_tokens=1 reads a biased next-token distribution and
    nothing else: flagged sooner than the same requests asking for a real answer."""
    b = Builder(5)
    b.chat_users(5)
    probe = b.extractor(requests=400, days=1)
    probe_at = replay(b.t, DistillGuardDetector(enrich=False))[probe]
    for event in b.t.events:
        if event.account_id == probe:
            event.max_tokens = 256
    answer_at = replay(b.t, DistillGuardDetector(enrich=False)).get(probe, float("inf"))
    assert probe_at < answer_at


def test_labs_re_running_one_public_benchmark_are_not_a_campaign() -> None:
    """Their shared benchmark items link them, but each runs a fixed workload: the overlap
    must not make them a campaign (nor drag any of them into one)."""
    b = Builder(17)
    b.chat_users(10)
    labs = b.eval_labs(12)
    det = DistillGuardDetector(enrich=False)
    flagged = set(replay(b.t, det))
    assert det.linker.edges, "the labs should be linked by the shared items"
    assert not (flagged & set(labs))
