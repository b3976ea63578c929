"""API keys: format, hashing, and the O(1) in-memory resolver the gateway calls per request.

A key looks like `dg-<key_id>-<secret>`: `key_id` (12 hex) is a public handle that
appears in logs, events and `keys list`; `secret` (48 hex, 192 bits) is shown once at
creation and stored only as HMAC-SHA256(pepper, secret). The pepper comes from
`DG_KEY_PEPPER`; with it, a copied database alone cannot confirm a guessed secret or a
payment number. Secrets are random, so one fast hash suffices (no bcrypt needed).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import msgspec

from distillguard.accounts.principal import Principal

log = logging.getLogger(__name__)

KEY_PREFIX = "dg"
_KEY_RE = re.compile(r"^dg-([0-9a-f]{12})-([0-9a-f]{48})$")
PAYMENT_PREFIX = "pf1:"


def pepper_from_env() -> bytes:
    """`DG_KEY_PEPPER` as bytes ("" when unset: still safe for random secrets, see docs)."""
    return os.environ.get("DG_KEY_PEPPER", "").encode()


def generate_key() -> tuple[str, str, str]:
    """A fresh (raw_key, key_id, secret)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_hex(24)
    return f"{KEY_PREFIX}-{key_id}-{secret}", key_id, secret


def parse_key(raw_key: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed key, else None. Cheap: a regex on a short string."""
    if len(raw_key) != 64:
        return None
    match = _KEY_RE.match(raw_key)
    return (match.group(1), match.group(2)) if match else None


def hash_secret(secret: str, pepper: bytes) -> str:
    return hmac.digest(pepper, secret.encode(), "sha256").hex()


def verify_secret(secret: str, stored_hash: str, pepper: bytes) -> bool:
    """Constant-time comparison, so response timing says nothing about the stored hash."""
    return hmac.compare_digest(hash_secret(secret, pepper), stored_hash)


def hash_payment(value: str, pepper: bytes) -> str:
    """A stable, non-reversible payment fingerprint. Idempotent: hashed values pass through,
    so re-importing an export or a simulator's account list never double-hashes."""
    value = value.strip()
    if value.startswith(PAYMENT_PREFIX):
        return value
    digest = hmac.new(pepper, b"payment:" + value.encode(), hashlib.sha256).hexdigest()
    return PAYMENT_PREFIX + digest[:32]


class KeyRecord(msgspec.Struct, kw_only=True):
    """One stored key. There is no field for the secret: only its hash exists."""

    key_id: str
    secret_hash: str
    account_id: str
    org_id: str = ""
    name: str = ""
    created_at: float = 0.0
    revoked_at: float | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def principal(self) -> Principal:
        return Principal(key_id=self.key_id, account_id=self.account_id, org_id=self.org_id)


class KeySource(Protocol):
    """What the resolver needs from a registry."""

    pepper: bytes

    def all_keys(self) -> list[KeyRecord]: ...

    def get_key(self, key_id: str) -> KeyRecord | None: ...


@dataclass
class ResolverStats:
    hits: int = 0  # resolved from memory
    malformed: int = 0  # not a dg- key: rejected without any lookup
    bad_secret: int = 0  # known key id, wrong secret
    revoked: int = 0
    unknown: int = 0  # key id not found (memory, negative cache or database)
    db_lookups: int = 0  # misses that went to the database
    throttled: int = 0  # misses refused a lookup because the lookup budget was spent
    refreshes: int = 0


class CachedKeyResolver:
    """`resolve(raw_key) -> Principal | None` from memory, for every request.

    All keys (active and revoked) are loaded into a dict keyed by key id and reloaded every
    `refresh_interval` seconds by a background thread (`start()`), so a revocation anywhere
    takes effect within that interval; `invalidate()` applies one at once in this process.
    A key that verified once is remembered by its raw value until the next reload, so
    the common case is one dict lookup (no regex, no HMAC).
    A key id not in memory (created on another replica since the last refresh) is looked
    up in the database, at most `miss_lookups_per_second` times per second; unknown ids are
    remembered for `negative_ttl` seconds. A flood of made-up keys therefore costs a regex
    and a dict lookup each, never a database query per request.
    """

    def __init__(
        self,
        registry: KeySource,
        *,
        refresh_interval: float = 10.0,
        miss_lookups_per_second: float = 20.0,
        negative_ttl: float = 60.0,
        negative_max: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self.refresh_interval = refresh_interval
        self.negative_ttl = negative_ttl
        self.negative_max = negative_max
        self._clock = clock
        self._pepper = registry.pepper
        self._keys: dict[str, KeyRecord] = {}
        self._verified: dict[str, Principal] = {}  # raw key -> principal, cleared on every reload
        self.verified_max = 1_000_000
        self._negative: dict[str, float] = {}  # key id -> expiry
        self._rate = miss_lookups_per_second
        self._tokens = miss_lookups_per_second
        self._tokens_at = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = ResolverStats()
        self.refresh()

    def resolve(self, raw_key: str) -> Principal | None:
        memo = self._verified  # read before the key map: a reload swaps the map, then the memo
        principal = memo.get(raw_key)
        if principal is not None:
            self.stats.hits += 1
            return principal
        parsed = parse_key(raw_key)
        if parsed is None:
            self.stats.malformed += 1
            return None
        key_id, secret = parsed
        record = self._keys.get(key_id)
        if record is None:
            record = self._lookup_miss(key_id)
            if record is None:
                return None
        if not verify_secret(secret, record.secret_hash, self._pepper):
            self.stats.bad_secret += 1
            return None
        if record.revoked_at is not None:
            self.stats.revoked += 1
            return None
        self.stats.hits += 1
        principal = record.principal
        if len(memo) < self.verified_max:  # a memo replaced by a reload meanwhile is simply dropped
            memo[raw_key] = principal
        return principal

    def _lookup_miss(self, key_id: str) -> KeyRecord | None:
        now = self._clock()
        expiry = self._negative.get(key_id)
        if expiry is not None and expiry > now:
            self.stats.unknown += 1
            return None
        self._tokens = min(self._rate, self._tokens + (now - self._tokens_at) * self._rate)
        self._tokens_at = now
        if self._tokens < 1.0:
            self.stats.throttled += 1
            return None
        self._tokens -= 1.0
        self.stats.db_lookups += 1
        try:
            record = self.registry.get_key(key_id)
        except Exception:
            log.exception("key lookup failed; treating key %s as unknown", key_id)
            return None
        if record is None:
            if len(self._negative) >= self.negative_max:
                self._negative.clear()
            self._negative[key_id] = now + self.negative_ttl
            self.stats.unknown += 1
            return None
        self._keys[key_id] = record
        return record

    def refresh(self) -> None:
        """Reload every key from the registry (atomic swap; readers never see a partial map)."""
        records = self.registry.all_keys()
        old_keys, old_memo = self._keys, self._verified
        keys = {r.key_id: r for r in records}
        # Keep a verified raw key only while its stored record is exactly what it verified
        # against: revocations and rotations take effect now, and a steady key set does not
        # pay one HMAC per key after every reload (at 1,000 req/s that showed in profiles).
        unchanged = {
            key_id
            for key_id, record in keys.items()
            if record.revoked_at is None and old_keys.get(key_id) == record
        }
        self._keys = keys
        self._verified = {raw: p for raw, p in old_memo.items() if p.key_id in unchanged}
        now = self._clock()
        self._negative = {k: exp for k, exp in self._negative.items() if exp > now and k not in self._keys}
        self.stats.refreshes += 1

    def invalidate(self, key_ids: Iterable[str] = ()) -> None:
        """Forget cached entries now (e.g. right after revoking in this process)."""
        for key_id in key_ids:
            self._keys.pop(key_id, None)
            self._negative.pop(key_id, None)
        self.refresh()  # also clears the verified-key memo

    def start(self) -> CachedKeyResolver:
        """Refresh in a daemon thread every `refresh_interval` seconds until `close()`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._refresh_loop, name="dg-key-refresh", daemon=True)
            self._thread.start()
        return self

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self.refresh_interval):
            try:
                self.refresh()
            except Exception:
                log.exception("refreshing API keys failed; keeping the previous set")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __len__(self) -> int:
        return len(self._keys)
