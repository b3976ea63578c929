"""How fast DistillBench generates events (target: >= 1M events in under a minute).

    PYTHONPATH=src python bench/simulate_speed.py [--scenario mixed_campaigns] [--scale 3] [--out /tmp/dg-sim]

Prints planning time (numpy columns), event-building time (RequestEvent objects, time order)
and JSONL writing time, with events/s for each. The machine is shared: run it twice.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from distillguard.sim.generate import Simulation, write_outputs
from distillguard.sim.text.sharegpt import load_corpus


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="mixed_campaigns")
    ap.add_argument("--scale", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None, help="directory for the JSONL run (default: a temp dir, removed)")
    args = ap.parse_args()
    print("command:", "PYTHONPATH=src python", " ".join(sys.argv))

    load = os.getloadavg()[0]
    t = time.perf_counter()
    load_corpus("eval")
    t_corpus = time.perf_counter() - t

    t, c = time.perf_counter(), time.process_time()
    sim = Simulation(args.scenario, args.seed, scale=args.scale)
    t_plan, c_plan = time.perf_counter() - t, time.process_time() - c
    n = sim.n_events

    t, c = time.perf_counter(), time.process_time()
    count = sum(1 for _ in sim.iter_events())
    t_build, c_build = time.perf_counter() - t, time.process_time() - c
    assert count == n

    t, c = time.perf_counter(), time.process_time()
    count = sum(k for k, _ in sim.json_lines())
    t_lines, c_lines = time.perf_counter() - t, time.process_time() - c
    assert count == n

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="dg-sim-"))
    t, c = time.perf_counter(), time.process_time()
    sim2 = Simulation(args.scenario, args.seed, scale=args.scale)
    paths = write_outputs(sim2, out)
    t_write_total, c_write_total = time.perf_counter() - t, time.process_time() - c
    size = paths["events"].stat().st_size

    t, c = time.perf_counter(), time.process_time()
    sim3 = Simulation(args.scenario, args.seed, scale=args.scale)
    pq_paths = write_outputs(sim3, out / "pq", "parquet")
    t_parquet, c_parquet = time.perf_counter() - t, time.process_time() - c
    pq_size = pq_paths["events"].stat().st_size
    if not args.out:
        shutil.rmtree(out)

    print(f"scenario {args.scenario} x{args.scale}: {n:,} events, {len(sim.accounts):,} accounts")
    print(f"  load ShareGPT (once per process): {t_corpus:6.2f} s")
    print(f"load average at start: {load:.1f} on {os.cpu_count()} cores (wall times suffer when it is high)")
    print("                                      wall s   cpu s   events/s (wall)")
    rows = [
        ("plan (numpy columns)", t_plan, c_plan),
        ("build RequestEvent objects", t_build, c_build),
        ("JSONL bytes from columns", t_lines, c_lines),
        ("plan + write all files (JSONL)", t_write_total, c_write_total),
        ("plan + write all files (Parquet)", t_parquet, c_parquet),
    ]
    for label, wall, cpu in rows:
        print(f"  {label:34s} {wall:7.2f} {cpu:7.2f} {n / wall:12,.0f}")
    print(
        f"  events.jsonl: {size / 1e6:,.0f} MB ({size / n:,.0f} bytes/event); "
        f"events.parquet: {pq_size / 1e6:,.0f} MB"
    )
    print(f"  end to end incl. ShareGPT load: {t_corpus + t_write_total:.1f} s wall")


if __name__ == "__main__":
    main()
