"""Throughput of the detection hot loop: fingerprints (enrich) + account updates, one core.

    PYTHONPATH=src python bench/detect_throughput.py [--scenario hard_negatives --scale 0.25]
        [--baseline-src OTHER_TREE/src] [--rounds 3]

Bar (issue 4): >= 20,000 events/s per core for enrich + account updates, embeddings off.
Prints CPU µs/event and events/s per core for
  (a)  enrich over the event stream, starting from an empty cache (repeated prompts hit it:
       templated traffic repeats exact prompts, and the gateway sees exactly this),
  (a0) enrich of every distinct prompt once (the uncached cost),
  (b)  observe() on pre-enriched events (account + linking updates),
  (c)  enrich + observe over the stream, empty cache at the start  <- the bar,
  (c0) enrich of distinct prompts + observe (no repeats at all: the worst case),
plus assess() cost and memory per tracked account (tracemalloc and the engine's estimate).
CPU time (time.process_time), because the dev machine is shared; each figure is the median
of --rounds runs. `--baseline-src` times another tree's `fingerprint.enrich` (e.g. a
checkout of main) on the same events in the same run, alternating with this tree's, and
prints the ratio. Events come from the simulator when it is installed, otherwise from a
synthetic mix.
"""

from __future__ import annotations

import argparse
import copy
import gc
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

from distillguard.detect.engine import DistillGuardDetector
from distillguard.events.schema import AccountInfo, RequestEvent

Enricher = Callable[[RequestEvent], RequestEvent]

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


def clear_cache(enrich: Enricher) -> None:
    """Empty the prompt cache of the tree `enrich` comes from (if it has one)."""
    module = sys.modules.get(enrich.__module__)
    cache = getattr(module, "_cache", None)
    if cache is not None:
        cache.clear()
    elif hasattr(getattr(module, "_cached_fingerprints", None), "cache_clear"):
        module._cached_fingerprints.cache_clear()  # type: ignore[union-attr]


def cpu_us_per_event(events: list[RequestEvent], step: Callable[[RequestEvent], object]) -> float:
    """CPU time per event; the bench's own input (all events, held in lists) is frozen out
    of the garbage collector first, so collections traverse only what the loop creates."""
    gc.collect()
    gc.freeze()
    start = time.process_time()
    for e in events:
        step(e)
    elapsed = time.process_time() - start
    gc.unfreeze()
    return elapsed / len(events) * 1e6


def enrich_only(raw: list[RequestEvent], enrich: Enricher) -> float:
    events = [copy.copy(e) for e in raw]
    clear_cache(enrich)
    return cpu_us_per_event(events, enrich)


def enrich_observe(raw: list[RequestEvent], accounts: list[AccountInfo], enrich: Enricher) -> float:
    events = [copy.copy(e) for e in raw]
    det = DistillGuardDetector(enrich=False)
    for info in accounts:
        det.observe_account(info)
    clear_cache(enrich)

    def step(e: RequestEvent) -> None:
        enrich(e)
        det.observe(e)

    return cpu_us_per_event(events, step)


def observe_only(enriched: list[RequestEvent], accounts: list[AccountInfo]) -> float:
    det = DistillGuardDetector(enrich=False)
    for info in accounts:
        det.observe_account(info)
    return cpu_us_per_event(enriched, det.observe)


def rate(us: float) -> str:
    return f"{1e6 / us:>9,.0f} events/s per core ({us:6.1f} µs CPU/event)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="hard_negatives")
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="runs per figure (median reported)")
    parser.add_argument("--synthetic", action="store_true", help="do not use the simulator")
    parser.add_argument("--baseline-src", default=None, help="src/ of another tree to compare enrich with")
    args = parser.parse_args()
    print("command:", " ".join(["PYTHONPATH=src python", *sys.argv]))
    print("load average (1/5/15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    data = None if args.synthetic else from_simulator(args.scenario, args.scale, args.events)
    source = f"simulator {args.scenario} x{args.scale}" if data else "synthetic"
    events, accounts = data or synthetic(args.events, 2000)
    raw = [e for e in events if e.skeleton_hash is None]
    distinct = list({e.prompt_text: e for e in raw if e.prompt_text}.values())
    print(
        f"events: {len(events):,} from {source}; accounts: {len(accounts):,}; distinct prompts "
        f"{len(distinct):,} ({1 - len(distinct) / max(1, len(raw)):.0%} of events repeat an earlier prompt)"
    )

    from distillguard.fingerprint import enrich

    trees: dict[str, Enricher] = {"this tree": enrich}
    if args.baseline_src:
        sys.path.insert(0, os.path.dirname(__file__))
        from fingerprint_equivalence import baseline_enrich

        trees["baseline"] = baseline_enrich(args.baseline_src)
    for name, fn in trees.items():  # first call loads weights and builds tables
        start = time.process_time()
        fn(RequestEvent(request_id="warm", ts_start=0.0, prompt_text="warm up, step by step"))
        print(f"{name}: first enrich (loads the n-gram weights) {(time.process_time() - start) * 1e3:.0f} ms")

    figures: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
    enriched = [copy.copy(e) for e in raw]
    for e in enriched:
        enrich(e)
    for round_no in range(args.rounds):
        order = list(trees) if round_no % 2 == 0 else list(trees)[::-1]
        for name in order:
            fn = trees[name]
            got = figures[name]
            got.setdefault("a", []).append(enrich_only(raw, fn))
            got.setdefault("a0", []).append(enrich_only(distinct, fn))
            got.setdefault("c", []).append(enrich_observe(raw, accounts, fn))
            got.setdefault("c0", []).append(enrich_observe(distinct, accounts, fn))
        figures["this tree"].setdefault("b", []).append(observe_only(enriched, accounts))

    med = {name: {k: statistics.median(v) for k, v in got.items()} for name, got in figures.items()}
    labels = {
        "a": "(a)  enrich, event stream (cache starts empty)",
        "a0": "(a0) enrich, each distinct prompt once      ",
        "b": "(b)  observe (account + linking updates)    ",
        "c": "(c)  enrich + observe, event stream         ",
        "c0": "(c0) enrich + observe, distinct prompts only",
    }
    for key, label in labels.items():
        line = f"{label}: {rate(med['this tree'][key])}"
        if key == "c":
            line += "   <- the bar: >= 20,000/s"
        if "baseline" in med and key in med["baseline"]:
            base = med["baseline"][key]
            line += f" | baseline {base:6.1f} µs (this/baseline {med['this tree'][key] / base:.2f})"
        print(line)

    det = DistillGuardDetector(enrich=False)
    for info in accounts:
        det.observe_account(info)
    for e in enriched:
        det.observe(e)
    t0 = time.process_time()
    result = det.assess(enriched[-1].ts_start)
    print(
        f"assess(): {time.process_time() - t0:.3f} s CPU with {len(det.accounts):,} accounts "
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
    print("load average (1/5/15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
