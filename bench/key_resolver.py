"""Cost of `CachedKeyResolver.resolve` per request (the gateway calls it on every request).

python bench/key_resolver.py --keys 10000 --calls 200000
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from distillguard.accounts.keys import CachedKeyResolver, generate_key
from distillguard.accounts.registry import SqliteAccountRegistry


def per_call_us(fn, args: list[str]) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for a in args:
        fn(a)
    return (time.perf_counter() - started) / len(args) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()
    console = Console(width=120)
    console.print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    with tempfile.TemporaryDirectory() as tmp:
        registry = SqliteAccountRegistry(Path(tmp) / "dg.db", pepper=b"bench")
        with console.status(f"creating {args.keys:,} keys"):
            raws = [registry.create_key(f"acct-{i % 1000}", f"org-{i % 50}")[0] for i in range(args.keys)]
        started = time.perf_counter()
        resolver = CachedKeyResolver(registry)
        load_ms = (time.perf_counter() - started) * 1e3
        valid = [raws[i % len(raws)] for i in range(args.calls)]
        unknown = [generate_key()[0] for _ in range(args.calls)]
        malformed = ["sk-" + r[3:] for r in valid]
        table = Table(title=f"resolve() with {args.keys:,} keys in memory (full reload: {load_ms:.0f} ms)")
        table.add_column("case")
        table.add_column("µs per call", justify="right")
        table.add_column("database lookups", justify="right")
        for name, keys in (
            ("valid key", valid),
            ("unknown well-formed key", unknown),
            ("malformed", malformed),
        ):
            before = resolver.stats.db_lookups
            us = per_call_us(resolver.resolve, keys)
            table.add_row(name, f"{us:.2f}", str(resolver.stats.db_lookups - before))
        console.print(table)
        registry.close()


if __name__ == "__main__":
    main()
