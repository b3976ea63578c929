"""In-process rate-limit buckets: the embedded default, one gateway process."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from distillguard.enforce.ratelimit import Bucket, BucketResult, fits, refill, retry_after_of

_SWEEP_EVERY = 10_000  # acquisitions between sweeps of idle (full again) buckets


class MemoryLimiter:
    """Token buckets in a dict. Single-threaded asyncio makes each call atomic."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._state: dict[str, list[float]] = {}  # key -> [requests level, tokens level, at]
        self._since_sweep = 0
        self._longest_window = 0.0

    def _level(self, bucket: Bucket, now: float) -> list[float]:
        state = self._state.get(bucket.key)
        if state is None:
            state = self._state[bucket.key] = [float(bucket.requests), float(bucket.tokens), now]
            return state
        elapsed = now - state[2]
        if bucket.requests > 0:
            state[0] = refill(state[0], elapsed, bucket.requests, bucket.window_s)
        if bucket.tokens > 0:
            state[1] = refill(state[1], elapsed, bucket.tokens, bucket.window_s)
        state[2] = now
        return state

    async def acquire(self, buckets: Sequence[Bucket], tokens: int) -> list[BucketResult]:
        now = self.clock()
        for b in buckets:
            self._longest_window = max(self._longest_window, b.window_s)
        states = [self._level(b, now) for b in buckets]
        admits = [
            fits(s[0], 1, b.requests) and fits(s[1], tokens, b.tokens)
            for b, s in zip(buckets, states, strict=True)
        ]
        refused = any(not ok and b.enforced for b, ok in zip(buckets, admits, strict=True))
        results = []
        for bucket, state, ok in zip(buckets, states, admits, strict=True):
            if ok and not refused:
                if bucket.requests > 0:
                    state[0] -= 1
                if bucket.tokens > 0:
                    state[1] -= tokens
            retry = 0.0 if ok else retry_after_of(bucket, state[0], state[1], tokens)
            results.append(BucketResult(bucket, ok, state[0], state[1], retry))
        self._since_sweep += 1
        if self._since_sweep >= _SWEEP_EVERY:
            self._sweep(now)
        return results

    async def adjust(self, buckets: Sequence[Bucket], tokens: int, requests: int = 0) -> None:
        now = self.clock()
        for bucket in buckets:
            state = self._level(bucket, now)
            if bucket.requests > 0:
                state[0] = min(float(bucket.requests), state[0] - requests)
            if bucket.tokens > 0:
                state[1] = min(float(bucket.tokens), state[1] - tokens)

    def _sweep(self, now: float) -> None:
        """Forget buckets idle for the longest window: they are full again anyway."""
        self._since_sweep = 0
        horizon = self._longest_window
        self._state = {k: s for k, s in self._state.items() if now - s[2] < horizon}

    async def close(self) -> None:
        self._state.clear()
