"""What the upstream HTTP client costs: a bare aiohttp proxy with aiohttp's ClientSession vs
with a minimal keep-alive HTTP/1.1 client (the load generator's `RawSender`).

    PYTHONPATH=src python bench/gateway_client_compare.py [--rounds 3] [--rate 500]

Both proxies are one aiohttp web handler that reads the body, POSTs it upstream and returns
the answer; nothing else (no auth, events, metrics). The upstream is the canned raw-asyncio
server from gateway_latency.py; the load is open-loop at a fixed rate. Printed: the proxy
process's CPU time per request (from /proc), alternating the two clients per round so
machine noise hits both. This sizes the saving a leaner upstream client would bring to the
gateway; the minimal client here handles only what these servers send.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
from pathlib import Path

import orjson
import uvloop
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gateway_latency as gl  # the sibling benchmark module


def run_proxy(port: int, upstream_port: int, kind: str) -> None:
    import aiohttp

    url = f"http://127.0.0.1:{upstream_port}/v1/chat/completions"
    session_key: web.AppKey[aiohttp.ClientSession] = web.AppKey("session")
    lean = gl.RawSender()

    async def start(app: web.Application) -> None:
        if kind == "aiohttp":
            app[session_key] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000))

    async def stop(app: web.Application) -> None:
        if kind == "aiohttp":
            await app[session_key].close()

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        if kind == "aiohttp":
            headers = {"Content-Type": "application/json"}
            async with request.app[session_key].post(url, data=body, headers=headers) as r:
                data = await r.read()
        else:
            _, data = await lean.post(url, body)
        return web.Response(body=data, content_type="application/json")

    app = web.Application()
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_route("*", "/{tail:.*}", handle)
    web.run_app(app, port=port, access_log=None, print=None, loop=uvloop.new_event_loop())


async def measure(url: str, pid: int, rate: float, seconds: float) -> float:
    await gl.wait_ready(url)
    sender = gl.RawSender()
    body = orjson.dumps({"model": "bench", "messages": [{"role": "user", "content": gl.PROMPT}]})
    await gl.load(sender, url + "/v1/chat/completions", body, rate, 1.0, False)  # warm up
    cpu0 = gl.cpu_seconds(pid)
    r = await gl.load(sender, url + "/v1/chat/completions", body, rate, seconds, False)
    await sender.close()
    return (gl.cpu_seconds(pid) - cpu0) / max(1, r.ok + r.errors) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    print("command:", " ".join([os.path.basename(sys.executable), *sys.argv]))
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    ctx = mp.get_context("spawn")
    upstream_port = gl.free_port()
    upstream = ctx.Process(target=gl.run_upstream, args=(upstream_port,), daemon=True)
    upstream.start()
    results: dict[str, list[float]] = {"aiohttp": [], "minimal": []}
    try:
        for _ in range(args.rounds):
            for kind in results:
                port = gl.free_port()
                proxy = ctx.Process(target=run_proxy, args=(port, upstream_port, kind), daemon=True)
                proxy.start()
                try:
                    url = f"http://127.0.0.1:{port}"
                    results[kind].append(uvloop.run(measure(url, proxy.pid or 0, args.rate, args.seconds)))
                finally:
                    proxy.terminate()
                    proxy.join(5)
    finally:
        upstream.terminate()
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for kind, values in results.items():
        print(
            f"{kind:<8} client: proxy CPU per request (us), per round: {' '.join(f'{v:.0f}' for v in values)}"
        )


if __name__ == "__main__":
    main()
