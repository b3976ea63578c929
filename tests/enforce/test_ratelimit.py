"""Rate limits: bucket arithmetic, scopes incl. campaign, shadow, reconciliation, headers."""

from __future__ import annotations

from datetime import UTC, datetime

from enforce_helpers import DictTierStore, entry, make_ctx

from distillguard.detect.api import Tier
from distillguard.enforce.decide import DecisionPlugin
from distillguard.enforce.policy import policy_from_dict
from distillguard.enforce.ratelimit import (
    Bucket,
    RateLimitPlugin,
    estimate_tokens,
    go_duration,
    limit_headers,
    tag,
)
from distillguard.enforce.ratelimit_memory import MemoryLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(**over: object) -> object:
    raw: dict = {
        "version": "t1",
        "limits": {"window_s": 60, "account": {"requests": 5, "tokens": 10_000}},
        "tiers": {"LIKELY": {"actions": ["rate_limit"]}},
        "actions": {
            "rate_limit": {
                "window_s": 60,
                "account": {"requests": 0, "tokens": 0},
                "campaign": {"requests": 3, "tokens": 0},
            }
        },
    }
    raw.update(over)
    return policy_from_dict(raw)


async def test_bucket_admits_capacity_then_refills_evenly() -> None:
    clock = FakeClock()
    limiter = MemoryLimiter(clock)
    b = Bucket("k", "account", requests=4, tokens=0, window_s=60)
    admitted = [(await limiter.acquire([b], 0))[0].allowed for _ in range(6)]
    assert admitted == [True] * 4 + [False] * 2
    refused = (await limiter.acquire([b], 0))[0]
    assert 14.9 < refused.retry_after_s <= 15.0  # one request per 15 s
    clock.now += 15
    assert (await limiter.acquire([b], 0))[0].allowed
    assert not (await limiter.acquire([b], 0))[0].allowed


async def test_refusal_by_one_enforced_bucket_charges_none() -> None:
    limiter = MemoryLimiter(FakeClock())
    wide = Bucket("wide", "org", requests=100, tokens=0, window_s=60)
    narrow = Bucket("narrow", "account", requests=1, tokens=0, window_s=60)
    await limiter.acquire([wide, narrow], 0)
    results = await limiter.acquire([wide, narrow], 0)
    assert [r.allowed for r in results] == [True, False]
    assert results[0].requests_left == 99  # not charged for the refused request


async def test_tokens_reserved_then_reconciled() -> None:
    limiter = MemoryLimiter(FakeClock())
    b = Bucket("t", "account", requests=0, tokens=1000, window_s=60)
    assert (await limiter.acquire([b], 600)).pop().allowed
    assert not (await limiter.acquire([b], 600)).pop().allowed  # 400 left
    await limiter.adjust([b], 100 - 600)  # the call used 100 tokens, not 600
    result = (await limiter.acquire([b], 600)).pop()
    assert result.allowed and result.tokens_left == 300


def test_estimate_counts_prompt_and_max_output() -> None:
    body = {"messages": [{"role": "user", "content": "x" * 400}], "max_tokens": 50, "n": 2}
    assert estimate_tokens(body) == 100 + 100
    anthropic = {
        "system": "s" * 40,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "y" * 40}]}],
    }
    assert estimate_tokens(anthropic | {"max_tokens": 10}) == 20 + 10


def test_header_formats() -> None:
    assert go_duration(0.012) == "12ms"
    assert go_duration(1.5) == "1.5s"
    assert go_duration(360) == "6m0s"
    assert go_duration(3723) == "1h2m3s"
    assert tag("acct", "a{1}") == "dg:{acct:a(1)}:rl"


async def test_headers_show_the_tightest_enforced_bucket() -> None:
    limiter = MemoryLimiter(FakeClock())
    buckets = [
        Bucket("a", "account", requests=10, tokens=1000, window_s=60),
        Bucket("o", "org", requests=100, tokens=100, window_s=60),
        Bucket("s", "flagged", requests=2, tokens=0, window_s=60, enforced=False),  # shadow: hidden
    ]
    results = await limiter.acquire(buckets, 50)
    openai = limit_headers("openai", results, now=0)
    assert openai["x-ratelimit-limit-requests"] == "10"
    assert openai["x-ratelimit-remaining-requests"] == "9"
    assert openai["x-ratelimit-reset-requests"] == "6s"
    assert openai["x-ratelimit-limit-tokens"] == "100"
    assert openai["x-ratelimit-remaining-tokens"] == "50"
    anthropic = limit_headers("anthropic", results, now=1_800_000_000)
    assert anthropic["anthropic-ratelimit-requests-limit"] == "10"
    reset = datetime.strptime(anthropic["anthropic-ratelimit-requests-reset"], "%Y-%m-%dT%H:%M:%SZ")
    assert reset.replace(tzinfo=UTC).timestamp() == 1_800_000_006
    assert anthropic["anthropic-ratelimit-tokens-remaining"] == "50"


async def run(plugins: list, ctx) -> object:  # type: ignore[no-untyped-def]
    for p in plugins:
        rejection = await p.on_request(ctx)
        if rejection is not None:
            return rejection
    return None


async def test_plugin_429_in_each_api_shape() -> None:
    tiers = DictTierStore()
    plugins = [DecisionPlugin(policy(), tiers), RateLimitPlugin(MemoryLimiter())]
    for _ in range(5):
        assert await run(plugins, make_ctx()) is None
    ctx = make_ctx()
    rejection = await run(plugins, ctx)
    assert rejection is not None and rejection.status == 429
    assert rejection.code == "rate_limit_exceeded"
    assert int(rejection.headers["retry-after"]) == 12
    assert rejection.headers["x-ratelimit-remaining-requests"] == "0"
    assert ctx.event.action == "rate_limited" and "rate_limited_account" in ctx.event.reasons
    anthropic = await run(plugins, make_ctx(flavor="anthropic"))
    assert anthropic is not None and anthropic.code == "rate_limit_error"
    assert "anthropic-ratelimit-requests-remaining" in anthropic.headers


async def test_campaign_accounts_share_one_budget_and_leak_nothing() -> None:
    tiers = DictTierStore(
        {f"h{i}": entry(Tier.LIKELY, "shared_skeleton", campaign="camp_9") for i in range(5)}
    )
    plugins = [DecisionPlugin(policy(), tiers), RateLimitPlugin(MemoryLimiter())]
    outcomes = [await run(plugins, make_ctx(account=f"h{i}", key=f"k{i}")) for i in range(5)]
    assert [o is None for o in outcomes] == [True, True, True, False, False]  # 3 for the campaign
    refused = outcomes[3]
    assert refused is not None and "campaign" not in refused.message
    assert await run(plugins, make_ctx(account="someone_else")) is None  # others untouched


async def test_shadow_counts_and_records_but_never_refuses() -> None:
    tiers = DictTierStore({f"h{i}": entry(Tier.LIKELY, campaign="c") for i in range(5)})
    plugins = [DecisionPlugin(policy(shadow=True), tiers), RateLimitPlugin(MemoryLimiter())]
    ctxs = [make_ctx(account=f"h{i}", key=f"k{i}") for i in range(5)]
    assert [await run(plugins, c) for c in ctxs] == [None] * 5
    assert "rate_limit_shadow_campaign" in ctxs[4].event.reasons
    assert ctxs[4].event.shadow and ctxs[4].event.action == "rate_limit"
    assert "x-ratelimit-limit-requests" in ctxs[0].response_headers


def still_clock() -> float:
    return 1_000_000.0


async def test_on_complete_reconciles_with_measured_usage() -> None:
    raw_limits = {"window_s": 60, "account": {"requests": 0, "tokens": 3000}}
    # a still clock: a loaded machine must not refill the bucket between the calls
    plugins = [
        DecisionPlugin(policy(limits=raw_limits), DictTierStore()),
        RateLimitPlugin(MemoryLimiter(clock=still_clock), clock=still_clock),
    ]
    body = {"model": "m", "messages": [{"role": "user", "content": "q"}], "max_tokens": 1000}
    first = make_ctx(body=body)
    assert await run(plugins, first) is None  # reserves 1001 of 3000
    first.event.prompt_tokens, first.event.completion_tokens = 1, 9
    await plugins[1].on_complete(first)
    # 2990 left: two more reservations of 1001 fit (without reconciliation only one would).
    for _ in range(2):
        assert await run(plugins, make_ctx(body=dict(body))) is None
    refused = await run(plugins, make_ctx(body=dict(body)))  # 988 left, needs 1001
    assert refused is not None and refused.headers["x-ratelimit-remaining-tokens"] == "988"


async def test_failed_call_refunds_its_tokens() -> None:
    raw_limits = {"window_s": 60, "account": {"requests": 0, "tokens": 1500}}
    # a still clock: a loaded machine must not refill the bucket between the calls
    plugins = [
        DecisionPlugin(policy(limits=raw_limits), DictTierStore()),
        RateLimitPlugin(MemoryLimiter(clock=still_clock), clock=still_clock),
    ]
    body = {"model": "m", "messages": [{"role": "user", "content": "q"}], "max_tokens": 1000}
    failed = make_ctx(body=body)
    assert await run(plugins, failed) is None
    failed.event.status = 502
    await plugins[1].on_complete(failed)
    assert await run(plugins, make_ctx(body=dict(body))) is None  # the 1001 came back


def test_long_waits_tell_sdks_not_to_retry() -> None:
    from distillguard.enforce.ratelimit import BucketResult, refusal

    bucket = Bucket("k", "flagged", requests=5, tokens=0, window_s=3600)
    short = refusal("anthropic", BucketResult(bucket, False, 0.5, 0, retry_after_s=30), 1, {})
    assert short.headers["retry-after"] == "30" and "x-should-retry" not in short.headers
    long = refusal("anthropic", BucketResult(bucket, False, 0.0, 0, retry_after_s=720), 1, {})
    assert long.headers["retry-after"] == "720" and long.headers["x-should-retry"] == "false"
    assert "account" in long.message  # a flagged bucket is named as the account, nothing more
