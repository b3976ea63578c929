"""Rate limits per key, account, org and campaign, as a plugin.

Each scope is a token bucket holding two budgets, requests and tokens: a full bucket holds
the per-window limit and refills evenly over the window, so there is no burst at window
edges. Tokens are reserved before the upstream call (prompt estimate + max output) and
reconciled in `on_complete` with the usage the gateway measured, streaming included.

Scopes: the product limits (key, account, org) apply to everyone. When the decision picks
`rate_limit`, two tighter buckets join: one for the flagged account, and one shared by
every account detection linked into the same campaign (`TierEntry.campaign_id`), so a
hydra's heads draw from one budget. Those two follow shadow mode: in shadow they are
counted and a would-be refusal is recorded, but nothing is refused.

Backends: `MemoryLimiter` (in-process, the default) and `RedisLimiter` (atomic Lua,
cluster-safe key tags) for several gateway replicas. When the backend is down, the
`fail_open` setting decides: admit and record `ratelimit_unavailable`, or refuse with 503.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from distillguard.enforce.decide import Decision, decision_of
from distillguard.gateway.pipeline import Plugin, Rejection, RequestContext

DEFAULT_MAX_OUTPUT_TOKENS = 1024  # reserved when an OpenAI request names no max_tokens
CHARS_PER_TOKEN = 4.0
# Beyond this wait, tell SDKs not to retry (`x-should-retry: false`): the Anthropic SDK
# sleeps for any retry-after, so a flagged account's 10-minute wait would hang the caller.
MAX_CLIENT_WAIT_S = 60.0


class LimiterUnavailable(RuntimeError):
    """The shared backend (Redis) cannot be reached."""


@dataclass(frozen=True, slots=True)
class Bucket:
    key: str  # storage key, cluster-safe: the id sits in a {hash tag}
    scope: str  # key | account | org | flagged | campaign
    requests: int  # capacity per window; 0 = unlimited
    tokens: int  # capacity per window; 0 = unlimited
    window_s: float
    enforced: bool = True  # False: shadow, counted but never refuses


@dataclass(slots=True)
class BucketResult:
    bucket: Bucket
    allowed: bool
    requests_left: float  # level after this request was charged (or now, if not charged)
    tokens_left: float
    retry_after_s: float = 0.0  # when not allowed: until this request would fit


class Limiter(Protocol):
    async def acquire(self, buckets: Sequence[Bucket], tokens: int) -> list[BucketResult]:
        """Check every bucket; charge them all only if every enforced one admits.
        A shadow bucket is charged when it admits, and never blocks the others."""
        ...

    async def adjust(self, buckets: Sequence[Bucket], tokens: int, requests: int = 0) -> None:
        """Charge (positive) or refund (negative) tokens/requests after the fact."""
        ...

    async def close(self) -> None: ...


# --- token bucket arithmetic, shared by the in-process backend and the tests -------------------
def refill(level: float, elapsed_s: float, capacity: int, window_s: float) -> float:
    return min(float(capacity), level + max(0.0, elapsed_s) * capacity / window_s)


def fits(level: float, cost: float, capacity: int) -> bool:
    # A request bigger than the whole bucket is admitted when the bucket is full (and
    # leaves it in debt), otherwise it could never run.
    return capacity <= 0 or level >= min(cost, capacity)


def wait_s(level: float, cost: float, capacity: int, window_s: float) -> float:
    if capacity <= 0:
        return 0.0
    need = min(cost, capacity) - level
    return max(0.0, need * window_s / capacity)


def retry_after_of(bucket: Bucket, requests_left: float, tokens_left: float, tokens: int) -> float:
    return max(
        wait_s(requests_left, 1, bucket.requests, bucket.window_s),
        wait_s(tokens_left, tokens, bucket.tokens, bucket.window_s),
    )


def tag(kind: str, ident: str) -> str:
    """`dg:{acct:123}:rl`: the braces make Redis Cluster keep a subject's keys on one slot."""
    safe = ident.replace("{", "(").replace("}", ")")
    return f"dg:{{{kind}:{safe}}}:rl"


# --- the request's token cost ------------------------------------------------------------------
def _text_chars(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(_text_chars(v) for v in value)
    if isinstance(value, dict):
        return _text_chars(value.get("text")) + _text_chars(value.get("content"))
    return 0


def estimate_tokens(body: Mapping[str, Any], context_chars: int = 0) -> int:
    """Prompt estimate + the most output the request may produce (times n)."""
    chars = context_chars
    if chars <= 0:
        chars = (
            _text_chars(body.get("messages"))
            + _text_chars(body.get("system"))
            + _text_chars(body.get("prompt"))
            + _text_chars(body.get("input"))
        )
    max_out = body.get("max_tokens") or body.get("max_completion_tokens") or body.get("max_output_tokens")
    if not isinstance(max_out, int) or isinstance(max_out, bool) or max_out <= 0:
        max_out = DEFAULT_MAX_OUTPUT_TOKENS
    n = body.get("n")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        n = 1
    return math.ceil(chars / CHARS_PER_TOKEN) + max_out * n


# --- response headers, exactly as each API names them -------------------------------------------
def go_duration(seconds: float) -> str:
    """OpenAI's reset format: "20ms", "1.5s", "6m0s", "1h2m3s"."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    if seconds < 60:
        return f"{round(seconds, 3):g}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes}m{secs}s" if hours else f"{minutes}m{secs}s"


def rfc3339(unix_s: float) -> str:
    """Anthropic's reset format: the time the bucket is full again."""
    return datetime.fromtimestamp(round(unix_s), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tightest(results: Sequence[BucketResult], metric: str) -> tuple[int, float, float] | None:
    """(limit, remaining, seconds until full) of the enforced bucket with the least left."""
    best: tuple[int, float, float] | None = None
    for r in results:
        b = r.bucket
        capacity = b.requests if metric == "requests" else b.tokens
        if not b.enforced or capacity <= 0:
            continue
        left = r.requests_left if metric == "requests" else r.tokens_left
        if best is None or left / capacity < best[1] / best[0]:
            best = (capacity, left, (capacity - left) * b.window_s / capacity)
    return best


def limit_headers(flavor: str, results: Sequence[BucketResult], now: float) -> dict[str, str]:
    headers: dict[str, str] = {}
    for metric in ("requests", "tokens"):
        found = _tightest(results, metric)
        if found is None:
            continue
        capacity, left, until_full = found
        remaining = str(max(0, math.floor(left)))
        if flavor == "anthropic":
            headers[f"anthropic-ratelimit-{metric}-limit"] = str(capacity)
            headers[f"anthropic-ratelimit-{metric}-remaining"] = remaining
            headers[f"anthropic-ratelimit-{metric}-reset"] = rfc3339(now + until_full)
        else:
            headers[f"x-ratelimit-limit-{metric}"] = str(capacity)
            headers[f"x-ratelimit-remaining-{metric}"] = remaining
            headers[f"x-ratelimit-reset-{metric}"] = go_duration(until_full)
    return headers


# Scopes named in refusals. Detection-driven buckets are called "account" so that a refusal
# never tells a harvester that its accounts have been linked.
_PUBLIC_SCOPE = {"key": "API key", "account": "account", "org": "organization", "flagged": "account"}


def refusal(flavor: str, denied: BucketResult, tokens: int, headers: dict[str, str]) -> Rejection:
    b = denied.bucket
    requests_short = b.requests > 0 and denied.requests_left < 1
    metric = "requests" if requests_short else "tokens"
    capacity = b.requests if requests_short else b.tokens
    left = denied.requests_left if requests_short else denied.tokens_left
    asked = 1 if requests_short else tokens
    scope = _PUBLIC_SCOPE.get(b.scope, "account")
    wait = go_duration(denied.retry_after_s)
    per = go_duration(b.window_s)
    if flavor == "anthropic":
        message = (
            f"This request would exceed your {scope}'s rate limit of {capacity} {metric} per {per}. "
            f"Please try again in {wait}."
        )
        code = "rate_limit_error"
    else:
        used = max(0, math.ceil(capacity - left))
        message = (
            f"Rate limit reached for {metric} per {per} on this {scope}: Limit {capacity}, Used {used}, "
            f"Requested {asked}. Please try again in {wait}."
        )
        code = "rate_limit_exceeded"
    headers = dict(headers)
    headers["retry-after"] = str(max(1, math.ceil(denied.retry_after_s)))
    if denied.retry_after_s > MAX_CLIENT_WAIT_S:
        headers["x-should-retry"] = "false"
    return Rejection(status=429, message=message, code=code, headers=headers)


# --- the plugin ---------------------------------------------------------------------------------
class RateLimitPlugin(Plugin):
    name = "ratelimit"

    def __init__(self, limiter: Limiter, fail_open: bool = True, clock: Any = time.time) -> None:
        self.limiter = limiter
        self.fail_open = fail_open
        self.clock = clock

    @staticmethod
    def buckets_for(ctx: RequestContext, decision: Decision) -> list[Bucket]:
        policy = decision.policy
        principal = ctx.principal
        buckets: list[Bucket] = []
        for scope, kind, ident in (
            ("key", "key", principal.key_id),
            ("account", "acct", principal.account_id),
            ("org", "org", principal.org_id),
        ):
            limit = policy.limits[scope]
            if ident and not limit.unlimited:
                buckets.append(
                    Bucket(tag(kind, ident), scope, limit.requests, limit.tokens, policy.limits_window_s)
                )
        if "rate_limit" in decision.chosen:
            params = decision.params_for("rate_limit")
            window = float(params.get("window_s") or policy.limits_window_s)
            enforced = decision.acts("rate_limit")
            flagged = params.get("account") or {}
            if principal.account_id and (flagged.get("requests") or flagged.get("tokens")):
                buckets.append(
                    Bucket(
                        tag("acct", principal.account_id) + ":flagged",
                        "flagged",
                        int(flagged.get("requests") or 0),
                        int(flagged.get("tokens") or 0),
                        window,
                        enforced,
                    )
                )
            campaign = params.get("campaign") or {}
            if decision.campaign_id and (campaign.get("requests") or campaign.get("tokens")):
                buckets.append(
                    Bucket(
                        tag("camp", decision.campaign_id),
                        "campaign",
                        int(campaign.get("requests") or 0),
                        int(campaign.get("tokens") or 0),
                        window,
                        enforced,
                    )
                )
        return buckets

    async def on_request(self, ctx: RequestContext) -> Rejection | None:
        decision = decision_of(ctx)
        if decision is None:
            return None
        buckets = self.buckets_for(ctx, decision)
        if not buckets:
            return None
        cost = estimate_tokens(ctx.body, ctx.event.context_chars)
        try:
            results = await self.limiter.acquire(buckets, cost)
        except LimiterUnavailable:
            ctx.event.reasons.append("ratelimit_unavailable")
            if self.fail_open:
                return None
            return Rejection(
                status=503,
                message="Rate limiting is temporarily unavailable. Please retry shortly.",
                code="service_unavailable",
                headers={"retry-after": "1"},
            )
        for r in results:
            if not r.allowed and not r.bucket.enforced:
                ctx.event.reasons.append(f"rate_limit_shadow_{r.bucket.scope}")
        headers = limit_headers(ctx.flavor, results, self.clock())
        denied = [r for r in results if not r.allowed and r.bucket.enforced]
        if denied:
            worst = max(denied, key=lambda r: r.retry_after_s)
            ctx.event.action = "rate_limited"
            ctx.event.shadow = False
            ctx.event.reasons.append(f"rate_limited_{worst.bucket.scope}")
            return refusal(ctx.flavor, worst, cost, headers)
        ctx.state[self.name] = ([r.bucket for r in results if r.allowed], cost)
        ctx.response_headers.update(headers)
        return None

    async def on_complete(self, ctx: RequestContext) -> None:
        reserved = ctx.state.pop(self.name, None)
        if not reserved:
            return
        buckets, cost = reserved
        event = ctx.event
        used = event.prompt_tokens + event.completion_tokens
        if used == 0 and event.status < 400:
            return  # no usage measured: keep the reservation rather than guess low
        if used != cost:
            try:
                await self.limiter.adjust(buckets, used - cost)
            except LimiterUnavailable:
                event.reasons.append("ratelimit_unavailable")


def make_limiter(url: str | None = None, **options: Any) -> Limiter:
    """`None`/"memory" -> in-process; "redis://..." -> Redis."""
    if not url or url == "memory":
        from distillguard.enforce.ratelimit_memory import MemoryLimiter

        return MemoryLimiter()
    from distillguard.enforce.ratelimit_redis import RedisLimiter

    return RedisLimiter.from_url(url, **options)
