"""Harvest with and without enforcement: a DistillBench scenario replayed through detection
and the enforcement plugins, on simulated time, without HTTP.

Run:  PYTHONPATH=src python bench/enforcement_harvest.py [SCENARIO ...] [--seed 0] [--scale 0.2]
                                                        [--policy FILE] [--plot out.png]

For each scenario the same events are replayed twice: enforcement off (detection only)
and on (decide, gate, hardening, fallback, in-process rate limits on the simulated clock,
reasoning protection). The detector sees each event as it would have been recorded: a
refused request arrives as its 4xx with no output. Every `--assess-every` simulated seconds
the detector's tiers are published to the tier store the decision step reads.

Harvest = output tokens served to the campaign's harvest requests (ground truth), counted
after the campaign is flagged (the first time one of its accounts reached SUSPECT in the
enforcement-off run, so both runs share one reference time). With enforcement on, a refused
request serves nothing, reasoning protection removes the request's reasoning tokens, and a
fallback-served answer counts as no premium harvest (reported separately as raw tokens).
Legitimate accounts: requests on which a non-shadow action was taken.

This is an open-loop replay: the simulated attacker does not adapt to refusals, and the
gateway/HTTP path is not exercised (tests/enforce/test_gateway_e2e.py covers that).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from distillguard.accounts.principal import Principal
from distillguard.detect.api import Tier
from distillguard.detect.engine import DetectorConfig, DistillGuardDetector
from distillguard.detect.online import tier_entries
from distillguard.detect.tierstore import MemoryTierStore
from distillguard.enforce.decide import decision_of
from distillguard.enforce.policy import Policy, load_policy
from distillguard.enforce.ratelimit import RateLimitPlugin
from distillguard.enforce.ratelimit_memory import MemoryLimiter
from distillguard.enforce.stack import build_plugins
from distillguard.events.schema import RequestEvent
from distillguard.gateway.pipeline import Plugin, RequestContext
from distillguard.sim.generate import Simulation


class SimClock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class RunResult:
    after_flag: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # campaign -> premium tokens
    after_flag_raw: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # incl. fallback
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    first_flag: dict[str, float] = field(default_factory=dict)  # campaign -> ts
    legit_requests: int = 0
    legit_acted: int = 0  # requests of legit accounts with a non-shadow action
    legit_accounts_acted: set[str] = field(default_factory=set)
    refused: int = 0
    seconds: float = 0.0
    by_tier: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # after-flag tokens by tier


def context_of(event: RequestEvent) -> RequestContext:
    body: dict[str, Any] = {"model": event.model, "messages": [], "stream": event.stream}
    if event.max_tokens:
        body["max_tokens"] = event.max_tokens
    if event.n:
        body["n"] = event.n
    if event.logprobs:
        body["logprobs"] = True
    if event.top_logprobs is not None:
        body["top_logprobs"] = event.top_logprobs
    if event.logit_bias:
        body["logit_bias"] = {"1": 1}
    record = msgspec.structs.replace(event, tier=0, action=None, shadow=False, reasons=[])
    return RequestContext(
        request_id=event.request_id,
        flavor=event.flavor,
        endpoint=event.endpoint,
        body=body,
        headers={},
        client_ip=event.client_ip,
        principal=Principal(key_id=event.key_id, account_id=event.account_id, org_id=event.org_id),
        event=record,
        upstream_name="default",
    )


async def replay(
    sim: Simulation,
    policy: Policy | None,
    assess_every: float,
    reference: RunResult | None,
    config: DetectorConfig | None = None,
) -> RunResult:
    from rich.progress import Progress

    clock = SimClock()
    detector = DistillGuardDetector(config)
    for info in sim.accounts:
        detector.observe_account(info)
    store = MemoryTierStore()
    plugins: list[Plugin] = []
    if policy is not None:
        plugins = build_plugins(store, policy, limiter=MemoryLimiter(clock=clock))
        for p in plugins:
            if isinstance(p, RateLimitPlugin):
                p.clock = clock
    truth = sim.truth
    campaign_of_account = {a: t.campaign_id for a, t in truth.accounts.items() if t.campaign_id}
    legit = {a for a, t in truth.accounts.items() if not t.is_attack}
    result = RunResult()
    flag_ref = reference.first_flag if reference is not None else result.first_flag
    next_assess = None
    started = time.monotonic()
    with Progress(transient=True) as progress:
        task = progress.add_task(
            f"{sim.scenario.name} enforcement {'on' if policy else 'off'}", total=sim.n_events
        )
        for i, event in enumerate(sim.iter_events()):
            clock.now = event.ts_start
            if next_assess is None:
                next_assess = event.ts_start + assess_every
            if event.ts_start >= next_assess:
                assessment = detector.assess(event.ts_start)
                store.replace(tier_entries(assessment))
                for account, flag in assessment.accounts.items():
                    campaign = campaign_of_account.get(account)
                    if campaign and flag.tier >= Tier.SUSPECT and campaign not in result.first_flag:
                        result.first_flag[campaign] = event.ts_start
                next_assess = event.ts_start + assess_every
            served = event.completion_tokens if event.status < 400 else 0
            premium = served
            observed = event
            if plugins:
                ctx = context_of(event)
                rejection = None
                for plugin in plugins:
                    rejection = await plugin.on_request(ctx)
                    if rejection is not None:
                        break
                decision = decision_of(ctx)
                acted = rejection is not None or (
                    decision is not None and bool(decision.enforced or decision.product)
                )
                if event.account_id in legit:
                    result.legit_requests += 1
                    if acted:
                        result.legit_acted += 1
                        result.legit_accounts_acted.add(event.account_id)
                if rejection is not None:
                    result.refused += 1
                    served = premium = 0
                    observed = msgspec.structs.replace(
                        ctx.event, status=rejection.status, completion_tokens=0, reasoning_tokens=0,
                        response_text=None, error_type=rejection.code,
                    )  # fmt: skip
                else:
                    if any(p.response_transform(ctx) is not None for p in plugins if p.name == "reasoning"):
                        served = premium = max(0, served - event.reasoning_tokens)
                    if decision is not None and decision.acts("fallback"):
                        fallback = decision.params_for("fallback")
                        if fallback.get("upstream") or fallback.get("model"):
                            premium = 0  # served by the fallback model, not the one worth distilling
                    ctx.event.prompt_tokens, ctx.event.completion_tokens = (
                        event.prompt_tokens,
                        event.completion_tokens,
                    )
                    for plugin in plugins:
                        await plugin.on_complete(ctx)
                    observed = ctx.event
            elif event.account_id in legit:
                result.legit_requests += 1
            detector.observe(observed)
            campaign = truth.attack_requests.get(event.request_id)
            if campaign is not None:
                result.total[campaign] += premium
                flagged_at = flag_ref.get(campaign)
                if flagged_at is not None and event.ts_start >= flagged_at:
                    result.after_flag[campaign] += premium
                    result.by_tier[Tier(ctx.event.tier).name if plugins else "off"] += premium
                    result.after_flag_raw[campaign] += served
            if i % 2000 == 0:
                progress.update(task, completed=i)
    result.seconds = time.monotonic() - started
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "scenarios", nargs="*", default=["hydra_shared_payment", "bulk_cot", "logprob_extraction"]
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--policy", type=Path, default=None)
    parser.add_argument(
        "--assess-every", type=float, default=300.0, help="simulated seconds between assessments"
    )
    parser.add_argument("--plot", type=Path, default=None)
    parser.add_argument("--detector-config", type=Path, default=None, help="calibrated DetectorConfig file")
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    console = Console(width=170)
    console.print(f"command: PYTHONPATH=src python {' '.join(sys.argv)}")
    policy = load_policy(args.policy)
    table = Table(title=f"harvest after flagged, enforcement on vs off (policy {policy.version})")
    for col in (
        "scenario",
        "campaign",
        "flagged after",
        "off: tokens",
        "on: tokens",
        "on/off",
        "on raw",
        "legit acted",
    ):
        table.add_column(col)
    rows = []
    for name in args.scenarios:
        sim = Simulation(name, args.seed, scale=args.scale)
        config = DetectorConfig.load(args.detector_config) if args.detector_config else None
        off = await replay(sim, None, args.assess_every, None, config)
        on = await replay(sim, policy, args.assess_every, off, config)
        if not sim.truth.campaigns:  # legitimate traffic only: the row is about false positives
            legit = f"{on.legit_acted}/{on.legit_requests} req, {len(on.legit_accounts_acted)} acct"
            table.add_row(name, "(none)", "-", "-", "-", "-", "-", legit)
        for campaign in sorted(sim.truth.campaigns):
            flagged = off.first_flag.get(campaign)
            start = sim.scenario.start_ts
            when = f"{(flagged - start) / 3600:.1f} h" if flagged is not None else "never"
            a, b = off.after_flag.get(campaign, 0), on.after_flag.get(campaign, 0)
            share = f"{b / a:.1%}" if a else "-"
            legit = f"{on.legit_acted}/{on.legit_requests} req, {len(on.legit_accounts_acted)} acct"
            table.add_row(
                name,
                campaign,
                when,
                f"{a:,}",
                f"{b:,}",
                share,
                f"{on.after_flag_raw.get(campaign, 0):,}",
                legit,
            )
            rows.append((name, campaign, a, b))
        console.print(
            f"{name}: replay off {off.seconds:.0f}s, on {on.seconds:.0f}s, refused {on.refused:,}; "
            f"after-flag harvest with enforcement by the account's tier: {dict(on.by_tier)}"
        )
    console.print(table)
    if args.plot and rows:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 4))
        labels = [f"{s}\n{c}" for s, c, _, _ in rows]
        xs = range(len(rows))
        ax.bar([x - 0.2 for x in xs], [r[2] for r in rows], width=0.4, label="enforcement off")
        ax.bar([x + 0.2 for x in xs], [r[3] for r in rows], width=0.4, label="enforcement on")
        for x, (_, _, off_tokens, on_tokens) in zip(xs, rows, strict=True):
            if off_tokens:
                ax.annotate(
                    f"{on_tokens / off_tokens:.1%}", (x + 0.2, max(on_tokens, 1)), ha="center", va="bottom"
                )
        ax.set_xticks(list(xs), labels, fontsize=7)
        ax.set_yscale("log")
        ax.set_ylabel("output tokens harvested after flag (log)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        console.print(f"plot: {args.plot}")


if __name__ == "__main__":
    import asyncio

    asyncio.run(main())
