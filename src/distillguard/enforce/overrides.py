"""Manual overrides: an analyst's decision about one account or org beats the detector's.

An override either pins a tier (the policy then decides as usual) or pins the actions
outright ("allow" = none). Reads happen on every request, so the SQLite store serves them
from an in-memory snapshot and reloads it only when another connection (the CLI, the
console) changed the file, which `PRAGMA data_version` tells us cheaply.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Literal, Protocol

import msgspec

from distillguard.detect.api import Tier
from distillguard.enforce.policy import ACTIONS

Scope = Literal["account", "org"]
OVERRIDE_ACTIONS: tuple[str, ...] = ("allow", *ACTIONS)


class Override(msgspec.Struct, kw_only=True, frozen=True):
    scope: Scope
    subject_id: str
    tier: Tier | None = None
    actions: tuple[str, ...] | None = None  # ("allow",) = act on nothing
    note: str = ""
    created_at: float = 0.0
    expires_at: float | None = None

    def active(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at


def make_override(
    scope: Scope,
    subject_id: str,
    *,
    tier: Tier | str | None = None,
    actions: list[str] | tuple[str, ...] | None = None,
    note: str = "",
    ttl_s: float | None = None,
    now: float | None = None,
) -> Override:
    """Validate and build an override (exactly one of tier / actions)."""
    if scope not in ("account", "org"):
        raise ValueError(f"scope must be 'account' or 'org', not {scope!r}")
    if not subject_id:
        raise ValueError("subject id is empty")
    if (tier is None) == (not actions):
        raise ValueError("give exactly one of a tier or actions")
    if isinstance(tier, str):
        if tier.upper() not in Tier.__members__:
            raise ValueError(f"unknown tier {tier!r}; known: {list(Tier.__members__)}")
        tier = Tier[tier.upper()]
    if actions:
        bad = [a for a in actions if a not in OVERRIDE_ACTIONS]
        if bad:
            raise ValueError(f"unknown action(s) {bad}; known: {list(OVERRIDE_ACTIONS)}")
        if "allow" in actions and len(actions) > 1:
            raise ValueError("'allow' cannot be combined with other actions")
        actions = tuple(a for a in OVERRIDE_ACTIONS if a in actions)
    now = time.time() if now is None else now
    return Override(
        scope=scope,
        subject_id=subject_id,
        tier=tier,
        actions=tuple(actions) if actions else None,
        note=note,
        created_at=now,
        expires_at=now + ttl_s if ttl_s else None,
    )


class OverrideStore(Protocol):
    def get(self, scope: Scope, subject_id: str) -> Override | None: ...

    def set(self, override: Override) -> None: ...

    def clear(self, scope: Scope, subject_id: str) -> bool: ...

    def list(self) -> list[Override]: ...


class MemoryOverrideStore:
    """Overrides in a dict: tests, and embedding without a file."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Override] = {}

    def get(self, scope: Scope, subject_id: str) -> Override | None:
        found = self._items.get((scope, subject_id))
        if found is not None and not found.active(time.time()):
            return None
        return found

    def set(self, override: Override) -> None:
        self._items[(override.scope, override.subject_id)] = override

    def clear(self, scope: Scope, subject_id: str) -> bool:
        return self._items.pop((scope, subject_id), None) is not None

    def list(self) -> list[Override]:
        return sorted(self._items.values(), key=lambda o: (o.scope, o.subject_id))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS enforce_overrides (
    scope TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (scope, subject_id)
)
"""
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Override).decode


class SQLiteOverrideStore(MemoryOverrideStore):
    """Overrides in a SQLite file shared by the gateway and the CLI (the embedded default)."""

    def __init__(self, path: str | Path, refresh_s: float = 1.0) -> None:
        super().__init__()
        self.path = str(path)
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(_SCHEMA)
        self._data_version = -1
        self._checked_at = 0.0
        self._reload()

    def _reload(self) -> None:
        with self._lock:
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            if version == self._data_version:
                return
            rows = self._conn.execute("SELECT body FROM enforce_overrides").fetchall()
            self._items = {(o.scope, o.subject_id): o for o in (_decode(r[0]) for r in rows)}
            self._data_version = version

    def get(self, scope: Scope, subject_id: str) -> Override | None:
        now = time.monotonic()
        if now - self._checked_at >= self.refresh_s:  # at most one cheap PRAGMA per refresh_s
            self._checked_at = now
            self._reload()
        return super().get(scope, subject_id)

    def set(self, override: Override) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO enforce_overrides (scope, subject_id, body) VALUES (?, ?, ?)",
                (override.scope, override.subject_id, _encode(override)),
            )
        super().set(override)

    def clear(self, scope: Scope, subject_id: str) -> bool:
        with self._lock:
            cur = self._conn.execute(
                "DELETE FROM enforce_overrides WHERE scope = ? AND subject_id = ?", (scope, subject_id)
            )
        super().clear(scope, subject_id)
        return cur.rowcount > 0

    def list(self) -> list[Override]:
        self._reload()
        return super().list()

    def close(self) -> None:
        self._conn.close()
