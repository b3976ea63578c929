"""Guard for speed work on `fingerprint.enrich`: its outputs must not change by a bit.

    PYTHONPATH=src python bench/fingerprint_equivalence.py record /tmp/fp_reference.json
    PYTHONPATH=src python bench/fingerprint_equivalence.py check /tmp/fp_reference.json
    PYTHONPATH=src python bench/fingerprint_equivalence.py speed [--baseline-src DIR]

Prompts: distinct prompts of the DistillBench simulator (hard_negatives and
mixed_campaigns, seed 1 and 2, scale 0.1: long coding contexts, multilingual, templated)
plus real ShareGPT user turns (eval split). `record` stores every field `enrich` fills;
`check` recomputes them (twice, so a cached second pass is checked too) and fails on the
first difference. `speed` times CPU µs per event (time.process_time) on the simulator's
event stream (repeats included: what the gateway sees; and each distinct prompt once: the
uncached cost), alternating this tree with `--baseline-src` (e.g. a
checkout of main) in separate processes, A/B/A/B, so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SCENARIOS = ("hard_negatives", "mixed_campaigns")
FIELDS = ("skeleton_hash", "minhash", "cot_score", "rubric_score", "datagen_score", "lang", "prompt_chars")


def simulator_prompts(seeds: tuple[int, ...] = (1, 2), scale: float = 0.1) -> list[str]:
    from distillguard.sim.generate import generate

    out: list[str] = []
    for scenario in SCENARIOS:
        for seed in seeds:
            events = generate(scenario, seed=seed, scale=scale).events
            out.extend(e.prompt_text for e in events if e.prompt_text)
    return out


def reference_prompts(n_sharegpt: int = 1500) -> list[str]:
    sys.path.insert(0, os.path.dirname(__file__))
    from fingerprint_speed import sharegpt_prompts

    seen: set[str] = set()
    prompts: list[str] = []
    for text in simulator_prompts():
        if text not in seen:
            seen.add(text)
            prompts.append(text)
    for i, text in enumerate(sharegpt_prompts("eval")):
        if i >= n_sharegpt:
            break
        if text not in seen:
            seen.add(text)
            prompts.append(text)
    return prompts


def outputs(text: str) -> dict[str, object]:
    from distillguard.events.schema import RequestEvent
    from distillguard.fingerprint import enrich

    ev = RequestEvent(request_id="r", ts_start=0.0, prompt_text=text)
    enrich(ev)
    return {f: getattr(ev, f) for f in FIELDS}


def record(path: str) -> None:
    prompts = reference_prompts()
    rows = [{"text": t, **outputs(t)} for t in prompts]
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(rows, fh, ensure_ascii=False)
    print(f"recorded {len(rows)} prompts to {path}")


def check(path: str) -> None:
    with open(path, encoding="utf-8") as fh:
        rows = json.load(fh)
    for attempt in ("first pass", "second pass"):
        for i, row in enumerate(rows):
            got = json.loads(json.dumps(outputs(row["text"])))
            want = {f: row[f] for f in FIELDS}
            if got != want:
                diff = {f: (want[f], got[f]) for f in FIELDS if want[f] != got[f]}
                raise SystemExit(f"MISMATCH ({attempt}) at prompt {i}: {diff}\n{row['text'][:300]!r}")
    print(f"identical: {len(rows)} prompts x {len(FIELDS)} fields, two passes")


def time_once(distinct: bool) -> float:
    """CPU µs per event over the simulator's event stream (repeats included, or each prompt once)."""
    from distillguard.events.schema import RequestEvent
    from distillguard.fingerprint import enrich

    texts = simulator_prompts(seeds=(1,))
    if distinct:
        texts = list(dict.fromkeys(texts))
    enrich(RequestEvent(request_id="r", ts_start=0.0, prompt_text="warm up"))
    events = [RequestEvent(request_id="r", ts_start=0.0, prompt_text=t) for t in texts]
    start = time.process_time()
    for ev in events:
        enrich(ev)
    return (time.process_time() - start) / len(events) * 1e6


def speed(baseline_src: str | None, rounds: int) -> None:
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    trees = [("this tree", here)] + ([("baseline", baseline_src)] if baseline_src else [])
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for stream in ("stream", "distinct"):
            for name, src in trees:
                env = {**os.environ, "PYTHONPATH": src}
                out = subprocess.run(
                    [sys.executable, __file__, "_time", "--" + stream],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                results.setdefault((stream, name), []).append(float(out.strip()))
    for (stream, name), values in results.items():
        print(
            f"{stream:8s} {name:9s}: CPU µs/event per round {[round(v, 1) for v in values]}, "
            f"median {statistics.median(values):.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["record", "check", "speed", "_time"])
    parser.add_argument("path", nargs="?", default="/tmp/fp_reference.json")
    parser.add_argument("--baseline-src", default=None, help="src/ dir of the tree to compare against")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stream", action="store_true", help="(_time) all events, repeats included")
    parser.add_argument("--distinct", action="store_true", help="(_time) each distinct prompt once")
    args = parser.parse_args()
    if args.mode == "record":
        record(args.path)
    elif args.mode == "check":
        check(args.path)
    elif args.mode == "speed":
        print("command:", "PYTHONPATH=src python " + " ".join(sys.argv))
        speed(args.baseline_src, args.rounds)
    else:
        print(time_once(distinct=args.distinct))


if __name__ == "__main__":
    main()
