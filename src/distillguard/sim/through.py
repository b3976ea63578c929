"""Send a simulated scenario through a running gateway with the official `openai` and
`anthropic` SDKs (`distillguard simulate SCENARIO --through URL`), time-compressed.

Each account sends with its own API key. The caller supplies keys: a mapping
account_id -> key (e.g. from `--keys keys.json`), or a function called once per account
that creates one (e.g. through the gateway's admin API). Requests are rebuilt from the
events: system prompt, earlier turns (placeholders: events keep only the last user turn),
tool calls and results, sampling parameters, logprobs and logit_bias.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distillguard.events.schema import AccountInfo, RequestEvent
from distillguard.sim.generate import Simulation

KeySource = Mapping[str, str] | Callable[[AccountInfo], str]
_TOOL = {
    "name": "lookup",
    "description": "Look something up.",
    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
}


@dataclass
class SendReport:
    sent: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0  # no key for the account
    errors: dict[str, int] = field(default_factory=dict)  # exception class -> count


def load_keys(path: str | Path) -> dict[str, str]:
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{path}: expected a JSON object mapping account_id to API key")
    return data


class _Keys:
    def __init__(self, source: KeySource, accounts: list[AccountInfo]) -> None:
        self.source = source
        self.accounts = {a.account_id: a for a in accounts}
        self.cache: dict[str, str | None] = {}

    def get(self, account_id: str) -> str | None:
        if account_id not in self.cache:
            if callable(self.source):
                acct = self.accounts.get(account_id)
                self.cache[account_id] = self.source(acct) if acct else None
            else:
                self.cache[account_id] = self.source.get(account_id)
        return self.cache[account_id]


def openai_request(ev: RequestEvent) -> dict[str, Any]:
    """Keyword arguments for `chat.completions.create` (or `completions.create` for /v1/completions)."""
    args: dict[str, Any] = {"model": ev.model}
    if ev.endpoint == "/v1/completions":
        args["prompt"] = ev.prompt_text or ""
        if ev.logprobs:
            args["logprobs"] = min(ev.top_logprobs or 5, 5)
    else:
        args["messages"] = _openai_messages(ev)
        if ev.logprobs:
            args["logprobs"] = True
            if ev.top_logprobs is not None:
                args["top_logprobs"] = ev.top_logprobs
        if ev.n_tools:
            args["tools"] = [
                {"type": "function", "function": {**_TOOL, "name": f"tool_{i}"}} for i in range(ev.n_tools)
            ]
        if ev.reasoning_effort:
            args["reasoning_effort"] = ev.reasoning_effort
    if ev.logit_bias:
        args["logit_bias"] = {"1734": -100, "2822": 5}
    for name in ("temperature", "top_p", "n", "max_tokens"):
        value = getattr(ev, name)
        if value is not None:
            args[name] = value
    return args


def _openai_messages(ev: RequestEvent) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = []
    users_left = ev.n_user_turns
    call = 0
    roles = ev.roles or "u"
    for i, r in enumerate(roles):
        if r == "s":
            msgs.append({"role": "system", "content": ev.system_text or "You are a helpful assistant."})
        elif r == "u":
            users_left -= 1
            msgs.append(
                {"role": "user", "content": (ev.prompt_text or "") if users_left == 0 else "(earlier turn)"}
            )
        elif r == "a":
            if i + 1 < len(roles) and roles[i + 1] == "t":
                call += 1
                msgs.append(
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": f"call_{call}",
                                "type": "function",
                                "function": {"name": "tool_0", "arguments": json.dumps({"q": "step"})},
                            }
                        ],
                    }
                )
            else:
                msgs.append({"role": "assistant", "content": "(earlier answer)"})
        elif r == "t":
            msgs.append({"role": "tool", "tool_call_id": f"call_{call}", "content": "(tool result)"})
    return msgs


def anthropic_request(ev: RequestEvent) -> dict[str, Any]:
    """Keyword arguments for `messages.create`."""
    max_tokens = ev.max_tokens or 1024
    args: dict[str, Any] = {"model": ev.model, "messages": _anthropic_messages(ev)}
    if "s" in (ev.roles or ""):
        args["system"] = ev.system_text or "You are a helpful assistant."
    if ev.thinking_budget:
        args["thinking"] = {"type": "enabled", "budget_tokens": ev.thinking_budget}
        max_tokens = max(max_tokens, ev.thinking_budget + 1024)
    args["max_tokens"] = max_tokens
    if ev.n_tools:
        args["tools"] = [
            {"name": f"tool_{i}", "description": _TOOL["description"], "input_schema": _TOOL["parameters"]}
            for i in range(ev.n_tools)
        ]
    # Recent anthropic SDKs dropped temperature/top_p from `messages.create`; the wire
    # format (and the gateway) still carry them, so they travel as extra body fields.
    sampling = {}
    if ev.temperature is not None and not ev.thinking_budget:
        sampling["temperature"] = min(ev.temperature, 1.0)
    if ev.top_p is not None and not ev.thinking_budget:
        sampling["top_p"] = ev.top_p
    if sampling:
        args["extra_body"] = sampling
    return args


def _anthropic_messages(ev: RequestEvent) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = []
    users_left = ev.n_user_turns
    call = 0
    for r in ev.roles or "u":
        if r == "u":
            users_left -= 1
            msgs.append(
                {"role": "user", "content": (ev.prompt_text or "") if users_left == 0 else "(earlier turn)"}
            )
        elif r == "a":
            if msgs and msgs[-1]["role"] == "user" and call < ev.roles.count("t"):
                call += 1
                msgs.append(
                    {
                        "role": "assistant",
                        "content": [
                            {
                                "type": "tool_use",
                                "id": f"toolu_{call}",
                                "name": "tool_0",
                                "input": {"q": "step"},
                            }
                        ],
                    }
                )
            else:
                msgs.append({"role": "assistant", "content": "(earlier answer)"})
        elif r == "t":
            msgs.append(
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": f"toolu_{call}", "content": "(tool result)"}
                    ],
                }
            )
    return msgs


async def _send_one(
    ev: RequestEvent, base_url: str, key: str, clients: dict[tuple[str, str], Any], http: Any
) -> None:
    import anthropic
    import openai

    # One SDK client per key, all on one shared connection pool (an SDK client of its own
    # per key would build a connection pool and TLS context per account).

    if ev.flavor == "anthropic":
        client = clients.get(("a", key))
        if client is None:
            client = clients[("a", key)] = anthropic.AsyncAnthropic(
                base_url=base_url, api_key=key, max_retries=0
            )
        args = anthropic_request(ev)
        if ev.stream:
            events = await client.messages.create(**args, stream=True)
            async for _ in events:
                pass
        else:
            await client.messages.create(**args)
        return
    client = clients.get(("o", key))
    if client is None:
        client = clients[("o", key)] = openai.AsyncOpenAI(
            base_url=f"{base_url}/v1", api_key=key, max_retries=0
        )
    args = openai_request(ev)
    create = client.completions.create if ev.endpoint == "/v1/completions" else client.chat.completions.create
    if ev.stream:
        stream = await create(**args, stream=True)
        async for _ in stream:
            pass
    else:
        await create(**args)


async def send_through_async(
    sim: Simulation,
    url: str,
    keys: KeySource,
    *,
    speedup: float = 3600.0,
    concurrency: int = 16,
    limit: int | None = None,
    on_sent: Callable[[], None] | None = None,
) -> SendReport:
    """Replay `sim` against `url` with simulated time divided by `speedup`; never more than
    `concurrency` requests in flight (late requests are sent as soon as a slot frees)."""
    base_url = url.rstrip("/")
    key_of = _Keys(keys, sim.accounts)
    report = SendReport()
    sem = asyncio.Semaphore(concurrency)
    clients: dict[tuple[str, str], Any] = {}
    tasks: set[asyncio.Task[None]] = set()
    wall0 = time.monotonic()
    sim0: float | None = None
    import anthropic
    import openai

    # One connection pool per SDK, shared by every key's client.
    http = {"openai": openai.DefaultAsyncHttpxClient(), "anthropic": anthropic.DefaultAsyncHttpxClient()}

    async def run(ev: RequestEvent, key: str) -> None:
        try:
            await _send_one(ev, base_url, key, clients, http[ev.flavor])
            report.ok += 1
        except Exception as exc:  # an API error is a result here, not a crash
            report.failed += 1
            name = type(exc).__name__
            report.errors[name] = report.errors.get(name, 0) + 1
        finally:
            sem.release()
            if on_sent:
                on_sent()

    for ev in sim.iter_events():
        if limit is not None and report.sent + report.skipped >= limit:
            break
        key = key_of.get(ev.account_id)
        if key is None:
            report.skipped += 1
            continue
        if sim0 is None:
            sim0 = ev.ts_start
        delay = (ev.ts_start - sim0) / speedup - (time.monotonic() - wall0)
        if delay > 0:
            await asyncio.sleep(delay)
        await sem.acquire()
        report.sent += 1
        task = asyncio.create_task(run(ev, key))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    for pool in http.values():
        await pool.aclose()
    return report


def send_through(
    sim: Simulation,
    url: str,
    keys: KeySource,
    *,
    speedup: float = 3600.0,
    concurrency: int = 16,
    limit: int | None = None,
    console: Any = None,
) -> SendReport:
    """Blocking wrapper with a rich progress bar when `console` is given."""
    if console is None:
        return asyncio.run(
            send_through_async(sim, url, keys, speedup=speedup, concurrency=concurrency, limit=limit)
        )
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    total = min(sim.n_events, limit) if limit is not None else sim.n_events
    with Progress(
        TextColumn("sending"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("requests", total=total)
        return asyncio.run(
            send_through_async(
                sim,
                url,
                keys,
                speedup=speedup,
                concurrency=concurrency,
                limit=limit,
                on_sent=lambda: progress.advance(task),
            )
        )
