"""The two baselines on tiny inputs."""

from __future__ import annotations

from distillguard.detect.api import Detector, Tier
from distillguard.detect.baselines import PhraseMatchDetector, RateThresholdDetector
from distillguard.events.schema import AccountInfo, RequestEvent


def _ev(i: int, acct: str, ts: float, text: str | None = None, tokens: int = 10) -> RequestEvent:
    return RequestEvent(request_id=f"{acct}-{i}", account_id=acct, ts_start=ts, prompt_text=text,
                        completion_tokens=tokens)  # fmt: skip


def test_baselines_satisfy_the_detector_protocol():
    assert isinstance(RateThresholdDetector(), Detector)
    assert isinstance(PhraseMatchDetector(), Detector)


def test_rate_hour_limit_flags_only_the_fast_account():
    det = RateThresholdDetector(max_requests_per_hour=10, max_requests_per_day=10_000)
    det.observe_account(AccountInfo(account_id="fast"))
    for i in range(11):  # 11 requests in 11 minutes
        det.observe(_ev(i, "fast", 60.0 * i))
    for i in range(11):  # 11 requests over 11 hours: never more than 2 in an hour
        det.observe(_ev(i, "slow", 3600.0 * i))
    assessment = det.assess(40_000.0)
    assert set(assessment.accounts) == {"fast"}
    flag = assessment.accounts["fast"]
    assert flag.tier >= Tier.SUSPECT
    assert flag.reasons[0].code == "rate_hour"
    assert "11 requests in the last hour (limit 10)" in flag.reasons[0].detail
    assert flag.first_flagged == 600.0
    assert flag.requests == 11


def test_rate_exactly_at_limit_is_not_flagged():
    det = RateThresholdDetector(max_requests_per_hour=10)
    for i in range(10):
        det.observe(_ev(i, "a", float(i)))
    assert det.assess(100.0).accounts == {}


def test_rate_day_window_slides():
    det = RateThresholdDetector(max_requests_per_hour=1000, max_requests_per_day=5)
    # 5 a day for 3 days: the day window never holds more than 5
    for day in range(3):
        for i in range(5):
            det.observe(_ev(day * 5 + i, "a", day * 86400.0 + i * 3600.0))
    assert det.assess(3 * 86400.0).accounts == {}
    det.observe(_ev(99, "a", 2 * 86400.0 + 5 * 3600.0))  # sixth on day 3
    assert det.assess(3 * 86400.0).accounts["a"].reasons[0].code == "rate_day"


def test_token_limit():
    det = RateThresholdDetector(max_completion_tokens_per_day=1000)
    det.observe(_ev(0, "a", 0.0, tokens=600))
    assert det.assess(1.0).accounts == {}
    det.observe(_ev(1, "a", 10.0, tokens=600))
    assert det.assess(11.0).accounts["a"].reasons[0].code == "tokens_day"


def test_phrase_matching_is_word_and_hyphen_aware():
    det = PhraseMatchDetector()
    assert det.matches("Please solve this Step-by-Step.") == "step by step"
    assert det.matches("Show   your\nwork please") == "show your work"
    assert det.matches("What is the capital of France?") is None
    assert det.matches("the footstep by stepping stones") is None


def test_phrase_share_over_minimum_count():
    det = PhraseMatchDetector(min_prompts=10, min_share=0.5)
    for i in range(9):
        det.observe(_ev(i, "cot", float(i), "Explain step by step how to do it"))
    assert det.assess(10.0).accounts == {}  # 9 < min_prompts
    det.observe(_ev(9, "cot", 9.0, "another one, step by step"))
    for i in range(20):  # 5 of 20 match: 25% < 50%
        det.observe(_ev(i, "mixed", float(i), "show your reasoning" if i % 4 == 0 else "hello there"))
    assessment = det.assess(30.0)
    assert set(assessment.accounts) == {"cot"}
    flag = assessment.accounts["cot"]
    assert flag.tier == Tier.LIKELY  # 100% share
    assert flag.reasons[0].code == "phrase_share"
    assert len(flag.reasons[0].evidence) == 5


def test_phrase_needs_text():
    det = PhraseMatchDetector(min_prompts=5)
    for i in range(50):
        det.observe(_ev(i, "a", float(i), None))
    assert det.assess(100.0).accounts == {}
