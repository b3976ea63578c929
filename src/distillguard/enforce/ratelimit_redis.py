"""Rate-limit buckets in Redis, shared by every gateway replica.

One Lua script per bucket does refill + check + charge atomically, with Redis's own clock
(`TIME`), so replicas with skewed clocks agree. Every key of a subject carries the subject
in a hash tag (`dg:{acct:123}:rl`), so each script touches one slot and works on Redis
Cluster. A request's buckets (key, account, org, campaign) live on different slots, so they
are charged by one pipelined script call each; if an enforced bucket refuses, the ones that
admitted are refunded. Each bucket on its own never admits past its limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from distillguard.enforce.ratelimit import Bucket, BucketResult, LimiterUnavailable, retry_after_of

# KEYS[1] bucket hash.  ARGV: requests capacity, tokens capacity, window ms, tokens cost,
# requests cost, mode ("take": only if it fits; "adjust": always).
# Returns {admitted 0/1, requests level, tokens level} (levels as strings: Lua numbers are
# truncated to integers on the way out).
BUCKET_LUA = """
local rcap = tonumber(ARGV[1])
local tcap = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local tcost = tonumber(ARGV[4])
local rcost = tonumber(ARGV[5])
local take = ARGV[6] == 'take'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'r', 't', 'ts')
local r = tonumber(s[1]) or rcap
local tk = tonumber(s[2]) or tcap
local ts = tonumber(s[3]) or now
local dt = math.max(0, now - ts)
if rcap > 0 then r = math.min(rcap, r + dt * rcap / window) else r = 0 end
if tcap > 0 then tk = math.min(tcap, tk + dt * tcap / window) else tk = 0 end
local ok = 1
if take then
  if rcap > 0 and r < math.min(rcost, rcap) then ok = 0 end
  if tcap > 0 and tk < math.min(tcost, tcap) then ok = 0 end
end
if ok == 1 then
  if rcap > 0 then r = math.min(rcap, r - rcost) end
  if tcap > 0 then tk = math.min(tcap, tk - tcost) end
end
redis.call('HSET', KEYS[1], 'r', tostring(r), 't', tostring(tk), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 2) + 1000)
return {ok, tostring(r), tostring(tk)}
"""


def _redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import RedisError

    return (RedisError, OSError, TimeoutError)


class RedisLimiter:
    """Token buckets in Redis (or Redis Cluster: pass a `redis.asyncio.RedisCluster`)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._sha: str | None = None
        self._errors = _redis_errors()

    @classmethod
    def from_url(cls, url: str, timeout_s: float = 0.25, **options: Any) -> RedisLimiter:
        """A client that gives up fast: a dead Redis must not stall every request."""
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        client = Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
            **options,
        )
        return cls(client)

    async def _run(self, calls: list[tuple[Bucket, int, int, str]]) -> list[Any]:
        from redis.exceptions import NoScriptError

        try:
            for attempt in (0, 1):
                if self._sha is None:
                    self._sha = await self.client.script_load(BUCKET_LUA)
                pipe = self.client.pipeline(transaction=False)
                for bucket, tokens, requests, mode in calls:
                    pipe.evalsha(
                        self._sha,
                        1,
                        bucket.key,
                        bucket.requests,
                        bucket.tokens,
                        int(bucket.window_s * 1000),
                        tokens,
                        requests,
                        mode,
                    )
                try:
                    return list(await pipe.execute())
                except NoScriptError:
                    if attempt:
                        raise
                    self._sha = None  # Redis restarted or flushed its script cache
            raise AssertionError("unreachable")
        except self._errors as exc:
            raise LimiterUnavailable(str(exc)) from exc

    async def acquire(self, buckets: Sequence[Bucket], tokens: int) -> list[BucketResult]:
        replies = await self._run([(b, tokens, 1, "take") for b in buckets])
        results = []
        for bucket, (ok, r, t) in zip(buckets, replies, strict=True):
            requests_left, tokens_left = float(r), float(t)
            admitted = bool(int(ok))
            retry = 0.0 if admitted else retry_after_of(bucket, requests_left, tokens_left, tokens)
            results.append(BucketResult(bucket, admitted, requests_left, tokens_left, retry))
        if any(not r.allowed and r.bucket.enforced for r in results):
            charged = [r for r in results if r.allowed]
            if charged:
                await self._run([(r.bucket, -tokens, -1, "adjust") for r in charged])
                for r in charged:  # report the levels as they are after the refund
                    r.requests_left += 1
                    r.tokens_left += tokens
        return results

    async def adjust(self, buckets: Sequence[Bucket], tokens: int, requests: int = 0) -> None:
        if buckets:
            await self._run([(b, tokens, requests, "adjust") for b in buckets])

    async def close(self) -> None:
        await self.client.aclose()
