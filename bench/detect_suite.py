"""Score the engine and both baselines on the DistillBench suite (one process, in memory).

    PYTHONPATH=src python bench/detect_suite.py --seeds heldout [--scenarios a,b] [--out bench/results]

Each scenario is generated once per seed (prompt split: `tune` for tuning seeds, `eval` for
held-out ones), fingerprinted once, and replayed through every detector with the scorer
(`distillguard.sim.scoring.score`). Writes one JSON report per run and `summary.md`.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path

import msgspec


def detectors() -> dict[str, object]:
    from distillguard.detect.baselines import PhraseMatchDetector, RateThresholdDetector
    from distillguard.detect.engine import DistillGuardDetector

    return {
        "distillguard": lambda: DistillGuardDetector(enrich=False),
        "rate": RateThresholdDetector,
        "phrase": PhraseMatchDetector,
    }


def main() -> None:
    from distillguard.fingerprint import enrich  # type: ignore[attr-defined]
    from distillguard.sim.generate import Simulation
    from distillguard.sim.scenario import load_scenario, load_suite
    from distillguard.sim.scoring import score

    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="heldout", help="tuning | heldout | comma-separated ints")
    parser.add_argument("--scenarios", default="", help="comma-separated subset of the suite")
    parser.add_argument("--detectors", default="distillguard,rate,phrase")
    parser.add_argument("--out", default="bench/results")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink populations (Scenario.scaled)")
    parser.add_argument(
        "--cache", default="", help="directory to keep fingerprinted runs (pickle) between calls"
    )
    args = parser.parse_args()
    print("command:", " ".join(["python", *sys.argv]), flush=True)

    suite = load_suite("suite")
    if args.seeds == "tuning":
        seeds, split = list(suite.tuning_seeds), suite.tuning_prompt_split
    elif args.seeds == "heldout":
        seeds, split = list(suite.heldout_seeds), suite.heldout_prompt_split
    else:
        seeds = [int(s) for s in args.seeds.split(",")]
        split = (
            suite.tuning_prompt_split if set(seeds) <= set(suite.tuning_seeds) else suite.heldout_prompt_split
        )
    names = [s for s in args.scenarios.split(",") if s] or list(suite.scenarios)
    wanted = args.detectors.split(",")
    factories = {k: v for k, v in detectors().items() if k in wanted}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in names:
        adaptive = bool(getattr(load_scenario(name), "adaptive", False))
        for seed in seeds:
            t0 = time.perf_counter()
            cached = Path(args.cache) / f"{name}@{seed}@{args.scale}@{split}.pkl" if args.cache else None
            loaded = None
            if cached is not None and cached.exists():
                try:
                    with cached.open("rb") as fh:
                        loaded = pickle.load(fh)
                except (pickle.UnpicklingError, EOFError):  # a run killed mid-write
                    cached.unlink()
            if loaded is not None:
                events, accounts, truth = loaded
            else:
                sim = Simulation(name, seed, scale=args.scale, prompt_split=split)
                events = []
                for e in sim.iter_events():
                    if e.skeleton_hash is None and e.prompt_text:
                        enrich(e)
                    events.append(e)
                accounts, truth = sim.accounts, sim.truth
                if cached is not None:
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    partial = cached.with_suffix(".tmp")
                    with partial.open("wb") as fh:
                        pickle.dump((events, accounts, truth), fh, protocol=5)
                    partial.replace(cached)  # never leave a truncated cache behind
            gen_s = time.perf_counter() - t0
            for det_name, factory in factories.items():
                t1 = time.perf_counter()
                report = score(factory(), events, accounts, truth, name=det_name)  # type: ignore[operator]
                data = msgspec.to_builtins(report)
                (out / f"{name}@{seed}.{det_name}.json").write_text(json.dumps(data, indent=1))
                c, a = data["campaigns"], data["accounts"]
                worst = max((p["before_flag_share"] or 0.0 for p in data["per_campaign"]), default=None)
                undetected = [p["strategy"] for p in data["per_campaign"] if not p["detected"]]
                row = {
                    "scenario": name,
                    "seed": seed,
                    "adaptive": adaptive,
                    "detector": det_name,
                    "events": len(events),
                    "scale": args.scale,
                    "campaign_recall": c["recall"],
                    "before_flag_share": c["before_flag_share"],
                    "worst_before_flag_share": worst,
                    "undetected": undetected,
                    "fpr": a["false_positive_rate"],
                    "false_positives": a["false_positives"],
                    "n_legit": a["n_legit"],
                    "account_recall": a["recall"],
                    "fp_personas": {
                        p: m["n_flagged"]
                        for p, m in data["per_persona"].items()
                        if not m["is_attack"] and m["n_flagged"]
                    },
                    "wall_s": round(time.perf_counter() - t1, 1),
                }
                rows.append(row)
                print(json.dumps(row), f"(generate+enrich {gen_s:.0f}s)", flush=True)
                (out / "rows.json").write_text(json.dumps(rows, indent=1))
            del events
    lines = [
        "| scenario | seed | adaptive | detector | campaign recall | harvest before flag (all) "
        "| worst campaign | FPR | FPs | account recall |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['scenario']} | {r['seed']} | {'yes' if r['adaptive'] else ''} | {r['detector']} | "
            f"{r['campaign_recall']} | {r['before_flag_share']} | {r['worst_before_flag_share']} | "
            f"{r['fpr']} | {r['false_positives']} / {r['n_legit']} | {r['account_recall']} |"
        )
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
