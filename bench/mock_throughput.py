"""How many requests per second the mock upstream serves, streaming and not.

Starts `distillguard mock-upstream` in its own process (one core) and drives it from this
process with a minimal keep-alive HTTP/1.1 client on uvloop, so the number measures the
server rather than a heavyweight client. GET /healthz (bare aiohttp, no generation) runs in
the same session as the baseline: the ratio is what the generation and formatting cost.

    PYTHONPATH=src .venv/bin/python bench/mock_throughput.py [--seconds 5] [--connections 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import orjson
from rich.console import Console
from rich.table import Table

CHAT = {"model": "mock", "messages": [{"role": "user", "content": "Explain how a hash map works."}]}
CASES: list[tuple[str, str, str, dict | None]] = [
    ("baseline GET /healthz", "GET", "/healthz", None),
    ("chat non-stream", "POST", "/v1/chat/completions", CHAT),
    ("chat stream", "POST", "/v1/chat/completions", {**CHAT, "stream": True}),
    (
        "chat reasoning stream",
        "POST",
        "/v1/chat/completions",
        {**CHAT, "model": "mock-reasoning", "stream": True},
    ),
    ("anthropic non-stream", "POST", "/v1/messages", {**CHAT, "max_tokens": 256}),
    ("anthropic stream", "POST", "/v1/messages", {**CHAT, "max_tokens": 256, "stream": True}),
]


@dataclass
class Result:
    ok: int = 0
    errors: int = 0


def build_request(method: str, path: str, body: dict | None, port: int) -> bytes:
    payload = orjson.dumps(body) if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    return head.encode() + b"\r\n" + payload


async def connection_loop(port: int, request: bytes, deadline: float, result: Result) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            ok = head.startswith(b"HTTP/1.1 200")
            lower = head.lower()
            if b"transfer-encoding: chunked" in lower:
                await reader.readuntil(b"\r\n0\r\n\r\n")
            else:
                start = lower.index(b"content-length:") + 15
                length = int(lower[start : lower.index(b"\r\n", start)])
                await reader.readexactly(length)
            if ok:
                result.ok += 1
            else:
                result.errors += 1
    finally:
        writer.close()


async def run_case(port: int, request: bytes, seconds: float, connections: int) -> tuple[float, Result]:
    result = Result()
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(connection_loop(port, request, deadline, result) for _ in range(connections)))
    return (result.ok + result.errors) / (time.perf_counter() - start), result


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process: unlike req/s, barely moved by other jobs' load."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int) -> None:
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("mock upstream did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    console = Console(width=120)
    console.print(f"command: {' '.join([os.path.basename(sys.executable), *sys.argv])}")
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, ["src", os.environ.get("PYTHONPATH")])))
    server = subprocess.Popen(
        [sys.executable, "-m", "distillguard", "mock-upstream", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_ready(port)
        import uvloop

        table = Table(
            title=f"mock upstream, {args.connections} keep-alive connections, {args.seconds:g}s per case"
        )
        for col in ("case", "req/s", "vs baseline", "server CPU µs/req", "req/s per CPU core", "errors"):
            table.add_column(col, justify="right" if col != "case" else "left")
        baseline = None
        with console.status("measuring") as status:
            for name, method, path, body in CASES:
                status.update(f"measuring {name}")
                request = build_request(method, path, body, port)
                cpu_before = cpu_seconds(server.pid)
                rate, result = uvloop.run(run_case(port, request, args.seconds, args.connections))
                cpu_per_request = (cpu_seconds(server.pid) - cpu_before) / max(result.ok + result.errors, 1)
                baseline = baseline or rate
                table.add_row(
                    name,
                    f"{rate:,.0f}",
                    f"{rate / baseline:.2f}",
                    f"{cpu_per_request * 1e6:,.0f}",
                    f"{1 / cpu_per_request:,.0f}" if cpu_per_request else "-",
                    str(result.errors),
                )
        console.print(table)
        console.print(
            f"cores: {os.cpu_count()} (server: 1 process; load generator: this process, same machine)"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
