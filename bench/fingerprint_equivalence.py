"""Guard for speed work on `fingerprint.enrich`: its outputs must not change by a bit.

    PYTHONPATH=src python bench/fingerprint_equivalence.py record /tmp/fp_reference.json
    PYTHONPATH=src python bench/fingerprint_equivalence.py check /tmp/fp_reference.json
    PYTHONPATH=src python bench/fingerprint_equivalence.py speed --baseline-src DIR

Prompts: distinct prompts of the DistillBench simulator (hard_negatives and
mixed_campaigns, seed 1 and 2, scale 0.1: long coding contexts, multilingual, templated)
plus real ShareGPT user turns (eval split). `record` stores every field `enrich` fills;
`check` recomputes them (twice, so a cached second pass is checked too) and fails on the
first difference. `speed` times CPU µs per event (time.process_time) on the simulator's
seed-1 events (each distinct prompt once: the uncached cost; and the event stream with
repeats: what the gateway sees), in one process, against the `enrich` of `--baseline-src`
(another tree's src/, e.g. a checkout of main, imported as `dg_baseline`), alternating
chunks of 500 events so machine noise hits both alike. An A/A run (baseline vs a copy of
itself) on the shared dev machine came out within 3%.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable

from distillguard.events.schema import RequestEvent

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


def baseline_enrich(baseline_src: str) -> Callable[[RequestEvent], RequestEvent]:
    """`enrich` of another tree's fingerprint package, imported side by side as `dg_baseline`."""
    tmp = tempfile.mkdtemp(prefix="fp_baseline_")
    pkg = os.path.join(tmp, "dg_baseline")
    shutil.copytree(
        os.path.join(baseline_src, "distillguard", "fingerprint"), os.path.join(pkg, "fingerprint")
    )
    open(os.path.join(pkg, "__init__.py"), "w").close()
    for name in os.listdir(os.path.join(pkg, "fingerprint")):
        if name.endswith(".py"):
            path = os.path.join(pkg, "fingerprint", name)
            with open(path, encoding="utf-8") as fh:
                code = fh.read().replace("distillguard.fingerprint", "dg_baseline.fingerprint")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(code)
    sys.path.insert(0, tmp)
    module = importlib.import_module("dg_baseline.fingerprint.enrich")
    return module.enrich


def interleaved_cpu_us(
    texts: list[str], fns: dict[str, Callable[[RequestEvent], RequestEvent]]
) -> dict[str, float]:
    """CPU µs/event per function, timed on alternating chunks of 500 events (noise hits all alike)."""
    for fn in fns.values():
        fn(RequestEvent(request_id="r", ts_start=0.0, prompt_text="warm up"))
    total = dict.fromkeys(fns, 0.0)
    names = list(fns)
    for i in range(0, len(texts), 500):
        chunk = texts[i : i + 500]
        order = names if (i // 500) % 2 == 0 else names[::-1]
        for name in order:
            events = [RequestEvent(request_id="r", ts_start=0.0, prompt_text=t) for t in chunk]
            start = time.process_time()
            for ev in events:
                fns[name](ev)
            total[name] += time.process_time() - start
    return {name: t / len(texts) * 1e6 for name, t in total.items()}


def speed(baseline_src: str) -> None:
    from distillguard.fingerprint import enrich

    fns = {"this tree": enrich, "baseline": baseline_enrich(baseline_src)}
    stream = simulator_prompts(seeds=(1,))
    for label, texts in (("distinct prompts", list(dict.fromkeys(stream))), ("event stream", stream)):
        for module_name in ("distillguard.fingerprint.enrich", "dg_baseline.fingerprint.enrich"):
            cache = getattr(sys.modules.get(module_name), "_cache", None)
            if cache is not None:
                cache.clear()  # the stream starts cold for both trees
        us = interleaved_cpu_us(texts, fns)
        print(
            f"{label}: {len(texts)} events, CPU µs/event this tree {us['this tree']:.1f}, "
            f"baseline {us['baseline']:.1f} (ratio {us['this tree'] / us['baseline']:.3f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["record", "check", "speed"])
    parser.add_argument("path", nargs="?", default="/tmp/fp_reference.json")
    parser.add_argument(
        "--baseline-src", default=None, help="(speed) src/ dir of the tree to compare against"
    )
    args = parser.parse_args()
    if args.mode == "record":
        record(args.path)
    elif args.mode == "check":
        check(args.path)
    else:
        if not args.baseline_src:
            parser.error("speed needs --baseline-src")
        print("command:", "PYTHONPATH=src python " + " ".join(sys.argv))
        speed(args.baseline_src)


if __name__ == "__main__":
    main()
