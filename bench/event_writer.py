"""How many events per second the event log takes, through the BatchingWriter.

For each backend it measures, in one run:
  - direct: `store.write_many` in batches (the baseline: what the database can take),
  - writer: `BatchingWriter.submit` for every event, then `close()` (end-to-end rate),
  - submit: the hot-path cost of one `submit` call (µs), while the writer drains.

    python bench/event_writer.py --events 50000 --backends sqlite,postgres

Events look like gateway output: 128-value minhash, reasons, and (with --retention full)
a prompt and a response of a few hundred characters.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from distillguard.events.schema import RequestEvent
from distillguard.events.writer import BatchingWriter

PG_URL = os.environ.get("DG_BENCH_PG", "postgresql://127.0.0.1:5432/test")


def make_events(n: int, retention: str, seed: int = 7) -> list[RequestEvent]:
    rng = random.Random(seed)
    words = [
        "explain",
        "the",
        "proof",
        "step",
        "by",
        "step",
        "and",
        "show",
        "your",
        "reasoning",
        "for",
        "each",
        "claim",
        "in",
        "detail",
    ]
    t0 = 1_750_000_000.0
    events = []
    for i in range(n):
        full = retention == "full"
        prompt = " ".join(rng.choice(words) for _ in range(40)) if full else None
        events.append(
            RequestEvent(
                request_id=uuid.UUID(int=rng.getrandbits(128)).hex,
                key_id=f"k{i % 500:04d}",
                account_id=f"acct-{i % 500:04d}",
                org_id=f"org-{i % 50:03d}",
                ts_start=t0 + i * 0.001,
                ts_first_byte=t0 + i * 0.001 + 0.2,
                ts_end=t0 + i * 0.001 + 1.5,
                client_ip=f"10.{i % 7}.{i % 13}.{i % 251}",
                user_agent="OpenAI/Python 1.40.0",
                endpoint="/v1/chat/completions",
                model="model-a",
                upstream="primary",
                stream=bool(i % 2),
                temperature=0.7,
                max_tokens=1024,
                n_messages=3,
                n_user_turns=1,
                roles="su",
                system_hash="a1b2c3d4",
                prompt_chars=240,
                context_chars=600,
                prompt_tokens=60,
                completion_tokens=400,
                finish_reason="stop",
                prompt_text=prompt,
                response_text=(prompt * 3) if prompt else None,
                skeleton_hash=f"{rng.getrandbits(64):016x}",
                minhash=[rng.getrandbits(32) for _ in range(128)],
                cot_score=rng.random(),
                rubric_score=rng.random(),
                datagen_score=rng.random(),
                lang="latn",
                reasons=["cot_share"] if i % 10 == 0 else [],
            )
        )
    return events


def open_backend(name: str, workdir: str) -> tuple[Any, Callable[[], None]]:
    """A fresh, empty store and a cleanup function."""
    if name == "sqlite":
        from distillguard.events.sqlite_store import SqliteEventStore

        path = os.path.join(workdir, f"bench-{uuid.uuid4().hex[:8]}.db")
        store = SqliteEventStore(path)
        return store, store.close
    if name == "postgres":
        import psycopg

        from distillguard.events.postgres_store import PostgresEventStore

        schema = f"dg_bench_{uuid.uuid4().hex[:8]}"
        store = PostgresEventStore(PG_URL, schema=schema)

        def cleanup() -> None:
            store.close()
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

        return store, cleanup
    raise SystemExit(f"unknown backend {name!r}")


def bench_direct(store: Any, events: list[RequestEvent], batch: int) -> float:
    started = time.perf_counter()
    for i in range(0, len(events), batch):
        store.write_many(events[i : i + batch])
    return len(events) / (time.perf_counter() - started)


def bench_writer(
    store: Any, events: list[RequestEvent], batch: int, delay: float
) -> tuple[float, float, Any]:
    writer = BatchingWriter(store, max_batch=batch, max_delay=delay, max_queue=len(events) + 1)
    submit = writer.submit
    started = time.perf_counter()
    for event in events:
        submit(event)
    submitted = time.perf_counter()
    writer.close()
    finished = time.perf_counter()
    per_submit_us = (submitted - started) / len(events) * 1e6
    return len(events) / (finished - started), per_submit_us, writer.stats


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--retention", choices=["full", "fingerprints-only"], default="full")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--delay", type=float, default=0.1)
    args = parser.parse_args()

    console = Console(width=120)
    console.print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    console.print(f"[dim]{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}[/dim]")
    with console.status("building events"):
        events = make_events(args.events, args.retention)

    table = Table(title=f"{args.events:,} events, retention={args.retention}, batch={args.batch}")
    for header in (
        "backend",
        "direct write_many ev/s",
        "BatchingWriter ev/s",
        "writer/direct",
        "submit µs",
        "lost",
    ):
        table.add_column(header, justify="right")
    with tempfile.TemporaryDirectory() as workdir:
        for backend in args.backends.split(","):
            with console.status(f"{backend}: direct"):
                store, cleanup = open_backend(backend, workdir)
                try:
                    direct = bench_direct(store, events, args.batch)
                finally:
                    cleanup()
            with console.status(f"{backend}: through the writer"):
                store, cleanup = open_backend(backend, workdir)
                try:
                    rate, per_submit, stats = bench_writer(store, events, args.batch, args.delay)
                    stored = store.count()
                finally:
                    cleanup()
            lost = args.events - stored
            table.add_row(
                backend,
                f"{direct:,.0f}",
                f"{rate:,.0f}",
                f"{rate / direct:.2f}",
                f"{per_submit:.2f}",
                f"{lost} (dropped {stats.dropped})",
            )
    console.print(table)


if __name__ == "__main__":
    main()
