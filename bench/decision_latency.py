"""What the enforcement decision adds to a request: p50/p99 of the on_request hooks.

Run:  PYTHONPATH=src python bench/decision_latency.py [--requests 20000] [--plot out.png]

Measures, per request and in the same run:
  baseline  six no-op plugins (the cost of the hook calls themselves)
  decide    DecisionPlugin alone: dict TierStore lookup + overrides + policy
  stack     the full enforcement stack's on_request hooks (decide, gate, hardening,
            fallback, in-process rate limits, reasoning) plus response_transform
Accounts: 100k in the tier store, 90% NORMAL, the rest flagged (some in campaigns), so the
mix exercises the allow path and the action paths. Bar (issue 5): decision <= 0.2 ms p50.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from distillguard.accounts.principal import Principal
from distillguard.detect.api import Tier, TierEntry
from distillguard.enforce.decide import DecisionPlugin
from distillguard.enforce.overrides import MemoryOverrideStore, make_override
from distillguard.enforce.policy import load_policy
from distillguard.enforce.ratelimit_memory import MemoryLimiter
from distillguard.enforce.stack import build_plugins
from distillguard.events.schema import RequestEvent
from distillguard.gateway.pipeline import Plugin, RequestContext


class DictTierStore:
    def __init__(self, entries: dict[str, TierEntry]) -> None:
        self.entries = entries

    def get(self, account_id: str) -> TierEntry | None:
        return self.entries.get(account_id)

    def publish(self, entries: dict[str, TierEntry]) -> None:
        self.entries.update(entries)


def population(n_accounts: int, rng: random.Random) -> dict[str, TierEntry]:
    entries: dict[str, TierEntry] = {}
    for i in range(n_accounts):
        roll = rng.random()
        if roll < 0.9:
            continue  # NORMAL accounts are simply absent, as the detector publishes only flags
        tier = Tier(rng.choice([1, 2, 2, 3, 3, 4]))
        campaign = f"camp_{i % 50}" if tier >= Tier.LIKELY else None
        entries[f"acct_{i}"] = TierEntry(
            tier=tier, reasons=["shared_skeleton", "cot_share"], campaign_id=campaign
        )
    return entries


def context(account: str, org: str) -> RequestContext:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "Explain step by step how to solve x^2 = 4."}],
        "max_tokens": 256,
        "logprobs": True,
        "top_logprobs": 5,
    }
    return RequestContext(
        request_id="r",
        flavor="openai",
        endpoint="/v1/chat/completions",
        body=body,
        headers={},
        client_ip="10.0.0.1",
        principal=Principal(key_id="k_" + account, account_id=account, org_id=org),
        event=RequestEvent(request_id="r", ts_start=0.0, account_id=account, org_id=org, context_chars=44),
        upstream_name="default",
    )


async def measure(plugins: list[Plugin], accounts: list[str]) -> list[float]:
    out: list[float] = []
    clock = time.perf_counter_ns
    for account in accounts:
        ctx = context(account, "org_" + account[-2:])
        t0 = clock()
        for plugin in plugins:
            if await plugin.on_request(ctx) is not None:
                break
        for plugin in plugins:
            plugin.response_transform(ctx)
        out.append((clock() - t0) / 1e6)
    return out


def summary(name: str, ms: list[float]) -> tuple[str, float, float, float]:
    q = statistics.quantiles(ms, n=100)
    return name, q[49], q[98], statistics.fmean(ms)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--plot", type=Path, default=None, help="write a latency histogram PNG")
    args = parser.parse_args()
    rng = random.Random(1)
    tiers = DictTierStore(population(args.accounts, rng))
    overrides = MemoryOverrideStore()
    overrides.set(make_override("account", "acct_7", actions=["block"]))
    policy = load_policy()
    accounts = [f"acct_{rng.randrange(args.accounts)}" for _ in range(args.requests)]

    class Noop(Plugin):
        pass

    runs = {
        "baseline (6 no-op plugins)": [Noop() for _ in range(6)],
        "decide (tier lookup + policy)": [DecisionPlugin(policy, tiers, overrides)],
        "full enforcement stack": build_plugins(tiers, policy, limiter=MemoryLimiter(), overrides=overrides),
    }
    results = {}
    from rich.console import Console
    from rich.progress import track
    from rich.table import Table

    for name, plugins in track(runs.items(), description="measuring"):
        await measure(plugins, accounts[:2000])  # warm-up
        results[name] = await measure(plugins, accounts)
    table = Table(
        title=f"on_request per request, {args.requests} requests, {len(tiers.entries)} flagged accounts"
    )
    for col in ("hooks", "p50 ms", "p99 ms", "mean ms"):
        table.add_column(col)
    rows = [summary(n, ms) for n, ms in results.items()]
    base = rows[0]
    for name, p50, p99, mean in rows:
        table.add_row(name, f"{p50:.4f}", f"{p99:.4f}", f"{mean:.4f}")
    console = Console()
    console.print(f"command: PYTHONPATH=src python {' '.join(sys.argv)}")
    console.print(
        f"load average during the run: {os.getloadavg()[0]:.1f} (shared cores: p99 is mostly noise)"
    )
    console.print(table)
    stack = rows[-1]
    console.print(
        f"added by the full stack over the no-op baseline: p50 {stack[1] - base[1]:.4f} ms, "
        f"p99 {stack[2] - base[2]:.4f} ms (bar: p50 <= 0.2 ms)"
    )
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4))
        for name, ms in results.items():
            xs = sorted(ms)
            ax.plot(xs, [(i + 1) / len(xs) for i in range(len(xs))], label=name)
        ax.axvline(0.2, color="red", linestyle="--", label="bar: 0.2 ms at p50")
        ax.set_xscale("log")
        ax.set_xlabel("ms per request (on_request hooks), log scale")
        ax.set_ylabel("fraction of requests (CDF)")
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        console.print(f"plot: {args.plot}")


if __name__ == "__main__":
    asyncio.run(main())
