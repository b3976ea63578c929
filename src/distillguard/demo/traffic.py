"""Drive a DistillBench simulation through a running gateway with the official SDKs, on a
compressed clock, each request sent as its simulated client would have sent it.

Like `sim.through` (whose request builders it reuses), plus what an end-to-end run of the
detector needs: each request carries its simulated client's address (`X-Forwarded-For`, for
a gateway that trusts it) and user agent, and every outcome (status per account) is
reported back, so the caller can count what enforcement did. One SDK client per flavour
(one connection pool); the account's key goes in the request's auth header.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from distillguard.events.schema import RequestEvent
from distillguard.sim.through import anthropic_request, openai_request

# (simulated event, HTTP status the client saw: 200, 4xx, 5xx; 0 a transport error, -1 a
# request the SDK would not build)
OnResult = Callable[[RequestEvent, int], None]


@dataclass
class DriveReport:
    sent: int = 0
    ok: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    client_errors: dict[str, int] = field(default_factory=dict)  # -1 statuses, by exception
    skipped: int = 0  # no key for the account
    unsent: int = 0  # left when the deadline passed
    behind_s: float = 0.0  # the most the sender fell behind its schedule (wall seconds)
    seconds: float = 0.0

    def count(self, status: int) -> None:
        """Tally one answer by the status the client saw."""
        self.by_status[status] = self.by_status.get(status, 0) + 1
        if status == 200:
            self.ok += 1


def mock_length_headers(ev: RequestEvent) -> dict[str, str]:
    """Ask the mock model for the event's simulated answer and reasoning token counts."""
    answer = max(0, ev.completion_tokens - ev.reasoning_tokens)
    headers = {"x-mock-output-tokens": str(answer)}
    if ev.reasoning_tokens > 0:
        headers["x-mock-reasoning-tokens"] = str(ev.reasoning_tokens)
    return headers


class Sender:
    """Owns the two SDK clients; `send(event, key)` returns the status the client saw."""

    def __init__(self, base_url: str, *, timeout_s: float = 30.0, simulated_lengths: bool = False) -> None:
        import anthropic
        import openai

        base_url = base_url.rstrip("/")
        # The mock model answers 16-64 tokens unless told otherwise; with this on, each
        # request asks it (x-mock-* headers, which the gateway must forward) for the
        # simulated answer and reasoning lengths, so harvest and the detector's token
        # features match the scenario's. Only for a mock upstream.
        self.simulated_lengths = simulated_lengths
        self.errors: dict[str, int] = {}  # client-side failures by exception class
        self.openai = openai.AsyncOpenAI(
            base_url=f"{base_url}/v1", api_key="unused", max_retries=0, timeout=timeout_s
        )
        self.anthropic = anthropic.AsyncAnthropic(
            base_url=base_url, api_key="unused", max_retries=0, timeout=timeout_s
        )

    def _client_headers(self, ev: RequestEvent) -> dict[str, str]:
        headers: dict[str, str] = {}
        if ev.client_ip:
            headers["X-Forwarded-For"] = ev.client_ip
        if ev.user_agent:
            headers["User-Agent"] = ev.user_agent
        if self.simulated_lengths:
            headers.update(mock_length_headers(ev))
        return headers

    async def send(self, ev: RequestEvent, key: str) -> int:
        import anthropic
        import openai

        headers = self._client_headers(ev)
        try:
            if ev.flavor == "anthropic":
                headers["x-api-key"] = key
                args = anthropic_request(ev)
                if ev.stream:
                    # create(stream=True): messages.stream() takes no extra_body (sampling fields)
                    events = await self.anthropic.messages.create(**args, stream=True, extra_headers=headers)
                    async for _ in events:
                        pass
                else:
                    await self.anthropic.messages.create(**args, extra_headers=headers)
                return 200
            headers["Authorization"] = f"Bearer {key}"
            kwargs = openai_request(ev)
            create: Any = (
                self.openai.completions.create
                if ev.endpoint == "/v1/completions"
                else self.openai.chat.completions.create
            )
            if ev.stream:
                stream = await create(**kwargs, stream=True, extra_headers=headers)
                async for _ in stream:
                    pass
            else:
                await create(**kwargs, extra_headers=headers)
            return 200
        except (openai.APIStatusError, anthropic.APIStatusError) as exc:
            return int(exc.status_code)
        except (openai.APIError, anthropic.APIError):
            return 0  # connection error, timeout, a stream that ended with an error frame
        except Exception as exc:  # a request the SDK refused to build: count it, go on
            self.errors[type(exc).__name__] = self.errors.get(type(exc).__name__, 0) + 1
            return -1

    async def close(self) -> None:
        await self.openai.close()
        await self.anthropic.close()


async def drive(
    events: Iterable[RequestEvent],
    sim_start: float,
    base_url: str,
    keys: Mapping[str, str],
    *,
    speed: float,
    concurrency: int = 32,
    deadline_s: float = 600.0,
    on_result: OnResult | None = None,
    on_start: Callable[[], None] | None = None,
    timeout_s: float = 30.0,
    simulated_lengths: bool = False,
) -> DriveReport:
    """Send `events` (in time order) at (ts - sim_start) / `speed` wall seconds from now, at
    most `concurrency` in flight;
    stop scheduling after `deadline_s` wall seconds and give in-flight requests `timeout_s`."""
    report = DriveReport()
    sender = Sender(base_url, timeout_s=timeout_s, simulated_lengths=simulated_lengths)
    slots = asyncio.Semaphore(concurrency)
    tasks: set[asyncio.Task[None]] = set()

    async def one(ev: RequestEvent, key: str) -> None:
        try:
            status = await sender.send(ev, key)
        finally:
            slots.release()
        report.count(status)
        if on_result is not None:
            on_result(ev, status)

    wall0 = time.monotonic()
    if on_start is not None:
        on_start()
    try:
        for ev in events:
            key = keys.get(ev.account_id)
            if key is None:
                report.skipped += 1
                continue
            now = time.monotonic() - wall0
            if now > deadline_s:
                report.unsent += 1
                continue
            delay = (ev.ts_start - sim_start) / speed - now
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                report.behind_s = max(report.behind_s, -delay)
            await slots.acquire()
            report.sent += 1
            task = asyncio.create_task(one(ev, key))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            _done, pending = await asyncio.wait(set(tasks), timeout=timeout_s + 5)
            for task in pending:
                task.cancel()
    finally:
        for task in list(tasks):
            task.cancel()
        await sender.close()
        report.client_errors = dict(sender.errors)
        report.seconds = time.monotonic() - wall0
    return report
