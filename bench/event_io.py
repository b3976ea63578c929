"""Event files at scale: write and read N events as JSONL and Parquet, streaming.

Events are generated lazily and read back one at a time, so peak memory should not grow
with N. Each format runs in its own subprocess so its peak RSS is its own.

    python bench/event_io.py --events 1000000 --formats parquet,jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from distillguard.events.io import read_events, write_events
from distillguard.events.schema import RequestEvent


def generate(n: int, seed: int = 3) -> Iterator[RequestEvent]:
    rng = random.Random(seed)
    for i in range(n):
        yield RequestEvent(
            request_id=f"r{i}",
            account_id=f"acct-{i % 1000}",
            org_id=f"org-{i % 100}",
            ts_start=1_750_000_000.0 + i * 0.01,
            ts_end=1_750_000_001.0 + i * 0.01,
            client_ip=f"10.0.{i % 256}.{i % 7}",
            endpoint="/v1/chat/completions",
            model="m",
            prompt_tokens=50,
            completion_tokens=300,
            skeleton_hash=f"{rng.getrandbits(64):016x}",
            minhash=[rng.getrandbits(32) for _ in range(128)],
            cot_score=rng.random(),
            reasons=["cot_share"] if i % 10 == 0 else [],
        )


def run_one(fmt: str, n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"events.{fmt}")
        started = time.perf_counter()
        write_events(path, generate(n))
        wrote = time.perf_counter()
        count, tokens = 0, 0
        for event in read_events(path):
            count += 1
            tokens += event.completion_tokens
        read = time.perf_counter()
        assert count == n and tokens == 300 * n
        return {
            "write_per_s": n / (wrote - started),
            "read_per_s": n / (read - wrote),
            "mb": os.path.getsize(path) / 1e6,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--formats", default="parquet,jsonl")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.events)))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console(width=120)
    console.print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    table = Table(title=f"{args.events:,} events (128-value minhash, no text)")
    for header in ("format", "write ev/s", "read ev/s", "file MB", "peak RSS MB"):
        table.add_column(header, justify="right")
    for fmt in args.formats.split(","):
        with console.status(f"{fmt}: writing and reading {args.events:,} events"):
            out = subprocess.run(
                [sys.executable, __file__, "--events", str(args.events), "--child", fmt],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        r = json.loads(out)
        table.add_row(
            fmt,
            f"{r['write_per_s']:,.0f}",
            f"{r['read_per_s']:,.0f}",
            f"{r['mb']:.0f}",
            f"{r['peak_rss_mb']:.0f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
