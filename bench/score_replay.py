"""How fast does DistillBench replay events, and what do the baselines cost on top?

Synthetic stream (no generator needed): ACCOUNTS accounts over DAYS days, a tenth of them
in campaigns; prompts carry text so the phrase baseline does real work. Prints the command
and events/s for a do-nothing detector (the scorer's own overhead) and each baseline, in
the same run so the ratios mean something on a shared machine.

    PYTHONPATH=src python bench/score_replay.py [EVENTS]
"""

from __future__ import annotations

import random
import sys
import time

from distillguard.detect.api import Assessment
from distillguard.detect.baselines import PhraseMatchDetector, RateThresholdDetector
from distillguard.events.schema import AccountInfo, RequestEvent
from distillguard.sim.scoring import score
from distillguard.sim.truth import AccountTruth, Truth

PROMPTS = (
    "Summarize this paragraph about the history of trade routes in two sentences.",
    "Can you explain step by step how photosynthesis works?",
    "Write a python function that parses a CSV file and returns the column sums.",
    "Translate the following sentence into French: the meeting moved to Tuesday.",
)


class NullDetector:
    name = "null"

    def observe_account(self, info: AccountInfo) -> None: ...

    def observe(self, event: RequestEvent) -> None: ...

    def assess(self, now: float) -> Assessment:
        return Assessment(at=now)


def synthetic(n_events: int, n_accounts: int = 2000, days: float = 3.0, seed: int = 0):
    rng = random.Random(seed)
    accounts = [AccountInfo(account_id=f"a{i}", created_at=0.0) for i in range(n_accounts)]
    truth = Truth(scenario="synthetic", seed=seed)
    for i in range(n_accounts):
        campaign = f"c{i % 5}" if i % 10 == 0 else None
        truth.accounts[f"a{i}"] = AccountTruth(
            account_id=f"a{i}", persona="hydra" if campaign else "chat_user",
            campaign_id=campaign, is_attack=campaign is not None,
        )  # fmt: skip
    times = sorted(rng.uniform(0, days * 86400) for _ in range(n_events))
    events = []
    for k, ts in enumerate(times):
        acct = f"a{rng.randrange(n_accounts)}"
        rid = f"r{k}"
        campaign = truth.accounts[acct].campaign_id
        if campaign:
            truth.attack_requests[rid] = campaign
        events.append(RequestEvent(request_id=rid, account_id=acct, ts_start=ts,
                                   completion_tokens=rng.randrange(50, 800),
                                   prompt_text=rng.choice(PROMPTS)))  # fmt: skip
    return events, accounts, truth


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    t0 = time.perf_counter()
    events, accounts, truth = synthetic(n)
    print(f"$ PYTHONPATH=src python bench/score_replay.py {n}")
    print(f"built {n:,} synthetic events in {time.perf_counter() - t0:.1f} s")
    base = None
    for detector in (NullDetector(), RateThresholdDetector(), PhraseMatchDetector()):
        report = score(detector, events, accounts, truth)  # type: ignore[arg-type]
        eps = report.replay.events_per_s or 0.0
        base = base or eps
        print(
            f"{detector.name:>8}: {eps:>10,.0f} events/s  (x{eps / base:.2f} of null)  "
            f"detector share of wall {report.replay.detector_s / report.replay.wall_s:.0%}  "
            f"peak RSS {report.replay.peak_rss_mb:.0f} MB"
        )


if __name__ == "__main__":
    main()
