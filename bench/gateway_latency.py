"""Gateway overhead: direct to the upstream vs through the gateway, in one run.

    PYTHONPATH=src python bench/gateway_latency.py                       # as `serve` runs it
    PYTHONPATH=src python bench/gateway_latency.py --base-src /tmp/main/src   # + main's, side by side
    PYTHONPATH=src python bench/gateway_latency.py --variants thread/aiohttp,process/http1
    PYTHONPATH=src python bench/gateway_latency.py --gateway core --upstream raw --sink memory

Processes on this machine: the upstream (`distillguard mock-upstream`, unpaced, or with
--upstream raw a canned-answer HTTP/1.1 server on raw asyncio, which costs the shared CPUs
less); each gateway under test, `--gateway serve` (default): built by `stack.build_stack`
exactly as `distillguard serve --upstream URL --db FILE` builds it (key registry with
`--keys` keys, detection, enforcement, console, SQLite event log, the event pipeline
process), or `--gateway core`: create_app with no plugins, in-memory keys and `--sink`;
and this process, the load generator: an open-loop client (raw keep-alive HTTP/1.1 by
default, the same for every target) that starts request i at t0 + i/rate whether or not
earlier ones have finished, cycling through `--prompts` distinct prompts.

Reports, for non-streaming and streaming chat completions:
  1. latency p50/p99 at a fixed rate (default 200 req/s), direct and via each gateway,
     interleaved in short rounds so machine noise hits all; added = via - direct, pooled
     over all rounds and as the median of the per-round differences;
  2. the highest rate held: errors < 1%, completions >= 95% of the target rate, and
     median latency under 10 ms (no queue building up), in one of `--attempts` tries;
  3. each gateway process's CPU time per request, by thread, and its event pipeline
     process's (from /proc; the figures machine noise disturbs least).
Latency is measured from the scheduled start (so a lagging load generator shows as
latency, not as a silently lower rate) to the last byte of the response. Between steps
the bench waits for the gateways to go idle, so one step's backlog does not land on the next.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
import orjson

GATEWAY_KEY = "sk-bench"
PROMPT = "Explain, step by step, why the sky is blue. Keep it short."
# Distinct prompts, so the fingerprint cache sees what real traffic gives it (mostly misses).
_WORDS = (  # noqa: SIM905 - a word list reads better as text
    "why how what explain describe compare list summarize the a of in on for with about between "
    "sky ocean light energy market price model network protein river language history music "
    "theory proof example code bug function memory cache city law contract tax climate "
    "step short detail simple briefly carefully three two five reasons ways causes effects"
).split()


def make_prompts(n: int, seed: int = 7) -> list[str]:
    import random

    rng = random.Random(seed)
    return [
        f"{PROMPT if i == 0 else ''} " + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 40)))
        for i in range(n)
    ]


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


def run_mock(port: int) -> None:
    """`distillguard mock-upstream`, unpaced, in its own process."""
    import uvloop

    from distillguard.mock.server import start_mock

    async def main() -> None:
        await start_mock("127.0.0.1", port)
        await asyncio.Event().wait()

    uvloop.run(main())


def make_serve_keys(db_path: str, n: int) -> list[str]:
    """Keys in the registry `serve` reads (the same SQLite file as the event log): `n`
    accounts in n/5 orgs, so no account meets the packaged policy's product limits."""
    from distillguard.accounts.registry import open_registry

    with open_registry(db_path) as registry:
        return [
            registry.create_key(f"bench-acct-{i}", f"bench-org-{i % max(1, n // 5)}", name="bench")[0]
            for i in range(n)
        ]


def run_serve(port: int, upstream_url: str, db_path: str, client: str | None, pipeline: str | None) -> None:
    """The gateway exactly as `distillguard serve --upstream URL --db PATH` builds it:
    key registry, detection, enforcement (packaged policy), SQLite event log, console."""
    from distillguard.config import load_settings
    from distillguard.gateway.app import run
    from distillguard.stack import build_stack

    os.environ["DG_OVERRIDES_DB"] = os.path.join(os.path.dirname(db_path), "overrides.db")
    settings = load_settings(
        None,
        upstream_url=upstream_url,
        overrides={
            "listen_port": port,
            "database_url": db_path,
            "upstream_client": client,
            "event_pipeline": pipeline,
        },
    )
    stack = build_stack(settings)

    async def name_threads(app: object) -> None:
        # After startup every thread exists: leave tid -> name for the per-thread CPU report.
        async def later() -> None:
            await asyncio.sleep(1.0)
            import threading

            names = {str(t.native_id): t.name for t in threading.enumerate()}
            with open(db_path + ".threads.json", "wb") as f:
                f.write(orjson.dumps(names))

        app_tasks.append(asyncio.get_running_loop().create_task(later()))

    app_tasks: list[asyncio.Task[None]] = []
    stack.app.on_startup.append(name_threads)
    profile_to = os.environ.get("DG_BENCH_PROFILE")  # cProfile of the gateway's main thread
    if not profile_to:
        run(stack.app, settings, print_fn=None)
        return
    import cProfile

    with cProfile.Profile(time.thread_time) as prof:  # CPU, not wall: preemption is not ours
        run(stack.app, settings, print_fn=None)
    prof.dump_stats(profile_to)


def run_gateway(
    port: int, upstream_url: str, sink_kind: str, db_path: str, loop: str, client: str | None = None
) -> None:
    from distillguard.accounts.principal import Principal
    from distillguard.config import Settings, UpstreamSettings
    from distillguard.events.store import EventSink
    from distillguard.gateway.app import create_app, run
    from distillguard.gateway.auth import InMemoryKeyResolver

    settings = Settings(
        listen_port=port,
        upstreams={"bench": UpstreamSettings(url=upstream_url)},
        default_upstream="bench",
        database_url=db_path,
        **({"upstream_client": client} if client else {}),
    ).validate()
    keys = InMemoryKeyResolver()
    keys.add(GATEWAY_KEY, Principal(key_id="k1", account_id="a1", org_id="o1"))
    sink: EventSink
    if sink_kind == "sqlite":
        from distillguard.events.open import open_writer

        sink = open_writer(db_path)
    else:
        sink = CountingSink()
    app = create_app(settings, sink=sink, key_resolver=keys)
    run(app, settings, print_fn=None, use_uvloop=loop == "uvloop")


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


class AiohttpSender:
    """The load generator's client, option 1: aiohttp (what most Python clients look like)."""

    def __init__(self) -> None:
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self.timeout = aiohttp.ClientTimeout(total=10)

    async def post(self, url: str, body: bytes, key: str) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        async with self.session.post(url, data=body, headers=headers, timeout=self.timeout) as r:
            return r.status, await r.read()

    async def close(self) -> None:
        await self.session.close()


class RawSender:
    """Option 2 (default): keep-alive HTTP/1.1 over asyncio streams, a few times cheaper per
    request than aiohttp, so the load generator takes less of the CPUs it shares with the
    gateway. Good enough for these two servers (Content-Length or chunked bodies)."""

    def __init__(self) -> None:
        self.idle: dict[tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
        self.requests: dict[tuple[str, bytes, str], tuple[tuple[str, int], bytes]] = {}

    def _request(self, url: str, body: bytes, key: str) -> tuple[tuple[str, int], bytes]:
        cached = self.requests.get((url, body, key))
        if cached is None:
            parts = urlsplit(url)
            host, port = parts.hostname or "127.0.0.1", parts.port or 80
            head = (
                f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            cached = ((host, port), head.encode() + body)
            self.requests[(url, body, key)] = cached
        return cached

    async def post(self, url: str, body: bytes, key: str) -> tuple[int, bytes]:
        addr, request = self._request(url, body, key)
        pool = self.idle.setdefault(addr, [])
        while pool:
            reader, writer = pool.pop()
            if reader.at_eof():  # the server closed it while idle (keep-alive timeout)
                writer.close()
                continue
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                break
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()  # closed as we reused it: retry, as HTTP clients do
        else:
            reader, writer = await asyncio.open_connection(*addr, limit=1 << 22)
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
            except BaseException:
                writer.close()
                raise
        try:
            lower = head.lower()
            if b"transfer-encoding: chunked" in lower:
                data = await reader.readuntil(b"\r\n0\r\n\r\n")
            else:
                start = lower.index(b"content-length:") + 15
                data = await reader.readexactly(int(lower[start : lower.index(b"\r\n", start)]))
        except BaseException:
            writer.close()
            raise
        if b"connection: close" in lower:
            writer.close()
        else:
            pool.append((reader, writer))
        return int(head[9:12]), data

    async def close(self) -> None:
        for pool in self.idle.values():
            for _, writer in pool:
                writer.close()


Sender = AiohttpSender | RawSender


@dataclass
class Traffic:
    """What request i sends: key i mod len(keys), body i mod len(bodies), i counting on
    across calls so every rate step and round sees fresh prompt/key pairs."""

    keys: list[str]
    bodies: list[bytes]
    i: int = 0

    def next(self) -> tuple[bytes, str]:
        i = self.i
        self.i += 1
        return self.bodies[i % len(self.bodies)], self.keys[i % len(self.keys)]


STATUSES: dict[object, int] = {}  # non-200 outcomes, for the summary


async def load(
    sender: Sender, url: str, traffic: Traffic, rate: float, seconds: float, stream: bool
) -> Result:
    latencies: list[float] = []
    errors = 0
    n = int(rate * seconds)

    async def one(scheduled: float) -> None:
        nonlocal errors
        body, key = traffic.next()
        try:
            status, data = await asyncio.wait_for(sender.post(url, body, key), 10)
        except Exception as exc:
            errors += 1
            STATUSES[type(exc).__name__] = STATUSES.get(type(exc).__name__, 0) + 1
            return
        if status != 200 or (stream and b"data: [DONE]" not in data[-64:]):
            errors += 1
            STATUSES[status] = STATUSES.get(status, 0) + 1
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


def thread_cpu(pid: int | None, names_file: str) -> dict[str, float]:
    """CPU seconds per thread of the gateway process, by Python thread name where known."""
    out: dict[str, float] = {}
    if pid is None:
        return out
    try:
        with open(names_file, "rb") as f:
            names = orjson.loads(f.read())
    except OSError:
        names = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(tid, "other")
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        out[name] = out.get(name, 0.0) + cpu
    return out


def children_cpu(pid: int | None) -> float:
    """CPU seconds of the gateway's child processes (the event pipeline sidecar)."""
    if pid is None:
        return 0.0
    total = 0.0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            continue
        for kid in kids:
            with contextlib.suppress(OSError):
                total += cpu_seconds(kid)
    return total


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


async def settle(pids: list[int | None], timeout: float = 30.0) -> None:
    """Wait until these processes (and their children) are nearly idle: an overloaded step
    leaves a backlog (queued requests, events) that would land on the next measurement."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(p) + children_cpu(p) for p in pids)
        await asyncio.sleep(0.5)
        if sum(cpu_seconds(p) + children_cpu(p) for p in pids) - before < 0.05:  # < 10 % of a core
            return


@dataclass
class Gateway:
    """One gateway process under test (several run side by side with --variants)."""

    name: str
    url: str
    pid: int | None
    keys: list[str]
    threads_file: str


async def bench(args: argparse.Namespace, upstream_url: str, gateways: list[Gateway]) -> None:
    await wait_ready(upstream_url + "/v1/models")
    for gw in gateways:
        await wait_ready(gw.url + "/healthz")
    session: Sender = RawSender() if args.client == "raw" else AiohttpSender()
    prompts = make_prompts(args.prompts)
    by_name = {gw.name: gw for gw in gateways}
    width = max(8, *(len(gw.name) for gw in gateways))
    try:
        targets = {"direct": upstream_url, **{gw.name: gw.url for gw in gateways}}
        keys = {"direct": gateways[0].keys, **{gw.name: gw.keys for gw in gateways}}
        print(f"{'mode':<7} {'target':<{width}} {'rate':>6} {'ok':>6} {'err':>5} {'p50 ms':>8} {'p99 ms':>8}")
        summary: dict[str, dict[str, tuple[float, float, float]]] = {}
        for stream in (False, True):
            mode = "stream" if stream else "plain"
            bodies = [
                orjson.dumps(
                    {"model": "bench", "messages": [{"role": "user", "content": p}], "stream": stream}
                )
                for p in prompts
            ]
            traffic = {name: Traffic(keys[name], bodies) for name in targets}
            await settle([gw.pid for gw in gateways])
            for name, base in targets.items():  # warm every path (connections, caches)
                await load(session, base + "/v1/chat/completions", traffic[name], 200, 1.0, stream)
            per: dict[str, list[float]] = {name: [] for name in targets}
            errs = dict.fromkeys(targets, 0)
            round_added: dict[str, list[tuple[float, float]]] = {gw.name: [] for gw in gateways}
            cpu = dict.fromkeys(by_name, 0.0)
            side_cpu = dict.fromkeys(by_name, 0.0)
            by_thread: dict[str, dict[str, float]] = {name: {} for name in by_name}
            for _ in range(args.rounds):
                this_round: dict[str, Result] = {}
                for name, base in targets.items():  # interleaved: noise hits every target alike
                    target = by_name.get(name)
                    pid = target.pid if target else None
                    cpu0, side0 = cpu_seconds(pid), children_cpu(pid)
                    threads0 = thread_cpu(pid, target.threads_file) if target else {}
                    url = base + "/v1/chat/completions"
                    r = await load(session, url, traffic[name], args.rate, args.seconds, stream)
                    if target is not None:
                        await asyncio.sleep(0.3)  # let the background work finish this round's events
                        cpu[name] += cpu_seconds(pid) - cpu0
                        side_cpu[name] += children_cpu(pid) - side0
                        for t, c in thread_cpu(pid, target.threads_file).items():
                            by_thread[name][t] = by_thread[name].get(t, 0.0) + c - threads0.get(t, 0.0)
                    this_round[name] = r
                    per[name] += r.latencies_ms
                    errs[name] += r.errors
                d = this_round["direct"]
                for gw in gateways:
                    g = this_round[gw.name]
                    round_added[gw.name].append((g.pct(0.5) - d.pct(0.5), g.pct(0.99) - d.pct(0.99)))
            stats = {}
            for name in targets:
                res = Result(per[name], errs[name], 0, 0)
                stats[name] = (res.pct(0.5), res.pct(0.99))
                print(
                    f"{mode:<7} {name:<{width}} {args.rate:>6.0f} {res.ok:>6} {res.errors:>5} "
                    f"{stats[name][0]:>8.3f} {stats[name][1]:>8.3f}"
                )
            summary[mode] = {}
            for gw in gateways:
                name = gw.name
                n = max(1, len(per[name]) + errs[name])
                pooled = (stats[name][0] - stats["direct"][0], stats[name][1] - stats["direct"][1])
                # Per round (direct and gateway back to back), the median round: less exposed to
                # another job's burst landing on one side only.
                med = (
                    statistics.median(a[0] for a in round_added[name]),
                    statistics.median(a[1] for a in round_added[name]),
                )
                print(
                    f"{mode:<7} {name:<{width}} ADDED p50/p99: median round {med[0]:+.3f}/{med[1]:+.3f} ms, "
                    f"pooled {pooled[0]:+.3f}/{pooled[1]:+.3f} ms"
                )
                threads = ", ".join(
                    f"{t} {c / n * 1e6:.0f}" for t, c in sorted(by_thread[name].items()) if c > 0
                )
                print(
                    f"{mode:<7} {name:<{width}} CPU/request: gateway process {cpu[name] / n * 1e6:.0f} us "
                    f"({threads}); event pipeline process {side_cpu[name] / n * 1e6:.0f} us"
                )
                summary[mode][name] = (med[0], med[1], 0.0)
            # highest rate held
            for name, base in targets.items():
                best = 0.0
                for rate in args.ramp:
                    url = base + "/v1/chat/completions"
                    ok = False
                    for _attempt in range(args.attempts):  # a burst from another job gets a retry
                        r = await load(session, url, traffic[name], rate, args.ramp_seconds, stream)
                        await settle([gw.pid for gw in gateways])
                        achieved = r.ok / r.elapsed_s
                        # Held: under 1% errors, the rate kept up, no queue built up (p50 < 10 ms).
                        ok = r.errors < 0.01 * r.scheduled and achieved >= 0.95 * rate and r.pct(0.5) < 10
                        print(
                            f"{mode:<7} {name:<{width}} {rate:>6.0f} {r.ok:>6} {r.errors:>5} "
                            f"{r.pct(0.5):>8.3f} {r.pct(0.99):>8.3f}  achieved {achieved:7.0f}/s "
                            f"{'held' if ok else 'NOT held'}"
                        )
                        if ok:
                            break
                    if not ok:
                        break
                    best = rate
                if name == "direct":
                    summary[mode]["direct"] = (0.0, 0.0, best)
                else:
                    p50, p99, _ = summary[mode][name]
                    summary[mode][name] = (p50, p99, best)
        print()
        print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        if STATUSES:
            print("failed requests by status / exception:", dict(STATUSES))
        print("summary (load generator, upstream and gateways share this machine's CPUs)")
        for mode, rows in summary.items():
            print(f"  {mode}: highest rate held direct {rows['direct'][2]:.0f}/s")
            for gw in gateways:
                p50, p99, held = rows[gw.name]
                print(
                    f"  {mode}: {gw.name}: added latency at {args.rate:.0f} req/s (median round) "
                    f"p50 {p50:+.3f} ms, p99 {p99:+.3f} ms; highest rate held {held:.0f}/s"
                )
    finally:
        await session.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--upstream",
        choices=["mock", "raw"],
        default="mock",
        help="mock: `distillguard mock-upstream` (default); raw: a canned-answer asyncio server",
    )
    parser.add_argument("--upstream-url", help="use this running upstream instead")
    parser.add_argument(
        "--gateway",
        choices=["serve", "core"],
        default="serve",
        help="serve: as `distillguard serve` runs it (key registry, detection, enforcement, "
        "SQLite event log, console); core: create_app with no plugins, in-memory keys, --sink",
    )
    parser.add_argument(
        "--sink",
        choices=["sqlite", "memory"],
        default="sqlite",
        help="sqlite: the embedded default event log (batching writer, temp file); memory: count only",
    )
    parser.add_argument(
        "--client", choices=["raw", "aiohttp"], default="raw", help="load generator's HTTP client"
    )
    parser.add_argument(
        "--upstream-client",
        choices=["aiohttp", "http1"],
        default=None,
        help="the gateway's upstream client (default: the Settings default)",
    )
    parser.add_argument(
        "--pipeline",
        choices=["process", "thread"],
        default=None,
        help="with --gateway serve: settings.event_pipeline (default: the Settings default)",
    )
    parser.add_argument(
        "--variants",
        type=lambda s: s.split(","),
        default=None,
        help="several gateways side by side, rounds interleaved: PIPELINE/CLIENT,... e.g. "
        "thread/aiohttp,process/http1 (an empty part keeps the Settings default)",
    )
    parser.add_argument(
        "--base-src",
        default=None,
        help="also run, side by side, the gateway from this other `src` directory (as `gw:base`)",
    )
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop", help="gateway event loop")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--keys", type=int, default=500, help="API keys (accounts) with --gateway serve")
    parser.add_argument(
        "--prompts",
        type=int,
        default=50_000,
        help="distinct prompts, sent in turn (fingerprint cache misses)",
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="per round at the fixed rate")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--ramp", type=lambda s: [float(x) for x in s.split(",")], default=[500, 1000, 1250, 1500, 2000, 2500]
    )
    parser.add_argument("--ramp-seconds", type=float, default=4.0)
    parser.add_argument("--attempts", type=int, default=2, help="tries per ramp rate before 'not held'")
    args = parser.parse_args()
    print("command:", " ".join([os.path.basename(sys.executable), *sys.argv]))
    print(f"machine: {os.cpu_count()} CPUs; load generator: open-loop, {args.client} client (this process)")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    ctx = mp.get_context("spawn")
    procs = []
    if args.upstream_url:
        upstream_url = args.upstream_url.rstrip("/")
    else:
        up_port = free_port()
        upstream_url = f"http://127.0.0.1:{up_port}"
        target = run_mock if args.upstream == "mock" else run_upstream
        procs.append(ctx.Process(target=target, args=(up_port,), daemon=True))
    tmpdir = tempfile.mkdtemp(prefix="dg-bench-")
    variants = args.variants or [f"{args.pipeline or ''}/{args.upstream_client or ''}"]
    gateways = []
    for i, variant in enumerate(variants):
        pipeline, _, client = variant.partition("/")
        db_path = os.path.join(tmpdir, f"events{i}.db")
        gw_port = free_port()
        keys = [GATEWAY_KEY]
        if args.gateway == "serve":
            keys = make_serve_keys(db_path, args.keys)
            proc = ctx.Process(
                target=run_serve,
                args=(gw_port, upstream_url, db_path, client or None, pipeline or None),
                daemon=False,  # it spawns the event pipeline process
            )
        else:
            proc = ctx.Process(
                target=run_gateway,
                args=(gw_port, upstream_url, args.sink, db_path, args.loop, client or None),
                daemon=True,
            )
        procs.append(proc)
        name = "gateway" if len(variants) == 1 else f"gw:{variant}"
        gateways.append(Gateway(name, f"http://127.0.0.1:{gw_port}", None, keys, db_path + ".threads.json"))
    base_proc = None
    if args.base_src:
        # The same gateway from another checkout (e.g. `git archive main src | tar -x -C /tmp/main`),
        # side by side with this one: a before/after under the same machine noise.
        import subprocess

        db_path = os.path.join(tmpdir, "events-base.db")
        gw_port = free_port()
        keys = make_serve_keys(db_path, args.keys)
        here = os.path.dirname(os.path.abspath(__file__))
        code = (
            f"import sys; sys.path[:0] = [{os.path.abspath(args.base_src)!r}, {here!r}]; "
            f"from gateway_latency import run_serve; "
            f"run_serve({gw_port}, {upstream_url!r}, {db_path!r}, None, None)"
        )
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        base_proc = subprocess.Popen([sys.executable, "-c", code], env=env)
        gateways.insert(
            0,
            Gateway("gw:base", f"http://127.0.0.1:{gw_port}", base_proc.pid, keys, db_path + ".threads.json"),
        )
    print(
        f"upstream: {args.upstream_url or args.upstream} at {upstream_url}; gateway: {args.gateway}"
        + (f", event sink: {args.sink}" if args.gateway == "core" else "")
        + (f"; variants (event_pipeline/upstream_client): {', '.join(variants)}" if args.variants else "")
    )
    for p in procs:
        p.start()
    ours = [gw for gw in gateways if gw.name != "gw:base"]
    for gw, proc in zip(ours, procs[-len(ours) :], strict=True):
        gw.pid = proc.pid
    try:
        import uvloop

        uvloop.run(bench(args, upstream_url, gateways))
    finally:
        for p in procs:
            p.terminate()
            p.join(5)
        if base_proc is not None:
            base_proc.terminate()
            base_proc.wait(30)
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()
