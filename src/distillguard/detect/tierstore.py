"""Tier stores: where the detector publishes tiers and the gateway reads them per request.

The gateway calls `get(account_id)` on every request, so every store answers from a local
dict (O(1), no network). Shared stores (Redis, PostgreSQL) keep that dict fresh by polling a
version number at most every `refresh_s` seconds and reloading the whole (small: flagged
accounts only) table when it moved — one cheap round trip per second per gateway, not one
per request.

`publish(entries)` upserts; `replace(entries)` publishes a full snapshot so accounts that
fell back to NORMAL disappear. `open_tier_store(url)` picks the store from a URL:
`memory://`, `redis://host:6379/0?key=dg:tiers`, `postgresql://host/db?table=dg_tiers`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec

from distillguard.detect.api import TierEntry, TierStore

_encode = msgspec.json.Encoder().encode
_decode_entry = msgspec.json.Decoder(TierEntry).decode


class MemoryTierStore:
    """In-process store for the embedded default (detector thread and gateway share it)."""

    def __init__(self) -> None:
        self._entries: dict[str, TierEntry] = {}
        self.version = 0

    def get(self, account_id: str) -> TierEntry | None:
        return self._entries.get(account_id)

    def publish(self, entries: dict[str, TierEntry]) -> None:
        merged = dict(self._entries)
        merged.update(entries)
        self._entries = merged  # swap, so readers on other threads never see a half update
        self.version += 1

    def replace(self, entries: dict[str, TierEntry]) -> None:
        self._entries = dict(entries)
        self.version += 1

    def snapshot(self) -> dict[str, TierEntry]:
        return dict(self._entries)


class _PollingCache:
    """Local copy of a remote table, refreshed when the remote version changes."""

    def __init__(self, refresh_s: float, clock: Callable[[], float]) -> None:
        self.refresh_s = refresh_s
        self.clock = clock
        self.entries: dict[str, TierEntry] = {}
        self.version: int | None = None
        self.checked_at = -float("inf")
        self.lock = threading.Lock()

    def due(self) -> bool:
        return self.clock() - self.checked_at >= self.refresh_s


class RedisTierStore:
    """Tiers in one Redis hash (`key`) plus a version counter (`key:version`)."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        key: str = "dg:tiers",
        refresh_s: float = 1.0,
        client: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import redis

        self.redis = client if client is not None else redis.Redis.from_url(url)
        self.key = key
        self.version_key = f"{key}:version"
        self._cache = _PollingCache(refresh_s, clock)

    def get(self, account_id: str) -> TierEntry | None:
        cache = self._cache
        if cache.due():
            self._refresh()
        return cache.entries.get(account_id)

    def _refresh(self) -> None:
        cache = self._cache
        if not cache.lock.acquire(blocking=False):
            return  # another thread is refreshing; serve the current copy
        try:
            cache.checked_at = cache.clock()
            try:
                raw_version = self.redis.get(self.version_key)
                version = int(raw_version) if raw_version is not None else 0
                if version == cache.version:
                    return
                raw = self.redis.hgetall(self.key)
            except Exception:  # redis down: keep serving the last known tiers
                return
            cache.entries = {
                (k.decode() if isinstance(k, bytes) else str(k)): _decode_entry(v) for k, v in raw.items()
            }
            cache.version = version
        finally:
            cache.lock.release()

    def publish(self, entries: dict[str, TierEntry]) -> None:
        if not entries:
            return
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.key, mapping={k: _encode(v) for k, v in entries.items()})
        pipe.incr(self.version_key)
        pipe.execute()

    def replace(self, entries: dict[str, TierEntry]) -> None:
        staging = f"{self.key}:staging"
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(staging)
        if entries:
            pipe.hset(staging, mapping={k: _encode(v) for k, v in entries.items()})
            pipe.rename(staging, self.key)
        else:
            pipe.delete(self.key)
        pipe.incr(self.version_key)
        pipe.execute()

    def clear(self) -> None:
        self.redis.delete(self.key, self.version_key)


class PostgresTierStore:
    """Tiers in a PostgreSQL table, plus a one-row version table that readers poll."""

    def __init__(
        self,
        url: str = "postgresql://127.0.0.1:5432/test",
        *,
        table: str = "dg_tiers",
        refresh_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import psycopg

        if not table.replace("_", "").isalnum():
            raise ValueError(f"bad table name {table!r}")
        self.table = table
        self.version_table = f"{table}_version"
        self._conn = psycopg.connect(url, autocommit=True)
        self._conn_lock = threading.Lock()
        self._cache = _PollingCache(refresh_s, clock)
        with self._conn_lock:
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                "account_id TEXT PRIMARY KEY, entry TEXT NOT NULL, updated_at DOUBLE PRECISION)"
            )
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.version_table} (id INT PRIMARY KEY, version BIGINT)"
            )
            self._conn.execute(f"INSERT INTO {self.version_table} VALUES (1, 0) ON CONFLICT (id) DO NOTHING")

    def get(self, account_id: str) -> TierEntry | None:
        cache = self._cache
        if cache.due():
            self._refresh()
        return cache.entries.get(account_id)

    def _refresh(self) -> None:
        cache = self._cache
        if not cache.lock.acquire(blocking=False):
            return
        try:
            cache.checked_at = cache.clock()
            try:
                with self._conn_lock:
                    row = self._conn.execute(
                        f"SELECT version FROM {self.version_table} WHERE id = 1"
                    ).fetchone()
                    version = int(row[0]) if row else 0
                    if version == cache.version:
                        return
                    rows = self._conn.execute(f"SELECT account_id, entry FROM {self.table}").fetchall()
            except Exception:  # database unreachable: keep serving the last known tiers
                return
            cache.entries = {a: _decode_entry(e) for a, e in rows}
            cache.version = version
        finally:
            cache.lock.release()

    def _write(self, entries: dict[str, TierEntry], replace: bool) -> None:
        rows = [(k, _encode(v).decode(), v.updated_at) for k, v in entries.items()]
        with self._conn_lock, self._conn.transaction(), self._conn.cursor() as cur:
            if replace:
                cur.execute(f"DELETE FROM {self.table}")
            if rows:
                cur.executemany(
                    f"INSERT INTO {self.table} (account_id, entry, updated_at) VALUES (%s, %s, %s) "
                    "ON CONFLICT (account_id) DO UPDATE SET entry = EXCLUDED.entry, "
                    "updated_at = EXCLUDED.updated_at",
                    rows,
                )
            cur.execute(f"UPDATE {self.version_table} SET version = version + 1 WHERE id = 1")

    def publish(self, entries: dict[str, TierEntry]) -> None:
        if entries:
            self._write(entries, replace=False)

    def replace(self, entries: dict[str, TierEntry]) -> None:
        self._write(entries, replace=True)

    def drop(self) -> None:
        with self._conn_lock:
            self._conn.execute(f"DROP TABLE IF EXISTS {self.table}")
            self._conn.execute(f"DROP TABLE IF EXISTS {self.version_table}")

    def close(self) -> None:
        self._conn.close()


def open_tier_store(url: str | None, *, refresh_s: float = 1.0) -> TierStore:
    """A tier store from a URL (None or `memory://` gives the in-process store)."""
    if not url or url.startswith("memory:"):
        return MemoryTierStore()
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if parts.scheme in ("redis", "rediss", "unix"):
        key = query.pop("key", "dg:tiers")
        clean = urlunsplit(parts._replace(query=urlencode(query)))
        return RedisTierStore(clean, key=key, refresh_s=refresh_s)
    if parts.scheme in ("postgresql", "postgres"):
        table = query.pop("table", "dg_tiers")
        clean = urlunsplit(parts._replace(query=urlencode(query)))
        return PostgresTierStore(clean, table=table, refresh_s=refresh_s)
    raise ValueError(f"unknown tier store {url!r}: use memory://, redis://... or postgresql://...")
