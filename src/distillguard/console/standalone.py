"""ConsoleData against an event log alone: one pass folds the index and runs a hunt.

Used by `distillguard console --db`, `distillguard report` and `distillguard export stix`.
Account metadata comes from an AccountInfo JSONL (`--accounts`; for a simulator output
directory the `accounts.jsonl` next to `events.jsonl` is picked up), else from the accounts
registry tables when the log is a SQLite/PostgreSQL database that has them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from distillguard.console.data import ConsoleData, FixedAssessment
from distillguard.console.index import EventIndex
from distillguard.events.schema import AccountInfo, OrgInfo, RequestEvent

ProgressFn = Callable[[int, float], None]
log = logging.getLogger(__name__)


def sibling_file(db: str, name: str) -> str | None:
    path = Path(db)
    if path.is_file() and path.suffix in (".jsonl", ".gz", ".parquet"):
        candidate = path.parent / name
        if candidate.exists():
            return str(candidate)
    return None


def load_accounts(db: str, accounts_path: str | None) -> tuple[dict[str, AccountInfo], dict[str, OrgInfo]]:
    import msgspec

    from distillguard.detect.hunt import read_accounts

    path = accounts_path or sibling_file(db, "accounts.jsonl")
    if path:
        accounts = {a.account_id: a for a in read_accounts(path)}
        orgs: dict[str, OrgInfo] = {}
        orgs_path = Path(path).parent / "orgs.jsonl"
        if orgs_path.exists():
            decode = msgspec.json.Decoder(OrgInfo).decode
            for line in orgs_path.read_bytes().splitlines():
                if line.strip():
                    org = decode(line)
                    orgs[org.org_id] = org
        return accounts, orgs
    if sibling_file(db, "events.jsonl") is not None or Path(db).suffix in (".jsonl", ".parquet", ".gz"):
        return {}, {}
    if not _has_registry(db):
        return {}, {}
    try:
        from distillguard.accounts.registry import open_registry

        registry = open_registry(db)
    except Exception as exc:  # e.g. another DG_KEY_PEPPER: say so, show the console without it
        log.warning("accounts registry in %s unreadable (%s): payment and signup data left out", db, exc)
        return {}, {}
    try:
        return (
            {a.account_id: a for a in registry.list_accounts()},
            {o.org_id: o for o in registry.list_orgs()},
        )
    finally:
        registry.close()


def _has_registry(db: str) -> bool:
    """Whether a SQLite log holds the accounts registry's tables (checked read-only: opening the
    registry would create them in someone's event log). PostgreSQL: assumed, like the gateway."""
    import sqlite3

    from distillguard.events.open import is_postgres_url, sqlite_path

    if is_postgres_url(db):
        return True
    path = sqlite_path(db)
    if path == ":memory:" or not Path(path).exists():
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dg_accounts'"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is not None


def load_console_data(
    db: str,
    *,
    accounts_path: str | None = None,
    config_path: str | None = None,
    cadence_s: float = 300.0,
    progress: ProgressFn | None = None,
) -> ConsoleData:
    """Read the whole log once: fold it into the index and through the detector (a hunt)."""
    from distillguard.detect.engine import DetectorConfig, DistillGuardDetector
    from distillguard.detect.hunt import run_batch
    from distillguard.events.open import open_store

    accounts, orgs = load_accounts(db, accounts_path)
    store: Any = open_store(db, readonly=True)
    index = EventIndex()

    def folded() -> Iterator[RequestEvent]:
        iter_with_seq = getattr(store, "iter_with_seq", None)
        if iter_with_seq is None:
            for event in store.iter_events():
                yield event
                index.fold(event)  # after the detector saw it: it fills in fingerprints
            return
        for seq, event in iter_with_seq():
            yield event
            index.fold(event)
            index.last_seq = seq

    config = DetectorConfig.load(config_path) if config_path else DetectorConfig()
    detector = DistillGuardDetector(config)
    result = run_batch(detector, folded(), accounts.values(), cadence_s=cadence_s, progress=progress)
    source = FixedAssessment(result.final, dict(result.first_flagged), detector=detector)
    # a hunt is a snapshot: the index is not tailed afterwards, or it would run ahead of it
    return ConsoleData(store, source, accounts=accounts, orgs=orgs, index=index, refresh_s=float("inf"))


class Follower:
    """Keeps a standalone console live: polls the log, feeds new events to the hunt's
    detector (an OnlineDetector thread assesses every `interval_s`) and to the index."""

    def __init__(self, data: ConsoleData, *, interval_s: float = 5.0, poll_s: float = 1.0) -> None:
        from distillguard.console.data import OnlineAssessment, _enriched
        from distillguard.detect.online import OnlineDetector
        from distillguard.detect.tierstore import MemoryTierStore

        if not isinstance(data.source, FixedAssessment) or data.source.detector is None:
            raise ValueError("follow needs the ConsoleData of load_console_data (it holds the detector)")
        self.data = data
        self.poll_s = poll_s
        initial = data.assessment()
        detector = data.source.detector
        # log time, not wall time: a replayed log is judged as the hunt judged it, a live one
        # (events stamped now) the same as with the wall clock
        self.runner = OnlineDetector(
            detector,
            MemoryTierStore(),
            interval_s=interval_s,
            clock=lambda: data.index.last_ts or time.time(),
        )
        self.runner.last_assessment = initial
        data.source = OnlineAssessment(self.runner)
        data.on_event = lambda event: self.runner.submit(_enriched(event))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="distillguard-console-follow", daemon=True)

    def start(self) -> Follower:
        self.runner.start()
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.data.refresh(force=True)
            except Exception:  # the log is being rotated or the database restarts: try again
                log.exception("console follow: reading the log failed")
            self._stop.wait(self.poll_s)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.runner.close()


def live_console_data(
    db: str,
    runner: Any,
    *,
    registry: Any = None,
    refresh_s: float = 2.0,
) -> ConsoleData:
    """ConsoleData for a running gateway: tails the event log `db` (opened read-only) and
    shows the latest assessment of `runner` (a `detect.online.OnlineDetector`).

    `registry` (an accounts registry: `get_account`, `list_orgs`) supplies payment
    fingerprints and signup data; without it those indicators are left out.
    """
    from distillguard.console.data import OnlineAssessment
    from distillguard.events.open import open_store

    store = open_store(db, readonly=True)
    orgs: dict[str, OrgInfo] = {}
    lookup = None
    if registry is not None:
        lookup = registry.get_account
        try:
            orgs = {o.org_id: o for o in registry.list_orgs()}
        except Exception:
            orgs = {}
    return ConsoleData(store, OnlineAssessment(runner), accounts=lookup, orgs=orgs, refresh_s=refresh_s)
