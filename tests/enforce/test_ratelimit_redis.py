"""Redis-backed limits: the real server, two processes on one key, and a Redis that dies."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from enforce_helpers import DictTierStore, make_ctx, redis_up

from distillguard.enforce.decide import DecisionPlugin
from distillguard.enforce.policy import policy_from_dict
from distillguard.enforce.ratelimit import Bucket, RateLimitPlugin
from distillguard.enforce.ratelimit_redis import RedisLimiter

pytestmark = pytest.mark.redis
SHARED = "redis://127.0.0.1:6379/0"
needs_redis = pytest.mark.skipif(not redis_up(), reason="no Redis at 127.0.0.1:6379")


def unique_bucket(requests: int, tokens: int = 0, window_s: float = 3600) -> Bucket:
    return Bucket(f"dg:{{test:{uuid.uuid4().hex}}}:rl", "account", requests, tokens, window_s)


@needs_redis
async def test_redis_bucket_limits_and_refunds() -> None:
    limiter = RedisLimiter.from_url(SHARED)
    try:
        b = unique_bucket(3, tokens=1000)
        admitted = [(await limiter.acquire([b], 100))[0].allowed for _ in range(5)]
        assert admitted == [True, True, True, False, False]
        refused = (await limiter.acquire([b], 100))[0]
        assert 1100 < refused.retry_after_s <= 1200  # 3 per hour: one every 20 min
        await limiter.adjust([b], tokens=-300, requests=-1)
        result = (await limiter.acquire([b], 100))[0]
        assert result.allowed and 899 <= result.tokens_left <= 901
        wide, narrow = unique_bucket(10), unique_bucket(1)
        await limiter.acquire([narrow], 0)
        both = await limiter.acquire([wide, narrow], 0)
        assert [r.allowed for r in both] == [True, False]
        again = await limiter.acquire([wide], 0)
        assert again[0].requests_left == pytest.approx(9, abs=0.01)  # the refused one was refunded
    finally:
        await limiter.close()


WORKER = r"""
import asyncio, json, sys
from distillguard.enforce.ratelimit import Bucket
from distillguard.enforce.ratelimit_redis import RedisLimiter

async def main(key, limit, attempts, url):
    limiter = RedisLimiter.from_url(url)
    bucket = Bucket(key, "account", limit, 0, 3600.0)
    admitted = 0
    async def one():
        nonlocal admitted
        if (await limiter.acquire([bucket], 0))[0].allowed:
            admitted += 1
    for _ in range(attempts // 20):
        await asyncio.gather(*(one() for _ in range(20)))
    await limiter.close()
    print(json.dumps({"admitted": admitted}))

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
"""


@needs_redis
def test_two_processes_share_one_limit_within_one_percent(tmp_path: Path) -> None:
    key = f"dg:{{acct:two-proc-{uuid.uuid4().hex}}}:rl"
    limit, attempts = 1000, 1000  # each process alone could use the whole budget
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    start = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), key, str(limit), str(attempts), SHARED],
            stdout=subprocess.PIPE,
            env=env,
        )
        for _ in range(2)
    ]
    counts = [json.loads(p.communicate(timeout=120)[0])["admitted"] for p in procs]
    elapsed = time.monotonic() - start
    total = sum(counts)
    refill = limit * elapsed / 3600  # the bucket refills while the test runs
    print(f"two processes admitted {counts} = {total} against a limit of {limit} in {elapsed:.1f}s")
    assert all(c > 0 for c in counts), counts  # both processes really competed
    assert abs(total - limit) <= 0.01 * limit + refill, (counts, elapsed)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def own_redis():  # type: ignore[no-untyped-def]
    """A Redis server of our own, so that killing it harms nobody else."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server not installed")
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    while not redis_up(port):
        if time.monotonic() > deadline:
            proc.kill()
            pytest.skip("own redis-server did not start")
        time.sleep(0.05)
    yield proc, port
    if proc.poll() is None:
        proc.kill()
        proc.wait()


POLICY = {"version": "t", "limits": {"window_s": 60, "account": {"requests": 100, "tokens": 0}}}


@pytest.mark.parametrize("fail_open", [True, False])
async def test_redis_dies_mid_traffic(own_redis, fail_open: bool) -> None:  # type: ignore[no-untyped-def]
    proc, port = own_redis
    limiter = RedisLimiter.from_url(f"redis://127.0.0.1:{port}/0")
    plugins = [
        DecisionPlugin(policy_from_dict(POLICY), DictTierStore()),
        RateLimitPlugin(limiter, fail_open=fail_open),
    ]

    async def call():  # type: ignore[no-untyped-def]
        ctx = make_ctx(account="a1")
        for p in plugins:
            rejection = await p.on_request(ctx)
            if rejection is not None:
                return ctx, rejection
        return ctx, None

    ctx, rejection = await call()
    assert rejection is None and ctx.response_headers["x-ratelimit-remaining-requests"] == "99"
    proc.kill()  # Redis dies
    proc.wait()
    started = time.monotonic()
    ctx, rejection = await call()
    assert time.monotonic() - started < 1.0  # gives up fast instead of stalling requests
    assert "ratelimit_unavailable" in ctx.event.reasons
    if fail_open:
        assert rejection is None
    else:
        assert rejection is not None and rejection.status == 503 and rejection.headers["retry-after"] == "1"
    await limiter.close()
