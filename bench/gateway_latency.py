"""Gateway overhead: direct to the upstream vs through the gateway, in one run.

    PYTHONPATH=src python bench/gateway_latency.py                  # built-in fast upstream
    PYTHONPATH=src python bench/gateway_latency.py --upstream-url http://127.0.0.1:9000  # e.g. mock-upstream

Three processes on this machine: the upstream (a canned-answer HTTP/1.1 server on raw
asyncio + uvloop, so it costs the shared CPUs as little as possible), the gateway (one
process, as `distillguard serve` runs it, with an in-memory key resolver and a counting
event sink), and this process, the load generator: an open-loop aiohttp client that
starts request i at t0 + i/rate whether or not earlier ones have finished.

Reports, for non-streaming and streaming chat completions:
  1. latency p50/p99 at a fixed rate (default 200 req/s), direct and via the gateway,
     interleaved in short rounds so machine noise hits both; added = via - direct;
  2. the highest rate held: errors < 1%, completions >= 95% of the target rate, and
     median latency under 10 ms (no queue building up);
  3. the gateway process's CPU time per request (from /proc; robust to machine noise).
Latency is measured from the scheduled start (so a lagging load generator shows as
latency, not as a silently lower rate) to the last byte of the response.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import socket
import sys
import time
from dataclasses import dataclass

import aiohttp
import orjson

GATEWAY_KEY = "sk-bench"
PROMPT = "Explain, step by step, why the sky is blue. Keep it short."
N_STREAM_CHUNKS = 20


# --- the upstream: canned answers on raw asyncio ------------------------------------------


def _canned() -> tuple[bytes, bytes]:
    body = orjson.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1,
            "model": "bench",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Rayleigh scattering. " * 8},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 20, "completion_tokens": 40, "total_tokens": 60},
        }
    )
    plain = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    frames = []
    for i in range(N_STREAM_CHUNKS):
        chunk = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "bench",
            "choices": [{"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}],
        }
        frames.append(b"data: " + orjson.dumps(chunk) + b"\n\n")
    frames.append(b"data: [DONE]\n\n")
    chunked = b"".join(f"{len(f):x}\r\n".encode() + f + b"\r\n" for f in frames) + b"0\r\n\r\n"
    stream = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
    )
    return plain, stream


class _UpstreamProtocol(asyncio.Protocol):
    PLAIN, STREAM = _canned()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buf[:head_end].lower()
            length = 0
            idx = head.find(b"content-length:")
            if idx >= 0:
                length = int(head[idx + 15 :].split(b"\r\n", 1)[0])
            total = head_end + 4 + length
            if len(self.buf) < total:
                return
            body = self.buf[head_end + 4 : total]
            self.buf = self.buf[total:]
            streaming = b'"stream":true' in body or b'"stream": true' in body
            self.transport.write(self.STREAM if streaming else self.PLAIN)


def run_upstream(port: int) -> None:
    import uvloop

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_UpstreamProtocol, "127.0.0.1", port, backlog=4096)
        async with server:
            await server.serve_forever()

    uvloop.run(main())


# --- the gateway, as `distillguard serve` builds it ----------------------------------------


class CountingSink:
    """Keeps the sink cost honest (one call, one append) without disk I/O in the numbers."""

    def __init__(self) -> None:
        self.n = 0
        self.last: object = None

    def submit(self, event: object) -> None:
        self.n += 1
        self.last = event

    def close(self) -> None:
        pass


def run_gateway(port: int, upstream_url: str) -> None:
    from distillguard.accounts.principal import Principal
    from distillguard.config import Settings, UpstreamSettings
    from distillguard.gateway.app import create_app, run
    from distillguard.gateway.auth import InMemoryKeyResolver

    settings = Settings(
        listen_port=port,
        upstreams={"bench": UpstreamSettings(url=upstream_url)},
        default_upstream="bench",
    ).validate()
    keys = InMemoryKeyResolver()
    keys.add(GATEWAY_KEY, Principal(key_id="k1", account_id="a1", org_id="o1"))
    app = create_app(settings, sink=CountingSink(), key_resolver=keys)
    run(app, settings, print_fn=None)


# --- the load generator -------------------------------------------------------------------


@dataclass
class Result:
    latencies_ms: list[float]
    errors: int
    scheduled: int
    elapsed_s: float

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        xs = sorted(self.latencies_ms)
        return xs[min(len(xs) - 1, int(q * len(xs)))]


async def load(
    session: aiohttp.ClientSession, url: str, body: bytes, rate: float, seconds: float, stream: bool
) -> Result:
    headers = {"Authorization": f"Bearer {GATEWAY_KEY}", "Content-Type": "application/json"}
    latencies: list[float] = []
    errors = 0
    n = int(rate * seconds)
    timeout = aiohttp.ClientTimeout(total=10)

    async def one(scheduled: float) -> None:
        nonlocal errors
        try:
            async with session.post(url, data=body, headers=headers, timeout=timeout) as r:
                data = await r.read()
                if r.status != 200 or (stream and not data.endswith(b"data: [DONE]\n\n")):
                    errors += 1
                    return
        except Exception:
            errors += 1
            return
        latencies.append((time.perf_counter() - scheduled) * 1000)

    tasks = []
    t0 = time.perf_counter() + 0.01
    interval = 1.0 / rate
    i = 0
    while i < n:
        now = time.perf_counter()
        while i < n and t0 + i * interval <= now:
            tasks.append(asyncio.create_task(one(t0 + i * interval)))
            i += 1
        if i < n:
            await asyncio.sleep(max(0.0, t0 + i * interval - time.perf_counter()))
    await asyncio.gather(*tasks)
    return Result(latencies, errors, n, time.perf_counter() - t0)


def cpu_seconds(pid: int | None) -> float:
    """utime + stime of a process, from /proc (Linux)."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as s:
        for _ in range(200):
            with contextlib.suppress(aiohttp.ClientError):
                async with s.get(url) as r:
                    await r.read()
                    return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


async def bench(
    args: argparse.Namespace, upstream_url: str, gateway_url: str, gateway_pid: int | None
) -> None:
    await wait_ready(upstream_url + "/v1/models")
    await wait_ready(gateway_url + "/healthz")
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
    async with aiohttp.ClientSession(connector=connector) as session:
        targets = {"direct": upstream_url, "gateway": gateway_url}
        print(f"{'mode':<10} {'target':<8} {'rate':>6} {'ok':>6} {'err':>5} {'p50 ms':>8} {'p99 ms':>8}")
        summary = {}
        for stream in (False, True):
            mode = "stream" if stream else "plain"
            payload = {"model": "bench", "messages": [{"role": "user", "content": PROMPT}], "stream": stream}
            body = orjson.dumps(payload)
            # warm both paths (connections, caches)
            for base in targets.values():
                await load(session, base + "/v1/chat/completions", body, 200, 1.0, stream)
            per: dict[str, list[float]] = {"direct": [], "gateway": []}
            errs = {"direct": 0, "gateway": 0}
            gw_cpu = 0.0
            for _ in range(args.rounds):
                for name, base in targets.items():
                    cpu0 = cpu_seconds(gateway_pid)
                    url = base + "/v1/chat/completions"
                    r = await load(session, url, body, args.rate, args.seconds, stream)
                    per[name] += r.latencies_ms
                    errs[name] += r.errors
                    gw_cpu += cpu_seconds(gateway_pid) - cpu0 if name == "gateway" else 0.0
            stats = {}
            for name in targets:
                res = Result(per[name], errs[name], 0, 0)
                stats[name] = (res.pct(0.5), res.pct(0.99))
                print(
                    f"{mode:<10} {name:<8} {args.rate:>6.0f} {res.ok:>6} {res.errors:>5} "
                    f"{stats[name][0]:>8.3f} {stats[name][1]:>8.3f}"
                )
            added = (stats["gateway"][0] - stats["direct"][0], stats["gateway"][1] - stats["direct"][1])
            cpu_us = gw_cpu / max(1, len(per["gateway"]) + errs["gateway"]) * 1e6
            print(
                f"{mode:<10} ADDED    {args.rate:>6.0f}{'':>13} {added[0]:>8.3f} {added[1]:>8.3f}"
                f"  gateway CPU {cpu_us:.0f} us/request"
            )
            # highest rate held
            held: dict[str, float] = {}
            for name, base in targets.items():
                best = 0.0
                for rate in args.ramp:
                    url = base + "/v1/chat/completions"
                    r = await load(session, url, body, rate, args.ramp_seconds, stream)
                    achieved = r.ok / r.elapsed_s
                    # Held: under 1% errors, the rate kept up, and no queue built up (p50 < 10 ms).
                    ok = r.errors < 0.01 * r.scheduled and achieved >= 0.95 * rate and r.pct(0.5) < 10
                    print(
                        f"{mode:<10} {name:<8} {rate:>6.0f} {r.ok:>6} {r.errors:>5} "
                        f"{r.pct(0.5):>8.3f} {r.pct(0.99):>8.3f}  achieved {achieved:7.0f}/s "
                        f"{'held' if ok else 'NOT held'}"
                    )
                    if not ok:
                        break
                    best = rate
                held[name] = best
            summary[mode] = (added, held)
        print()
        print("summary (load generator, upstream and gateway share this machine's CPUs)")
        for mode, (added, held) in summary.items():
            print(
                f"  {mode:<7} added latency at {args.rate:.0f} req/s: p50 {added[0]:+.3f} ms, "
                f"p99 {added[1]:+.3f} ms; highest rate held: direct {held['direct']:.0f}/s, "
                f"gateway {held['gateway']:.0f}/s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--upstream-url", help="use this upstream instead of the built-in fast one")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=3.0, help="per round at the fixed rate")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--ramp", type=lambda s: [float(x) for x in s.split(",")], default=[500, 1000, 1250, 1500, 2000, 2500]
    )
    parser.add_argument("--ramp-seconds", type=float, default=4.0)
    args = parser.parse_args()
    print("command:", " ".join([os.path.basename(sys.executable), *sys.argv]))
    print(f"machine: {os.cpu_count()} CPUs; load generator: aiohttp open-loop client (this process)")
    ctx = mp.get_context("spawn")
    procs = []
    if args.upstream_url:
        upstream_url = args.upstream_url.rstrip("/")
    else:
        up_port = free_port()
        upstream_url = f"http://127.0.0.1:{up_port}"
        procs.append(ctx.Process(target=run_upstream, args=(up_port,), daemon=True))
    gw_port = free_port()
    gateway_url = f"http://127.0.0.1:{gw_port}"
    gateway_proc = ctx.Process(target=run_gateway, args=(gw_port, upstream_url), daemon=True)
    procs.append(gateway_proc)
    for p in procs:
        p.start()
    try:
        import uvloop

        uvloop.run(bench(args, upstream_url, gateway_url, gateway_proc.pid))
    finally:
        for p in procs:
            p.terminate()
            p.join(5)


if __name__ == "__main__":
    main()
