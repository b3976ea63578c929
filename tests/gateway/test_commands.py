"""`distillguard serve` as a real process: starts, proxies, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from .test_app import free_port

SRC = str(Path(__file__).resolve().parents[2] / "src")


def serve(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.Popen(
        [sys.executable, "-m", "distillguard", "serve", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def test_serve_proxies_and_stops_on_sigterm(upstream: Any) -> None:
    server, _state = upstream
    port = free_port()
    proc = serve("--upstream", str(server.make_url("")).rstrip("/"), "--port", str(port), "--no-auth")
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as s:
            for _ in range(100):
                try:
                    async with s.get(base + "/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            body = {"model": "m1", "messages": [{"role": "user", "content": "hi"}]}
            async with s.post(base + "/v1/chat/completions", json=body, headers={"x-api-key": "any"}) as r:
                assert r.status == 200
                assert (await r.json())["choices"][0]["message"]["content"] == "Hello there friend."
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err.decode()
    assert b"distillguard gateway on" in out


def test_serve_without_upstream_explains() -> None:
    proc = serve("--no-auth", "--port", "1")
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 2 and b"no upstream" in err
