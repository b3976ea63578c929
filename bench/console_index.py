"""How fast the console folds an event log, and what its index costs in memory.

    PYTHONPATH=src python bench/console_index.py EVENTS.jsonl [--pages]

Prints events/s for `EventIndex.fold` (the console's one pass over the log, without the
hunt) and the index's traced memory per account and per event; with --pages, also the time
to build the overview, accounts and top campaign view models (no plots) from a hunt.
"""

from __future__ import annotations

import sys
import time
import tracemalloc

from distillguard.console.index import EventIndex
from distillguard.events.open import open_store


def main() -> None:
    path = sys.argv[1]
    print(f"command: PYTHONPATH=src python bench/console_index.py {' '.join(sys.argv[1:])}")
    store = open_store(path, readonly=True)
    events = list(store.iter_events())
    index = EventIndex()
    t0 = time.perf_counter()
    for event in events:
        index.fold(event)
    fold_s = time.perf_counter() - t0
    index = EventIndex()  # again under tracemalloc (slow) for the memory figure
    tracemalloc.start()
    for event in events:
        index.fold(event)
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n, accounts = len(events), len(index.accounts)
    print(f"{n:,} events, {accounts:,} accounts")
    print(f"fold: {n / fold_s:,.0f} events/s ({fold_s:.2f} s)")
    print(
        f"index memory: {current / 1e6:.1f} MB = {current / accounts / 1e3:.1f} kB/account, "
        f"{current / n:.0f} B/event"
    )
    if "--pages" in sys.argv:
        from distillguard.console.standalone import load_console_data

        t0 = time.perf_counter()
        data = load_console_data(path)
        print(f"load (fold + hunt): {time.perf_counter() - t0:.1f} s")
        for name, fn in [
            ("overview", lambda: data.overview()),
            ("accounts", lambda: data.account_rows(flagged_only=False)),
            ("campaign", lambda: [data.campaign(c.account_id) for c in data.campaign_rows()[:1]]),
        ]:
            t0 = time.perf_counter()
            fn()
            print(f"{name}: {1000 * (time.perf_counter() - t0):.0f} ms")


if __name__ == "__main__":
    main()
