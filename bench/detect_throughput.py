"""Throughput of the detection hot loop: fingerprints (enrich) + account updates, one core.

    PYTHONPATH=src python bench/detect_throughput.py [--scenario hard_negatives --scale 0.2]

Bar (issue 4): >= 20,000 events/s per core for enrich + account updates, embeddings off.
Prints events/s for (a) enrich alone, (b) observe() on pre-enriched events, (c) both,
plus assess() cost and memory per tracked account (tracemalloc and the engine's estimate).
Events come from the simulator when it is installed, otherwise from a synthetic mix.
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import time
import tracemalloc

from distillguard.detect.engine import DistillGuardDetector
from distillguard.events.schema import AccountInfo, RequestEvent

_TEXT = (
    "explain the difference between a list and a tuple step by step please write a function that "
    "sorts numbers how do i cook rice what is the capital of grade this answer from one to ten "
    "translate into french summarize the following document classify the sentiment of this review"
)
WORDS = _TEXT.split()


def synthetic(n: int, n_accounts: int, seed: int = 1) -> tuple[list[RequestEvent], list[AccountInfo]]:
    rng = random.Random(seed)
    accounts = [
        AccountInfo(account_id=f"a{i}", created_at=1.7e9 - 86400 * rng.random()) for i in range(n_accounts)
    ]
    events = []
    t = 1.7e9
    for i in range(n):
        t += rng.expovariate(50)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(5, 40)))
        events.append(
            RequestEvent(
                request_id=f"r{i}",
                account_id=f"a{rng.randrange(n_accounts)}",
                ts_start=t,
                client_ip=f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
                user_agent="bench",
                n_messages=1,
                n_user_turns=1,
                prompt_text=text,
                prompt_tokens=len(text) // 4,
                completion_tokens=rng.randrange(10, 800),
            )
        )
    return events, accounts


def from_simulator(
    scenario: str, scale: float, limit: int
) -> tuple[list[RequestEvent], list[AccountInfo]] | None:
    try:
        from distillguard.sim.generate import Simulation
    except ImportError:
        return None
    sim = Simulation(scenario, 1, scale=scale, prompt_split="tune")
    events = []
    for e in sim.iter_events():
        events.append(e)
        if len(events) >= limit:
            break
    return events, sim.accounts


def rate(n: int, seconds: float, cpu: float) -> str:
    """Wall and CPU time: on a shared machine the CPU figure is the per-core one."""
    return (
        f"{n / cpu:,.0f} events/s per core ({cpu / n * 1e6:.1f} µs CPU/event; "
        f"wall {seconds / n * 1e6:.1f} µs/event)"
    )


class Timer:
    def __enter__(self) -> Timer:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="hard_negatives")
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--synthetic", action="store_true", help="do not use the simulator")
    args = parser.parse_args()
    print("command:", " ".join(["python", *sys.argv]))

    data = None if args.synthetic else from_simulator(args.scenario, args.scale, args.events)
    source = f"simulator {args.scenario} x{args.scale}" if data else "synthetic"
    events, accounts = data or synthetic(args.events, 2000)
    print(f"events: {len(events):,} from {source}; accounts: {len(accounts):,}")

    try:
        from distillguard.fingerprint import enrich  # type: ignore[attr-defined]
    except ImportError:
        enrich = None
        print("fingerprint.enrich not installed: enrich timings skipped")

    raw = [copy.copy(e) for e in events]
    enriched = events
    if enrich is not None:
        with Timer() as t:
            for e in enriched:
                if e.skeleton_hash is None and e.prompt_text:
                    enrich(e)
        print(f"(a) enrich alone:              {rate(len(enriched), t.wall, t.cpu)}")

    det = DistillGuardDetector(enrich=False)
    for info in accounts:
        det.observe_account(info)
    with Timer() as t:
        for e in enriched:
            det.observe(e)
    print(f"(b) observe (account updates): {rate(len(enriched), t.wall, t.cpu)}")

    if enrich is not None:
        det2 = DistillGuardDetector(enrich=True)
        for info in accounts:
            det2.observe_account(info)
        with Timer() as t:
            for e in raw:
                det2.observe(e)
        print(f"(c) enrich + observe:          {rate(len(raw), t.wall, t.cpu)}   <- the bar: >= 20,000/s")

    t0 = time.perf_counter()
    result = det.assess(enriched[-1].ts_start)
    print(
        f"assess(): {time.perf_counter() - t0:.3f} s with {len(det.accounts):,} accounts "
        f"({len(result.accounts)} flagged)"
    )

    # memory per tracked account: build the state again under tracemalloc
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    det3 = DistillGuardDetector(enrich=False)
    for info in accounts:
        det3.observe_account(info)
    for e in enriched:
        det3.observe(e)
    det3.assess(enriched[-1].ts_start)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    n_acc = len(det3.accounts)
    print(
        f"memory: {(after - before) / n_acc / 1024:.1f} KiB per tracked account (tracemalloc, "
        f"{n_acc:,} accounts, incl. linking index and pairs); engine estimate "
        f"{det3.memory_bytes_per_account() / 1024:.1f} KiB"
    )


if __name__ == "__main__":
    main()
